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

    /// With ``inline``: run the server's admission check (``HTTPServer/Admission/check``)
    /// first, as for every route that runs on a worker. For an inline handler that
    /// hands its work on (``RequestContext/deferResponse()``) rather than answering.
    public static let admitted = RouteOptions(rawValue: 1 << 1)
}
