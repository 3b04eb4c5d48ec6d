/// How a route's handler runs.
public struct RouteOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// Run the handler directly on the connection's I/O thread instead of a worker thread.
    ///
    /// Saves two thread hand-offs per request, but the handler then delays every other
    /// connection of that event loop while it runs: use it only for handlers that are
    /// trivial and never block (a fixed `/healthz`, a cached document). Never for anything
    /// that touches the database, files or the network.
    public static let inline = RouteOptions(rawValue: 1 << 0)
}
