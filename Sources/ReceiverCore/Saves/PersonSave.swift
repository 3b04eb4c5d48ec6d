import Foundation

/// A save of a prospect or member by external id (`PUT …/by-external-id/{externalId}`)
/// as the save path takes it: the credential it claims to act with, not yet
/// checked, and its validated input.
package struct PersonSave<Record: PersonRecord>: Sendable {
    package let credential: ClientCredential
    package let externalId: String
    package let input: Record.Input
    /// The version the sender expects the record to be at, if it said.
    package let condition: VersionCondition?

    /// nil when the input carries no external id (it was blank).
    package init?(credential: ClientCredential, input: Record.Input, condition: VersionCondition?) {
        guard let externalId = input.person.externalId else { return nil }
        (self.credential, self.externalId, self.input, self.condition) = (credential, externalId, input, condition)
    }

    /// Two saves of one record never share a batch, nor run in two at once.
    package var key: String { "\(credential.clientId)\n\(externalId)" }
}

/// What became of one save.
package enum SaveOutcome<Record: PersonRecord>: Sendable {
    /// Committed, or found unchanged (`created` false, same version): the record as
    /// stored, and its JSON serialized (the bytes its event carries, when it was written).
    case saved(Record, created: Bool, json: [UInt8])
    /// Refused, or not done; nothing was written for it.
    case failed(ReceiverError)

    /// The error, if the save failed.
    package var error: ReceiverError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
