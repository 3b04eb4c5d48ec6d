import CSodium

/// The key an endpoint's deliveries are signed with, in the Standard Webhooks 1.0 form:
/// `whsec_` followed by the standard base64 (RFC 4648 §4) of 24 to 64 random bytes.
///
/// The decoded bytes are the HMAC-SHA256 key (see ``WebhookSignature``). The receiver makes
/// new secrets with ``generate(byteCount:)``; an admin may also bring one (moving endpoints over
/// from another provider), which ``init(parsing:)`` checks.
///
/// A secret is shown once, at creation and at rotation. `description` is redacted, so a secret
/// interpolated into a log line or an error message shows no key material; ``encoded`` is the
/// only way to the text.
public struct WebhookSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `whsec_`, the prefix Standard Webhooks gives symmetric secrets.
    public static let prefix = "whsec_"
    /// How many key bytes a secret may have. Standard Webhooks asks for 24 to 64; fewer than 24
    /// would be guessable in principle, more than 64 gain nothing (HMAC-SHA256 hashes longer
    /// keys down to 32 bytes first).
    public static let keyByteCounts: ClosedRange<Int> = 24...64
    /// The size of a key the receiver generates: 32 bytes, SHA-256's own output size.
    public static let defaultKeyByteCount = 32

    /// The HMAC key: the decoded bytes after the prefix.
    package let key: [UInt8]

    /// The secret as given to the endpoint's owner: `whsec_<base64>`.
    public var encoded: String { Self.prefix + Self.base64(key) }

    private init(key: [UInt8]) {
        self.key = key
    }

    /// A new secret of `byteCount` random bytes from the system's CSPRNG (libsodium's
    /// `randombytes_buf`).
    ///
    /// - Precondition: `byteCount` is within ``keyByteCounts``.
    public static func generate(byteCount: Int = defaultKeyByteCount) -> WebhookSecret {
        precondition(keyByteCounts.contains(byteCount), "a webhook secret has 24 to 64 bytes, not \(byteCount)")
        CredentialSecrets.ensureInitialized()
        var key = [UInt8](repeating: 0, count: byteCount)
        randombytes_buf(&key, key.count)
        return WebhookSecret(key: key)
    }

    /// Checks and decodes a secret given by an admin.
    ///
    /// Accepts `whsec_` followed by standard base64 of 24 to 64 bytes, with or without the
    /// trailing `=` padding (Svix's secrets have none; ours have it when the length asks for it).
    ///
    /// - Throws: ``ReceiverError/invalid(_:)`` for the field `secret`, saying what is wrong —
    ///   a missing prefix, text that is not base64, or a key of the wrong size. The message
    ///   never repeats the secret.
    public init(parsing text: String) throws(ReceiverError) {
        func invalid(_ message: String) -> ReceiverError {
            .invalidField("secret", message)
        }
        guard text.hasPrefix(Self.prefix) else {
            throw invalid("a webhook secret starts with \"whsec_\" followed by the base64 of 24 to 64 random bytes")
        }
        let body = Array(text.utf8.dropFirst(Self.prefix.utf8.count))
        guard !body.isEmpty else {
            throw invalid("the webhook secret has nothing after \"whsec_\"; it needs the base64 of 24 to 64 random bytes")
        }
        guard let key = Self.decodeBase64(body) else {
            throw invalid("the part after \"whsec_\" is not standard base64 (letters, digits, '+' and '/', optionally '=' padding at the end; no spaces, '-' or '_')")
        }
        guard Self.keyByteCounts.contains(key.count) else {
            throw invalid("the webhook secret decodes to \(key.count) bytes; it must decode to 24 to 64 bytes")
        }
        self.init(key: key)
    }

    public var description: String { "WebhookSecret(<redacted>)" }
    public var debugDescription: String { description }

    // MARK: - Base64

    /// Standard base64 with padding, as Standard Webhooks' libraries decode it.
    static func base64(_ bytes: [UInt8]) -> String {
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        var encoded = [CChar](repeating: 0, count: sodium_base64_encoded_len(bytes.count, variant))
        _ = sodium_bin2base64(&encoded, encoded.count, bytes, bytes.count, variant)
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Strict standard base64: padded when the length is a multiple of 4, unpadded otherwise.
    /// libsodium rejects characters outside the alphabet, misplaced padding and non-zero
    /// trailing bits, so one secret has exactly one accepted spelling per padding choice.
    private static func decodeBase64(_ text: [UInt8]) -> [UInt8]? {
        let padded = text.count % 4 == 0
        let variant = Int32(padded ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING)
        var output = [UInt8](repeating: 0, count: text.count * 3 / 4 + 3)
        var length = 0
        let consumedAll: Bool = text.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { characters in
                var end: UnsafePointer<CChar>?
                let result = sodium_base642bin(
                    &output, output.count, characters.baseAddress, characters.count, nil, &length, &end, variant
                )
                // With `b64_end` given libsodium stops quietly at the first byte it cannot use,
                // so success alone is not enough: everything must have been consumed.
                guard result == 0, let end else { return false }
                return characters.baseAddress!.distance(to: end) == characters.count
            }
        }
        guard consumedAll else { return nil }
        return Array(output.prefix(length))
    }
}
