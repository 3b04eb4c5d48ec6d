import Foundation

/// An event as the change feed hands it out.
package struct FeedEvent: Sendable {
    package var id: UUID
    package var type: String
    /// The record the event is about (not in the JSON: `data.id` says it there); webhook
    /// delivery keeps each record's events in order by it.
    package var recordId: UUID
    package var occurredAt: Date
    package var clubId: String?
    /// The record after the change, as JSON text, exactly as it was recorded.
    package var data: String
    /// Where the event stands in the feed.
    package var position: FeedCursor

    /// The event's JSON document (`data` spliced in as recorded).
    package var json: [UInt8] {
        var object = JSONWriter.serialize(.object(JSONObject([
            ("id", .string("evt_" + id.lowercasedString)),
            ("type", .string(type)),
            ("occurredAt", .string(Timestamp.format(occurredAt))),
            ("clubId", .optional(clubId)),
        ])))
        object.removeLast()  // the closing brace: `data` goes last
        object += Array(#","data":"#.utf8) + Array(data.utf8) + [UInt8(ascii: "}")]
        return object
    }
}

/// A page of the change feed: events in feed order, and where to continue.
package struct FeedPage: Sendable {
    package var events: [FeedEvent]
    /// Never nil: where the next read starts, past every event read or skipped by
    /// the filters, and past everything below the horizon once caught up.
    package var next: FeedCursor

    package init(events: [FeedEvent], next: FeedCursor) {
        (self.events, self.next) = (events, next)
    }

    /// `{"items": [...], "nextCursor": "..."}`.
    package var json: [UInt8] {
        var body = Array(#"{"items":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += event.json
        }
        body += Array(#"],"nextCursor":"#.utf8) + JSONWriter.serialize(.string(next.text)) + [UInt8(ascii: "}")]
        return body
    }
}
