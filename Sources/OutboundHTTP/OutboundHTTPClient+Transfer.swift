import CCurl

extension OutboundHTTPClient {
    /// libcurl takes milliseconds; round up so a sub-millisecond timeout never becomes 0 (= forever).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int.max }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(product.addingReportingOverflow(fraction).overflow ? Int64.max : product + fraction))
    }
}
