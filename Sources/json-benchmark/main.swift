// The receiver's JSON parser and writer against Foundation's, on the payloads
// the Connector really sends and receives: a prospect save body (parsed on
// every write) and a stored prospect (written in every response). Part of
// `make bench`; prints a Markdown table of nanoseconds per operation.
import Foundation
import ReceiverCore

let requestBody = Array("""
    {"clubId": "club-001", "externalId": "crm-4711", "firstName": "Ada", "lastName": "Lovelace",
     "email": "ada.lovelace@example.com", "phones": {"mobile": "+1 555 0100", "home": null, "work": null},
     "address": {"line1": "12 Analytical Way", "line2": null, "city": "London", "region": null,
                 "postalCode": "N1 9GU", "country": "GB"},
     "birthDate": "1985-12-10", "gender": "female", "leadSourceId": null,
     "staffOwnerEmail": "kim.park@example.com", "notes": "Asked about the family plan; call back after 6 pm.",
     "status": "open"}
    """.utf8)

let storedRecord = Array("""
    {"id": "01a21403-8edd-7475-b1b2-4a6c9da47ec8", "clubId": "club-001", "externalId": "crm-4711",
     "firstName": "Ada", "lastName": "Lovelace", "email": "ada.lovelace@example.com",
     "phones": {"mobile": "+1 555 0100", "home": null, "work": null},
     "address": {"line1": "12 Analytical Way", "line2": null, "city": "London", "region": null, "postalCode": "N1 9GU", "country": "GB"},
     "birthDate": "1985-12-10", "gender": "female", "leadSourceId": null, "staffOwnerEmail": "kim.park@example.com",
     "staffOwnerId": "01a21403-8edd-7475-b1b2-4a6c9da47ec9", "notes": "Asked about the family plan; call back after 6 pm.",
     "status": "open", "memberId": null, "createdAt": "2026-11-25T18:41:53.220000Z", "updatedAt": "2026-11-25T18:41:53.220000Z",
     "version": 3}
    """.utf8)

/// Nanoseconds per call of `body`, the best of five runs of `iterations` calls.
func measure(iterations: Int, _ body: () throws -> Int) rethrows -> Double {
    var sink = 0
    for _ in 0..<(iterations / 10) { sink &+= try body() }
    var best = Double.infinity
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { sink &+= try body() }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
    }
    if sink == 42 { print("") }  // keeps the work observable
    return best
}

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20_000
let requestData = Data(requestBody)
let parsedRecord = try JSONParser.parse(storedRecord)
let foundationRecord = try JSONSerialization.jsonObject(with: Data(storedRecord))

let rows: [(String, String, Double)] = [
    ("parse a prospect save body (\(requestBody.count) B)", "connector-receiver JSONParser",
     try measure(iterations: iterations) { if case .object(let object) = try JSONParser.parse(requestBody) { object.members.count } else { 0 } }),
    ("parse a prospect save body (\(requestBody.count) B)", "Foundation JSONSerialization",
     try measure(iterations: iterations) { (try JSONSerialization.jsonObject(with: requestData) as? [String: Any])?.count ?? 0 }),
    ("write a stored prospect (\(storedRecord.count) B)", "connector-receiver JSONWriter",
     measure(iterations: iterations) { JSONWriter.serialize(parsedRecord).count }),
    ("write a stored prospect (\(storedRecord.count) B)", "Foundation JSONSerialization",
     try measure(iterations: iterations) { try JSONSerialization.data(withJSONObject: foundationRecord).count }),
]

print("| operation | implementation | ns/op | vs Foundation |")
print("|---|---|---:|---:|")
for (index, row) in rows.enumerated() {
    let reference = rows[index | 1].2
    let ratio = index % 2 == 0 ? String(format: "%.2f×", reference / row.2) : "1.00×"
    print("| \(row.0) | \(row.1) | \(Int(row.2)) | \(ratio) |")
}
