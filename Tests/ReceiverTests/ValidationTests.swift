import Postgres
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct ValidationTests {
    private func object(_ text: String) throws -> JSONObject {
        try #require(try JSONParser.parse(Array(text.utf8)).objectValue)
    }

    private func prospectErrors(_ text: String) throws -> [String] {
        switch ProspectInput.parse(try object(text)) {
        case .success: return []
        case .failure(let failure): return failure.errors.map(\.field)
        }
    }

    @Test func acceptsAFullProspectAndIgnoresUnknownFields() throws {
        let result = ProspectInput.parse(try object("""
            {"clubId": "c1", "externalId": "x-1", "firstName": " Zoë ", "lastName": "Ng",
             "email": "zoe@example.com", "phones": {"mobile": "+1 (555) 010-2000"},
             "address": {"line1": "1 Main St", "country": "GB"}, "birthDate": "2000-02-29",
             "gender": "female", "staffOwnerEmail": "coach@example.com", "status": "lost",
             "somethingNew": {"ignored": true}, "id": "read-only"}
            """))
        let prospect = try result.get()
        #expect(prospect.person.firstName == "Zoë")
        #expect(prospect.person.phones.mobile == "+1 (555) 010-2000")
        #expect(prospect.person.address.country == "GB")
        #expect(prospect.person.birthDate == PostgresDate(year: 2000, month: 2, day: 29))
        #expect(prospect.status == "lost")
    }

    @Test func defaultsStatusToOpen() throws {
        let prospect = try ProspectInput.parse(try object(#"{"clubId": "c1", "lastName": "Ng"}"#)).get()
        #expect(prospect.status == "open")
    }

    @Test func namesEveryBadField() throws {
        let fields = try prospectErrors("""
            {"email": "not-an-email", "birthDate": "2001-02-29", "gender": "robot",
             "address": {"country": "gb"}, "phones": {"mobile": "call me"}, "status": 3}
            """)
        #expect(fields == ["clubId", "firstName", "email", "phones.mobile", "address.country", "birthDate", "gender", "status"])
    }

    @Test(arguments: ["2023-02-29", "2023-13-01", "2023-00-10", "2023-04-31", "23-01-01", "2023-1-01", "2023-01-01T00:00:00Z"])
    func rejectsDatesThatDoNotExist(_ date: String) throws {
        #expect(try prospectErrors(#"{"clubId": "c1", "lastName": "N", "birthDate": "\#(date)"}"#) == ["birthDate"])
    }

    @Test func enforcesLengthLimits() throws {
        let long = String(repeating: "a", count: 101)
        #expect(try prospectErrors(#"{"clubId": "c1", "firstName": "\#(long)"}"#) == ["firstName"])
    }

    @Test(arguments: ["a@b.co", "first.last+tag@example.co.uk", "zoë@exämple.com"])
    func acceptsEmails(_ email: String) {
        #expect(EmailAddress.isValid(email))
    }

    @Test(arguments: ["", "a", "a@b", "@b.co", "a@.co", "a@b..co", "a b@c.co", "a@b.co.", ".a@b.co", "a@-b.co", "a@@b.co"])
    func rejectsEmails(_ email: String) {
        #expect(!EmailAddress.isValid(email))
    }

    /// The ASCII fast path must agree with the general check on every ASCII input:
    /// random strings over the characters that matter, with valid ones mixed in.
    @Test func asciiEmailCheckAgreesWithTheGeneralOne() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09.-@_+!~ \"()[],;:\\é".unicodeScalars).filter(\.isASCII)
        var checked = 0, valid = 0
        for round in 0..<20_000 {
            var text = ""
            // Every fourth from characters a local part may hold, so that many pass.
            let characters = round % 4 == 0 ? Array("aZ09._+!~".unicodeScalars) : alphabet
            for _ in 0..<Int.random(in: 0...20, using: &generator) {
                text.unicodeScalars.append(characters.randomElement(using: &generator)!)
            }
            // Random local parts before a valid domain: many of these are valid.
            if round % 2 == 0 { text += "@example.com" }
            if round % 7 == 0 { text += "." + String(repeating: "x", count: Int.random(in: 0...70, using: &generator)) }
            var copy = text
            let fast = copy.withUTF8(EmailAddress.asciiVerdict)
            #expect(fast == EmailAddress.isValidUnicode(text), "\(text)")
            checked += 1
            if fast == true { valid += 1 }
        }
        #expect(checked == 20_000 && valid > 1000)
        var nonASCII = "zoë@exämple.com"
        #expect(nonASCII.withUTF8(EmailAddress.asciiVerdict) == nil)
    }

    @Test func validatesMembers() throws {
        let failure = MemberInput.parse(try object("""
            {"clubId": "c1", "firstName": "A", "membershipStatus": "paused", "joinDate": "2026-01-10", "expiryDate": "2025-01-10"}
            """))
        guard case .failure(let errors) = failure else { Issue.record("expected a failure"); return }
        #expect(errors.errors.map(\.field) == ["membershipStatus", "expiryDate"])
    }
}
