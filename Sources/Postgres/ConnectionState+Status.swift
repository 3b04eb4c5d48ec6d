import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the session is like now: healthy, which backend, which transaction state, and
/// whether the server closed it while it sat idle.
extension ConnectionState {
    var isHealthy: Bool {
        guard let handle, !isBroken else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    var backendPID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    var transactionStatus: PostgresTransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// For a connection that sat idle in the pool: false if the server has closed it.
    ///
    /// After `pg_terminate_backend`, a server restart or `idle_session_timeout`, the
    /// server sends a FATAL message and closes the socket, but libpq only notices when
    /// it next reads, so `PQstatus` still says OK. An idle session should have nothing
    /// to read; if the socket is readable, let libpq read and parse what is there (a
    /// FATAL goodbye reaches the notice receiver, end-of-stream sets CONNECTION_BAD).
    /// Harmless input (a NOTICE, a parameter change after a configuration reload)
    /// leaves the connection usable.
    mutating func checkAliveAfterIdle() -> Bool {
        guard let handle, isHealthy else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else {
            isBroken = true
            return false
        }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, 0) > 0 {
            for _ in 0..<2 {
                guard PQconsumeInput(handle) != 0 else { break }
                _ = PQisBusy(handle)  // parses buffered messages
                while let notification = PQnotifies(handle) { PQfreemem(notification) }
            }
        }
        if PQstatus(handle) != CONNECTION_OK || notices.receivedFatal {
            isBroken = true
            return false
        }
        return true
    }
}
