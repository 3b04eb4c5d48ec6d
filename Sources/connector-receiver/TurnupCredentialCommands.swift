import ArgumentParser
import Foundation
import ReceiverCore
import ReceiverHTTP

struct TurnupRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Issue new credentials for a client; the old password stops working at once.",
        discussion: "Prints the new username and password, shown this once only. Give them to the Connector's team right away: until the Connector uses them, its calls are answered 401.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let credential = try TurnupSession.run(common) { session in
            try ClientStore.rotateCredential(clientId: clientId, by: session.audit, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(credential.json)
            return
        }
        print("New credentials for \(clientId); the previous password no longer works.")
        print("")
        print("Username:   \(credential.username)")
        print("Password:   \(credential.password)")
        print("")
        print("The password is shown only this once. Send it to the Connector's team over a secure channel.")
    }
}

struct TurnupVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Call the client's connection the way the Connector does, and report each step.",
        discussion: """
            Steps: healthz (GET /healthz answered 200), unauthenticated (GET /v1/lead-sources \
            without credentials answered 401) and, with the client's password, authenticated (the \
            same call with its username and password answered 200). The password is read from a \
            file or standard input, never from the command line (where `ps` would show it). Exits \
            1 when a step fails. A verification takes at most about 10 seconds.

            Example:
              connector-receiver turnup verify acme --password-file /run/secrets/acme
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Option(help: ArgumentHelp("A file holding the client's password (a trailing line break is ignored).", valueName: "path"))
    var passwordFile: String?

    @Flag(help: "Read the client's password from standard input.")
    var passwordStdin = false

    @OptionGroup var common: TurnupOptions

    func validate() throws {
        if passwordFile != nil && passwordStdin {
            throw ValidationError("Give the password with --password-file or --password-stdin, not both.")
        }
    }

    func run() throws {
        let password = try readPassword()
        let client = try TurnupSession.run(common) { session in
            try ClientStore.require(clientId, on: session.connection)
        }
        let steps = ConnectionVerifier().verify(client.connection, username: client.username ?? "", password: password)
        if common.json {
            TurnupPrint.json(["steps": .array(steps.map { .object($0.json) })])
        } else {
            print("Verifying \(clientId) at \(client.connection.baseURL)")
            TurnupPrint.table(
                ["STEP", "RESULT", "STATUS", "TIME", "DETAIL"],
                steps.map { step in
                    [step.name, step.ok ? "ok" : "FAILED", step.status.map(String.init) ?? "-",
                     String(format: "%.1f ms", step.latencyMs), step.detail]
                })
            if password == nil {
                print("(No password given: the authenticated step was skipped. Add --password-file or --password-stdin.)")
            }
        }
        if steps.contains(where: { !$0.ok }) { throw ExitCode.failure }
    }

    private func readPassword() throws -> String? {
        var text: String
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw TurnupError("--password-file \(passwordFile): cannot read the file.")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if passwordStdin {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            return nil
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw TurnupError("The password given is empty.") }
        return text
    }
}
