import HTTPTypes

/// Collects routes — method, path template, handler — before the server builds them into an
/// immutable tree (``HTTPServer/init(configuration:router:logger:)``).
///
/// Templates are absolute paths whose segments are literals or `{name}` parameters:
/// `/v1/prospects/{id}`, `/v1/prospects/by-external-id/{externalId}`,
/// `/v1/prospects/{id}/convert`. A literal segment wins over a parameter at the same position
/// (with backtracking, so `/v1/prospects/by-external-id` still reaches `{id}` when no literal
/// route continues). Matching is exact: no trailing-slash or case folding, and a parameter
/// never matches an empty segment. A `GET` route also answers `HEAD`.
///
/// ```swift
/// var router = Router()
/// router.get("/healthz", options: .inline) { _, _ in Response(text: "ok") }
/// router.get("/v1/prospects/{id}") { request, context in
///     let id = try context.parameters.require("id")
///     ...
/// }
/// ```
public struct Router: Sendable {
    struct Registration: Sendable {
        let method: HTTPRequest.Method
        let template: String
        let options: RouteOptions
        let handler: RequestHandler
    }

    private(set) var registrations: [Registration] = []

    /// An empty router.
    public init() {}

    /// Registers `handler` for `method` requests whose path matches `template`.
    public mutating func on(
        _ method: HTTPRequest.Method, _ template: String, options: RouteOptions = [],
        handler: @escaping RequestHandler
    ) {
        registrations.append(Registration(method: method, template: template, options: options, handler: handler))
    }

    /// Registers a GET route (which also serves HEAD).
    public mutating func get(_ template: String, options: RouteOptions = [], handler: @escaping RequestHandler) {
        on(.get, template, options: options, handler: handler)
    }

    /// Registers a POST route.
    public mutating func post(_ template: String, options: RouteOptions = [], handler: @escaping RequestHandler) {
        on(.post, template, options: options, handler: handler)
    }

    /// Registers a PUT route.
    public mutating func put(_ template: String, options: RouteOptions = [], handler: @escaping RequestHandler) {
        on(.put, template, options: options, handler: handler)
    }

    /// Registers a PATCH route.
    public mutating func patch(_ template: String, options: RouteOptions = [], handler: @escaping RequestHandler) {
        on(.patch, template, options: options, handler: handler)
    }

    /// Registers a DELETE route.
    public mutating func delete(_ template: String, options: RouteOptions = [], handler: @escaping RequestHandler) {
        on(.delete, template, options: options, handler: handler)
    }

    /// Builds the immutable route tree, or explains the first bad template or collision.
    func build() throws -> RouteTree {
        try RouteTree(registrations: registrations)
    }
}
