import HTTPTypes
import Testing
@testable import HTTPServer

@Suite("Router")
struct RouterTests {
    private func tree(_ routes: [(HTTPRequest.Method, String)]) throws -> RouteTree {
        var router = Router()
        for (method, template) in routes {
            router.on(method, template) { _, context in Response(text: context.routeTemplate) }
        }
        return try router.build()
    }

    private func describe(_ match: RouteTree.Match) -> String {
        switch match {
        case .found(let route, let parameters):
            let values = zip(parameters.names, parameters.values).map { "\($0)=\($1)" }.joined(separator: ",")
            return "\(route.method.rawValue) \(route.template)" + (values.isEmpty ? "" : " [\(values)]")
        case .methodNotAllowed(let allow):
            return "405 \(allow)"
        case .notFound:
            return "404"
        }
    }

    private let prospects: [(HTTPRequest.Method, String)] = [
        (.get, "/v1/prospects/{id}"),
        (.patch, "/v1/prospects/{id}"),
        (.get, "/v1/prospects/by-external-id/{externalId}"),
        (.post, "/v1/prospects/{id}/convert"),
        (.post, "/v1/prospects"),
        (.get, "/"),
        (.get, "/healthz"),
    ]

    @Test func matchesTemplatesAndExtractsParameters() throws {
        let routes = try tree(prospects)
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/42")) == "GET /v1/prospects/{id} [id=42]")
        #expect(describe(routes.match(method: .post, rawPath: "/v1/prospects/42/convert")) == "POST /v1/prospects/{id}/convert [id=42]")
        #expect(describe(routes.match(method: .post, rawPath: "/v1/prospects")) == "POST /v1/prospects")
        #expect(describe(routes.match(method: .get, rawPath: "/")) == "GET /")
        #expect(describe(routes.match(method: .get, rawPath: "/healthz")) == "GET /healthz")
    }

    @Test func literalSegmentsWinOverParameters() throws {
        let routes = try tree(prospects)
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/by-external-id/abc"))
            == "GET /v1/prospects/by-external-id/{externalId} [externalId=abc]")
    }

    @Test func backtracksFromALiteralDeadEnd() throws {
        let routes = try tree(prospects)
        // "by-external-id" has no route of its own, so it is an {id}.
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/by-external-id"))
            == "GET /v1/prospects/{id} [id=by-external-id]")
        #expect(describe(routes.match(method: .post, rawPath: "/v1/prospects/by-external-id/convert"))
            == "405 GET, HEAD")  // the literal branch matched the path
    }

    @Test func parametersArePercentDecodedPerSegment() throws {
        let routes = try tree(prospects)
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/a%2Fb%20c")) == "GET /v1/prospects/{id} [id=a/b c]")
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/caf%C3%A9")) == "GET /v1/prospects/{id} [id=café]")
        // Literals match their decoded form too.
        #expect(describe(routes.match(method: .get, rawPath: "/%68ealthz")) == "GET /healthz")
    }

    @Test func notFoundAndMethodNotAllowed() throws {
        let routes = try tree(prospects)
        #expect(describe(routes.match(method: .get, rawPath: "/v2/prospects")) == "404")
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/42/extra")) == "404")
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects/")) == "404")  // a parameter is never empty
        #expect(describe(routes.match(method: .get, rawPath: "/healthz/")) == "404")  // exact: no trailing-slash folding
        #expect(describe(routes.match(method: .get, rawPath: "/HEALTHZ")) == "404")  // case-sensitive
        #expect(describe(routes.match(method: .delete, rawPath: "/v1/prospects/42")) == "405 GET, HEAD, PATCH")
        #expect(describe(routes.match(method: .get, rawPath: "/v1/prospects")) == "405 POST")
        #expect(describe(routes.match(method: .get, rawPath: "*")) == "404")
    }

    @Test func headIsServedByGet() throws {
        let routes = try tree(prospects)
        #expect(describe(routes.match(method: .head, rawPath: "/healthz")) == "GET /healthz")
        let explicit = try tree([(.get, "/x"), (.head, "/x")])
        #expect(describe(explicit.match(method: .head, rawPath: "/x")) == "HEAD /x")
    }

    @Test func badTemplatesAndCollisionsAreRejected() {
        for template in ["no-slash", "/a//b", "//", "/{}", "/{a-b}", "/x{id}", "/{id}/{id}"] {
            #expect(throws: RouterError.self, "\(template)") { try tree([(.get, template)]) }
        }
        #expect(throws: RouterError.self) { try tree([(.get, "/a/{id}"), (.get, "/a/{name}")]) }
        #expect(throws: RouterError.self) { try tree([(.get, "/a"), (.get, "/a")]) }
        // Different parameter names at one position are fine for different routes.
        #expect(throws: Never.self) { try tree([(.get, "/a/{id}"), (.post, "/a/{name}/b")]) }
    }

    @Test func aTrailingSlashIsASegmentOfItsOwn() throws {
        let routes = try tree([(.get, "/admin/"), (.get, "/admin/{asset}"), (.get, "/admin")])
        #expect(describe(routes.match(method: .get, rawPath: "/admin/")) == "GET /admin/")
        #expect(describe(routes.match(method: .get, rawPath: "/admin")) == "GET /admin")
        #expect(describe(routes.match(method: .get, rawPath: "/admin/app.js")) == "GET /admin/{asset} [asset=app.js]")
        #expect(describe(routes.match(method: .get, rawPath: "/admin//")) == "404")
        #expect(describe(try tree([(.get, "/admin")]).match(method: .get, rawPath: "/admin/")) == "404")
    }

    @Test func pathParameterAccessors() throws {
        let parameters = PathParameters(names: ["id", "slug"], values: ["1", "x"])
        #expect(parameters["id"] == "1")
        #expect(parameters["missing"] == nil)
        #expect(try parameters.require("slug") == "x")
        #expect(throws: RouterError.self) { try parameters.require("missing") }
    }
}
