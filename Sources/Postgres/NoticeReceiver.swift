import CLibPQ
import Logging

/// Receives the server's NOTICE and WARNING messages, which libpq would otherwise
/// print to stderr, and logs them. It also remembers a FATAL message received while
/// idle: that is the server explaining why it is about to close the session; and the
/// WARNING with which a `COMMIT` stops waiting for a synchronous standby (see
/// ``canceledSynchronousReplicationWait``).
///
/// Not `Sendable`, and needs no lock of its own: libpq calls it synchronously from
/// inside the libpq call that read the notice, and every libpq call on a connection
/// happens under that connection's `Mutex`.
final class NoticeReceiver {
    let logger: Logger
    var receivedFatal = false
    /// Set when the server said "canceling wait for synchronous replication": a
    /// `COMMIT` waiting for the synchronous standby was cancelled (a cancel request)
    /// and returned success although only the primary has the
    /// transaction: a failover may lose it. Cleared by whoever reads it (the commit).
    var canceledSynchronousReplicationWait = false

    init(logger: Logger) {
        self.logger = logger
    }

    func receive(_ result: OpaquePointer) {
        let severity = ConnectionState.field(result, "V") ?? "NOTICE"
        let message = ConnectionState.field(result, "M")
            ?? ConnectionState.normalizedMessage(String(cString: PQresultErrorMessage(result)))
        let metadata: Logger.Metadata = [
            "severity": "\(severity)",
            "sqlstate": "\(ConnectionState.field(result, "C") ?? "")",
        ]
        switch severity {
        case "FATAL", "PANIC":
            receivedFatal = true
            logger.warning("PostgreSQL: \(message)", metadata: metadata)
        case "WARNING":
            // No SQLSTATE of its own (01000), so the English text; the servers this
            // module talks to run with lc_messages C (Patroni's and the tests' initdb).
            if message.hasPrefix("canceling wait for synchronous replication") {
                canceledSynchronousReplicationWait = true
            }
            logger.warning("PostgreSQL: \(message)", metadata: metadata)
        default:
            logger.debug("PostgreSQL: \(message)", metadata: metadata)
        }
    }
}
