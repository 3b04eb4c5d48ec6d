import Synchronization

/// The texts of statements whose SQL depends only on their shape, composed once
/// each. A batch's statements take one array per column (``PostgresColumns``), so
/// their text is the same for any number of rows; composing it (fragments spliced
/// and renumbered, column lists joined) for every batch cost more than binding
/// its values.
///
/// The caller gives the bindings in the order the composed statement binds them;
/// the first composition of each shape checks that they are, so a statement that
/// changes shape without its key, or binds in another order, fails at once.
public final class PostgresStatementTexts: Sendable {
    private let texts = Mutex<[String: String]>([:])

    public init() {}

    /// `bindings` bound to the text of `shape`, which `compose` (given the same
    /// values) makes the first time; each shape names exactly one text.
    public func query(_ shape: String, bindings: [PostgresBinding], compose: () throws -> PostgresQuery) rethrows -> PostgresQuery {
        if let sql = texts.withLock({ $0[shape] }) { return PostgresQuery(sql: sql, bindings: bindings) }
        let composed = try compose()
        precondition(composed.bindings == bindings, "the statement \(shape) binds its values in another order than its caller gives them")
        texts.withLock { $0[shape] = composed.sql }
        return composed
    }

    /// How many shapes have a text (for tests).
    public var count: Int { texts.withLock { $0.count } }
}
