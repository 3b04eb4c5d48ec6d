import Foundation

/// `GET /v1/staff` as the core takes it: the credential as presented and the
/// page asked for (already checked: a cursor that is not one of ours is refused
/// before).
package struct StaffRead: Sendable {
    package let credential: ClientCredential
    package let clubId: String?
    package let email: String?
    /// Where the page starts (`StaffAdminStore.after`).
    package let after: (email: String, id: UUID)?
    package let page: Page
    /// The most staff read: one more than the page holds, to tell whether another follows.
    package var limit: Int { page.limit + 1 }

    package init(credential: ClientCredential, page: Page, after: (email: String, id: UUID)?, clubId: String?, email: String?) {
        (self.credential, self.page, self.after, self.clubId, self.email) = (credential, page, after, clubId, email)
    }
}
