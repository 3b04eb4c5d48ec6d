import Foundation
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        let object = try #require(value.objectValue)
        #expect(object["a"] == .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]))
        #expect(object["b"] == .object(["c": .string("d")]))
        #expect(object["e"] == .string(""))
        #expect(object["missing"] == nil)
    }

    @Test func decodesEscapesAndNonASCII() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"Zoë 中文 😀\"") == .string("Zoë 中文 😀"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"",
        "{\"a\" 1}", "{a:1}", "[1 2]", "1 2", "{\"a\":1,\"a\":2}", "1e400", "// c\n1",
    ])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        // After an escape, and a lone continuation byte, and a truncated sequence at the end.
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x61, 0x80, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x61, 0xE4, 0xB8, 0x22]) }
    }

    /// ASCII strings take a shorter way than the others; both give the same text.
    @Test func stringsWithAndWithoutEscapesInASCIIAndNot() throws {
        #expect(try parse(#""plain""#) == .string("plain"))
        #expect(try parse(#""a\nb\"c""#) == .string("a\nb\"c"))
        #expect(try parse("\"Zoë\\t中\"") == .string("Zoë\t中"))
        #expect(try parse("\"\\u00e9 é\"") == .string("é é"))
    }

    @Test func limitsNestingDepth() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try parse(deep) }
        let tooDeep = "[" + deep + "]"
        #expect(throws: JSONParseError.self) { try parse(tooDeep) }
    }

    @Test func writesWhatItParses() throws {
        let text = #"{"name":"Zoë \"Z\" \\ 中","n":[1,2.5,-3],"t":true,"z":null,"c":"\u0001\n"}"#
        let value = try parse(text)
        #expect(String(decoding: JSONWriter.serialize(value), as: UTF8.self) == text)
        #expect(try parse(String(decoding: JSONWriter.serialize(value), as: UTF8.self)) == value)
    }

    @Test func escapesAtEitherEndOfAStringAndNextToEachOther() {
        let cases: [(String, String)] = [
            ("", #""""#), ("\"", #""\"""#), ("\"a\"", #""\"a\"""#), ("\\\n\t", #""\\\n\t""#),
            ("a\u{1F}b\rc", #""a\u001fb\rc""#), ("plain text, ünïcode 中", #""plain text, ünïcode 中""#),
        ]
        for (string, expected) in cases {
            #expect(String(decoding: JSONWriter.serialize(.string(string)), as: UTF8.self) == expected)
        }
    }

    @Test func recordIdsAreWrittenInLowerCase() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
    }

    @Test func objectEqualityIgnoresMemberOrder() {
        #expect(JSONValue.object(["a": .number(1), "b": .null]) == .object(["b": .null, "a": .number(1)]))
        #expect(JSONValue.object(["a": .number(1)]) != .object(["a": .number(2)]))
    }
}
