import Foundation
import Postgres

/// An event about to be recorded with the change it describes.
package struct NewEvent: Sendable {
    /// `evt_` + this, in the feed.
    package var id: UUID
    /// `prospect.created`, `lead_source.updated`, …
    package var type: String
    package var clientId: String
    /// nil for lead sources and staff.
    package var clubId: String?
    package var recordId: UUID
    package var version: Int
    /// The record exactly as `GET` returns it after the change, serialized: a save
    /// serializes its record once, for this and for its answer.
    package var data: [UInt8]

    package init(type: String, clientId: String, clubId: String?, recordId: UUID, version: Int, serializedData data: [UInt8]) {
        (self.id, self.type, self.clientId, self.clubId, self.recordId, self.version, self.data) =
            (RecordID.make(), type, clientId, clubId, recordId, version, data)
    }

    package init(type: String, clientId: String, clubId: String?, recordId: UUID, version: Int, data: JSONObject) {
        self.init(type: type, clientId: clientId, clubId: clubId, recordId: recordId, version: version,
                  serializedData: JSONWriter.serialize(.object(data)))
    }
}
