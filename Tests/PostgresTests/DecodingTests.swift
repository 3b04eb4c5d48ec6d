import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Decoding")
struct DecodingTests {
    private func row(_ sql: String, on conn: PostgresConnection) throws -> PostgresRow {
        try #require(try conn.query(PostgresQuery(sql: sql)).first)
    }

    @Test func byIndexByNameAndAsTuple() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try row("SELECT 1 AS id, 'a@example.com' AS email, NULL::text AS note, 2 AS id", on: conn)
            #expect(try row.decode(0, as: Int.self) == 1)
            #expect(try row.decode("email", as: String.self) == "a@example.com")
            #expect(try row.decode("email", as: String?.self) == "a@example.com")
            #expect(try row.decode("note", as: String?.self) == nil)
            let inferred: Int = try row.decode("id")  // the first column of that name
            #expect(inferred == 1)
            let (id, email, note) = try row.decode((Int, String, String?).self)
            #expect(id == 1 && email == "a@example.com" && note == nil)
            #expect(try row.isNull("note"))
            #expect(try !row.isNull(1))
            #expect(row.columns.map(\.name) == ["id", "email", "note", "id"])
        }
    }

    @Test func typeMismatchNamesTheColumnAndBothTypes() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try row("SELECT 42::int4 AS amount, 'x'::text AS label, 5::int8 AS big, now()::timestamp AS naive", on: conn)
            let asBool = expectPostgresError { _ = try row.decode("amount", as: Bool.self) }
            #expect(asBool?.kind == .decoding)
            #expect(asBool?.column == "amount")
            #expect(asBool?.message.contains(#"column "amount""#) == true)
            #expect(asBool?.message.contains("int4") == true)
            #expect(asBool?.message.contains("as Bool") == true)

            let textAsInt = expectPostgresError { _ = try row.decode("label", as: Int.self) }
            #expect(textAsInt?.message.contains("text") == true)
            #expect(textAsInt?.message.contains("as Int") == true)

            // int8 is refused as Int32 rather than truncated; text reads anything.
            let narrow = expectPostgresError { _ = try row.decode("big", as: Int32.self) }
            #expect(narrow?.message.contains("int8") == true)
            #expect(try row.decode("amount", as: String.self) == "42")
            #expect(try row.decode("amount", as: Int32.self) == 42)

            let naive = expectPostgresError { _ = try row.decode("naive", as: Date.self) }
            #expect(naive?.message.contains("timestamp without time zone") == true)
            let notArray = expectPostgresError { _ = try row.decode("label", as: [String].self) }
            #expect(notArray?.message.contains("not an array type") == true)
            let uuid = expectPostgresError { _ = try row.decode("label", as: UUID.self) }
            #expect(uuid?.message.contains("uuid") == true)
        }
    }

    @Test func unexpectedNullSaysHowToAcceptIt() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try row("SELECT NULL::text AS email", on: conn)
            let error = expectPostgresError { _ = try row.decode("email", as: String.self) }
            #expect(error?.kind == .decoding)
            #expect(error?.message.contains(#"column "email""#) == true)
            #expect(error?.message.contains("is NULL") == true)
            #expect(error?.message.contains("Optional<String>") == true)
        }
    }

    @Test func missingColumnsAreNamed() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try row("SELECT 1 AS id, 2 AS email", on: conn)
            let byName = expectPostgresError { _ = try row.decode("emial", as: Int.self) }
            #expect(byName?.kind == .decoding)
            #expect(byName?.message.contains(#"no column named "emial""#) == true)
            #expect(byName?.message.contains("id, email") == true)
            let byIndex = expectPostgresError { _ = try row.decode(2, as: Int.self) }
            #expect(byIndex?.message.contains("no column at index 2") == true)
            let tooMany = expectPostgresError { _ = try row.decode((Int, Int, Int).self) }
            #expect(tooMany?.kind == .decoding)
            let nullCheck = expectPostgresError { _ = try row.isNull("nope") }
            #expect(nullCheck?.kind == .decoding)
            let nullIndex = expectPostgresError { _ = try row.isNull(9) }
            #expect(nullIndex?.kind == .decoding)
        }
    }

    @Test func outOfRangeAndMalformedValues() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try row("SELECT 40000::int4 AS big, 'infinity'::timestamptz AS forever, ARRAY[1,2]::int2[] AS shorts", on: conn)
            let overflow = expectPostgresError { _ = try row.decode("big", as: Int16.self) }
            #expect(overflow?.kind == .decoding)
            let infinite = expectPostgresError { _ = try row.decode("forever", as: Date.self) }
            #expect(infinite?.message.contains("infinity") == true)
            #expect(try row.decode("shorts", as: [Int16].self) == [1, 2])
            // Decoding failures never include the value itself (it may be a secret).
            let secret = try self.row("SELECT 'hunter2-secret'::text AS token", on: conn)
            let hidden = expectPostgresError { _ = try secret.decode("token", as: PostgresJSON.self) }
            #expect(hidden?.message.contains("hunter2") == false)
        }
    }

    @Test func customTypesCanConform() throws {
        enum Mood: String, PostgresCodable, PostgresArrayElement {
            case happy, sad
            static var postgresDataType: PostgresDataType { .unspecified }  // server infers the enum type
            var postgresText: String? { rawValue }
            init(postgresText text: String, type: PostgresDataType) throws {
                guard let mood = Mood(rawValue: text) else { throw PostgresDecodingFailure("not a mood") }
                self = mood
            }
        }
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TYPE mood AS ENUM ('happy', 'sad'); CREATE TABLE people (name text, mood mood, moods mood[])")
            try conn.execute("INSERT INTO people VALUES (\("Ann"), \(Mood.sad), \([Mood.happy, .sad]))")
            let row = try conn.query("SELECT mood, moods FROM people WHERE mood = \(Mood.sad)").first!
            #expect(try row.decode("mood", as: Mood.self) == .sad)
            #expect(try row.decode("moods", as: [Mood].self) == [.happy, .sad])
            let bad = expectPostgresError { _ = try conn.query("SELECT 'angry'::text AS m").first!.decode("m", as: Mood.self) }
            #expect(bad?.message.contains("not a mood") == true)
        }
    }
}
