#!/usr/bin/env bash
# Measures the server's memory per idle keep-alive connection.
#
#   scripts/idle-connections.sh PID PORT [COUNT]
#
# PID is the server process, PORT its (loopback) port. Opens COUNT connections (default
# 10000), sends one GET /healthz on each and reads the response so every connection is a
# served, idle keep-alive connection, then reports the server's RSS growth per connection.
# Keep COUNT below the server's maxConnections and `ulimit -n` of both processes, and run it
# within the server's idle timeout (60 s by default). The benchmark server for this script:
#   HTTP_BENCH_PORT=8081 HTTP_BENCH_SECONDS=300 swift test -c release -Xswiftc -enable-testing \
#       --filter benchmarkServer
set -euo pipefail
pid=${1:?usage: idle-connections.sh PID PORT [COUNT]}
port=${2:?usage: idle-connections.sh PID PORT [COUNT]}
count=${3:-10000}
ulimit -n "$(ulimit -Hn)"
exec python3 - "$pid" "$port" "$count" <<'PY'
import socket, sys, time

pid, port, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def rss_kib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no such process")

request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
before = rss_kib()
connections = []
started = time.time()
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request)
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit(f"connection closed after {len(connections)} connections (connection limit?)")
        response += chunk
    connections.append(s)
opened = time.time() - started
time.sleep(2)
after = rss_kib()
print(f"{count} idle keep-alive connections opened in {opened:.1f} s")
print(f"server RSS {before} KiB -> {after} KiB: {(after - before) * 1024 / count:.0f} bytes per idle connection")
# One more request on a fresh connection while they are all open.
s = socket.create_connection(("127.0.0.1", port))
t = time.time()
s.sendall(request)
s.recv(4096)
print(f"a new request beside them: {(time.time() - t) * 1000:.1f} ms")
for c in connections:
    c.close()
PY
