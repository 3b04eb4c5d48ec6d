/// A calendar date without time or time zone: SQL `date`.
///
/// Holds a valid proleptic Gregorian date between 0001-01-01 and 9999-12-31 (the
/// range in which `YYYY-MM-DD` is unambiguous); the failable initializers refuse
/// anything else, so a `PostgresDate` value is always valid. Its text form, in
/// `description`, in SQL and in JSON (`Codable`), is `YYYY-MM-DD`.
public struct PostgresDate: Hashable, Comparable, Sendable, LosslessStringConvertible, Codable {
    /// 1...9999.
    public let year: Int
    /// 1...12.
    public let month: Int
    /// 1...28, 29, 30 or 31, as the month has.
    public let day: Int

    /// The date, or nil when it does not exist (2023-02-29, month 13) or the year is
    /// outside 1...9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; nil for any other text or an invalid date.
    public init?(_ description: String) {
        var scanner = ASCIIScanner(description)
        guard let year = scanner.digits(minimum: 4, maximum: 4)?.value, scanner.take(UInt8(ascii: "-")),
              let month = scanner.digits(minimum: 2, maximum: 2)?.value, scanner.take(UInt8(ascii: "-")),
              let day = scanner.digits(minimum: 2, maximum: 2)?.value, scanner.isAtEnd
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        "\(CivilCalendar.padded(year, width: 4))-\(CivilCalendar.padded(month, width: 2))-\(CivilCalendar.padded(day, width: 2))"
    }

    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = PostgresDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a date as YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension PostgresDate: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .date }

    public var postgresText: String? { description }

    public init(postgresText text: String, type: PostgresDataType) throws {
        try PostgresDecodingFailure.require(type, isOneOf: [.date])
        guard let date = PostgresDate(text) else {
            throw PostgresDecodingFailure("the date is not between 0001-01-01 and 9999-12-31 (or is infinity)")
        }
        self = date
    }
}
