import CSodium

/// Standard Webhooks 1.0 signatures: what a delivery carries in `webhook-signature`.
///
/// One signature is `v1,` followed by the standard base64 of
/// HMAC-SHA256(key: the secret's decoded bytes, message: `<webhook-id>.<webhook-timestamp>.<body>`),
/// where the timestamp is the attempt's Unix time in whole seconds and the body is sent byte for
/// byte as signed. While a secret is being rotated the header carries one signature per secret,
/// space-separated; a receiver accepts the delivery when any of them verifies, so both its old
/// and its new configuration keep working during the overlap.
///
/// ```swift
/// let secret = try WebhookSecret(parsing: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
/// let headers = WebhookSignature.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330,
///                                        body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret])
/// // webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
/// ```
public enum WebhookSignature {
    /// The version tag of the only scheme Standard Webhooks 1.0 defines for symmetric keys.
    public static let versionPrefix = "v1,"

    /// The header names, lower-case as the standard writes them.
    public static let idHeader = "webhook-id"
    public static let timestampHeader = "webhook-timestamp"
    public static let signatureHeader = "webhook-signature"

    /// `v1,<base64 HMAC-SHA256>` of one delivery attempt under one secret.
    ///
    /// - Parameters:
    ///   - id: the `webhook-id`, the same on every attempt of the event.
    ///   - timestamp: the `webhook-timestamp`, Unix seconds of this attempt.
    ///   - body: the exact bytes sent as the request body.
    public static func sign(id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret) -> String {
        versionPrefix + WebhookSecret.base64(mac(id: id, timestamp: timestamp, body: body, key: secret.key))
    }

    /// The value of `webhook-signature`: one signature per secret, space-separated, in the
    /// order given (the newest secret first is customary but not required).
    ///
    /// - Precondition: `secrets` is not empty.
    public static func header(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) -> String {
        precondition(!secrets.isEmpty, "a delivery is signed with at least one secret")
        return secrets.map { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// The three Standard Webhooks headers of one delivery attempt, ready for an outbound request.
    public static func headers(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) -> [(String, String)] {
        [
            (idHeader, id),
            (timestampHeader, String(timestamp)),
            (signatureHeader, header(id: id, timestamp: timestamp, body: body, secrets: secrets)),
        ]
    }

    /// Whether any `v1` signature in `header` matches `secret` — the receiving side's check,
    /// compared in constant time. Signatures of other versions are ignored. It does not judge the
    /// timestamp's age; a receiver also refuses timestamps too far from its clock.
    public static func verify(header: String, id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret) -> Bool {
        let expected = Array(sign(id: id, timestamp: timestamp, body: body, secret: secret).utf8)
        var matched = false
        for candidate in header.utf8.split(separator: UInt8(ascii: " ")) where candidate.count == expected.count {
            let bytes = Array(candidate)
            // Keep comparing after a match so the time taken does not say which one matched.
            if sodium_memcmp(bytes, expected, expected.count) == 0 { matched = true }
        }
        return matched
    }

    // MARK: - HMAC-SHA256

    /// HMAC-SHA256 over `<id>.<timestamp>.<body>`, streamed through libsodium's
    /// init/update/final API: that API takes a key of any length (the one-shot
    /// `crypto_auth_hmacsha256` insists on exactly 32 bytes), and the message is never copied
    /// into one buffer.
    static func mac(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> [UInt8] {
        CredentialSecrets.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        defer { sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size) }
        var output = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))

        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        let prefix = Array("\(id).\(timestamp).".utf8)
        _ = crypto_auth_hmacsha256_update(&state, prefix, UInt64(prefix.count))
        _ = crypto_auth_hmacsha256_update(&state, body, UInt64(body.count))
        _ = crypto_auth_hmacsha256_final(&state, &output)
        return output
    }
}
