import Glibc
import Logging
import Testing
import HTTPServer

/// Not a test: serves `/healthz` for a load generator when `HTTP_BENCH_PORT` is set, e.g.
///
///     swift build -c release -Xswiftc -enable-testing --build-tests
///     HTTP_BENCH_PORT=8081 HTTP_BENCH_SECONDS=30 swift test -c release -Xswiftc -enable-testing \
///         --skip-build --filter benchmarkServer &
///     wrk -t2 -c100 -d10s http://127.0.0.1:8081/healthz
///
/// Optional: `HTTP_BENCH_IO_THREADS`, `HTTP_BENCH_ACCESS_LOG=1`. `/healthz` is inline,
/// `/worker` the same handler on the worker pool.
///
/// The nginx baseline used for comparison (same machine, same wrk command, port 8082):
///
///     worker_processes 2;
///     events { worker_connections 20000; }
///     http { access_log off; keepalive_requests 100000000;
///            server { listen 127.0.0.1:8082 reuseport;
///                     location = /healthz { default_type text/plain; return 200 "ok\n"; } } }
///
/// On a shared two-core machine throughput is noisy; CPU time per request (utime + stime of
/// the server process over the run, divided by the requests wrk reports) is the steadier
/// comparison. The product's own benchmark, memory per idle connection included, is
/// `make bench` (bench/run.py).
@Test(.enabled(if: getenv("HTTP_BENCH_PORT") != nil))
func benchmarkServer() throws {
    func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    let port = Int(environment("HTTP_BENCH_PORT") ?? "") ?? 8081
    let seconds = UInt32(environment("HTTP_BENCH_SECONDS") ?? "") ?? 30
    var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: port)
    if let threads = Int(environment("HTTP_BENCH_IO_THREADS") ?? "") { configuration.ioThreads = threads }
    configuration.accessLog = environment("HTTP_BENCH_ACCESS_LOG") == "1"
    configuration.maxConnections = 20_000
    var router = Router()
    router.get("/healthz", options: .inline) { _, _ in Response(text: "ok\n") }
    router.get("/worker") { _, _ in Response(text: "ok\n") }
    var logger = Logger(label: "bench")
    logger.logLevel = .info
    let server = try HTTPServer(configuration: configuration, router: router, logger: logger)
    try server.start()
    print("benchmark server on port \(server.boundPort!) for \(seconds) s")
    sleep(seconds)
    server.shutdown(gracePeriod: .seconds(1))
}
