import Foundation

/// `Date` is a `timestamptz`: an instant, sent as RFC 3339 text in UTC with
/// microseconds (PostgreSQL's precision), e.g. `2024-05-01T10:00:00.123456Z`.
/// Sub-microsecond parts of a `Date` are rounded to the nearest microsecond.
///
/// Decoding accepts only `timestamptz` columns: a `timestamp` (without time zone)
/// is not an instant, so it is refused with a message suggesting a cast, instead of
/// being silently read in some time zone.
extension Date: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .timestamptz }

    public var postgresText: String? {
        PostgresTimestamp.format(microsecondsSinceEpoch: PostgresTimestamp.microseconds(self))
    }

    public init(postgresText text: String, type: PostgresDataType) throws {
        if type == .timestamp {
            throw PostgresDecodingFailure("it is a timestamp without time zone; select it as timestamptz (e.g. `col AT TIME ZONE 'UTC'`) to read it as Date")
        }
        try PostgresDecodingFailure.require(type, isOneOf: [.timestamptz])
        let micros = try PostgresTimestamp.parse(text)
        self = PostgresTimestamp.date(microsecondsSinceEpoch: micros)
    }
}

/// Text conversion of `timestamptz` values.
enum PostgresTimestamp {
    private static let microsecondsPerSecond: Int64 = 1_000_000
    private static let microsecondsPerDay: Int64 = 86_400_000_000
    /// Seconds from 1970-01-01 to 2001-01-01 (Foundation's reference date).
    private static let referenceDateOffset: Int64 = 978_307_200

    /// The date as whole microseconds since 1970, rounded to nearest. Computed from the
    /// reference-date interval, which is smaller than the 1970 one and so loses less
    /// precision in the multiplication.
    static func microseconds(_ date: Date) -> Int64 {
        let sinceReference = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        // Clamp far beyond PostgreSQL's range (294276 AD) instead of trapping on conversion.
        let clamped = min(max(sinceReference, -9.0e18), 9.0e18)
        return Int64(clamped) + referenceDateOffset * microsecondsPerSecond
    }

    static func date(microsecondsSinceEpoch micros: Int64) -> Date {
        let sinceReference = micros - referenceDateOffset * microsecondsPerSecond
        return Date(timeIntervalSinceReferenceDate: Double(sinceReference) / 1_000_000)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, or PostgreSQL's `… BC` form before year 1.
    static func format(microsecondsSinceEpoch micros: Int64) -> String {
        let days = floorDivide(micros, microsecondsPerDay)
        let inDay = micros - days * microsecondsPerDay
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: Int(days))
        let second = Int(inDay / microsecondsPerSecond)
        let fraction = Int(inDay % microsecondsPerSecond)
        let p = CivilCalendar.padded
        let time = "\(p(second / 3600, 2)):\(p(second / 60 % 60, 2)):\(p(second % 60, 2)).\(p(fraction, 6))"
        if year >= 1 {
            return "\(p(year, 4))-\(p(month, 2))-\(p(day, 2))T\(time)Z"
        }
        return "\(p(1 - year, 4))-\(p(month, 2))-\(p(day, 2)) \(time)+00 BC"
    }

    /// Parses `timestamptz` output in the ISO DateStyle: `2024-05-01 10:00:00.123456+00`,
    /// with an optional fraction, an offset of `±HH[:MM[:SS]]` (any session time zone
    /// works, not only UTC), and an optional ` BC`.
    static func parse(_ text: String) throws(PostgresDecodingFailure) -> Int64 {
        if text == "infinity" || text == "-infinity" {
            throw PostgresDecodingFailure("the timestamp is \(text), which Date cannot represent")
        }
        var scanner = ASCIIScanner(text)
        let invalid = PostgresDecodingFailure("the text is not an ISO timestamp with time zone")
        guard let year = scanner.digits(minimum: 4, maximum: 9)?.value, scanner.take(UInt8(ascii: "-")),
              let month = scanner.digits(minimum: 2, maximum: 2)?.value, scanner.take(UInt8(ascii: "-")),
              let day = scanner.digits(minimum: 2, maximum: 2)?.value,
              scanner.take(UInt8(ascii: " ")) || scanner.take(UInt8(ascii: "T")),
              let hour = scanner.digits(minimum: 2, maximum: 2)?.value, scanner.take(UInt8(ascii: ":")),
              let minute = scanner.digits(minimum: 2, maximum: 2)?.value, scanner.take(UInt8(ascii: ":")),
              let second = scanner.digits(minimum: 2, maximum: 2)?.value
        else { throw invalid }

        var fraction = 0
        if scanner.take(UInt8(ascii: ".")) {
            guard let (value, count) = scanner.digits(minimum: 1, maximum: 6) else { throw invalid }
            fraction = value
            for _ in count..<6 { fraction *= 10 }
        }

        var offsetSeconds = 0
        if scanner.take(UInt8(ascii: "Z")) {
            offsetSeconds = 0
        } else {
            let sign: Int
            if scanner.take(UInt8(ascii: "+")) { sign = 1 } else if scanner.take(UInt8(ascii: "-")) { sign = -1 } else { throw invalid }
            guard let offsetHours = scanner.digits(minimum: 2, maximum: 2)?.value else { throw invalid }
            var offset = offsetHours * 3600
            if scanner.take(UInt8(ascii: ":")) {
                guard let offsetMinutes = scanner.digits(minimum: 2, maximum: 2)?.value else { throw invalid }
                offset += offsetMinutes * 60
                if scanner.take(UInt8(ascii: ":")) {
                    guard let offsetSecondsPart = scanner.digits(minimum: 2, maximum: 2)?.value else { throw invalid }
                    offset += offsetSecondsPart
                }
            }
            offsetSeconds = sign * offset
        }
        let isBC = scanner.take(" BC")
        guard scanner.isAtEnd, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60 else { throw invalid }

        let astronomicalYear = isBC ? 1 - year : year
        let days = Int64(CivilCalendar.daysSinceEpoch(year: astronomicalYear, month: month, day: day))
        let seconds = Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return days * microsecondsPerDay + seconds * microsecondsPerSecond + Int64(fraction)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
