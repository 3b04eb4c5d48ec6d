/// Where a connection's transaction stands (`PQtransactionStatus`).
public enum PostgresTransactionStatus: Sendable, Hashable {
    /// No transaction open.
    case idle
    /// A statement is running (never seen by callers of this synchronous API).
    case active
    /// Inside a transaction block.
    case inTransaction
    /// Inside a transaction block in which a statement failed; only ROLLBACK works.
    case inFailedTransaction
    /// The connection is bad or closed.
    case unknown
}
