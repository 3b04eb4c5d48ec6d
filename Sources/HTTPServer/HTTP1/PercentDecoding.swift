/// Percent-decoding (RFC 3986 §2.1) of paths, path segments and query strings.
///
/// Decoding is strict: a `%` not followed by two hex digits is an error, an encoded NUL
/// (`%00`) is an error (NUL has no business in a path and truncates C strings such as libpq's
/// text parameters), and the decoded bytes must be valid UTF-8 — otherwise the request is
/// answered 400 instead of guessing.
enum PercentDecoding {
    enum Failure: Error, Equatable {
        case invalidEscape
        case encodedNUL
        case invalidUTF8
    }

    /// Decodes `bytes`; `plusAsSpace` applies the form-encoding rule used in query strings.
    static func decode(_ bytes: UnsafeRawBufferPointer, plusAsSpace: Bool = false) -> Result<String, Failure> {
        var hasEscape = false
        for byte in bytes where byte == ASCII.percent || (plusAsSpace && byte == ASCII.plus) {
            hasEscape = true
            break
        }
        if !hasEscape {
            guard UTF8Validation.isValid(bytes) else { return .failure(.invalidUTF8) }
            return .success(String(decoding: bytes, as: UTF8.self))
        }
        var decoded = [UInt8]()
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count,
                      let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2])
                else { return .failure(.invalidEscape) }
                let value = UInt8(high << 4 | low)
                guard value != 0 else { return .failure(.encodedNUL) }
                decoded.append(value)
                index += 3
            } else {
                decoded.append(plusAsSpace && byte == ASCII.plus ? ASCII.space : byte)
                index += 1
            }
        }
        return decoded.withUnsafeBytes { decoded in
            guard UTF8Validation.isValid(decoded) else { return .failure(.invalidUTF8) }
            return .success(String(decoding: decoded, as: UTF8.self))
        }
    }

    static func decode(_ bytes: some Collection<UInt8>, plusAsSpace: Bool = false) -> Result<String, Failure> {
        let array = Array(bytes)
        return array.withUnsafeBytes { decode($0, plusAsSpace: plusAsSpace) }
    }

    /// Decodes a whole path; nil when invalid.
    static func decodePath(_ bytes: [UInt8]) -> String? {
        try? bytes.withUnsafeBytes { decode($0) }.get()
    }

    /// Parses a query string into pairs (see ``QueryParameters``).
    static func parseQuery(_ bytes: UnsafeRawBufferPointer) -> Result<QueryParameters, Failure> {
        var items: [QueryParameters.Item] = []
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != ASCII.ampersand { end += 1 }
            if end > start {
                let pair = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                var equals = pair.count
                for index in 0..<pair.count where pair[index] == ASCII.equals {
                    equals = index
                    break
                }
                let nameBytes = UnsafeRawBufferPointer(rebasing: pair[0..<equals])
                let valueBytes = equals < pair.count
                    ? UnsafeRawBufferPointer(rebasing: pair[(equals + 1)...]) : UnsafeRawBufferPointer(start: nil, count: 0)
                let name: String
                let value: String
                switch decode(nameBytes, plusAsSpace: true) {
                case .success(let decoded): name = decoded
                case .failure(let failure): return .failure(failure)
                }
                switch decode(valueBytes, plusAsSpace: true) {
                case .success(let decoded): value = decoded
                case .failure(let failure): return .failure(failure)
                }
                items.append(QueryParameters.Item(name: name, value: value))
            }
            start = end + 1
        }
        return .success(QueryParameters(items))
    }

    /// Parses a query string; nil when any part is invalid.
    static func parseQuery(_ bytes: [UInt8]) -> QueryParameters? {
        try? bytes.withUnsafeBytes { parseQuery($0) }.get()
    }
}

/// UTF-8 validation (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
///
/// Written out rather than using `String(validating:as:)`, whose generic implementation looks
/// up type metadata at run time on every call — measurable on a path run for every request.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        @inline(__always) func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < count && range.contains(bytes[index + offset])
        }
        while index < count {
            let lead = bytes[index]
            switch lead {
            case 0x00...0x7F:
                index += 1
            case 0xC2...0xDF:
                guard continuation(1) else { return false }
                index += 2
            case 0xE0:
                guard continuation(1, 0xA0...0xBF), continuation(2) else { return false }
                index += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard continuation(1), continuation(2) else { return false }
                index += 3
            case 0xED:
                guard continuation(1, 0x80...0x9F), continuation(2) else { return false }
                index += 3
            case 0xF0:
                guard continuation(1, 0x90...0xBF), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF1...0xF3:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF4:
                guard continuation(1, 0x80...0x8F), continuation(2), continuation(3) else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }
}
