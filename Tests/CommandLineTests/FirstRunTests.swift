import Foundation
import OutboundHTTP
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's first commands as a new user runs them: `make run` from a clone
/// inside a home directory no one else may enter (mode 700, as /root is), as root
/// and as an unprivileged user, then `turnup add` beside it.
///
/// `make run` would first build a release, which takes minutes: these tests run the
/// Makefile's `run` target with `make -o release` (the release counts as built) in
/// a copy of the tree whose `.build/release/connector-receiver` is the executable
/// under test.
@Suite(.serialized) struct FirstRunTests {
    @Test(.enabled(if: geteuid() == 0, "as root"))
    func makeRunAsRootFromAPrivateHomeServesAndFindsItsDataAgain() throws {
        let home = try PrivateHome(owner: nil)
        defer { home.remove() }

        let first = try MakeRun(home: home)
        defer { first.stop() }
        try first.waitUntilListening()
        #expect(try first.get("/readyz").status == 200, "\(first.output)")

        // The cluster runs as postgres, which cannot enter the home: its files are
        // elsewhere, linked from the data directory, and the log said where, once.
        let link = home.clone + "/.data/pgdata"
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        #expect(target.hasPrefix("/var/lib/connector-receiver/clusters/clone-data-"), "\(target)")
        #expect(first.output.contains("cannot reach \(home.clone)/.data"))
        #expect(first.output.contains("the cluster's files go to \(target), linked from \(link)"))
        try first.expectNextSteps()

        // turnup beside it: the sheet has the port the server listens on.
        let added = try home.run(["turnup", "add", "acme", "--name", "Acme Fitness", "--club", "club-001=Downtown"])
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.contains("Base URL:   http://127.0.0.1:\(first.port)\n"), "\(added.output)")

        first.stop()
        try first.expectCleanStop()

        // The second `make run` finds the same cluster, and the client in it.
        let second = try MakeRun(home: home)
        defer { second.stop() }
        try second.waitUntilListening()
        #expect(try second.get("/readyz").status == 200, "\(second.output)")
        #expect(!second.output.contains("initializing"), "\(second.output)")
        #expect(!second.output.contains("cannot reach"), "the place is said once, when it is chosen")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        let listed = try home.run(["turnup", "list"])
        #expect(listed.output.contains("acme"), "\(listed.output)")
        second.stop()
        try second.expectCleanStop()
    }

    /// As `nobody` when the tests run as root, else as the user running them.
    @Test func makeRunAsAnUnprivilegedUserFromAPrivateHomeServes() throws {
        let user = geteuid() == 0 ? UnixUser(named: "nobody") : nil
        if geteuid() == 0 { try #require(user != nil, "the system has no user nobody") }
        let home = try PrivateHome(owner: user)
        defer { home.remove() }

        let server = try MakeRun(home: home, asUser: user?.name)
        defer { server.stop() }
        try server.waitUntilListening()
        #expect(try server.get("/readyz").status == 200, "\(server.output)")
        // The cluster runs as the user, inside the data directory.
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: home.clone + "/.data/pgdata", isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: home.clone + "/.data/pgdata")) == nil)
        if let user {
            let attributes = try FileManager.default.attributesOfItem(atPath: home.clone + "/.data/pgdata")
            #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == user.uid)
        }
        try server.expectNextSteps()

        // The README's quick start, its lines run one after the other in one shell as
        // that user, on this server's port.
        let readme = try String(contentsOfFile: Executable.repositoryRoot + "/README.md", encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "A first round trip").dropFirst().first?
            .components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let script = block.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(server.port)")
        #expect(script.contains("turnup add") && script.contains("curl"), "\(block)")
        let outputPath = home.path + "-quickstart.log"
        defer { unlink(outputPath) }
        var shell = ["/usr/bin/env", "--chdir=\(home.clone)", "-u", "DATABASE_URL", "-u", "RECEIVER_PUBLIC_URL", "/bin/bash", "-c", script]
        if let user { shell = ["/usr/sbin/runuser", "-u", user.name, "--"] + shell }
        let status = try spawnAndWait(shell, outputPath: outputPath)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        #expect(output.contains("Base URL:   http://127.0.0.1:\(server.port)\n"), "\(output)")
        let saved = output.components(separatedBy: "\"externalId\":\"crm-1\"").count - 1
        #expect(saved == 2, "the saved prospect, then the list holding it: \(output)")
        #expect(output.contains("\"items\":[{"), "\(output)")
        #expect(!output.contains("\"status\":4") && !output.contains("\"status\":5"), "no problem answered: \(output)")

        server.stop()
        try server.expectCleanStop()
    }
}

/// `turnup add` beside a `serve` on the embedded default learns the server's public URL.
@Suite(.serialized) struct TurnupBesideServeTests {
    @Test func turnupAddBesideServeOnAnotherPortPrintsThatPort() throws {
        let dataDirectory = "/tmp/cr-beside-" + UUID().uuidString.prefix(8).lowercased()
        defer { FaultTests.removeEmbeddedCluster(dataDirectory) }
        let noPublicURL = ["DATABASE_URL": "", "RECEIVER_PUBLIC_URL": ""]
        func add(_ clientId: String, _ environment: [String: String] = [:]) throws -> String {
            let result = try Executable.run(
                ["turnup", "add", clientId, "--name", "Acme", "--club", "club-001=Downtown", "--data-dir", dataDirectory],
                environment: noPublicURL.merging(environment) { $1 })
            #expect(result.status == 0, "\(result.output)")
            return result.output
        }

        let server = try ReceiverProcess(arguments: ["--data-dir", dataDirectory], environment: noPublicURL)
        try server.waitUntilListening()
        #expect(server.port != 8080)
        #expect(try String(contentsOfFile: dataDirectory + "/serve.url", encoding: .utf8).hasPrefix("http://127.0.0.1:\(server.port)\n"))
        let beside = try add("acme")
        #expect(beside.contains("Base URL:   http://127.0.0.1:\(server.port)\n"), "\(beside)")
        #expect(!beside.contains("not known"))
        // RECEIVER_PUBLIC_URL in the command's environment wins.
        let overridden = try add("acme-2", ["RECEIVER_PUBLIC_URL": "https://receiver.example.com"])
        #expect(overridden.contains("Base URL:   https://receiver.example.com\n"), "\(overridden)")
        server.signal(SIGTERM)
        #expect(try server.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/serve.url"), "serve removes it when it stops")

        // No server: the sheet says the URL is not known rather than guessing.
        let alone = try add("acme-3")
        #expect(alone.contains("Base URL:   not known (see below)"), "\(alone)")
        #expect(alone.contains("no `serve` is running on the data directory \(dataDirectory)"))
        #expect(alone.contains("turnup update acme-3 --connection"))
        #expect(!alone.contains("Base URL:   http"))

        // A serve with --public-url: that is the sheet's URL. Killed, its file is left
        // behind and no longer believed.
        let publicServer = try ReceiverProcess(arguments: ["--data-dir", dataDirectory, "--public-url", "https://public.example.net"], environment: noPublicURL)
        try publicServer.waitUntilListening()
        let besidePublic = try add("acme-4")
        #expect(besidePublic.contains("Base URL:   https://public.example.net\n"), "\(besidePublic)")
        publicServer.signal(SIGKILL)
        try publicServer.waitUntilGone()
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/serve.url"))
        let afterKill = try add("acme-5")
        #expect(afterKill.contains("Base URL:   not known (see below)"), "\(afterKill)")

        // On a DATABASE_URL, the command cannot know the server's address either.
        try TurnupDatabase.with { database in
            let json = try Executable.run(
                ["turnup", "add", "acme", "--name", "Acme", "--club", "club-001=Downtown", "--json"],
                environment: ["DATABASE_URL": database.url, "RECEIVER_PUBLIC_URL": ""])
            #expect(json.status == 0, "\(json.output)")
            #expect(json.output.contains("The base URL is not known: on a DATABASE_URL"), "said on standard error with --json: \(json.output)")
        }
    }
}

/// A directory of mode 700 under /tmp, owned by `owner` (root when nil), holding a
/// copy of the tree as `make run` needs it: the Makefile, migrations, openapi.yaml
/// and the executable at `.build/release/connector-receiver`.
struct PrivateHome {
    let path: String
    var clone: String { path + "/clone" }
    let owner: UnixUser?

    init(owner: UnixUser?) throws {
        let path = "/tmp/cr-home-" + UUID().uuidString.prefix(8).lowercased()
        let clone = path + "/clone"
        self.path = path
        let files = FileManager.default
        try files.createDirectory(atPath: path + "/clone/.build/release", withIntermediateDirectories: true)
        // cp, not FileManager.copyItem, which also copies the owner (refused to a user).
        let sources = ["Makefile", "migrations", "openapi.yaml"].map { Executable.repositoryRoot + "/" + $0 }
        for (from, to) in [(sources, clone), ([try Executable.path], clone + "/.build/release")] {
            let status = try spawnAndWait(["/bin/cp", "-R"] + from + [to], outputPath: "/dev/null")
            guard status == 0 else { throw TestSetupError(description: "cp \(from) \(to) failed (\(status))") }
        }
        self.owner = owner
        if let owner {
            _ = try spawnAndWait(["/bin/chown", "-R", "\(owner.uid):\(owner.gid)", path], outputPath: "/dev/null")
        }
        chmod(path, 0o700)
    }

    /// Runs the copied executable in the clone, as make run's user would from another shell.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: clone + "/.build/release/connector-receiver")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment["RECEIVER_PUBLIC_URL"] = nil
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: clone)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Deletes the home and the cluster its data directory links to, if any.
    func remove() {
        let link = clone + "/.data/pgdata"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
            FaultTests.removeEmbeddedCluster(clone + "/.data")
            try? FileManager.default.removeItem(atPath: (target as NSString).deletingLastPathComponent)
        } else {
            FaultTests.removeEmbeddedCluster(clone + "/.data")
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// `make -o release run ARGS="--port <free port>"` in a `PrivateHome`'s clone, in a
/// process group of its own (make, the shell it may start, the server), its output
/// in a file.
final class MakeRun {
    let port: Int
    let logPath: String
    private let pid: pid_t
    private(set) var exitStatus: Int32?

    init(home: PrivateHome, asUser user: String? = nil) throws {
        port = try freePort()
        logPath = "/tmp/cr-make-run-\(UUID().uuidString.prefix(8)).log"
        let output = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw TestSetupError(description: "cannot open \(logPath)") }
        defer { close(output) }
        var command = ["/usr/bin/env", "--chdir=\(home.clone)", "-u", "DATABASE_URL", "-u", "RECEIVER_PUBLIC_URL", "-u", "RECEIVER_DATA_DIR", "-u", "MAKEFLAGS",
                       "make", "-o", "release", "run", "ARGS=--port \(port)"]
        if let user {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/runuser"
            command = [runuser, "-u", user, "--"] + command
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var pid: pid_t = 0
        let cArguments = command.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, cArguments, environ)
        guard spawned == 0 else { throw TestSetupError(description: "cannot run \(command[0]): errno \(spawned)") }
        self.pid = pid
    }

    deinit {
        stop()
        unlink(logPath)
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitUntilListening(timeout: Duration = .seconds(120)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains("listening on http://127.0.0.1:\(port)") { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                throw TestSetupError(description: "make run exited with status \(exitStatus!):\n\(output)")
            }
            usleep(100_000)
        }
        throw TestSetupError(description: "make run did not start listening on port \(port) in time:\n\(output)")
    }

    func get(_ path: String) throws -> OutboundResponse {
        try OutboundHTTPClient.shared.send(OutboundRequest(url: "http://127.0.0.1:\(port)\(path)", totalTimeout: .seconds(10)))
    }

    /// The three lines after the start: the admin token, the turn-up command, the API description.
    func expectNextSteps(sourceLocation: SourceLocation = #_sourceLocation) throws {
        // They follow the "listening" line: give a loaded machine a moment.
        let deadline = ContinuousClock.now + .seconds(10)
        while !output.contains("API description:"), ContinuousClock.now < deadline { usleep(50_000) }
        let lines = output.split(separator: "\n").map(String.init)
        let admin = try #require(lines.firstIndex { $0.hasPrefix("Admin API: ") }, "\(output)", sourceLocation: sourceLocation)
        #expect(lines[admin].contains("RECEIVER_ADMIN_TOKEN"), sourceLocation: sourceLocation)
        #expect(lines.count > admin + 2, sourceLocation: sourceLocation)
        guard lines.count > admin + 2 else { return }
        #expect(lines[admin + 1].contains(".build/release/connector-receiver turnup add acme"), "\(lines[admin + 1])", sourceLocation: sourceLocation)
        #expect(lines[admin + 2].contains("http://127.0.0.1:\(port)/openapi.yaml"), "\(lines[admin + 2])", sourceLocation: sourceLocation)
        #expect(try get("/openapi.yaml").status == 200, sourceLocation: sourceLocation)
    }

    /// What Ctrl-C does in the terminal: SIGINT to the whole group (make passes
    /// SIGTERM on to the server, but not SIGINT, which the server gets from the
    /// terminal). Waits for make, which waits for the server, and for the group.
    func stop() {
        guard exitStatus == nil else { return }
        kill(-pid, SIGINT)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let deadline = ContinuousClock.now + .seconds(60)
        while kill(-pid, 0) == 0, ContinuousClock.now < deadline { usleep(50_000) }
    }

    /// The server finished its shutdown (make reports the interrupt and exits non-zero).
    func expectCleanStop(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(output.contains("stopped serving"), "\(output)", sourceLocation: sourceLocation)
        #expect(output.contains("embedded PostgreSQL stopped"), "\(output)", sourceLocation: sourceLocation)
    }
}

/// A user's name and ids, copied out of getpwnam's static buffer.
struct UnixUser {
    let name: String
    let uid: uid_t
    let gid: gid_t

    init?(named name: String) {
        guard let entry = getpwnam(name) else { return nil }
        self.name = name
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
    }
}
