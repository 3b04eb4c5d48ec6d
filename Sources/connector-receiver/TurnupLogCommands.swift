import ArgumentParser
import ReceiverCore
import ReceiverHTTP

struct TurnupAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show a client's audit trail: every admin change, oldest first.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let events = try TurnupSession.run(common) { session in
            try ClientStore.requireExists(clientId, on: session.connection)
            var all: [AuditEvent] = []
            while true {
                let page = try AuditLog.list(clientId: clientId, after: all.last?.id, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(events.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        TurnupPrint.table(
            ["TIME", "ACTOR", "ACTION", "CHANGES"],
            events.map { event in
                [TurnupPrint.time(event.occurredAt), event.actor, event.action,
                 String(decoding: JSONWriter.serialize(.object(event.changes)), as: UTF8.self)]
            })
    }
}

struct TurnupSyncErrors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-errors",
        abstract: "Show a client's open sync errors: /v1 writes that were rejected and not yet fixed.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let errors = try TurnupSession.run(common) { session in
            try ClientStore.requireExists(clientId, on: session.connection)
            var all: [SyncErrorRecord] = []
            while true {
                let page = try SyncErrorStore.listOpen(clientId: clientId, after: all.last?.id, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(errors.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        guard !errors.isEmpty else {
            print("\(clientId) has no open sync errors.")
            return
        }
        TurnupPrint.table(
            ["TIME", "LAST SEEN", "COUNT", "OPERATION", "EXTERNAL ID", "STATUS", "PROBLEM"],
            errors.map { error in
                [TurnupPrint.time(error.occurredAt), TurnupPrint.time(error.lastSeenAt), String(error.count), error.operation, error.externalId ?? "-",
                 error.problem["status"].map { String(decoding: JSONWriter.serialize($0), as: UTF8.self) } ?? "-",
                 error.problem["detail"]?.stringValue ?? ""]
            })
    }
}
