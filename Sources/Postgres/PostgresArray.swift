/// One-dimensional arrays of scalars: `[String]` is `text[]`, `[Int?]` is an
/// `int8[]` that may hold NULL elements. Encoded as an array literal in which every
/// non-NULL element is double-quoted with `"` and `\` backslash-escaped, so commas,
/// braces, quotes, backslashes, whitespace, empty strings and the word "NULL" all
/// survive; NULL elements are the bare word `NULL`.
extension Array: PostgresEncodable where Element: PostgresEncodable & PostgresArrayElement {
    /// The array type of the element type, or `.unspecified` (the server infers it)
    /// when the element's type has no known array type.
    public static var postgresDataType: PostgresDataType {
        Element.postgresDataType.arrayType ?? .unspecified
    }

    public var postgresText: String? {
        // A closure, not a key path: in this generic context a key path literal is
        // instantiated at run time on every call.
        PostgresArrayLiteral.encode(map { $0.postgresText })
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable & PostgresArrayElement {
    /// Accepts the built-in array types and arrays of non-built-in types (enum arrays);
    /// refuses built-in scalar columns. A NULL element decodes only into an optional
    /// element type (`[String?]`).
    public init(postgresText text: String, type: PostgresDataType) throws {
        let elementType: PostgresDataType
        if let known = type.elementType {
            elementType = known
        } else if type == .unspecified || !type.isKnown {
            elementType = .unspecified
        } else {
            throw PostgresDecodingFailure("its PostgreSQL type is \(type), which is not an array type")
        }
        let items = try PostgresArrayLiteral.parse(text)
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            if let item {
                do {
                    result.append(try Element(postgresText: item, type: elementType))
                } catch {
                    throw PostgresDecodingFailure("element \(index + 1): \(error)")
                }
            } else if let null = Element.postgresNullValue {
                result.append(null)
            } else {
                throw PostgresDecodingFailure("element \(index + 1) is NULL but \(Element.self) is not optional; decode as [\(Element.self)?]")
            }
        }
        self = result
    }
}

/// The text form of one-dimensional PostgreSQL arrays (manual, section 8.15.6).
enum PostgresArrayLiteral {
    /// Every element quoted, `"` and `\` escaped; built over UTF-8 bytes (both are
    /// ASCII, so no multi-byte character is split).
    static func encode(_ elements: [String?]) -> String {
        var literal: [UInt8] = [UInt8(ascii: "{")]
        literal.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, element) in elements.enumerated() {
            append(element, to: &literal, first: index == 0)
        }
        return closing(literal)
    }

    /// Appends `element` (nil: NULL) to a literal begun with `{`, after a comma
    /// unless it is the `first` element.
    static func append(_ element: String?, to literal: inout [UInt8], first: Bool) {
        if !first { literal.append(UInt8(ascii: ",")) }
        guard var element else {
            literal.append(contentsOf: "NULL".utf8)
            return
        }
        literal.append(UInt8(ascii: "\""))
        element.withUTF8 { bytes in
            // Copied in runs between the bytes that need a backslash.
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
                literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                literal.append(UInt8(ascii: "\\"))
                start = index
            }
            literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        literal.append(UInt8(ascii: "\""))
    }

    /// The text of a literal begun with `{` and its elements: closed with `}`.
    static func closing(_ literal: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: literal.count + 1) { buffer in
            _ = buffer.initialize(from: literal)
            buffer[literal.count] = UInt8(ascii: "}")
            return literal.count + 1
        }
    }

    /// Parses an array's text output into its elements (nil for NULL). Accepts the
    /// optional dimension decoration (`[0:1]={…}`) that non-default lower bounds add;
    /// refuses multidimensional arrays.
    static func parse(_ text: String) throws(PostgresDecodingFailure) -> [String?] {
        let bytes = Array(text.utf8)
        let invalid = PostgresDecodingFailure("the text is not a valid array literal")
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ",")
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
        }

        var i = 0
        if bytes.first == UInt8(ascii: "[") {
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { throw invalid }
            i = equals + 1
        }
        func skipSpaces() {
            while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        }

        skipSpaces()
        guard i < bytes.count, bytes[i] == open else { throw invalid }
        i += 1
        skipSpaces()
        var elements: [String?] = []
        if i < bytes.count, bytes[i] == close {
            i += 1
        } else {
            while true {
                skipSpaces()
                guard i < bytes.count else { throw invalid }
                if bytes[i] == open {
                    throw PostgresDecodingFailure("multidimensional arrays are not supported")
                }
                if bytes[i] == quote {
                    i += 1
                    var element: [UInt8] = []
                    while true {
                        guard i < bytes.count else { throw invalid }
                        let byte = bytes[i]
                        i += 1
                        if byte == backslash {
                            guard i < bytes.count else { throw invalid }
                            element.append(bytes[i])
                            i += 1
                        } else if byte == quote {
                            break
                        } else {
                            element.append(byte)
                        }
                    }
                    elements.append(String(decoding: element, as: UTF8.self))
                    skipSpaces()
                } else {
                    // Unquoted: up to the next delimiter; surrounding whitespace is not
                    // part of the value; an unescaped NULL (any case) is SQL NULL.
                    var element: [UInt8] = []
                    var significantLength = 0
                    var escaped = false
                    while i < bytes.count, bytes[i] != comma, bytes[i] != close {
                        let byte = bytes[i]
                        if byte == quote || byte == open { throw invalid }
                        if byte == backslash {
                            i += 1
                            guard i < bytes.count else { throw invalid }
                            element.append(bytes[i])
                            escaped = true
                            significantLength = element.count
                        } else {
                            element.append(byte)
                            if !isSpace(byte) { significantLength = element.count }
                        }
                        i += 1
                    }
                    element.removeLast(element.count - significantLength)
                    guard !element.isEmpty else { throw invalid }
                    let isNull = !escaped && element.count == 4
                        && String(decoding: element, as: UTF8.self).uppercased() == "NULL"
                    elements.append(isNull ? nil : String(decoding: element, as: UTF8.self))
                }
                guard i < bytes.count else { throw invalid }
                if bytes[i] == comma {
                    i += 1
                    continue
                }
                guard bytes[i] == close else { throw invalid }
                i += 1
                break
            }
        }
        skipSpaces()
        guard i == bytes.count else { throw invalid }
        return elements
    }
}

extension PostgresBinding {
    /// A one-dimensional array of values already in text form (nil elements are
    /// NULL), typed as an array of `elementType`; nil when that type has no array
    /// type named here.
    public static func array(_ elements: [String?], of elementType: PostgresDataType) -> PostgresBinding? {
        guard let arrayType = elementType.arrayType else { return nil }
        return PostgresBinding(text: PostgresArrayLiteral.encode(elements), dataType: arrayType)
    }
}
