import Foundation
import TestSupport
import Testing
@testable import Postgres

/// uuids read from PostgreSQL's text without Foundation's parser.
@Suite("UUID text")
struct UUIDTextTests {
    @Test func readsWhatFoundationReads() {
        for _ in 0..<1000 {
            let uuid = UUID()
            #expect(UUID(hyphenatedHex: uuid.uuidString.lowercased()) == uuid)
            #expect(UUID(hyphenatedHex: uuid.uuidString) == uuid, "upper case too")
        }
        #expect(UUID(hyphenatedHex: "00000000-0000-0000-0000-000000000000") == UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        #expect(UUID(hyphenatedHex: "ffffffff-ffff-ffff-ffff-ffffffffffff")?.uuidString == "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")
    }

    @Test func refusesAnythingElse() {
        for text in ["", "0", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                     "a0eebc999c0b-4ef8-bb6d-6bb9bd380a11-", "a0eebc99-9c0b-4ef8-bb6d_6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                     "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1}", "a0eebc99 9c0b 4ef8 bb6d 6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380aé"] {
            #expect(UUID(hyphenatedHex: text) == nil, "\(text)")
        }
    }

    @Test func roundTripsThroughPostgreSQL() throws {
        try TestDatabase.withConnection { connection throws in
            let uuids = (0..<50).map { _ in UUID() }
            let rows = try connection.query("SELECT u FROM unnest(\(uuids)) AS t(u)")
            #expect(try rows.map { try $0.decode(0, as: UUID.self) } == uuids)
            let text = try connection.query("SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS u").first!.decode("u", as: UUID.self)
            #expect(text == UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
        }
    }
}
