import Testing

extension TestServer {
    /// The external ids of every page of `GET /v1/{path}?{query}`, two records a
    /// page, following `nextCursor` to the end.
    func externalIds(_ path: String, _ query: String, auth: APICredentials) throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try request("GET", "/v1/\(path)?\(query)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), auth: auth)
            guard page.status == 200, case .array(let items)? = page["items"] else { Issue.record("\(page)"); return ids }
            ids += items.compactMap { $0.objectValue?["externalId"]?.stringValue }
            cursor = page.string("nextCursor")
        } while cursor != nil
        return ids
    }
}
