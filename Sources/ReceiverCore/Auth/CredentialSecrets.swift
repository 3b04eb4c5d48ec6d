import CSodium

/// Issuing and checking client passwords, with libsodium's primitives.
///
/// Passwords are 32 random bytes from the system's CSPRNG (`randombytes_buf`),
/// shown once as 43 base64url characters. With 256 bits of entropy nothing can
/// be guessed, so a fast keyed hash is a sound way to store them (a slow
/// password hash only helps low-entropy, human-chosen secrets) and a check costs
/// about a microsecond on every request. Stored form:
/// `b2$<salt hex>$<BLAKE2b-256(key: salt, password) hex>`; compared in constant
/// time (`sodium_memcmp`).
public enum CredentialSecrets {
    package static let saltBytes = 16
    package static let hashBytes = 32
    package static let passwordBytes = 32
    package static let scheme = "b2"

    /// sodium_init is idempotent and thread-safe; a Swift global runs it once.
    private static let initialized: Bool = sodium_init() >= 0

    package static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialized")
    }

    /// A new password: 43 base64url characters (256 bits).
    public static func newPassword() -> String {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: passwordBytes)
        randombytes_buf(&bytes, bytes.count)
        defer { sodium_memzero(&bytes, bytes.count) }
        let variant = Int32(sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        var encoded = [CChar](repeating: 0, count: sodium_base64_encoded_len(bytes.count, variant))
        _ = sodium_bin2base64(&encoded, encoded.count, bytes, bytes.count, variant)
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Random lower-case letters and digits, for usernames.
    public static func randomToken(length: Int) -> String {
        ensureInitialized()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let characters = (0..<length).map { _ in alphabet[Int(randombytes_uniform(UInt32(alphabet.count)))] }
        return String(decoding: characters, as: UTF8.self)
    }

    /// The stored form of `password`, with a fresh salt.
    public static func hash(password: String) -> String {
        ensureInitialized()
        var salt = [UInt8](repeating: 0, count: saltBytes)
        randombytes_buf(&salt, salt.count)
        return "\(scheme)$\(hex(salt))$\(hex(digest(password: password, salt: salt)))"
    }

    /// Whether `password` matches the stored form; false for a malformed one.
    public static func verify(password: String, against stored: String) -> Bool {
        ensureInitialized()
        // Split over the UTF-8 bytes: String's split works by Character (grapheme
        // clusters), which costs more than the hash itself on every request.
        let parts = Array(stored.utf8).split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].elementsEqual(scheme.utf8),
              let salt = bytes(fromHex: parts[1]), salt.count == saltBytes,
              let expected = bytes(fromHex: parts[2]), expected.count == hashBytes
        else { return false }
        let actual = digest(password: password, salt: salt)
        return sodium_memcmp(actual, expected, hashBytes) == 0
    }

    private static func digest(password: String, salt: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: hashBytes)
        var message = Array(password.utf8)
        defer { sodium_memzero(&message, message.count) }
        _ = crypto_generichash(&output, output.count, message, UInt64(message.count), salt, salt.count)
        return output
    }

    package static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func bytes(fromHex text: ArraySlice<UInt8>) -> [UInt8]? {
        let characters = Array(text)
        guard characters.count % 2 == 0 else { return nil }
        func value(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var result = [UInt8]()
        result.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = value(characters[index]), let low = value(characters[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
