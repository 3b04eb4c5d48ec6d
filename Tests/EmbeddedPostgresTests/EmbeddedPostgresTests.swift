import Foundation
import Logging
import Postgres
import TestSupport
import Testing
@testable import EmbeddedPostgres

#if canImport(Glibc)
import Glibc
#endif

/// Each test runs a real cluster in a directory of its own under /tmp (short
/// enough for the Unix socket path, and reachable by the `postgres` user when
/// the tests run as root). Serialized: every cluster costs a second of initdb.
@Suite(.serialized) struct EmbeddedPostgresTests {
    static let logger: Logger = {
        var logger = Logger(label: "embedded-tests")
        logger.logLevel = .critical
        return logger
    }()

    private func withDataDirectory(_ body: (String) throws -> Void) throws {
        try withEmbeddedDataDirectory(prefix: "cr-embedded", body)
    }

    private func query<T: PostgresDecodable>(_ url: String, _ sql: PostgresQuery, as type: T.Type) throws -> T {
        let connection = try PostgresConnection.connect(try PostgresConfiguration(url: url), logger: Self.logger)
        defer { connection.close() }
        return try #require(try connection.query(sql).first).decode(0, as: T.self)
    }

    private func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 && (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z") != true
    }

    @Test func initializesStartsAndStopsADurableClusterOnAUnixSocketOnly() throws {
        try withDataDirectory { path in
            let cluster = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let url = try cluster.start()
            let pid = try #require(cluster.serverPID)

            #expect(try query(url, "SELECT current_database()", as: String.self) == "receiver")
            #expect(try query(url, "SELECT current_setting('fsync')", as: String.self) == "on")
            #expect(try query(url, "SELECT current_setting('synchronous_commit')", as: String.self) == "on")
            #expect(try query(url, "SELECT current_setting('listen_addresses')", as: String.self) == "")
            #expect(FileManager.default.fileExists(atPath: path + "/pgdata/.s.PGSQL.5432"))
            if geteuid() == 0 {
                // PostgreSQL refuses root: the cluster runs as the postgres system user.
                let owner = try FileManager.default.attributesOfItem(atPath: path + "/pgdata")[.ownerAccountName] as? String
                #expect(owner == "postgres")
            }
            // postgres can reach /tmp/…: the cluster stays in the data directory.
            #expect(!cluster.isRelocated)
            #expect(cluster.clusterDirectory == path + "/pgdata")

            cluster.stop()
            #expect(!isRunning(pid))
            #expect(cluster.serverPID == nil)
            cluster.stop()  // idempotent
        }
    }

    @Test func restartingKeepsTheData() throws {
        try withDataDirectory { path in
            let first = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let url = try first.start()
            let connection = try PostgresConnection.connect(try PostgresConfiguration(url: url), logger: Self.logger)
            try connection.execute("CREATE TABLE kept (value text)")
            try connection.execute("INSERT INTO kept VALUES (\("Zoë 中文"))")
            connection.close()
            first.stop()

            let second = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let secondURL = try second.start()
            defer { second.stop() }
            #expect(try query(secondURL, "SELECT value FROM kept", as: String.self) == "Zoë 中文")
        }
    }

    @Test func stopsAClusterLeftRunningByAKilledRun() throws {
        try withDataDirectory { path in
            let crashed = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            try crashed.start()
            let orphan = try #require(crashed.serverPID)
            // What SIGKILL of the program leaves behind: the postmaster runs on and
            // the data directory lock is released.
            crashed.releaseLockWithoutStopping()

            let next = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let url = try next.start()
            defer { next.stop() }
            #expect(next.serverPID != orphan)
            #expect(!isRunning(orphan))
            #expect(try query(url, "SELECT 1", as: Int.self) == 1)
        }
    }

    @Test func removesAStalePidFile() throws {
        try withDataDirectory { path in
            let cluster = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            try cluster.start()
            cluster.stop()
            // A pid file whose process is long gone (pid_max is at most 2^22).
            try "4194300\n\(path)/pgdata\n".write(toFile: path + "/pgdata/postmaster.pid", atomically: true, encoding: .utf8)
            if geteuid() == 0 { chown(path + "/pgdata/postmaster.pid", ClusterUser.forTest.uid, ClusterUser.forTest.gid) }

            let url = try cluster.start()
            defer { cluster.stop() }
            #expect(try query(url, "SELECT 1", as: Int.self) == 1)
        }
    }

    @Test func refusesASecondOwnerButLetsShortCommandsAttach() throws {
        try withDataDirectory { path in
            let owner = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            try owner.start()
            defer { owner.stop() }

            let second = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            #expect {
                try second.start()
            } throws: { error in
                guard let error = error as? EmbeddedPostgresError, case .dataDirectoryInUse = error else { return false }
                return error.description.contains("in use by another connector-receiver process (pid \(getpid()))")
            }

            let attached = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let url = try attached.start(attachToRunning: true)
            #expect(try query(url, "SELECT 1", as: Int.self) == 1)
            attached.stop()  // an attachment never stops the owner's cluster
            #expect(try query(url, "SELECT 2", as: Int.self) == 2)
        }
    }

    @Test func recoversFromAnInterruptedInitialization() throws {
        try withDataDirectory { path in
            try FileManager.default.createDirectory(atPath: path + "/pgdata.initializing/base", withIntermediateDirectories: true)
            let cluster = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
            let url = try cluster.start()
            defer { cluster.stop() }
            #expect(try query(url, "SELECT 1", as: Int.self) == 1)
            #expect(!FileManager.default.fileExists(atPath: path + "/pgdata.initializing"))
        }
    }

    /// As root, under a home no other user may search (mode 700, as /root is), the
    /// cluster goes where the postgres user can reach it, and the data directory
    /// links to it: found again by the next start, and again when the link is lost.
    @Test(.enabled(if: geteuid() == 0, "only root's cluster runs as another user"))
    func placesTheClusterWhereThePostgresUserCanReachItUnderAPrivateHome() throws {
        let scratch = "/tmp/cr-embedded-home-" + UUID().uuidString.prefix(8).lowercased()
        let home = scratch + "/home"
        let relocationRoot = scratch + "/var/clusters"
        try FileManager.default.createDirectory(atPath: home + "/clone", withIntermediateDirectories: true)
        chmod(scratch, 0o755)
        chmod(home, 0o700)
        defer {
            for directory in [relocationRoot] {
                let clusters = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                for cluster in clusters {
                    if let pid = try? String(contentsOfFile: "\(directory)/\(cluster)/pgdata/postmaster.pid", encoding: .utf8)
                        .split(separator: "\n").first.flatMap({ pid_t($0) }) {
                        kill(pid, SIGQUIT)
                        usleep(200_000)
                    }
                }
            }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let dataDirectory = home + "/clone/.data"

        let first = EmbeddedPostgres(dataDirectory: dataDirectory, relocationRoot: relocationRoot, logger: Self.logger)
        let url = try first.start()
        let target = first.relocationHome + "/pgdata"
        #expect(first.isRelocated)
        #expect(first.clusterDirectory == target)
        #expect(target.hasPrefix(relocationRoot + "/clone-data-"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dataDirectory + "/pgdata") == target)
        #expect(try String(contentsOfFile: first.relocationHome + "/data-dir", encoding: .utf8) == dataDirectory + "\n")
        #expect(FileManager.default.fileExists(atPath: target + "/.s.PGSQL.5432"))
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.ownerAccountName] as? String == "postgres")
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o700)
        // The lock and the log stay in the data directory.
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/receiver.lock"))
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/postgres.log"))
        let connection = try PostgresConnection.connect(try PostgresConfiguration(url: url), logger: Self.logger)
        try connection.execute("CREATE TABLE kept (value text)")
        try connection.execute("INSERT INTO kept VALUES ('first run')")
        connection.close()
        first.stop()

        // The next start follows the link.
        let second = EmbeddedPostgres(dataDirectory: dataDirectory, relocationRoot: relocationRoot, logger: Self.logger)
        let secondURL = try second.start()
        #expect(second.clusterDirectory == target)
        #expect(try query(secondURL, "SELECT value FROM kept", as: String.self) == "first run")
        second.stop()

        // A lost link (the data directory deleted and made again) finds the same cluster.
        try FileManager.default.removeItem(atPath: dataDirectory)
        let third = EmbeddedPostgres(dataDirectory: dataDirectory, relocationRoot: relocationRoot, logger: Self.logger)
        let thirdURL = try third.start()
        defer { third.stop() }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dataDirectory + "/pgdata") == target)
        #expect(try query(thirdURL, "SELECT value FROM kept", as: String.self) == "first run")
    }

    @Test(.enabled(if: geteuid() == 0, "only root's cluster runs as another user"))
    func refusesAPlaceHoldingAnotherDataDirectorysCluster() throws {
        let scratch = "/tmp/cr-embedded-home-" + UUID().uuidString.prefix(8).lowercased()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: scratch + "/home", withIntermediateDirectories: true)
        chmod(scratch + "/home", 0o700)
        let cluster = EmbeddedPostgres(dataDirectory: scratch + "/home/.data", relocationRoot: scratch + "/clusters", logger: Self.logger)
        try FileManager.default.createDirectory(atPath: cluster.relocationHome, withIntermediateDirectories: true)
        try "/somewhere/else/.data\n".write(toFile: cluster.relocationHome + "/data-dir", atomically: true, encoding: .utf8)
        #expect {
            try cluster.start()
        } throws: { error in
            "\(error)".contains("holds the cluster of /somewhere/else/.data") && "\(error)".contains("Use another --data-dir")
        }
        #expect(cluster.serverPID == nil)
    }

    @Test func relocationPathsAreShortStableAndDistinct() {
        let long = "/root/" + String(repeating: "a-very-long-directory-name/", count: 8) + ".data"
        let cluster = EmbeddedPostgres(dataDirectory: long, logger: Self.logger)
        #expect(cluster.relocationHome.hasPrefix(EmbeddedPostgres.defaultRelocationRoot + "/"))
        #expect((cluster.relocationHome + "/pgdata/.s.PGSQL.5432").utf8.count <= EmbeddedPostgres.socketPathLimit)
        #expect(cluster.relocationHome == EmbeddedPostgres(dataDirectory: long, logger: Self.logger).relocationHome)
        let other = EmbeddedPostgres(dataDirectory: "/root/clone/.data", logger: Self.logger)
        let sibling = EmbeddedPostgres(dataDirectory: "/root/clone2/../clone/.data2", logger: Self.logger)
        #expect(other.relocationHome != sibling.relocationHome)
        #expect(other.relocationHome.hasPrefix(EmbeddedPostgres.defaultRelocationRoot + "/clone-data-"))
    }

    @Test func reportsMissingBinariesWithTheInstallCommand() {
        #expect {
            try PostgresBinaries.locate(in: ["/nonexistent/bin"])
        } throws: { error in
            "\(error)".contains("apt-get install -y postgresql")
        }
    }

    @Test func refusesADataDirectoryTooLongForTheSocket() {
        let path = "/tmp/" + String(repeating: "d", count: 100)
        let cluster = EmbeddedPostgres(dataDirectory: path, logger: Self.logger)
        #expect {
            try cluster.start()
        } throws: { error in
            "\(error)".contains("too long for PostgreSQL's Unix socket")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func resolvesRelativeDataDirectories() {
        let cluster = EmbeddedPostgres(dataDirectory: "./x/../.data/", logger: Self.logger)
        #expect(cluster.dataDirectory == FileManager.default.currentDirectoryPath + "/.data")
        #expect(EmbeddedPostgres.quoted("/a b/c'd\\e") == #"'/a b/c\'d\\e'"#)
    }
}

extension ClusterUser {
    static var forTest: ClusterUser { (try? ClusterUser.forCurrentProcess()) ?? nil ?? ClusterUser(name: "self", uid: getuid(), gid: getgid()) }
}
