#!/usr/bin/env python3
"""The benchmark: connector-receiver against references measured in the same run.

Starts nginx (serving the same /healthz body) and connector-receiver on its
embedded PostgreSQL, all on loopback, then runs wrk against each in several
interleaved rounds and prints one table. Ratios are taken per round and the
median is reported, since a shared 2-core machine is noisy.

Usage: bench/run.py [--rounds N] [--seconds S] [--connections C]
"""
import argparse
import resource
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEALTHZ_BODY = '{"status":"ok"}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: nothing listening on 127.0.0.1:{port} after {timeout} s")


def cpu_seconds(pid):
    """User + system CPU time of a process and its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def current_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure_idle_connections(pid, port, count, url, seconds):
    """Opens `count` idle keep-alive connections (each sends one request and
    reads the answer, then stays open), measures the server's RSS growth, and
    serves a wrk run beside them to show they do not stall other clients."""
    request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
    before = current_rss_kib(pid)
    sockets = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            sockets.append(s)
        for s in sockets:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise SystemExit("bench: the server closed an idle connection during the measurement")
                data += chunk
        time.sleep(1)
        after = current_rss_kib(pid)
        beside = run_wrk(url, seconds, 64)
        still_open = 0
        for s in sockets:
            s.setblocking(False)
            try:
                still_open += 0 if s.recv(1) == b"" else 1
            except BlockingIOError:
                still_open += 1
        return before, after, beside, still_open
    finally:
        for s in sockets:
            s.close()


def start_nginx(workdir, port):
    conf = os.path.join(workdir, "nginx.conf")
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"""
{user}
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/nginx-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /healthz {{
            default_type application/json;
            return 200 '{HEALTHZ_BODY}';
        }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process


def start_receiver(workdir, port):
    binary = os.path.join(ROOT, ".build", "release", "connector-receiver")
    log = open(os.path.join(workdir, "receiver.log"), "w")
    env = dict(os.environ, RECEIVER_ACCESS_LOG="off", RECEIVER_LOG_LEVEL="warning")
    process = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", os.path.join(workdir, "data")],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_for_port(port)
    return process


def run_wrk(url, seconds, connections, threads=2):
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", os.path.join(ROOT, "bench", "wrk-report.lua"), url],
        capture_output=True, text=True, check=True).stdout
    line = next(l for l in output.splitlines() if l.startswith("WRK "))
    return {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--idle", type=int, default=10000, help="idle keep-alive connections to hold (0: skip)")
    args = parser.parse_args()

    # Room for the idle connections, in this process and in the servers it starts.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.idle * 2 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    workdir = tempfile.mkdtemp(prefix="connector-receiver-bench.")
    os.chmod(workdir, 0o755)
    processes = []
    try:
        nginx_port, receiver_port = free_port(), free_port()
        nginx = start_nginx(workdir, nginx_port)
        processes.append(nginx)
        receiver = start_receiver(workdir, receiver_port)
        processes.append(receiver)

        targets = {
            "nginx": f"http://127.0.0.1:{nginx_port}/healthz",
            "connector-receiver": f"http://127.0.0.1:{receiver_port}/healthz",
        }
        results = {name: [] for name in targets}
        cpu = []
        for round_number in range(args.rounds):
            for name, url in targets.items():
                before = cpu_seconds(receiver.pid) if name == "connector-receiver" else None
                result = run_wrk(url, args.seconds, args.connections)
                if before is not None:
                    cpu.append((cpu_seconds(receiver.pid) - before) / max(result["requests"], 1))
                results[name].append(result)
                print(f"bench: round {round_number + 1} {name}: {result['rps']:.0f} req/s, "
                      f"p99 {result['p99_us'] / 1000:.2f} ms, errors {result['errors']:.0f}", file=sys.stderr)

        ratios = [r["rps"] / n["rps"] for r, n in zip(results["connector-receiver"], results["nginx"])]
        print()
        print(f"GET /healthz, {args.connections} connections, wrk 2 threads, {args.rounds} rounds of {args.seconds} s (medians)")
        print()
        print("| server | req/s | p50 ms | p99 ms | errors | CPU µs/req | peak RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name in targets:
            rows = results[name]
            rps = statistics.median(r["rps"] for r in rows)
            p50 = statistics.median(r["p50_us"] for r in rows) / 1000
            p99 = statistics.median(r["p99_us"] for r in rows) / 1000
            errors = sum(r["errors"] for r in rows)
            if name == "connector-receiver":
                cpu_text = f"{statistics.median(cpu) * 1e6:.1f}"
                rss_text = f"{peak_rss_kib(receiver.pid) / 1024:.1f}"
            else:
                cpu_text = rss_text = "—"
            print(f"| {name} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {errors:.0f} | {cpu_text} | {rss_text} |")
        print()
        print(f"connector-receiver / nginx throughput: {statistics.median(ratios):.2f} "
              f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")

        if args.idle:
            before, after, beside, still_open = measure_idle_connections(
                receiver.pid, receiver_port, args.idle, targets["connector-receiver"], args.seconds)
            per_connection = (after - before) * 1024 / args.idle
            print()
            print(f"Idle keep-alive connections: {args.idle} held, {still_open} still open after the run beside them; "
                  f"server RSS {before / 1024:.1f} → {after / 1024:.1f} MiB = {per_connection:.0f} bytes each")
            print(f"Served beside them: {beside['rps']:.0f} req/s, p99 {beside['p99_us'] / 1000:.2f} ms, errors {beside['errors']:.0f}")
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
