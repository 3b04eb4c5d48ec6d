import Foundation
import TestSupport
import Testing
@testable import Postgres

/// Every supported type goes to the server as a parameter and comes back, with
/// and without NULL, and the server sees the type we claim.
@Suite("Round trips")
struct RoundTripTests {
    /// `SELECT $1` and decode it back; also returns the server's type name for $1.
    private func roundTrip<Value: PostgresEncodable & PostgresDecodable>(
        _ value: Value, on conn: PostgresConnection
    ) throws -> (value: Value, type: String) {
        let row = try conn.query("SELECT \(value) AS v, pg_typeof(\(value))::text AS t").first!
        return (try row.decode("v", as: Value.self), try row.decode("t", as: String.self))
    }

    static let texts = [
        "", "plain ascii", "héllo wörld, ça va? Ünïcödé", "日本語のテキスト 中文 한국어",
        "emoji 🎉👩‍👩‍👧‍👦🇫🇷", "Ελληνικά и кириллица", "e\u{301} combining", "tab\tnew\nline\r",
        "quote ' double \" backslash \\ percent % dollar $1", String(repeating: "long ✓ ", count: 5000),
    ]

    @Test func strings() throws {
        try TestDatabase.withConnection { conn throws in
            for text in Self.texts {
                let (back, type) = try roundTrip(text, on: conn)
                #expect(back == text)
                #expect(back.utf8.elementsEqual(text.utf8), "bytes differ for \(text.prefix(20))")
                #expect(type == "text")
            }
            // Server-side length counts characters correctly, i.e. the bytes arrived as UTF-8.
            #expect(try conn.query("SELECT length(\("🎉é日"))").first!.decode(0, as: Int.self) == 3)
            #expect(try roundTrip(String?.none, on: conn).value == nil)
        }
    }

    @Test func nonASCIITextThroughATable() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE notes (id int PRIMARY KEY, body varchar(100000), tags text[])")
            for (index, text) in Self.texts.enumerated() {
                try conn.execute("INSERT INTO notes VALUES (\(index), \(text), \([text, "ü"]))")
            }
            for (index, text) in Self.texts.enumerated() {
                let row = try conn.query("SELECT body, tags FROM notes WHERE id = \(index)").first!
                #expect(try row.decode("body", as: String.self) == text)
                #expect(try row.decode("tags", as: [String].self) == [text, "ü"])
            }
        }
    }

    @Test func integers() throws {
        try TestDatabase.withConnection { conn throws in
            for value in [0, 1, -1, Int.max, Int.min] {
                #expect(try roundTrip(value, on: conn) == (value, "bigint"))
                #expect(try roundTrip(Int64(value), on: conn) == (Int64(value), "bigint"))
            }
            for value in [Int32.max, Int32.min, 0] {
                #expect(try roundTrip(value, on: conn) == (value, "integer"))
            }
            for value in [Int16.max, Int16.min] {
                #expect(try roundTrip(value, on: conn) == (value, "smallint"))
            }
            #expect(try roundTrip(Int?.none, on: conn).value == nil)
            #expect(try roundTrip(Int32?.none, on: conn).value == nil)
            // Int binds as int8 and still compares with and assigns to int4 columns.
            try conn.simpleExecute("CREATE TABLE i (id int4 PRIMARY KEY, small int2)")
            try conn.execute("INSERT INTO i VALUES (\(7), \(3))")
            #expect(try conn.query("SELECT small FROM i WHERE id = \(7)").first!.decode(0, as: Int.self) == 3)
        }
    }

    @Test func booleansAndDoubles() throws {
        try TestDatabase.withConnection { conn throws in
            #expect(try roundTrip(true, on: conn) == (true, "boolean"))
            #expect(try roundTrip(false, on: conn) == (false, "boolean"))
            #expect(try roundTrip(Bool?.none, on: conn).value == nil)
            for value in [0.0, 0.1, -1.5e-300, 1e300, .pi, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, .infinity, -.infinity] {
                let (back, type) = try roundTrip(value, on: conn)
                #expect(back == value)
                #expect(type == "double precision")
            }
            #expect(try roundTrip(Double.nan, on: conn).value.isNaN)
            #expect(try conn.query("SELECT 1.25::numeric, 2::int4, 0.5::float4").first!.decode((Double, Double, Double).self) == (1.25, 2, 0.5))
        }
    }

    @Test func timestamps() throws {
        try TestDatabase.withConnection { conn throws in
            let now = Date()
            let (back, type) = try roundTrip(now, on: conn)
            #expect(type == "timestamp with time zone")
            #expect(abs(back.timeIntervalSince(now)) < 0.000_001)
            #expect(back.postgresText == now.postgresText)

            // A known instant: what the server stores, and its text in UTC.
            let instant = Date(timeIntervalSince1970: 1_709_210_096.123456)  // 2024-02-29T12:34:56.123456Z
            #expect(instant.postgresText == "2024-02-29T12:34:56.123456Z")
            #expect(try conn.query("SELECT \(instant)::text").first!.decode(0, as: String.self) == "2024-02-29 12:34:56.123456+00")
            #expect(try conn.query("SELECT extract(epoch FROM \(instant))::float8").first!.decode(0, as: Double.self) == 1_709_210_096.123456)

            for date in [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: -2_208_988_800), Date(timeIntervalSince1970: 253_402_300_799)] {
                let back = try roundTrip(date, on: conn).value
                #expect(abs(back.timeIntervalSince(date)) < 0.000_001, "\(date)")
            }
            #expect(try roundTrip(Date?.none, on: conn).value == nil)

            // Decoding honours any offset the server prints, not only +00.
            try conn.transaction { conn in
                try conn.simpleExecute("SET LOCAL TimeZone = 'Asia/Kolkata'")
                let text = try conn.query("SELECT \(instant)::text").first!.decode(0, as: String.self)
                #expect(text == "2024-02-29 18:04:56.123456+05:30")
                #expect(try conn.query("SELECT \(instant)").first!.decode(0, as: Date.self) == instant)
            }
            // Whole seconds (no fraction printed) and BC years, checked against the server's epoch.
            for literal in ["2000-01-01 00:00:00+00", "0044-03-15 12:00:00+00 BC", "1066-10-14 09:30:00.5+00"] {
                let row = try conn.query("SELECT \(literal)::timestamptz, extract(epoch FROM \(literal)::timestamptz)::float8").first!
                let (date, epoch) = try row.decode((Date, Double).self)
                #expect(date.timeIntervalSince1970 == epoch, "\(literal)")
            }
        }
    }

    @Test func timestampTextParsingAndFormatting() throws {
        #expect(try PostgresTimestamp.parse("1970-01-01 00:00:00+00") == 0)
        #expect(try PostgresTimestamp.parse("1970-01-01 00:00:00.5+00") == 500_000)
        #expect(try PostgresTimestamp.parse("1970-01-01 01:00:00+01") == 0)
        #expect(try PostgresTimestamp.parse("1969-12-31 19:00:00-05") == 0)
        #expect(try PostgresTimestamp.parse("1970-01-01 00:00:00+00:00:30") == -30_000_000)
        #expect(try PostgresTimestamp.parse("0001-01-01 00:00:00+00 BC") == PostgresTimestamp.parse("0000-01-01 00:00:00+00"))
        #expect(PostgresTimestamp.format(microsecondsSinceEpoch: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(PostgresTimestamp.format(microsecondsSinceEpoch: 0) == "1970-01-01T00:00:00.000000Z")
        for bad in ["", "infinity", "2024-02-30x", "2024-13-01 00:00:00+00", "2024-01-01 00:00:00", "2024-01-01 00:00:00.1234567+00", "2024-01-01 24:00:00+00"] {
            #expect(throws: PostgresDecodingFailure.self, "\(bad)") { try PostgresTimestamp.parse(bad) }
        }
    }

    @Test func dates() throws {
        try TestDatabase.withConnection { conn throws in
            let leapDay = try #require(PostgresDate(year: 2024, month: 2, day: 29))
            #expect(leapDay.description == "2024-02-29")
            #expect(try roundTrip(leapDay, on: conn) == (leapDay, "date"))
            for date in [PostgresDate(year: 1, month: 1, day: 1)!, PostgresDate(year: 9999, month: 12, day: 31)!, PostgresDate("1970-01-01")!] {
                #expect(try roundTrip(date, on: conn).value == date)
            }
            #expect(try roundTrip(PostgresDate?.none, on: conn).value == nil)
            try conn.simpleExecute("CREATE TABLE d (day date)")
            try conn.execute("INSERT INTO d VALUES (\(leapDay))")
            #expect(try conn.query("SELECT day + 1 FROM d").first!.decode(0, as: PostgresDate.self) == PostgresDate("2024-03-01"))

            let infinity = expectPostgresError { _ = try conn.query("SELECT 'infinity'::date").first!.decode(0, as: PostgresDate.self) }
            #expect(infinity?.kind == .decoding)
        }
    }

    @Test func postgresDateValidation() throws {
        #expect(PostgresDate(year: 2023, month: 2, day: 29) == nil)
        #expect(PostgresDate(year: 2000, month: 2, day: 29) != nil)
        #expect(PostgresDate(year: 1900, month: 2, day: 29) == nil)
        #expect(PostgresDate(year: 2024, month: 13, day: 1) == nil)
        #expect(PostgresDate(year: 2024, month: 4, day: 31) == nil)
        #expect(PostgresDate(year: 2024, month: 1, day: 0) == nil)
        #expect(PostgresDate(year: 0, month: 1, day: 1) == nil)
        #expect(PostgresDate(year: 10000, month: 1, day: 1) == nil)
        for bad in ["2024-2-29", "2024-02-29T00:00", "24-02-29", "2024/02/29", "", "2024-02-30", "２０２４-01-01"] {
            #expect(PostgresDate(bad) == nil, "\(bad)")
        }
        #expect(PostgresDate(year: 7, month: 3, day: 9)?.description == "0007-03-09")
        #expect(PostgresDate("2024-01-31")! < PostgresDate("2024-02-01")!)

        let json = try JSONEncoder().encode(["day": PostgresDate("2024-02-29")!])
        #expect(String(decoding: json, as: UTF8.self) == #"{"day":"2024-02-29"}"#)
        #expect(try JSONDecoder().decode([String: PostgresDate].self, from: json)["day"] == PostgresDate("2024-02-29"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([PostgresDate].self, from: Data(#"["2024-02-30"]"#.utf8)) }
    }

    @Test func uuids() throws {
        try TestDatabase.withConnection { conn throws in
            let id = UUID()
            #expect(try roundTrip(id, on: conn) == (id, "uuid"))
            #expect(try roundTrip(UUID?.none, on: conn).value == nil)
            let generated = try conn.query("SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid").first!.decode(0, as: UUID.self)
            #expect(generated == UUID(uuidString: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        }
    }

    @Test func json() throws {
        struct Payload: Codable, Equatable {
            let name: String
            let count: Int
            let tags: [String]
        }
        try TestDatabase.withConnection { conn throws in
            let payload = Payload(name: "Zoë 🎉", count: 3, tags: ["a", "b\"c"])
            let json = try PostgresJSON(encoding: payload)
            let (back, type) = try roundTrip(json, on: conn)
            #expect(type == "jsonb")
            #expect(try back.decode(Payload.self) == payload)

            try conn.simpleExecute("CREATE TABLE docs (body jsonb, raw json)")
            try conn.execute("INSERT INTO docs VALUES (\(json), \(PostgresJSON(text: #"{"b": 1,  "a": 2}"#)))")
            let row = try conn.query("SELECT body, raw, body->>'name' AS name FROM docs").first!
            #expect(try row.decode("body", as: PostgresJSON.self).decode(Payload.self) == payload)
            // PostgresJSON travels as jsonb, so even a json column receives the normalized text.
            #expect(try row.decode("raw", as: PostgresJSON.self).text == #"{"a": 2, "b": 1}"#)
            // A json column keeps text as written when it arrives as json.
            let asWritten = #"{"b": 1,  "a": 2}"#
            #expect(try conn.query("SELECT \(asWritten)::json").first!.decode(0, as: PostgresJSON.self).text == asWritten)
            #expect(try row.decode("name", as: String.self) == "Zoë 🎉")
            #expect(PostgresJSON(data: Data(#"{"x":1}"#.utf8))?.text == #"{"x":1}"#)
            #expect(PostgresJSON(data: Data([0xFF, 0xFE])) == nil)
            #expect(try roundTrip(PostgresJSON?.none, on: conn).value == nil)

            let invalid = expectPostgresError { try conn.query("SELECT \(PostgresJSON(text: "{not json"))") }
            #expect(invalid?.code == .invalidTextRepresentation)
        }
    }

    @Test func arraysOfStringsWithEveryAwkwardCharacter() throws {
        try TestDatabase.withConnection { conn throws in
            let awkward = ["a,b", "{braces}", "\"quoted\"", "back\\slash", "", "NULL", "null", " spaced ", "ünïcödé 🎉", "tab\there", "x"]
            let (back, type) = try roundTrip(awkward, on: conn)
            #expect(back == awkward)
            #expect(type == "text[]")
            #expect(try conn.query("SELECT cardinality(\(awkward))").first!.decode(0, as: Int.self) == awkward.count)
            #expect(try conn.query("SELECT (\(awkward))[6] IS NULL").first!.decode(0, as: Bool.self) == false)

            let withNulls: [String?] = ["a", nil, "NULL", nil]
            #expect(try roundTrip(withNulls, on: conn).value == withNulls)
            #expect(try conn.query("SELECT array_position(\(withNulls), NULL)").first!.decode(0, as: Int.self) == 2)
            #expect(try roundTrip([String](), on: conn) == ([], "text[]"))
            #expect(try roundTrip([String]?.none, on: conn).value == nil)
        }
    }

    @Test func arraysOfOtherScalars() throws {
        try TestDatabase.withConnection { conn throws in
            #expect(try roundTrip([1, -2, Int.max], on: conn) == ([1, -2, Int.max], "bigint[]"))
            #expect(try roundTrip([1, nil, 3] as [Int?], on: conn).value == [1, nil, 3])
            #expect(try roundTrip([Int32(1), 2], on: conn) == ([1, 2], "integer[]"))
            #expect(try roundTrip([true, false], on: conn) == ([true, false], "boolean[]"))
            #expect(try roundTrip([0.5, -.infinity], on: conn) == ([0.5, -.infinity], "double precision[]"))
            let ids = [UUID(), UUID()]
            #expect(try roundTrip(ids, on: conn) == (ids, "uuid[]"))
            let days = [PostgresDate("2024-01-01")!, PostgresDate("1999-12-31")!]
            #expect(try roundTrip(days, on: conn) == (days, "date[]"))
            let instants = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1.5)]
            #expect(try roundTrip(instants, on: conn) == (instants, "timestamp with time zone[]"))
            let docs = [PostgresJSON(text: #"{"a":"b\"c"}"#)]
            #expect(try roundTrip(docs, on: conn).value.first?.text == #"{"a": "b\"c"}"#)

            // Typical use: a list parameter with = ANY.
            try conn.simpleExecute("CREATE TABLE t (id int4, name text); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
            let names = try conn.query("SELECT name FROM t WHERE id = ANY(\([1, 3])) ORDER BY id").map { try $0.decode(0, as: String.self) }
            #expect(names == ["a", "c"])
        }
    }

    @Test func arraysBuiltByTheServerDecode() throws {
        try TestDatabase.withConnection { conn throws in
            let row = try conn.query("""
                SELECT ARRAY['x', NULL, 'y z'] AS texts, '[0:2]={1,2,3}'::int[] AS shifted,
                       ARRAY[]::int8[] AS empty, ARRAY['a b']::varchar[] AS varchars,
                       '{{1,2},{3,4}}'::int[] AS matrix, ARRAY[1, NULL]::int[] AS with_null
                """).first!
            #expect(try row.decode("texts", as: [String?].self) == ["x", nil, "y z"])
            #expect(try row.decode("shifted", as: [Int].self) == [1, 2, 3])
            #expect(try row.decode("empty", as: [Int].self) == [])
            #expect(try row.decode("varchars", as: [String].self) == ["a b"])
            let matrix = expectPostgresError { _ = try row.decode("matrix", as: [Int].self) }
            #expect(matrix?.message.contains("multidimensional") == true)
            let nullElement = expectPostgresError { _ = try row.decode("with_null", as: [Int].self) }
            #expect(nullElement?.message.contains("element 2 is NULL") == true)
            #expect(try row.decode("with_null", as: [Int?].self) == [1, nil])
        }
    }

    @Test func arrayLiteralParser() throws {
        #expect(try PostgresArrayLiteral.parse("{}") == [])
        #expect(try PostgresArrayLiteral.parse("{a,NULL,\"NULL\",nUlL}") == ["a", nil, "NULL", nil])
        #expect(try PostgresArrayLiteral.parse("{ a b , \"c\" }") == ["a b", "c"])
        #expect(try PostgresArrayLiteral.parse(#"{"a\"b","c\\d",e\,f}"#) == ["a\"b", "c\\d", "e,f"])
        #expect(try PostgresArrayLiteral.parse("[1:2]={1,2}") == ["1", "2"])
        for bad in ["", "{", "{a", "{a,}", "{,a}", "{\"a}", "a", "{a}x", "{a\"b}", "[1:2]{1}"] {
            #expect(throws: PostgresDecodingFailure.self, "\(bad)") { try PostgresArrayLiteral.parse(bad) }
        }
        let elements: [String?] = ["", "\\", "\"", "NULL", nil, "{}", "a,b"]
        #expect(try PostgresArrayLiteral.parse(PostgresArrayLiteral.encode(elements)) == elements)
    }
}
