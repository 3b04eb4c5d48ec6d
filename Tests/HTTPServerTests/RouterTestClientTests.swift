import Dispatch
import HTTPTypes
import TestSupport
import Testing
@testable import HTTPServer

/// Routing and the mapping of handlers' results, run through ``RouterTestClient``: no socket,
/// so these say nothing about the wire (the end-to-end tests do), and run in microseconds.
@Suite("Router test client")
struct RouterTestClientTests {
    let client: RouterTestClient

    init() throws {
        client = try RouterTestClient(router: makeTestRouter())
    }

    @Test func routesToTheHandlerWithDecodedPathParameters() {
        #expect(client.execute(.get, "/hello").text == "hello")
        #expect(client.execute(.get, "/items/a%2Fb%20c").text == "item a/b c")
        let put = client.execute(.put, "/items/7", body: Array("abc".utf8))
        #expect(put.status == .created)
        #expect(put.text == "put 7 3")
    }

    @Test func queryParametersAreDecoded() {
        #expect(client.execute(.get, "/query?name=J%C3%BCrgen+M&x=1").text == "name=Jürgen M;x=1")
        #expect(client.execute(.get, "/query").text == "")
    }

    @Test func aMissingRouteIsA404Problem() {
        let response = client.execute(.get, "/missing")
        #expect(response.status == .notFound)
        #expect(response.headerFields[.contentType] == "application/problem+json")
        #expect(response.text == #"{"type":"about:blank","title":"Not Found","status":404,"detail":"No resource matches the request path."}"#)
        // Matching is exact: no trailing-slash folding, no empty parameter.
        #expect(client.execute(.get, "/hello/").status == .notFound)
        #expect(client.execute(.get, "/items/").status == .notFound)
    }

    @Test func aRouteWithoutTheMethodIsA405WithAllow() {
        let response = client.execute(.delete, "/items/3")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headerFields[.allow] == "GET, HEAD, PUT")
        #expect(response.text.contains(#""status":405"#))
        #expect(client.execute(.post, "/hello").headerFields[.allow] == "GET, HEAD")
    }

    @Test func headIsServedByTheGetRoute() {
        let response = client.execute(.head, "/hello")
        #expect(response.status == .ok)
        // The handler's response; the server drops its body on the wire.
        #expect(response.text == "hello")
    }

    @Test func aMatchingIfNoneMatchIsA304() throws {
        var router = Router()
        router.get("/tagged") { _, _ in
            var fields = HTTPFields()
            fields[.eTag] = #""v7""#
            return Response(headerFields: fields, text: "seven")
        }
        let client = try RouterTestClient(router: router)
        var fields = HTTPFields()
        fields[.ifNoneMatch] = #""v7""#
        let notModified = client.execute(.get, "/tagged", headerFields: fields)
        #expect(notModified.status == .notModified)
        #expect(notModified.body.isEmpty)
        fields[.ifNoneMatch] = #""v6""#
        #expect(client.execute(.get, "/tagged", headerFields: fields).text == "seven")
    }

    @Test func anHTTPResponseErrorCarriesItsStatus() {
        let response = client.execute(.get, "/teapot")
        #expect(response.status.code == 418)
        #expect(response.text == #"{"type":"about:blank","title":"I'm a teapot","status":418,"detail":"short and stout"}"#)
    }

    @Test func anUnknownErrorIsA500ThatLeaksNothingAndIsLoggedWithTheRequestID() throws {
        let logs = LogCapture()
        let client = try RouterTestClient(router: makeTestRouter(), logger: logs.logger())
        var fields = HTTPFields()
        fields[.xRequestID] = "trace-500"
        let response = client.execute(.get, "/fail", headerFields: fields)
        #expect(response.status == .internalServerError)
        #expect(response.text == #"{"type":"about:blank","title":"Internal Server Error","status":500}"#)
        let errors = logs.messages(at: .error)
        #expect(errors.count == 1)
        #expect(errors.first?.metadata["request-id"] == "trace-500")
        #expect(errors.first?.metadata["route"] == "/fail")
        #expect(errors.first?.metadata["error"]?.contains("UnexpectedFailure") == true)
    }

    @Test func theRequestIDIsTheClientsWhenWellFormedAndNewOtherwise() {
        var fields = HTTPFields()
        fields[.xRequestID] = "abc-123_x.y"
        let echoed = client.execute(.get, "/request-id", headerFields: fields)
        #expect(echoed.text == "abc-123_x.y")
        #expect(echoed.headerFields[.xRequestID] == "abc-123_x.y")

        fields[.xRequestID] = "has space"
        let generated = client.execute(.get, "/request-id", headerFields: fields)
        #expect(generated.text != "has space")
        #expect(RequestID.isWellFormed(generated.text))
        #expect(generated.headerFields[.xRequestID] == generated.text)
        #expect(client.execute(.get, "/request-id").text != generated.text)
    }

    @Test func theContextCarriesTheRouteTheAddressAndTheLimits() throws {
        var router = Router()
        router.get("/v1/prospects/{id}/convert") { _, context in
            Response(text: "\(context.routeTemplate) \(context.parameters["id"] ?? "-") \(context.limits.maxBodyBytes) \(context.remoteAddress.map { "\($0)" } ?? "none")")
        }
        var limits = HTTPServer.Limits()
        limits.maxBodyBytes = 1234
        let client = try RouterTestClient(router: router, limits: limits)
        #expect(client.execute(.get, "/v1/prospects/p-1/convert").text == "/v1/prospects/{id}/convert p-1 1234 none")
    }

    @Test func aDeferredResponseIsAwaited() throws {
        let postponed = Postponed()
        let client = try RouterTestClient(router: postponed.router())
        DispatchQueue.global().async {
            _ = eventually { postponed.count == 1 }
            postponed.release("later")
        }
        #expect(client.execute(.get, "/later").text == "later")
        #expect(client.execute(.get, "/handed-to-worker").text == "worked")
        #expect(client.execute(.get, "/twice").text == "first")
        let dropped = client.execute(.get, "/dropped")
        #expect(dropped.status == .internalServerError)
        #expect(dropped.text.contains("ended without an answer"))
        let unanswered = client.execute(Request(method: .get, target: "/later-on-worker"), deferredTimeout: .milliseconds(50))
        #expect(unanswered.status == .internalServerError)
        #expect(unanswered.text.contains("did not complete it"))
        postponed.release("too late")
    }

    @Test func theAdmissionCheckRefusesWorkerRoutesAndAdmittedInlineOnes() throws {
        var router = Router()
        router.get("/work") { _, _ in Response(text: "work") }
        router.get("/inline", options: .inline) { _, _ in Response(text: "inline") }
        router.get("/admitted", options: [.inline, .admitted]) { _, _ in Response(text: "admitted") }
        let client = try RouterTestClient(router: router, admissionCheck: { _ in .problem(status: .tooManyRequests) })
        #expect(client.execute(.get, "/work").status == .tooManyRequests)
        #expect(client.execute(.get, "/admitted").status == .tooManyRequests)
        #expect(client.execute(.get, "/inline").text == "inline")
    }
}

extension Response {
    /// The body as UTF-8 text.
    var text: String { String(decoding: body, as: UTF8.self) }
}
