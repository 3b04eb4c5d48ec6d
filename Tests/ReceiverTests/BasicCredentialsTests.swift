import Foundation
import HTTPServer
import HTTPTypes
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// HTTP Basic credentials, read over bytes on every `/v1` request.
@Suite struct BasicCredentialsTests {
    @Test func base64DecodesWhatFoundationEncodes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decode(Array(Data(bytes).base64EncodedString().utf8)) == bytes)
        }
    }

    @Test(arguments: [
        ("", []), ("YQ==", [97]), ("YWI=", [97, 98]), ("YWJj", [97, 98, 99]), ("+/+/", [251, 255, 191]),
        // Bits left over before the padding are ignored, as by Foundation.
        ("Tu==", [78]), ("3Qi=", [221, 8]),
    ] as [(String, [UInt8])])
    func base64Decodes(_ text: String, _ bytes: [UInt8]) {
        #expect(Base64.decode(Array(text.utf8)) == bytes)
    }

    @Test(arguments: ["YQ", "YWJ", "Y===", "====", "Y=Q=", "YQ==YQ==", "FiWS=", "-_8=", "YW Jj", "YWJj\n"])
    func base64Rejects(_ text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }

    private func credentials(_ authorization: String?) -> [String]? {
        var fields = HTTPFields()
        if let authorization { fields[.authorization] = authorization }
        let request = Request(method: .get, target: "/v1/staff", headerFields: fields, body: [])
        return BasicCredentials.parse(request).map { [$0.username, $0.password] }
    }

    @Test func readsTheSchemeCaseInsensitivelyAndSplitsAtTheFirstColon() {
        let token = Data("club.x:pa:ss wörd".utf8).base64EncodedString()
        for header in ["Basic \(token)", "basic \(token)", "BASIC  \(token)", " \tBaSiC \t\(token) \t"] {
            #expect(credentials(header) == ["club.x", "pa:ss wörd"], "\(header)")
        }
        #expect(credentials("Basic " + Data(":".utf8).base64EncodedString()) == ["", ""])
    }

    @Test func refusesAnythingElse() {
        let token = Data("club.x:secret".utf8).base64EncodedString()
        for header in [
            nil, "", "Basic", "Basic ", "Bearer \(token)", "Basic\t\(token)", "Basicx \(token)", "Basi \(token)",
            "Basic " + Data("no colon".utf8).base64EncodedString(), "Basic " + Data([0x63, 0x3A, 0xFF]).base64EncodedString(),
            "Basic \(token.dropLast())",
        ] as [String?] {
            #expect(credentials(header) == nil, "\(header ?? "nil")")
        }
    }
}
