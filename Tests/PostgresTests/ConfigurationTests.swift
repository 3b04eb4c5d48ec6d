import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Configuration")
struct ConfigurationTests {
    @Test func uriFormIsParsedAndThePasswordIsNeverPrinted() throws {
        let config = try PostgresConfiguration(url: "postgresql://app:s3cr%40t@db.example:6543/appdb?sslmode=require")
        let printed = [config.redactedDescription, "\(config)", String(reflecting: config), String(describing: Mirror(reflecting: config).children.map(\.value))]
        var dumped = ""
        dump(config, to: &dumped)
        for text in printed + [dumped] {
            #expect(!text.contains("s3cr"), "password leaked in: \(text)")
        }
        #expect(config.redactedDescription.contains("host=db.example"))
        #expect(config.redactedDescription.contains("port=6543"))
        #expect(config.redactedDescription.contains("dbname=appdb"))
        #expect(config.redactedDescription.contains("user=app"))
        #expect(config.redactedDescription.contains("sslmode=require"))
        #expect(config.redactedDescription.contains("password=********"))
    }

    @Test func keyValueFormIsParsedAndRedacted() throws {
        let config = try PostgresConfiguration(url: "host=/tmp port=5432 user=app password='p w' dbname=app")
        #expect(config.redactedDescription.contains("host=/tmp"))
        #expect(!config.redactedDescription.contains("p w"))
        #expect(config.redactedDescription.contains("password=********"))
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let config = try PostgresConfiguration(url: "postgresql://localhost/app")
        #expect(config.connectTimeout == .seconds(5))
        #expect(config.statementTimeout == .seconds(30))
        #expect(config.responseTimeout == .seconds(35), "a few seconds above the statement timeout")
        #expect(config.applicationName == "connector-receiver")
        let parameters = Dictionary(config.connectionParameters.map { ($0.keyword, $0.value) }, uniquingKeysWith: { _, last in last })
        #expect(parameters["connect_timeout"] == "5")
        #expect(parameters["keepalives"] == "1")
        #expect(parameters["keepalives_idle"] == "30")
        #expect(parameters["keepalives_interval"] == "10")
        #expect(parameters["keepalives_count"] == "3")
        #expect(parameters["client_encoding"] == "UTF8")
        #expect(parameters["options"] == #"-c DateStyle=ISO,\ YMD -c TimeZone=UTC -c extra_float_digits=1 -c statement_timeout=30000"#)
        // The URL goes to libpq untouched, as the expanded dbname.
        #expect(parameters["dbname"] == "postgresql://localhost/app")
    }

    /// Through PgBouncer in transaction mode no `options` go out (PgBouncer 1.18 refuses
    /// them); the rest is the same.
    @Test func transactionPoolModeSendsNoOptions() throws {
        let config = try PostgresConfiguration(url: "postgresql://localhost:6432/app", poolMode: .transaction)
        let keywords = config.connectionParameters.map(\.keyword)
        #expect(!keywords.contains("options"))
        #expect(keywords.contains("client_encoding"))
        #expect(keywords.contains("application_name"))
        #expect(try PostgresConfiguration(url: "postgresql://localhost/app").poolMode == .session)
    }

    @Test func transactionPoolModeConnectsAndDecodes() throws {
        var config = try PostgresConfiguration(url: TestDatabase.url(), poolMode: .transaction)
        config.statementTimeout = .seconds(1)
        let conn = try PostgresConnection.connect(config)
        defer { conn.close() }
        let row = try conn.query("SELECT now(), 1.5::float8, current_setting('statement_timeout')").first!
        #expect(abs(try row.decode(0, as: Date.self).timeIntervalSinceNow) < 60)
        #expect(try row.decode(1, as: Double.self) == 1.5)
        #expect(try row.decode(2, as: String.self) != "1s", "the timeout is the server's in transaction mode")
    }

    @Test func malformedURLIsRefusedWithLibpqsReason() throws {
        let error = expectPostgresError { _ = try PostgresConfiguration(url: "host=localhost port") }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("not a valid PostgreSQL connection string") == true)
        #expect(error?.message.contains("port") == true)

        let badURI = expectPostgresError { _ = try PostgresConfiguration(url: "postgresql://localhost/app?nosuchparameter=1") }
        #expect(badURI?.kind == .invalidConfiguration)
        #expect(badURI?.message.contains("nosuchparameter") == true)
    }

    @Test func emptyURLIsRefused() throws {
        let error = expectPostgresError { _ = try PostgresConfiguration(url: "  ") }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("DATABASE_URL") == true)
    }

    @Test func nulByteInURLIsRefused() throws {
        let error = expectPostgresError { _ = try PostgresConfiguration(url: "host=a\0b") }
        #expect(error?.kind == .invalidConfiguration)
    }

    @Test func nulByteInOtherSettingsIsRefusedAtConnect() throws {
        var config = try PostgresConfiguration(url: TestDatabase.url())
        config.applicationName = "bad\0name"
        let error = expectPostgresError { _ = try PostgresConnection.connect(config) }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("application_name") == true)
    }

    @Test func sessionSettingsAreInForceOnEveryConnection() throws {
        try TestDatabase.withConnection { conn throws in
            func show(_ setting: String) throws -> String {
                try conn.query("SELECT current_setting(\(setting))").first!.decode(0, as: String.self)
            }
            #expect(try show("TimeZone") == "UTC")
            #expect(try show("DateStyle") == "ISO, YMD")
            #expect(try show("statement_timeout") == "30s")
            #expect(try show("client_encoding") == "UTF8")
            #expect(try show("application_name") == "connector-receiver")
            #expect(try show("extra_float_digits") == "1")
        }
    }

    @Test func statementTimeoutIsConfigurableAndCanBeTurnedOff() throws {
        try TestDatabase.withConnection(configure: { $0.statementTimeout = .milliseconds(1500) }) { conn throws in
            #expect(try conn.query("SHOW statement_timeout").first!.decode(0, as: String.self) == "1500ms")
        }
        try TestDatabase.withConnection(configure: { $0.statementTimeout = nil; $0.applicationName = "other name" }) { conn throws in
            #expect(try conn.query("SHOW statement_timeout").first!.decode(0, as: String.self) == "0")
            #expect(try conn.query("SHOW application_name").first!.decode(0, as: String.self) == "other name")
        }
    }

    @Test func optionsInTheURLAreKept() throws {
        var config = try PostgresConfiguration(url: TestDatabase.url() + " options='-c search_path=custom_path'")
        config.database = "postgres"
        let conn = try PostgresConnection.connect(config)
        defer { conn.close() }
        #expect(try conn.query("SHOW search_path").first!.decode(0, as: String.self) == "custom_path")
        #expect(try conn.query("SHOW TimeZone").first!.decode(0, as: String.self) == "UTC")
    }

    @Test func unreachableServerIsAConnectionFailureWithoutThePassword() throws {
        let config = try PostgresConfiguration(url: "host=127.0.0.1 port=1 user=nobody password=hunter2 dbname=nothing")
        let started = ContinuousClock.now
        let error = expectPostgresError { _ = try PostgresConnection.connect(config) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("could not connect to PostgreSQL") == true)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(error?.description.contains("hunter2") == false)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func unknownDatabaseIsAConnectionFailureNamingIt() throws {
        var config = try TestDatabase.adminConfiguration()
        config.database = "no_such_database_here"
        let error = expectPostgresError { _ = try PostgresConnection.connect(config) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("no_such_database_here") == true)
    }
}
