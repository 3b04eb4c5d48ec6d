extension OutboundResponse {
    /// How long the server asks the client to wait before trying again, from `Retry-After`
    /// (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date measured against `now`.
    ///
    /// - Parameter now: the current time, Unix seconds.
    /// - Returns: the delay (zero for a date already past), or `nil` when the field is absent or
    ///   not valid — a sender should then fall back to its own schedule.
    public func retryAfter(now: Int64) -> Duration? {
        header("Retry-After").flatMap { RetryAfter.delay($0, now: now) }
    }
}

/// Parsing of `Retry-After` values.
enum RetryAfter {
    /// The delay `value` asks for, or nil if it is neither delay-seconds nor an HTTP-date.
    static func delay(_ value: String, now: Int64) -> Duration? {
        let trimmed = value.trimmingSpaces
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // A delay longer than Int64 seconds is clamped rather than refused: it still means "a long time".
            return .seconds(Int64(trimmed) ?? Int64.max)
        }
        guard let date = httpDate(trimmed) else { return nil }
        return .seconds(max(0, date - now))
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 9110 §5.6.7 HTTP-date as Unix seconds: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
    /// and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`) forms recipients must still accept.
    static func httpDate(_ text: String) -> Int64? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var day: Int?, month: Int?, year: Int?, time: String?
        if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
            // IMF-fixdate
            day = Int(words[1]); month = months.firstIndex(of: words[2]).map { $0 + 1 }; year = Int(words[3]); time = words[4]
        } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
            // RFC 850: two-digit year, read as the most recent year ending in those digits that is
            // not more than 50 years ahead (RFC 9110 §5.6.7); relative to 2000 is enough here.
            let parts = words[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let shortYear = Int(parts[2]), parts[2].count == 2 else { return nil }
            day = Int(parts[0]); month = months.firstIndex(of: parts[1]).map { $0 + 1 }
            year = shortYear < 70 ? 2000 + shortYear : 1900 + shortYear
            time = words[2]
        } else if words.count == 5 {
            // asctime
            month = months.firstIndex(of: words[1]).map { $0 + 1 }; day = Int(words[2]); time = words[3]; year = Int(words[4])
        }
        guard let day, let month, let year, let time, (1...31).contains(day), year >= 1970 else { return nil }
        let clock = time.split(separator: ":").map { Int($0) }
        guard clock.count == 3, let hour = clock[0], let minute = clock[1], let second = clock[2],
              (0..<24).contains(hour), (0..<60).contains(minute), (0...60).contains(second)
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

private extension String {
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        guard let start = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let end = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}
