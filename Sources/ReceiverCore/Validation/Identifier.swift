/// Client and club IDs: what the schema's CHECK constraints and the API's
/// `ClientId`/`ClubId` patterns allow.
package enum Identifier {
    /// `clientId` and `clubId`: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
    package static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    package static let rule = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension FieldReader {
    /// Takes over the errors of a nested reader or parser, whose fields are
    /// already full paths; only for a reader of the whole body (no prefix).
    package mutating func absorb(_ nested: [FieldError]) {
        for error in nested { fail(error.field, error.message) }
    }

    /// A required identifier (`clientId`, `clubId`).
    package mutating func identifier(_ name: String) -> String? {
        guard let value = string(name, required: true, maxLength: 64) else { return nil }
        guard Identifier.isValid(value) else {
            fail(name, Identifier.rule)
            return nil
        }
        return value
    }
}
