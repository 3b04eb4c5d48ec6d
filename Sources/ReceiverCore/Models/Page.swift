import Foundation

/// Pagination: `limit` (1…500, default 100) and an opaque `cursor` holding the
/// sort key of the last item returned, so the next page starts strictly after
/// it (keyset pagination: stable while records are added).
package struct Page: Sendable {
    package static let defaultLimit = 100
    package static let maximumLimit = 500

    package let limit: Int
    /// The sort key values of the last item of the previous page.
    package let after: [String]?

    package init(limit: Int, after: [String]?) {
        self.limit = limit
        self.after = after
    }

    /// Reads `limit` and `cursor`; a bad one is a 400. `keyCount` is how many
    /// values the list's sort key has.
    package static func parse(_ limitText: String?, _ cursorText: String?, keyCount: Int) throws -> Page {
        var limit = defaultLimit
        if let limitText {
            guard let value = Int(limitText), (1...maximumLimit).contains(value) else {
                throw ReceiverError.badQuery("limit must be a whole number from 1 to \(maximumLimit).")
            }
            limit = value
        }
        var after: [String]?
        if let cursorText {
            guard let values = decode(cursorText), values.count == keyCount else {
                throw ReceiverError.foreignCursor
            }
            after = values
        }
        return Page(limit: limit, after: after)
    }

    /// The id a list keyed by one UUID (time-ordered ids, oldest first) continues after;
    /// nil on the first page, a 400 for a cursor of another list.
    package func afterID() throws(ReceiverError) -> UUID? {
        guard let key = after else { return nil }
        guard key.count == 1, let id = UUID(uuidString: key[0]) else { throw .foreignCursor }
        return id
    }

    package static func encode(_ values: [String]) -> String {
        let json = JSONWriter.serialize(.array(values.map(JSONValue.string)))
        return Data(json).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package static func decode(_ text: String) -> [String]? {
        guard text.utf8.count <= 512 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              case .array(let elements)? = try? JSONParser.parse(Array(data)) else { return nil }
        let strings = elements.compactMap(\.stringValue)
        return strings.count == elements.count ? strings : nil
    }

    /// The `{"items": [...], "nextCursor": ...}` body: `rows` holds up to
    /// `limit + 1` items (one more tells there is a next page).
    package func listBody<Item>(_ rows: [Item], json: (Item) -> JSONObject, sortKey: (Item) -> [String]) -> [UInt8] {
        let items = Array(rows.prefix(limit))
        let next: JSONValue = rows.count > limit ? .string(Page.encode(sortKey(items[items.count - 1]))) : .null
        return JSONWriter.serialize(.object(["items": .array(items.map { .object(json($0)) }), "nextCursor": next]))
    }
}
