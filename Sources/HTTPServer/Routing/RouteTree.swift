import Glibc
import HTTPTypes

/// One node of the immutable route tree: a path position reached by literal or parameter
/// segments, with the routes (by method) that end here.
final class RouteNode: Sendable {
    /// Literal children, keyed by the segment's UTF-8 bytes (matched against decoded bytes).
    let literals: [(segment: [UInt8], node: RouteNode)]
    let parameter: RouteNode?
    let routes: [Route]
    /// The `Allow` field value for 405 responses at this node (GET implies HEAD).
    let allow: String

    init(literals: [(segment: [UInt8], node: RouteNode)], parameter: RouteNode?, routes: [Route]) {
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
                    literals: literals.map { (Array($0.segment.utf8), $0.node.freeze()) },
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
        let segments = template.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return try segments.enumerated().map { index, segment in
            if segment.isEmpty {
                // A trailing "/" is a segment of its own, matched exactly: "/admin/" (a
                // directory-like page whose relative links resolve under it) is not "/admin".
                guard index == segments.count - 1, index > 0 else {
                    throw RouterError(message: "route template '\(template)' has an empty segment (double '/')")
                }
                return .literal("")
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
        var path = rawPath
        return path.withUTF8 { match(method: method, bytes: UnsafeRawBufferPointer($0)) }
    }

    private func match(method: HTTPRequest.Method, bytes: UnsafeRawBufferPointer) -> Match {
        guard bytes.first == ASCII.slash else { return .notFound }
        var values: [String] = []
        guard let node = Self.find(root, bytes, from: 1, atEnd: bytes.count == 1, values: &values) else { return .notFound }
        for route in node.routes where route.method == method {
            return .found(route, PathParameters(names: route.parameterNames, values: values))
        }
        // RFC 9110 §9.3.2: HEAD is GET without the content; serve it from the GET route.
        if method == .head {
            for route in node.routes where route.method == .get {
                return .found(route, PathParameters(names: route.parameterNames, values: values))
            }
        }
        return .methodNotAllowed(allow: node.allow)
    }

    /// Depth-first: literal children before the parameter child, backtracking on dead ends.
    /// `start` is where the current segment begins (after its "/"); `atEnd`: no segment left.
    private static func find(
        _ node: RouteNode, _ path: UnsafeRawBufferPointer, from start: Int, atEnd: Bool, values: inout [String]
    ) -> RouteNode? {
        if atEnd { return node.routes.isEmpty ? nil : node }
        var end = start
        var hasEscape = false
        while end < path.count && path[end] != ASCII.slash {
            if path[end] == ASCII.percent { hasEscape = true }
            end += 1
        }
        let nextAtEnd = end == path.count
        let raw = UnsafeRawBufferPointer(rebasing: path[start..<end])
        if hasEscape {
            // Decoded per segment, so "%2F" stays inside its segment.
            guard case .success(let decoded) = PercentDecoding.decode(raw) else { return nil }
            var decodedBytes = Array(decoded.utf8)
            return decodedBytes.withUnsafeMutableBytes { segment in
                descend(node, UnsafeRawBufferPointer(segment), path, next: end + 1, nextAtEnd: nextAtEnd, values: &values)
            }
        }
        return descend(node, raw, path, next: end + 1, nextAtEnd: nextAtEnd, values: &values)
    }

    private static func descend(
        _ node: RouteNode, _ segment: UnsafeRawBufferPointer, _ path: UnsafeRawBufferPointer, next: Int, nextAtEnd: Bool,
        values: inout [String]
    ) -> RouteNode? {
        for (literal, child) in node.literals where literal.count == segment.count {
            let equal = literal.withUnsafeBytes { literal in
                segment.count == 0 || memcmp(literal.baseAddress!, segment.baseAddress!, segment.count) == 0
            }
            if equal, let found = find(child, path, from: next, atEnd: nextAtEnd, values: &values) { return found }
        }
        // A parameter never matches an empty segment ("/v1/prospects/" is not an {id}).
        if let parameter = node.parameter, !segment.isEmpty {
            values.append(String(decoding: segment, as: UTF8.self))
            if let found = find(parameter, path, from: next, atEnd: nextAtEnd, values: &values) { return found }
            values.removeLast()
        }
        return nil
    }
}
