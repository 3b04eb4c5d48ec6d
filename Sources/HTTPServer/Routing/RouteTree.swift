import HTTPTypes

/// One node of the immutable route tree: a path position reached by literal or parameter
/// segments, with the routes (by method) that end here.
final class RouteNode: Sendable {
    let literals: [(segment: String, node: RouteNode)]
    let parameter: RouteNode?
    let routes: [Route]
    /// The `Allow` field value for 405 responses at this node (GET implies HEAD).
    let allow: String

    init(literals: [(segment: String, node: RouteNode)], parameter: RouteNode?, routes: [Route]) {
        self.literals = literals
        self.parameter = parameter
        self.routes = routes
        var methods = routes.map(\.method)
        if methods.contains(.get) && !methods.contains(.head) { methods.append(.head) }
        let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        methods.sort { left, right in
            let l = order.firstIndex(of: left) ?? order.count
            let r = order.firstIndex(of: right) ?? order.count
            return l != r ? l < r : left.rawValue < right.rawValue
        }
        self.allow = methods.map(\.rawValue).joined(separator: ", ")
    }
}

/// The router's routes as a tree built once at server construction and only read afterwards
/// (so every event loop and worker can share it without locks).
struct RouteTree: Sendable {
    enum Match {
        /// `isAutomaticHead`: a HEAD request served by the GET route (body dropped on the wire).
        case found(Route, PathParameters)
        case methodNotAllowed(allow: String)
        case notFound
    }

    let root: RouteNode
    let routes: [Route]

    init(registrations: [Router.Registration]) throws {
        final class Builder {
            var literals: [(segment: String, node: Builder)] = []
            var parameter: Builder?
            var routes: [Route] = []

            func freeze() -> RouteNode {
                RouteNode(
                    literals: literals.map { ($0.segment, $0.node.freeze()) },
                    parameter: parameter?.freeze(), routes: routes)
            }
        }

        let root = Builder()
        var routes: [Route] = []
        for registration in registrations {
            let segments = try Self.parseTemplate(registration.template)
            var node = root
            var names: [String] = []
            for segment in segments {
                switch segment {
                case .literal(let literal):
                    if let next = node.literals.first(where: { $0.segment == literal })?.node {
                        node = next
                    } else {
                        let next = Builder()
                        node.literals.append((literal, next))
                        node = next
                    }
                case .parameter(let name):
                    names.append(name)
                    if let next = node.parameter {
                        node = next
                    } else {
                        let next = Builder()
                        node.parameter = next
                        node = next
                    }
                }
            }
            if let existing = node.routes.first(where: { $0.method == registration.method }) {
                throw RouterError(
                    message: "route \(registration.method.rawValue) \(registration.template) conflicts with "
                        + "\(existing.method.rawValue) \(existing.template)")
            }
            let route = Route(
                method: registration.method, template: registration.template, parameterNames: names,
                handler: registration.handler, options: registration.options, index: routes.count)
            node.routes.append(route)
            routes.append(route)
        }
        self.root = root.freeze()
        self.routes = routes
    }

    private enum TemplateSegment {
        case literal(String)
        case parameter(String)
    }

    private static func parseTemplate(_ template: String) throws -> [TemplateSegment] {
        guard template.first == "/" else {
            throw RouterError(message: "route template '\(template)' must start with '/'")
        }
        if template == "/" { return [] }
        var names = Set<String>()
        return try template.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { segment in
            if segment.isEmpty {
                throw RouterError(message: "route template '\(template)' has an empty segment (double or trailing '/')")
            }
            if segment.first == "{" && segment.last == "}" && segment.count >= 2 {
                let name = String(segment.dropFirst().dropLast())
                let valid = !name.isEmpty && name.utf8.allSatisfy { ASCII.isAlphaNumeric($0) || $0 == UInt8(ascii: "_") }
                guard valid else {
                    throw RouterError(message: "route template '\(template)': parameter name '\(name)' must be letters, digits or '_'")
                }
                guard names.insert(name).inserted else {
                    throw RouterError(message: "route template '\(template)' uses parameter '\(name)' twice")
                }
                return .parameter(name)
            }
            if segment.contains("{") || segment.contains("}") {
                throw RouterError(message: "route template '\(template)': a parameter must be a whole segment, like '{id}'")
            }
            return .literal(String(segment))
        }
    }

    /// Finds the route for `method` and a raw (percent-encoded, validated) path.
    func match(method: HTTPRequest.Method, rawPath: Substring) -> Match {
        guard rawPath.first == "/" else { return .notFound }
        var values: [String] = []
        let rest = rawPath.dropFirst()
        guard let node = Self.find(root, rest, atEnd: rest.isEmpty, values: &values) else { return .notFound }
        if let route = node.routes.first(where: { $0.method == method }) {
            return .found(route, PathParameters(names: route.parameterNames, values: values))
        }
        // RFC 9110 §9.3.2: HEAD is GET without the content; serve it from the GET route.
        if method == .head, let route = node.routes.first(where: { $0.method == .get }) {
            return .found(route, PathParameters(names: route.parameterNames, values: values))
        }
        return .methodNotAllowed(allow: node.allow)
    }

    /// Depth-first: literal children before the parameter child, backtracking on dead ends.
    /// `path` is what remains after the "/" that ended the previous segment.
    private static func find(_ node: RouteNode, _ path: Substring, atEnd: Bool, values: inout [String]) -> RouteNode? {
        if atEnd { return node.routes.isEmpty ? nil : node }
        let slash = path.firstIndex(of: "/")
        let rawSegment = path[..<(slash ?? path.endIndex)]
        let rest = slash.map { path[path.index(after: $0)...] } ?? path[path.endIndex...]
        let restAtEnd = slash == nil
        let decoded: Substring
        if rawSegment.utf8.contains(ASCII.percent) {
            guard case .success(let string) = PercentDecoding.decode(Array(rawSegment.utf8)) else { return nil }
            decoded = string[...]
        } else {
            decoded = rawSegment
        }
        for (literal, child) in node.literals where literal == decoded {
            if let found = find(child, rest, atEnd: restAtEnd, values: &values) { return found }
        }
        // A parameter never matches an empty segment ("/v1/prospects/" is not an {id}).
        if let parameter = node.parameter, !decoded.isEmpty {
            values.append(String(decoded))
            if let found = find(parameter, rest, atEnd: restAtEnd, values: &values) { return found }
            values.removeLast()
        }
        return nil
    }
}
