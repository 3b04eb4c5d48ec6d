import Foundation
import Testing
@testable import ReceiverCore

/// Standard Webhooks 1.0 signing: secrets, signatures, known vectors, and the official Python
/// verifier (`standardwebhooks` on PyPI) run against signatures this code produced.
@Suite struct WebhookSigningTests {
    /// The test vector published with the Standard Webhooks specification and its libraries.
    static let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let specID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let specTimestamp: Int64 = 1_614_265_330
    static let specBody = Array(#"{"test": 2432232314}"#.utf8)
    static let specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    // MARK: - Known vectors

    @Test func reproducesTheSpecificationVector() throws {
        let secret = try WebhookSecret(parsing: Self.specSecret)
        #expect(secret.key.count == 24)
        #expect(WebhookSignature.sign(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: secret) == Self.specSignature)
    }

    @Test func reproducesAVectorWithA64ByteKeyAndNonASCIIBody() throws {
        // Signed by the reference Python library (standardwebhooks 1.3.0, `Webhook.sign`): the
        // largest key the standard allows (bytes 1…64), UTF-8 in the body and a trailing newline.
        let secret = try WebhookSecret(parsing: "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==")
        #expect(secret.key == Array(1...64))
        let body = Array("{\"type\":\"member.updated\",\"data\":{\"name\":\"Zoë\"}}\n".utf8)
        let signature = WebhookSignature.sign(id: "evt_0192b1f4-7c1e-7aa0-9d0e-5b1c2d3e4f50", timestamp: 1_767_225_600, body: body, secret: secret)
        #expect(signature == "v1,ysU4zMC4fq2FTvxMVBz8ug+/ktwFWW8t5vTw5kXDyXQ=")
    }

    @Test func everyPartOfTheMessageIsSigned() throws {
        let secret = try WebhookSecret(parsing: Self.specSecret)
        let variants = [
            WebhookSignature.sign(id: Self.specID + "x", timestamp: Self.specTimestamp, body: Self.specBody, secret: secret),
            WebhookSignature.sign(id: Self.specID, timestamp: Self.specTimestamp + 1, body: Self.specBody, secret: secret),
            WebhookSignature.sign(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody + [0x20], secret: secret),
            WebhookSignature.sign(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: .generate(byteCount: 24)),
        ]
        for variant in variants {
            #expect(variant.hasPrefix("v1,"))
            #expect(variant != Self.specSignature)
        }
    }

    // MARK: - Rotation and headers

    @Test func rotationCarriesOneSignaturePerSecretAndEachVerifies() throws {
        let old = try WebhookSecret(parsing: Self.specSecret)
        let new = WebhookSecret.generate()
        let header = WebhookSignature.header(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secrets: [new, old])
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[1] == Self.specSignature)
        #expect(parts[0] == WebhookSignature.sign(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: new))

        for secret in [old, new] {
            #expect(WebhookSignature.verify(header: header, id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: secret))
        }
        #expect(!WebhookSignature.verify(header: header, id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: .generate()))
        #expect(!WebhookSignature.verify(header: header, id: Self.specID, timestamp: Self.specTimestamp + 1, body: Self.specBody, secret: old))
        #expect(!WebhookSignature.verify(header: "v1a," + Self.specSignature.dropFirst(3), id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secret: old))
    }

    @Test func headersAreTheThreeStandardOnes() throws {
        let secret = try WebhookSecret(parsing: Self.specSecret)
        let headers = WebhookSignature.headers(id: Self.specID, timestamp: Self.specTimestamp, body: Self.specBody, secrets: [secret])
        #expect(headers.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.1) == [Self.specID, "1614265330", Self.specSignature])
    }

    // MARK: - Secrets

    @Test(arguments: [24, 32, 64])
    func generatedSecretsRoundTrip(byteCount: Int) throws {
        let secret = WebhookSecret.generate(byteCount: byteCount)
        #expect(secret.key.count == byteCount)
        #expect(secret.encoded.hasPrefix("whsec_"))
        let parsed = try WebhookSecret(parsing: secret.encoded)
        #expect(parsed.key == secret.key)
        #expect(parsed.encoded == secret.encoded)
    }

    @Test func generatedSecretsDiffer() {
        let keys = Set((0..<100).map { _ in WebhookSecret.generate().key })
        #expect(keys.count == 100)
    }

    @Test func secretsAreRedactedWhenPrinted() throws {
        let secret = try WebhookSecret(parsing: Self.specSecret)
        for text in ["\(secret)", String(reflecting: secret), "\([secret])"] {
            #expect(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "\(text)")
            #expect(text.contains("redacted"))
        }
    }

    @Test func paddingIsOptionalWhenTheLengthNeedsIt() throws {
        // 32 bytes encode to 43 characters plus one "=": both spellings are the same key.
        let secret = WebhookSecret.generate(byteCount: 32)
        #expect(secret.encoded.hasSuffix("="))
        let unpadded = String(secret.encoded.dropLast())
        #expect(try WebhookSecret(parsing: unpadded).key == secret.key)
    }

    @Test(arguments: [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with \"whsec_\""),
        ("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with \"whsec_\""),
        ("whsec-MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with \"whsec_\""),
        ("whsec_", "nothing after \"whsec_\""),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w", "not standard base64"),  // URL-safe alphabet
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa_w", "not standard base64"),
        ("whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw", "not standard base64"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "not standard base64"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa=w", "not standard base64"),  // padding inside
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA", "not standard base64"),  // 33 characters: a dangling one
        ("whsec_c2hvcnQ=", "decodes to 5 bytes"),
        ("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "decodes to 22 bytes"),
        ("whsec_" + String(repeating: "A", count: 88), "decodes to 66 bytes"),
    ])
    func badSecretsAreRefusedWithAReason(text: String, reason: String) {
        #expect {
            try WebhookSecret(parsing: text)
        } throws: { error in
            guard case .invalid(let fields) = error as? ReceiverError, let field = fields.first else { return false }
            return fields.count == 1 && field.field == "secret" && field.message.contains(reason)
                && !field.message.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa")
        }
    }

    @Test func boundaryKeySizesAreAccepted() throws {
        #expect(try WebhookSecret(parsing: "whsec_" + String(repeating: "A", count: 32)).key.count == 24)
        #expect(try WebhookSecret(parsing: "whsec_" + String(repeating: "A", count: 84) + "AA==").key.count == 64)
    }

    // MARK: - The official verifier

    /// Runs the `standardwebhooks` package's `Webhook.verify` over deliveries signed here, each
    /// with a current timestamp (the library refuses ones more than five minutes off), and
    /// compares its verdicts with what the standard requires — rejections included, so a
    /// verifier that accepted everything would fail this test too.
    @Test(.enabled(if: PythonVerifier.python3 != nil, "python3 is not installed: the Standard Webhooks Python verifier cannot run"))
    func officialPythonVerifierAcceptsOurSignatures() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let old = try WebhookSecret(parsing: Self.specSecret)
        let new = WebhookSecret.generate()
        let large = WebhookSecret.generate(byteCount: 64)
        let stranger = WebhookSecret.generate()
        let body = Array("{\"id\":\"0192b1f4\",\"type\":\"prospect.updated\",\"data\":{\"firstName\":\"Åsa\",\"note\":\"a.b.c\"}}".utf8)
        let binary = body + [0x00, 0xFF, 0xFE]  // the body is signed byte for byte, not as text

        let single = WebhookSignature.header(id: "evt_1", timestamp: now, body: body, secrets: [new])
        let rotating = WebhookSignature.header(id: "evt_2", timestamp: now, body: body, secrets: [new, old])
        let cases: [PythonVerifier.Case] = [
            .init(name: "single secret", secret: new.encoded, id: "evt_1", timestamp: now, body: body, signature: single, expected: true),
            .init(name: "64-byte secret, binary body", secret: large.encoded, id: "evt_3", timestamp: now, body: binary,
                  signature: WebhookSignature.header(id: "evt_3", timestamp: now, body: binary, secrets: [large]), expected: true),
            .init(name: "rotation, old verifier", secret: old.encoded, id: "evt_2", timestamp: now, body: body, signature: rotating, expected: true),
            .init(name: "rotation, new verifier", secret: new.encoded, id: "evt_2", timestamp: now, body: body, signature: rotating, expected: true),
            .init(name: "rotation, unrelated secret", secret: stranger.encoded, id: "evt_2", timestamp: now, body: body, signature: rotating, expected: false),
            .init(name: "tampered body", secret: new.encoded, id: "evt_1", timestamp: now, body: body + [0x20], signature: single, expected: false),
            .init(name: "another id", secret: new.encoded, id: "evt_9", timestamp: now, body: body, signature: single, expected: false),
        ]
        let verdicts = try PythonVerifier.run(cases)
        for testCase in cases {
            let verdict = try #require(verdicts[testCase.name], "no verdict for \(testCase.name)")
            #expect(verdict.accepted == testCase.expected, "\(testCase.name): \(verdict.detail)")
        }
    }
}

/// Runs the official Standard Webhooks Python library over a set of signed deliveries.
enum PythonVerifier {
    struct Case {
        var name: String
        var secret: String
        var id: String
        var timestamp: Int64
        var body: [UInt8]
        var signature: String
        var expected: Bool
    }

    struct Verdict {
        var accepted: Bool
        var detail: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The first `python3` on `PATH`, or nil.
    static let python3: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Reads the cases as JSON on stdin (bodies in base64, so they arrive byte for byte) and
    /// prints one verdict per case.
    static let script = #"""
    import base64, json, sys
    try:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
    except ImportError as error:
        print("the Python package standardwebhooks is not installed (%s): run scripts/bootstrap.sh test, or python3 -m pip install standardwebhooks" % error, file=sys.stderr)
        sys.exit(3)
    verdicts = {}
    for case in json.load(sys.stdin):
        headers = {"webhook-id": case["id"], "webhook-timestamp": str(case["timestamp"]), "webhook-signature": case["signature"]}
        try:
            Webhook(case["secret"]).verify(base64.b64decode(case["body"]), headers, json_parse=False)
            verdicts[case["name"]] = {"accepted": True, "detail": "verified"}
        except WebhookVerificationError as error:
            verdicts[case["name"]] = {"accepted": False, "detail": str(error)}
    print(json.dumps(verdicts))
    """#

    static func run(_ cases: [Case]) throws -> [String: Verdict] {
        guard let python3 else { throw Failure(description: "python3 is not installed") }
        let input = cases.map { testCase -> [String: Any] in
            ["name": testCase.name, "secret": testCase.secret, "id": testCase.id, "timestamp": testCase.timestamp,
             "body": Data(testCase.body).base64EncodedString(), "signature": testCase.signature]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python3)
        process.arguments = ["-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        // Small outputs: reading to EOF before waiting cannot deadlock on a full pipe.
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "the Python verifier exited with \(process.terminationStatus): \(errors)")
        }
        guard let object = try JSONSerialization.jsonObject(with: output) as? [String: [String: Any]] else {
            throw Failure(description: "the Python verifier printed no verdicts: \(String(decoding: output, as: UTF8.self)) \(errors)")
        }
        return object.compactMapValues { entry in
            guard let accepted = entry["accepted"] as? Bool else { return nil }
            return Verdict(accepted: accepted, detail: entry["detail"] as? String ?? "")
        }
    }
}
