/// placeholder
public final class HTTPServer: Sendable {}
