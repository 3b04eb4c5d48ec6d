import Foundation
import HTTPServer
import HTTPTypes
import ReceiverCore

/// Reading request bodies and query parameters the way every route does.
enum RequestSupport {
    /// The body as a JSON object. RFC 9110 §15.5.16: a body in a media type the
    /// route does not take is a 415; a body that is not JSON is a 400.
    static func jsonObject(_ request: Request, allowMergePatch: Bool = false) throws -> JSONObject {
        let mediaType = request.headerFields.value(of: .contentType).map(Self.mediaType) ?? ""
        let accepted = allowMergePatch ? ["application/json", "application/merge-patch+json"] : ["application/json"]
        guard accepted.contains(mediaType) else {
            throw Problem.unsupportedMediaType(
                mediaType.isEmpty
                    ? "Send the body with Content-Type: \(accepted.joined(separator: " or "))."
                    : "Content-Type \(mediaType) is not accepted here; send \(accepted.joined(separator: " or ")).")
        }
        guard !request.body.isEmpty else { throw Problem.badRequest("The request body is empty; send a JSON object.") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw Problem.badRequest("The request body is not valid JSON: \(error.description).")
        }
        guard case .object(let object) = value else {
            throw Problem.badRequest("The request body must be a JSON object, not \(value.typeName).")
        }
        return object
    }

    /// `application/json; charset=utf-8` → `application/json` (RFC 9110 §8.3.1: case-insensitive).
    static func mediaType(_ contentType: String) -> String {
        // What nearly every request sends, as it is: no splitting, trimming or lowercasing.
        if contentType == "application/json" { return contentType }
        let base = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return String(base).trimmingOptionalWhitespace().lowercased()
    }

    /// A single-valued query parameter; repeating it is a 400.
    static func queryValue(_ request: Request, _ name: String) throws -> String? {
        let values = request.query.values(for: name)
        guard values.count <= 1 else { throw Problem.badRequest("The query parameter \(name) is given more than once.") }
        return values.first
    }

    /// A single-valued text filter of at most `maxLength` characters; longer is a 400.
    static func queryText(_ request: Request, _ name: String, maxLength: Int) throws -> String? {
        guard let value = try queryValue(request, name) else { return nil }
        guard !value.isEmpty, value.unicodeScalars.count <= maxLength else {
            throw Problem.badRequest("The query parameter \(name) must be 1 to \(maxLength) characters.")
        }
        return value
    }

    /// The `clubId` filter: a club id (`Identifier`) or a 400. One that is not the caller's
    /// matches nothing; one that cannot be any club's is a mistake worth saying.
    static func queryClubId(_ request: Request) throws -> String? {
        guard let value = try queryValue(request, "clubId") else { return nil }
        guard Identifier.isValid(value) else {
            throw Problem.badRequest("The query parameter clubId \(Identifier.rule).")
        }
        return value
    }

    static func queryBool(_ request: Request, _ name: String) throws -> Bool? {
        guard let text = try queryValue(request, name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw Problem.badRequest("The query parameter \(name) must be true or false.")
        }
    }

    static func queryTimestamp(_ request: Request, _ name: String) throws -> Date? {
        guard let text = try queryValue(request, name) else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw Problem.badRequest("The query parameter \(name) must be an RFC 3339 timestamp such as 2026-11-25T10:00:00Z.")
        }
        return date
    }

    /// The `If-Match` precondition (RFC 9110 §13.1.1), if any: `*` or a list of
    /// entity tags, which are our records' versions.
    static func versionCondition(_ request: Request) -> VersionCondition? {
        guard let header = request.headerFields.value(of: .ifMatch) else { return nil }
        let trimmed = header.trimmingOptionalWhitespace()
        if trimmed == "*" { return .any }
        let tags = trimmed.split(separator: ",").map { String($0).trimmingOptionalWhitespace() }
        // Our tags are strong; a weak tag never matches under If-Match's strong comparison.
        let versions = tags.compactMap { tag -> Int? in
            guard tag.count >= 3, tag.hasPrefix("\""), tag.hasSuffix("\"") else { return nil }
            return Int(tag.dropFirst().dropLast())
        }
        return .versions(versions)
    }

    /// `limit` and `cursor` of a list whose sort key has `keyCount` values.
    static func page(_ request: Request, keyCount: Int) throws -> Page {
        try Page.parse(try queryValue(request, "limit"), try queryValue(request, "cursor"), keyCount: keyCount)
    }

    /// A JSON response for one record, with its ETag.
    static func record(_ object: JSONObject, version: Int, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        record(serialized: JSONWriter.serialize(.object(object)), version: version, status: status, location: location)
    }

    /// The same, for a record whose JSON is serialized already (a save's: the bytes of its event).
    static func record(serialized json: [UInt8], version: Int, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        var response = Response.json(json, status: status)
        response.headerFields[.eTag] = "\"\(version)\""
        if let location { response.headerFields[.location] = location }
        return response
    }
}
