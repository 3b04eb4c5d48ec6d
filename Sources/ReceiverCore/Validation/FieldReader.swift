import Postgres
/// Reads typed fields out of a JSON object and collects every problem, so one
/// response names all the bad fields at once. Unknown fields are ignored
/// (the contract says so); absent and `null` fields both read as nil.
package struct FieldReader {
    private let object: JSONObject
    private let prefix: String
    private(set) var errors: [FieldError] = []

    package init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    package func path(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    package mutating func fail(_ name: String, _ message: String) {
        errors.append(FieldError(field: path(name), message: message))
    }

    /// A string, trimmed of surrounding whitespace; empty after trimming reads as nil.
    package mutating func string(_ name: String, required: Bool = false, maxLength: Int = 200) -> String? {
        switch object[name] {
        case nil, .null?:
            if required { fail(name, "is required") }
            return nil
        case .string(let raw)?:
            let value = raw.trimmingWhitespace()
            if value.isEmpty {
                if required { fail(name, "must not be empty") }
                return nil
            }
            if value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) {
                fail(name, "must not contain control characters")
                return nil
            }
            if value.unicodeScalars.count > maxLength {
                fail(name, "must be at most \(maxLength) characters")
                return nil
            }
            return value
        case let other?:
            fail(name, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    package mutating func bool(_ name: String) -> Bool? {
        switch object[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?:
            fail(name, "must be a boolean, not \(other.typeName)")
            return nil
        }
    }

    package mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        switch object[name] {
        case nil, .null?: return nil
        case .number(let value)?:
            guard value.rounded() == value, let integer = Int(exactly: value), range.contains(integer) else {
                fail(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return integer
        case let other?:
            fail(name, "must be an integer, not \(other.typeName)")
            return nil
        }
    }

    /// One of a fixed set of strings.
    package mutating func choice(_ name: String, of allowed: [String]) -> String? {
        guard let value = string(name) else { return nil }
        guard allowed.contains(value) else {
            fail(name, "must be one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return value
    }

    package mutating func email(_ name: String, required: Bool = false) -> String? {
        guard let value = string(name, required: required, maxLength: 254) else { return nil }
        guard EmailAddress.isValid(value) else {
            fail(name, "must be an email address such as name@example.com")
            return nil
        }
        return value
    }

    package mutating func date(_ name: String) -> PostgresDate? {
        guard let value = string(name, maxLength: 10) else { return nil }
        guard let date = PostgresDate(value) else {
            fail(name, "must be a date that exists, as YYYY-MM-DD")
            return nil
        }
        return date
    }

    package mutating func countryCode(_ name: String) -> String? {
        guard let value = string(name, maxLength: 2) else { return nil }
        guard CountryCodes.assigned.contains(value) else {
            fail(name, "must be an ISO 3166-1 alpha-2 country code such as US or GB (upper case)")
            return nil
        }
        return value
    }

    /// A nested object read with its own reader; its errors carry the dotted path.
    package mutating func object<Result>(_ name: String, _ read: (inout FieldReader) -> Result) -> Result? {
        switch object[name] {
        case nil, .null?: return nil
        case .object(let nested)?:
            var reader = FieldReader(nested, prefix: path(name))
            let result = read(&reader)
            errors += reader.errors
            return result
        case let other?:
            fail(name, "must be an object, not \(other.typeName)")
            return nil
        }
    }

    package mutating func stringArray(_ name: String, maxCount: Int = 100, maxLength: Int = 64) -> [String]? {
        switch object[name] {
        case nil, .null?: return nil
        case .array(let elements)?:
            guard elements.count <= maxCount else {
                fail(name, "must have at most \(maxCount) entries")
                return nil
            }
            var strings: [String] = []
            for element in elements {
                guard case .string(let value) = element, !value.isEmpty, value.unicodeScalars.count <= maxLength else {
                    fail(name, "must be an array of non-empty strings of at most \(maxLength) characters")
                    return nil
                }
                if !strings.contains(value) { strings.append(value) }
            }
            return strings
        case let other?:
            fail(name, "must be an array, not \(other.typeName)")
            return nil
        }
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        // Most values need nothing trimmed: both ends ASCII and not white space.
        if let first = utf8.first, let last = utf8.last, !Self.isASCIIWhitespaceOrNonASCII(first), !Self.isASCIIWhitespaceOrNonASCII(last) {
            return self
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    private static func isASCIIWhitespaceOrNonASCII(_ byte: UInt8) -> Bool {
        byte >= 0x80 || byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Without the optional white space (space, tab) that HTTP allows around field values.
    package func trimmingOptionalWhitespace() -> Substring {
        let isOWS = { (character: Character) in character == " " || character == "\t" }
        guard let first = firstIndex(where: { !isOWS($0) }) else { return "" }
        let last = lastIndex(where: { !isOWS($0) })!
        return self[first...last]
    }
}
