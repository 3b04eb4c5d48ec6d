import HTTPTypes

/// A request handler: synchronous and allowed to block (it runs on a worker thread unless its
/// route is ``RouteOptions/inline``). Throw an ``HTTPResponseError`` to answer with its status.
public typealias RequestHandler = @Sendable (Request, inout RequestContext) throws -> Response

/// One registered method + template and its handler, as stored in the route tree.
final class Route: Sendable {
    let method: HTTPRequest.Method
    let template: String
    let parameterNames: [String]
    let handler: RequestHandler
    let options: RouteOptions
    /// Dense index (registration order) used to cache per-route metric objects.
    let index: Int

    init(method: HTTPRequest.Method, template: String, parameterNames: [String], handler: @escaping RequestHandler,
         options: RouteOptions, index: Int) {
        self.method = method
        self.template = template
        self.parameterNames = parameterNames
        self.handler = handler
        self.options = options
        self.index = index
    }

    var isInline: Bool { options.contains(.inline) }
    var isAdmitted: Bool { options.contains(.admitted) }
}

/// A template that is not well-formed, or two registrations that collide.
public struct RouterError: Error, CustomStringConvertible, Sendable {
    /// What was wrong, naming the template.
    public let message: String
    public var description: String { message }
}
