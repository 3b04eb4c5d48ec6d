import Foundation
import HTTPTypes
import Postgres
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The one place where the core's errors become RFC 9457 problems: each case's
/// status, type, title and headers, the detail the core's.
@Suite struct ProblemMappingTests {
    static let urn = "urn:connector-receiver:problem:"

    @Test(arguments: [
        (ReceiverError.invalidField("email", "is not an email address"), 422, "validation", "Invalid request content"),
        (.badQuery("limit must be a whole number from 1 to 500."), 400, "bad-request", "Bad request"),
        (.notFound("No prospect with id x."), 404, "not-found", "Not found"),
        (.conflict("taken", existingId: nil), 409, "conflict", "Conflict"),
        (.versionMismatch("If-Match does not match"), 412, "precondition-failed", "Precondition failed"),
        (.unauthenticated("Unknown username or wrong password."), 401, "unauthorized", "Unauthorized"),
        (.clientSuspended(clientId: "acme"), 403, "client-suspended", "Forbidden"),
        (.idempotencyKeyReused, 422, "idempotency-key-reused", "Idempotency-Key reused"),
        (.rateLimited(clientId: "acme", settings: .init(requestsPerSecond: 5, burst: 10), retryAfterSeconds: 1), 429, "rate-limited", "Too many requests"),
        (.overloaded(retryAfterSeconds: 2), 503, "overloaded", "Service unavailable"),
        (.databaseUnavailable(detail: nil), 503, "database-unavailable", "Service unavailable"),
        (.outcomeUnknown, 503, "outcome-unknown", "Service unavailable"),
    ])
    func everyErrorHasItsStatusTypeAndTitle(_ error: ReceiverError, status: Int, type: String, title: String) {
        let problem = Problem(error)
        #expect(problem.status.code == status)
        #expect(problem.type == Self.urn + type)
        #expect(problem.title == title)
        #expect(problem.detail?.isEmpty == false)
        let response = problem.makeResponse()
        #expect(response.headerFields[.contentType] == "application/problem+json")
        #expect((response.headerFields[.retryAfter] != nil) == [429, 503].contains(status))
        #expect(response.headerFields[.wwwAuthenticate] == (status == 401 ? #"Basic realm="connector-receiver""# : nil))
    }

    @Test func theCoreDetailIsTheProblemDetailAndFieldsAreListed() {
        let problem = Problem(.invalid([FieldError(field: "clubId", message: "is not one of your clubs"), FieldError(field: "email", message: "bad")]))
        #expect(problem.detail == "2 fields are invalid: clubId, email.")
        #expect(problem.errors.map(\.field) == ["clubId", "email"])
        #expect(Problem(.notFound("No client acme.")).detail == "No client acme.")
    }

    @Test func aConflictNamesTheExistingRecord() throws {
        let id = try #require(UUID(uuidString: "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"))
        #expect(Problem(.conflict("taken", existingId: id)).jsonObject["existingId"] == .string(id.lowercasedString))
        #expect(Problem(.conflict("taken", existingId: nil)).jsonObject["existingId"] == nil)
    }

    @Test func databaseFailuresTheCallerCanRetryAreUnavailableAndOthersAreNot() {
        #expect(Problem.from(PostgresError(kind: .connectionLost, message: "gone"))?.type == Self.urn + "database-unavailable")
        #expect(Problem.from(PostgresError(kind: .server, message: "canceled", code: .queryCanceled))?.status.code == 503)
        #expect(Problem.from(PostgresError(kind: .commitOutcomeUnknown, message: "lost"))?.type == Self.urn + "outcome-unknown")
        #expect(Problem.from(PostgresError(kind: .server, message: "read-only", code: .readOnlySQLTransaction))?.status.code == 503,
                "a standby reached during a failover: retry, the primary is elsewhere")
        #expect(Problem.from(PostgresError(kind: .server, message: "syntax", code: SQLState("42601"))) == nil,
                "a fault of the server is not the caller's to retry")
    }
}
