import Foundation

/// `GET /v1/prospects` or `/v1/members` as the core takes it: the credential as
/// presented and the page asked for (its cursor already read: one that is not
/// ours is refused before).
package struct PersonListRead: Sendable {
    package let credential: ClientCredential
    package let filter: PersonListFilter
    package let page: Page
    /// Where the page starts (`after(_:)`).
    package let after: (micros: Int, id: UUID)?

    package init(credential: ClientCredential, filter: PersonListFilter, page: Page) throws(ReceiverError) {
        (self.credential, self.filter, self.page) = (credential, filter, page)
        after = try Self.after(page)
    }

    /// The `updatedMicros` and id of the cursor's record, after which the page
    /// starts. A time outside the years 1 to 9999 was never a record's (the
    /// database would refuse to add it up, a 500).
    package static func after(_ page: Page) throws(ReceiverError) -> (micros: Int, id: UUID)? {
        guard let key = page.after else { return nil }
        guard let micros = Int(key[0]), microsRange.contains(micros), let id = UUID(uuidString: key[1]) else { throw .foreignCursor }
        return (micros, id)
    }

    /// 0001-01-01T00:00:00Z through 9999-12-31T23:59:59.999999Z, in microseconds since the epoch.
    static let microsRange = -62_135_596_800_000_000...253_402_300_799_999_999
}
