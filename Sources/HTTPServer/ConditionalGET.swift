import HTTPTypes

/// The server's generic conditional-GET step (RFC 9110 §13.1.2, §13.2.2): a `GET` or `HEAD`
/// whose handler answers `200` with an `ETag` that the request's `If-None-Match` names is
/// answered `304 Not Modified` instead — the same `ETag` (and the other fields a 304 keeps),
/// no body.
///
/// Handlers therefore only set `ETag` on their `200`s; they never look at `If-None-Match`.
/// Every other case passes through unchanged: other methods (a state-changing request with a
/// failed `If-None-Match` would be `412`, which is the handler's business), other statuses
/// (RFC 9110 §13.2.1: preconditions are ignored when the response would not be 2xx), and a
/// `200` without an `ETag`.
enum ConditionalGET {
    /// Fields a 304 carries over from the 200 it replaces (RFC 9110 §15.4.5); `Date` is the
    /// server's own. Representation metadata such as `Content-Type` is left out.
    static let keptFields: [HTTPField.Name] = [
        .eTag, .cacheControl, .contentLocation, .expires, .vary, .lastModified,
    ]

    /// The response to send for `response`, the handler's answer to a request with `method`
    /// and `If-None-Match` value `ifNoneMatch` (nil when the request had none).
    static func apply(method: HTTPRequest.Method, ifNoneMatch: String?, to response: Response) -> Response {
        guard let ifNoneMatch, method == .get || method == .head, response.status == .ok,
              let etag = response.headerFields[.eTag], matches(ifNoneMatch: ifNoneMatch, etag: etag)
        else { return response }
        var fields = HTTPFields()
        for name in keptFields {
            for field in response.headerFields where field.name == name {
                fields.append(field)
            }
        }
        return Response(status: .notModified, headerFields: fields, body: [])
    }

    /// The If-None-Match of `request` when the conditional step may apply to it (a `GET` or
    /// `HEAD` that carries one), else nil.
    static func candidate(_ request: Request) -> String? {
        guard request.method == .get || request.method == .head else { return nil }
        return request.headerFields.value(of: .ifNoneMatch)  // no joined copy on the hot path
    }

    /// Whether the `If-None-Match` field value names `etag` (RFC 9110 §13.1.2): `*`, or a list
    /// of entity tags one of which equals `etag` under the weak comparison (§8.8.3.2: `W/`
    /// prefixes ignored, opaque tags compared octet by octet). A malformed member is skipped.
    static func matches(ifNoneMatch: String, etag: String) -> Bool {
        guard let current = opaqueTag(Substring(etag.trimmingWhitespace())) else { return false }
        if ifNoneMatch.trimmingWhitespace() == "*" { return true }
        var rest = Substring(ifNoneMatch)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            if rest.isEmpty { return false }
            // One member: [W/]"...", or junk up to the next comma.
            var member = rest
            if member.hasPrefix("W/") { member = member.dropFirst(2) }
            if member.first == "\"", let close = member.dropFirst().firstIndex(of: "\"") {
                let tag = member[member.startIndex...close]
                if opaqueTag(tag) == current { return true }
                rest = member[member.index(after: close)...]
            } else {
                guard let comma = rest.firstIndex(of: ",") else { return false }
                rest = rest[comma...]
            }
        }
    }

    /// The quoted opaque tag of an entity tag (`"abc"` for `W/"abc"` or `"abc"`), nil when
    /// malformed.
    private static func opaqueTag(_ value: Substring) -> Substring? {
        let tag = value.hasPrefix("W/") ? value.dropFirst(2) : value
        guard tag.count >= 2, tag.first == "\"", tag.last == "\"" else { return nil }
        guard !tag.dropFirst().dropLast().contains("\"") else { return nil }
        return tag
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return view
    }
}
