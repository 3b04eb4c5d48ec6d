import HTTPTypes

/// The answers of routing itself, shared by the server and ``RouterTestClient`` so that a
/// test sees exactly what a client would.
extension Response {
    /// No route matches the path.
    static var routeNotFound: Response {
        .problem(status: .notFound, detail: "No resource matches the request path.")
    }

    /// Routes match the path, none for the method; `allow` lists the methods that have one.
    static func methodNotAllowed(allow: String) -> Response {
        var fields = HTTPFields()
        // RFC 9110 §15.5.6: a 405 response MUST carry Allow.
        fields[.allow] = allow
        return .problem(status: .methodNotAllowed, detail: "The resource does not support this method.", headerFields: fields)
    }
}
