import Testing
import TestSupport

/// A list read and what it must answer: the status, and for 200 the `field` of each item, in order.
struct ExpectedListRead {
    let credentials: APICredentials
    let path: String
    let status: Int
    let values: [String]
}

extension TestServer {
    /// `threads` threads each making `rounds` of the `reads` at once (each
    /// thread starting at another one), so that they share lanes' batches; every
    /// answer that is not what its read expects is recorded. A 200 must say
    /// `Cache-Control: no-store` and a 401 carry the Basic challenge. Returns how
    /// many were wrong.
    func readConcurrently(_ reads: [ExpectedListRead], field: String, threads: Int = 10, rounds: Int = 20) throws -> Int {
        let failures = TestCounter()
        let running = (0..<threads).map { thread in
            TestThread {
                for round in 0..<rounds {
                    let read = reads[(thread + round) % reads.count]
                    let response = try request("GET", read.path, auth: read.credentials)
                    var right = response.status == read.status && (read.status != 401 || response.header("WWW-Authenticate") != nil)
                    if read.status == 200 {
                        guard case .array(let items)? = response["items"] else { failures.increment(); continue }
                        right = right && items.map { $0.objectValue?[field]?.stringValue ?? "" } == read.values
                            && response.header("Cache-Control") == "no-store"
                    }
                    if !right {
                        failures.increment()
                        Issue.record("\(read.path): \(response)")
                    }
                }
            }
        }
        for thread in running { try thread.join() }
        return failures.current
    }
}
