import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The settings of a production deployment: JSON logs, the database URL from a
/// file, the pool mode for PgBouncer.
@Suite struct ProductionSettingsTests {
    @Test func jsonLogsAreOneObjectPerLineEscapedCorrectly() throws {
        try TurnupDatabase.with { database in
            // The OpenAPI path shows in a warning: quotes, backslash, tab, newline,
            // a control character and non-ASCII text must survive as JSON.
            let awkward = "/nonexistent/a \"quoted\" \\ path\twith\nnewline\u{1}é"
            let server = try ReceiverProcess(
                arguments: ["--log-format", "json", "--openapi-file", awkward],
                environment: ["DATABASE_URL": database.url, "RECEIVER_LOG_FORMAT": ""])
            try server.waitUntilListening()
            #expect(try server.get("/healthz").status == 200)
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)

            let lines = server.log.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count >= 4, "\(server.log)")
            var events: [[String: Any]] = []
            for line in lines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON object: \(line)")
                if let object { events.append(object) }
            }
            let timestamp = #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"#
            for event in events {
                #expect((event["timestamp"] as? String)?.range(of: timestamp, options: .regularExpression) != nil, "\(event)")
                #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(event["level"] as? String ?? ""), "\(event)")
                #expect(event["label"] is String && event["message"] is String, "\(event)")
            }
            let warning = events.first { ($0["message"] as? String)?.hasPrefix("no OpenAPI document at") == true }
            #expect(warning?["message"] as? String == "no OpenAPI document at \(awkward): /openapi.yaml will answer 404")
            #expect(warning?["level"] as? String == "warning")

            let access = events.first { $0["message"] as? String == "request" }
            let metadata = access?["metadata"] as? [String: Any]
            #expect(metadata?["path"] as? String == "/healthz")
            #expect(metadata?["method"] as? String == "GET")
            #expect(metadata?["status"] as? Int == 200, "integers stay numbers: \(String(describing: metadata))")
            #expect((metadata?["request-id"] as? String)?.isEmpty == false)
        }
    }

    @Test func theDatabaseURLComesFromAFile() throws {
        try TurnupDatabase.with { database in
            let file = "/tmp/cr-database-url-\(UUID().uuidString.prefix(8))"
            try (database.url + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let migrate = try Executable.run(["migrate"], environment: ["DATABASE_URL": "", "DATABASE_URL_FILE": file])
            #expect(migrate.status == 0, "\(migrate.output)")
            #expect(migrate.output.contains("applied migration 0001"), "\(migrate.output)")
            let flag = try Executable.run(["turnup", "list", "--database-url-file", file], environment: ["DATABASE_URL": ""])
            #expect(flag.status == 0, "\(flag.output)")

            let both = try Executable.run(["migrate"], environment: ["DATABASE_URL": database.url, "DATABASE_URL_FILE": file])
            #expect(both.status != 0)
            #expect(both.output.contains("Both DATABASE_URL and DATABASE_URL_FILE are set"), "\(both.output)")
            let missing = try Executable.run(["migrate"], environment: ["DATABASE_URL": "", "DATABASE_URL_FILE": "/nonexistent/url"])
            #expect(missing.status != 0)
            #expect(missing.output.contains("DATABASE_URL_FILE=/nonexistent/url: cannot read"), "\(missing.output)")
        }
    }

    /// Pool mode transaction works on any PostgreSQL (it only sends less); the
    /// serve start-up says what the sessions look like.
    @Test func transactionPoolModeServesAndSaysSo() throws {
        try TurnupDatabase.with { database in
            let server = try ReceiverProcess(environment: ["DATABASE_URL": database.url, "RECEIVER_DATABASE_POOL_MODE": "transaction"])
            try server.waitUntilListening()
            #expect(try server.get("/readyz").status == 200)
            #expect(server.log.contains("database pool mode transaction"), "\(server.log)")
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
        }
    }

    @Test(arguments: [
        (["serve", "--log-format", "yaml"], "Unknown log format 'yaml': use text or json"),
        (["migrate", "--database-pool-mode", "statement"], "must be session or transaction, not statement"),
        (["migrate", "--statement-timeout=-1"], "must be a number of seconds from 0 to 86400, not -1.0"),
        (["migrate", "--database-pool-mode", "transaction", "--statement-timeout", "5"], "ALTER ROLE <role> SET statement_timeout"),
        (["serve", "--save-lanes=-1"], "--save-lanes (or RECEIVER_SAVE_LANES) must be from 0 to 1000, not -1."),
        (["serve", "--save-batch-wait", "200000"], "--save-batch-wait (or RECEIVER_SAVE_BATCH_WAIT) must be from 0 to 100000, not 200000."),
        (["serve", "--sync-error-retention-days=-1"], "--sync-error-retention-days (or RECEIVER_SYNC_ERROR_RETENTION_DAYS) must be from 0 to 36500, not -1."),
        (["serve", "--audit-retention-days", "40000"], "--audit-retention-days (or RECEIVER_AUDIT_RETENTION_DAYS) must be from 0 to 36500, not 40000."),
    ])
    func rejectsBadSettings(arguments: [String], message: String) throws {
        let result = try Executable.run(arguments, environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
    }

    @Test func retentionSettingsFromTheEnvironmentAreChecked() throws {
        let result = try Executable.run(["serve"], environment: ["DATABASE_URL": "host=/nonexistent", "RECEIVER_AUDIT_RETENTION_DAYS": "a year"])
        #expect(result.status != 0)
        #expect(result.output.contains("RECEIVER_AUDIT_RETENTION_DAYS=a year is not a whole number."), "\(result.output)")
    }

    @Test func transactionPoolModeNeedsADatabaseURL() throws {
        let result = try Executable.run(["migrate", "--database-pool-mode", "transaction", "--data-dir", "/tmp/cr-never-created"], environment: ["DATABASE_URL": ""])
        #expect(result.status != 0)
        #expect(result.output.contains("needs a database URL"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/cr-never-created"))
    }
}
