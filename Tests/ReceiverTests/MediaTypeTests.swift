import Testing
@testable import ReceiverHTTP

/// The media type of a request's `Content-Type`: its parameters dropped, case and
/// optional whitespace ignored (RFC 9110 §8.3.1), whether or not it is the plain
/// `application/json` that nearly every request sends.
struct MediaTypeTests {
    @Test(arguments: [
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("Application/JSON", "application/json"),
        (" application/json ;charset=UTF-8", "application/json"),
        ("application/merge-patch+json", "application/merge-patch+json"),
        ("text/plain", "text/plain"),
        ("application/jsonx", "application/jsonx"),
        ("", ""),
    ])
    func mediaTypeOf(_ contentType: String, _ expected: String) {
        #expect(RequestSupport.mediaType(contentType) == expected)
    }
}
