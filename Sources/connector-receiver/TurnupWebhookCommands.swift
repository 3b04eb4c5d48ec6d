import ArgumentParser
import Foundation
import ReceiverCore
import ReceiverHTTP

struct TurnupWebhook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Manage a client's webhook endpoints: add, list, show, update, delete, rotate the secret; the delivery log, resend, recover.",
        discussion: """
            A webhook endpoint is a URL of a club system to which the receiver POSTs each of the \
            client's events (the change feed's), signed as Standard Webhooks 1.0: the headers \
            webhook-id, webhook-timestamp and webhook-signature (HMAC-SHA256 with the endpoint's \
            secret, whsec_…). The secret is printed once, by `add` and by `rotate-secret`; after \
            a rotation the old secret keeps signing beside the new one for 24 hours. Failed \
            deliveries are retried for more than 3 days; an endpoint that answers 410, or whose \
            every attempt fails for 5 days, is disabled and keeps its undelivered events until \
            it is enabled again (`update --enable`).

            URLs at loopback, private or link-local addresses are refused unless \
            --webhook-allow-private-addresses is given (or RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=on), \
            as for `serve`, which must then allow them too to deliver there.

            Example:
              connector-receiver turnup webhook add acme --url https://crm.example.com/hooks/receiver \\
                  --event-type prospect.created --event-type member.created --club club-001
              connector-receiver turnup webhook list acme
              connector-receiver turnup webhook deliveries acme <id> --status failed
              connector-receiver turnup webhook recover acme <id> --since 2026-12-06T08:00:00Z
            """,
        subcommands: [
            TurnupWebhookAdd.self, TurnupWebhookList.self, TurnupWebhookShow.self, TurnupWebhookUpdate.self,
            TurnupWebhookDelete.self, TurnupWebhookRotateSecret.self, TurnupWebhookDeliveries.self,
            TurnupWebhookResend.self, TurnupWebhookRecover.self,
        ])
}

/// The client and endpoint every command but `add` and `list` names.
struct TurnupWebhookTarget: ParsableArguments {
    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Argument(help: ArgumentHelp("The endpoint's ID, as `turnup webhook list` shows it.", valueName: "id"))
    var id: String
}

/// `--webhook-allow-private-addresses`, as `serve` spells it.
struct TurnupWebhookAddressOption: ParsableArguments {
    @Flag(help: ArgumentHelp(
        "Accept a URL at a loopback, private or link-local address (as `serve --webhook-allow-private-addresses`, which must be set for deliveries there to be made). (env: RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=on)"))
    var webhookAllowPrivateAddresses = false

    /// The flag, else the environment, read by `serve`'s own rule.
    func allowed() throws -> Bool {
        try WebhookOptions.parse(webhookAllowPrivateAddresses ? ["--webhook-allow-private-addresses"] : []).allowsPrivateAddresses()
    }
}

struct TurnupWebhookAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a webhook endpoint to a client; print it with its signing secret (shown once).",
        discussion: """
            Without --event-type every event type is sent; without --club the events of every club, \
            and those of no club (lead sources, staff). The new endpoint gets every event committed \
            from now on (and those of transactions still running). Event types: \
            \(ChangeFeed.types.joined(separator: ", ")).

            Example:
              connector-receiver turnup webhook add acme --url https://crm.example.com/hooks/receiver \\
                  --description "Club CRM" --event-type prospect.created --club club-001 --rate-limit 20
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Option(help: ArgumentHelp("Where the events are POSTed: an http:// or https:// URL.", valueName: "url"))
    var url: String

    @Option(help: ArgumentHelp("What the endpoint is, for people (at most \(WebhookEndpointInput.maximumDescriptionLength) characters).", valueName: "text"))
    var description: String?

    @Option(name: .customLong("event-type"), help: ArgumentHelp("Send only events of this type. Repeatable.", valueName: "type"))
    var eventTypes: [String] = []

    @Option(name: .customLong("club"), help: ArgumentHelp("Send only events of this club. Repeatable.", valueName: "club-id"))
    var clubIds: [String] = []

    @Option(help: ArgumentHelp("At most this many deliveries a second (default: no limit).", valueName: "n"))
    var rateLimit: Int?

    @Flag(help: "Add it disabled: its events wait until `update --enable`.")
    var disabled = false

    @Option(help: ArgumentHelp(
        "Sign with this secret (whsec_ + base64 of 24 to 64 bytes), e.g. when moving the endpoint from another provider; by default a new one is made.",
        valueName: "whsec_…"))
    var secret: String?

    @OptionGroup var address: TurnupWebhookAddressOption
    @OptionGroup var common: TurnupOptions

    func run() throws {
        var body: JSONObject = ["url": .string(url)]
        if let description { body["description"] = .string(description) }
        if !eventTypes.isEmpty { body["eventTypes"] = .array(eventTypes.map(JSONValue.string)) }
        if !clubIds.isEmpty { body["clubIds"] = .array(clubIds.map(JSONValue.string)) }
        if let rateLimit { body["rateLimit"] = .number(Double(rateLimit)) }
        if disabled { body["enabled"] = .bool(false) }
        if let secret { body["secret"] = .string(secret) }
        let allowPrivate = try address.allowed()
        let created = try TurnupSession.run(common, hint: TurnupWebhookText.hint(clientId)) { session in
            let input = try WebhookEndpointInput.parse(body).validated()
            return try WebhookEndpointStore.create(
                clientId: clientId, input, allowPrivateAddresses: allowPrivate, by: session.audit, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(created.json)
            return
        }
        print("Added webhook endpoint \(created.endpoint.id.lowercasedString) to client \(clientId).")
        print("")
        TurnupWebhookText.printEndpoint(created.endpoint)
        print("")
        print("Secret:        \(created.secret.encoded)")
        print("")
        print("The secret is shown only this once; it will not be shown again. Give it to the team of the")
        print("receiving system over a secure channel: they verify each delivery's webhook-signature with it")
        print("(Standard Webhooks 1.0). If it is lost or leaks, make a new one (the old one keeps signing for 24 hours):")
        print("  connector-receiver turnup webhook rotate-secret \(clientId) \(created.endpoint.id.lowercasedString)")
    }
}

struct TurnupWebhookList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a client's webhook endpoints with their state (never a secret).",
        discussion: """
            STATE is on, or off with why: admin (turned off), gone (it answered 410), failing \
            (every attempt failed for the auto-disable period). FAILING SINCE is when the \
            endpoint's attempts started failing, "-" while they succeed.
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let endpoints = try TurnupSession.run(common, hint: TurnupWebhookText.hint(clientId)) { session in
            try ClientStore.requireExists(clientId, on: session.connection)
            var all: [WebhookEndpoint] = []
            while true {
                let page = try WebhookEndpointStore.list(clientId: clientId, after: all.last?.id, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(endpoints.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        guard !endpoints.isEmpty else {
            print("\(clientId) has no webhook endpoints. Add one with: connector-receiver turnup webhook add \(clientId) --url <https://…>")
            return
        }
        TurnupPrint.table(
            ["ID", "STATE", "LAST SUCCESS", "FAILING SINCE", "URL"],
            endpoints.map { endpoint in
                [endpoint.id.lowercasedString, TurnupWebhookText.state(endpoint),
                 endpoint.lastSuccessAt.map(TurnupPrint.time) ?? "never", endpoint.failingSince.map(TurnupPrint.time) ?? "-",
                 endpoint.url]
            })
    }
}

struct TurnupWebhookShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one webhook endpoint: URL, filters, state, last success, failing since (never the secret).")

    @OptionGroup var target: TurnupWebhookTarget
    @OptionGroup var common: TurnupOptions

    func run() throws {
        let endpoint = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            try ClientStore.requireExists(target.clientId, on: session.connection)
            return try WebhookEndpointStore.require(id, clientId: target.clientId, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(endpoint.json)
            return
        }
        TurnupWebhookText.printEndpoint(endpoint)
    }
}

struct TurnupWebhookUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a webhook endpoint: URL, description, filters, rate limit; disable or enable it.",
        discussion: """
            Only what is given changes. --event-type and --club replace the lists (--all-event-types, \
            --all-clubs clear them: everything is sent). --disable stops deliveries; the endpoint's \
            events keep waiting. --enable resumes from its first undelivered event, also after it \
            was disabled by a 410 or for failing, with the retry schedule from the start.

            Example:
              connector-receiver turnup webhook update acme <id> --enable
              connector-receiver turnup webhook update acme <id> --event-type member.created --no-rate-limit
            """)

    @OptionGroup var target: TurnupWebhookTarget

    @Option(help: ArgumentHelp("A new URL (http:// or https://).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("A new description.", valueName: "text"))
    var description: String?

    @Flag(help: "Remove the description.")
    var clearDescription = false

    @Option(name: .customLong("event-type"), help: ArgumentHelp("Send only events of these types (replaces the list). Repeatable.", valueName: "type"))
    var eventTypes: [String] = []

    @Flag(help: "Send events of every type.")
    var allEventTypes = false

    @Option(name: .customLong("club"), help: ArgumentHelp("Send only events of these clubs (replaces the list). Repeatable.", valueName: "club-id"))
    var clubIds: [String] = []

    @Flag(help: "Send events of every club (and those of no club).")
    var allClubs = false

    @Option(help: ArgumentHelp("At most this many deliveries a second.", valueName: "n"))
    var rateLimit: Int?

    @Flag(help: "Remove the rate limit.")
    var noRateLimit = false

    @Flag(help: "Enable the endpoint: resume from its first undelivered event.")
    var enable = false

    @Flag(help: "Disable the endpoint: nothing is sent; its events wait.")
    var disable = false

    @OptionGroup var address: TurnupWebhookAddressOption
    @OptionGroup var common: TurnupOptions

    func validate() throws {
        for (a, b, names) in [(enable, disable, "--enable and --disable"), (clearDescription, description != nil, "--description and --clear-description"),
                              (allEventTypes, !eventTypes.isEmpty, "--event-type and --all-event-types"),
                              (allClubs, !clubIds.isEmpty, "--club and --all-clubs"), (noRateLimit, rateLimit != nil, "--rate-limit and --no-rate-limit")]
        where a && b {
            throw ValidationError("Give one of \(names), not both.")
        }
        if patch.isEmpty {
            throw ValidationError("Nothing to change: give --url, --description, --event-type, --club, --rate-limit, --enable or --disable (or one of their --all-…/--no-…/--clear-… forms).")
        }
    }

    /// The options as the merge patch `PATCH …/webhook-endpoints/{id}` takes.
    var patch: JSONObject {
        var patch = JSONObject()
        if let url { patch["url"] = .string(url) }
        if let description { patch["description"] = .string(description) }
        if clearDescription { patch["description"] = .null }
        if !eventTypes.isEmpty { patch["eventTypes"] = .array(eventTypes.map(JSONValue.string)) }
        if allEventTypes { patch["eventTypes"] = .array([]) }
        if !clubIds.isEmpty { patch["clubIds"] = .array(clubIds.map(JSONValue.string)) }
        if allClubs { patch["clubIds"] = .array([]) }
        if let rateLimit { patch["rateLimit"] = .number(Double(rateLimit)) }
        if noRateLimit { patch["rateLimit"] = .null }
        if enable || disable { patch["enabled"] = .bool(enable) }
        return patch
    }

    func run() throws {
        let patch = self.patch
        let allowPrivate = try address.allowed()
        var before: WebhookEndpoint?
        let after = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            return try WebhookEndpointStore.update(
                id, clientId: target.clientId, allowPrivateAddresses: allowPrivate, by: session.audit, on: session.connection
            ) { current in
                before = current
                return try WebhookEndpointInput.parse(patch: patch, over: current).validated()
            }
        }
        if common.json {
            TurnupPrint.json(after.json)
            return
        }
        if before?.version == after.version {
            print("Webhook endpoint \(after.id.lowercasedString) already had these settings; nothing changed.")
        } else if before?.enabled == false && after.enabled {
            print("Enabled webhook endpoint \(after.id.lowercasedString): it resumes from its first undelivered event.")
        } else if before?.enabled == true && !after.enabled {
            print("Disabled webhook endpoint \(after.id.lowercasedString): nothing is sent to it; its events wait until `update --enable`.")
        } else {
            print("Updated webhook endpoint \(after.id.lowercasedString).")
        }
        print("")
        TurnupWebhookText.printEndpoint(after)
    }
}

struct TurnupWebhookDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a webhook endpoint with its undelivered events and its delivery log.",
        discussion: """
            Takes effect at once, on every instance: nothing more is sent to it. To stop deliveries \
            for a while and keep the events, disable it instead (`update --disable`).
            """)

    @OptionGroup var target: TurnupWebhookTarget
    @OptionGroup var common: TurnupOptions

    func run() throws {
        let id = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            try WebhookEndpointStore.delete(id, clientId: target.clientId, by: session.audit, on: session.connection)
            return id
        }
        if common.json {
            TurnupPrint.json(["id": .string(id.lowercasedString), "deleted": .bool(true)])
            return
        }
        print("Deleted webhook endpoint \(id.lowercasedString) of client \(target.clientId); nothing more is sent to it.")
    }
}

struct TurnupWebhookRotateSecret: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Make a new signing secret for a webhook endpoint; print it (shown once).",
        discussion: """
            For 24 hours deliveries carry two signatures in webhook-signature, by the old and by \
            the new secret, so the receiving system can switch to the new one without missing a \
            delivery; then only the new one signs. A secret from an earlier rotation stops at once.
            """)

    @OptionGroup var target: TurnupWebhookTarget
    @OptionGroup var common: TurnupOptions

    func run() throws {
        let (id, secret) = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            return (id, try WebhookEndpointStore.rotateSecret(id, clientId: target.clientId, by: session.audit, on: session.connection))
        }
        if common.json {
            TurnupPrint.json(["secret": .string(secret.encoded)])
            return
        }
        print("New signing secret for webhook endpoint \(id.lowercasedString) of client \(target.clientId):")
        print("")
        print("Secret:  \(secret.encoded)")
        print("")
        print("The secret is shown only this once; it will not be shown again. For the next 24 hours deliveries")
        print("are signed by both the old and the new secret: switch the receiving system to the new one now.")
    }
}

struct TurnupWebhookDeliveries: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "Show a webhook endpoint's delivery log: each attempt, newest first.",
        discussion: """
            One line per attempt: when it started, the event, the attempt's number, the HTTP status \
            (- when no answer came), how long it took and why it failed. An event not attempted yet \
            shows "-" as its attempt and when it is due. --status keeps the events in that state: \
            pending (not delivered yet: waiting for an attempt or a retry), succeeded, failed \
            (the retries ran out: `recover` or `resend` sends it again).

            Example:
              connector-receiver turnup webhook deliveries acme <id> --status failed --limit 20
            """)

    @OptionGroup var target: TurnupWebhookTarget

    @Option(help: ArgumentHelp("Only events in this state: pending, succeeded or failed.", valueName: "state"))
    var status: String?

    @Option(help: ArgumentHelp("Only this event's attempts (evt_…).", valueName: "event-id"))
    var event: String?

    @Option(help: ArgumentHelp("At most this many lines, 1 to \(Page.maximumLimit).", valueName: "n"))
    var limit = 50

    @Option(help: ArgumentHelp("Continue after a previous page (the cursor it printed).", valueName: "cursor"))
    var cursor: String?

    @OptionGroup var common: TurnupOptions

    func validate() throws {
        if let status, WebhookDeliveryLog.Status(rawValue: status) == nil {
            throw ValidationError("--status must be pending, succeeded or failed, not \(status).")
        }
        guard (1...Page.maximumLimit).contains(limit) else { throw ValidationError("--limit must be 1 to \(Page.maximumLimit).") }
    }

    func run() throws {
        let page = try Page.parse(String(limit), cursor, keyCount: 2)
        let after = try WebhookDeliveryLog.after(page)
        let entries = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            var eventId: UUID?
            if let event {
                guard let parsed = WebhookDeliveryLog.parseEventId(event) else {
                    throw TurnupError("--event \(event) is not an event id; it looks like evt_0193f4b2-6c1d-7a9e-8b3f-2d5e7c9a1b04.")
                }
                eventId = parsed
            }
            return try WebhookDeliveryLog.list(
                endpointId: id, clientId: target.clientId, status: status.flatMap(WebhookDeliveryLog.Status.init(rawValue:)),
                eventId: eventId, after: after, limit: page.limit + 1, on: session.connection)
        }
        let shown = Array(entries.prefix(page.limit))
        let next = entries.count > page.limit ? shown.last.map { Page.encode($0.sortKey) } : nil
        if common.json {
            TurnupPrint.json(["items": .array(shown.map { .object($0.json) }), "nextCursor": .optional(next)])
            return
        }
        guard !shown.isEmpty else {
            print("No deliveries" + (status.map { " that are \($0)" } ?? "") + (cursor == nil ? "" : " after this cursor") + ".")
            return
        }
        TurnupPrint.table(
            ["AT", "EVENT", "TYPE", "ATTEMPT", "STATUS", "LATENCY", "STATE", "ERROR"],
            shown.map { entry in
                [entry.at.map(TurnupPrint.time) ?? entry.nextAttemptAt.map { "due " + TurnupPrint.time($0) } ?? "-",
                 WebhookDeliveryLog.eventIdText(entry.eventId), entry.eventType, entry.attempt.map(String.init) ?? "-",
                 entry.status.map(String.init) ?? "-", entry.latencyMs.map { "\($0) ms" } ?? "-",
                 entry.deliveryStatus.rawValue, entry.error ?? ""]
            })
        if let next {
            print("")
            print("More: connector-receiver turnup webhook deliveries \(target.clientId) \(target.id)"
                  + (status.map { " --status \($0)" } ?? "") + " --limit \(limit) --cursor \(next)")
        }
    }
}

struct TurnupWebhookResend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Send one event to a webhook endpoint again now (a delivered one too).",
        discussion: """
            The delivery is made pending and due now, with the retry schedule from the start; it \
            keeps its webhook-id, and an earlier event of the same record still pending goes first. \
            The endpoint must be enabled.

            Example:
              connector-receiver turnup webhook resend acme <id> evt_0193f4b2-6c1d-7a9e-8b3f-2d5e7c9a1b04
            """)

    @OptionGroup var target: TurnupWebhookTarget

    @Argument(help: ArgumentHelp("The event's ID (evt_…), as `turnup webhook deliveries` shows it.", valueName: "event-id"))
    var eventId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let id = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            guard let event = WebhookDeliveryLog.parseEventId(eventId) else {
                _ = try WebhookEndpointStore.require(id, clientId: target.clientId, on: session.connection)
                throw ReceiverError.notFound("No delivery of event \(eventId) to webhook endpoint \(id.lowercasedString) at client \(target.clientId).")
            }
            try WebhookDeliveryLog.resend(eventId: event, endpointId: id, clientId: target.clientId, by: session.audit, on: session.connection)
            return id
        }
        if common.json {
            TurnupPrint.json(["id": .string(id.lowercasedString), "eventId": .string(eventId), "status": .string("pending")])
            return
        }
        print("Resending \(eventId) to webhook endpoint \(id.lowercasedString) now.")
        print("Follow it with: connector-receiver turnup webhook deliveries \(target.clientId) \(id.lowercasedString) --event \(eventId)")
    }
}

struct TurnupWebhookRecover: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Send again now every event whose delivery to a webhook endpoint failed since a time.",
        discussion: """
            After an outage of the receiving system: every delivery not delivered with an attempt \
            that failed at or after --since, both those whose retries ran out (failed) and those \
            waiting for their next retry, is made due now with the retry schedule from the start. \
            The endpoint must be enabled.

            Example:
              connector-receiver turnup webhook recover acme <id> --since 2026-12-06T08:00:00Z
            """)

    @OptionGroup var target: TurnupWebhookTarget

    @Option(help: ArgumentHelp("An RFC 3339 time, e.g. 2026-12-06T08:00:00Z.", valueName: "time"))
    var since: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let since: Date
        switch WebhookDeliveryLog.parseSince(["since": .string(self.since)]) {
        case .success(let date): since = date
        case .failure(let failure): throw TurnupError("--since: " + failure.errors.map(\.message).joined(separator: "; ") + ".")
        }
        let (id, count) = try TurnupSession.run(common, hint: TurnupWebhookText.hint(target.clientId)) { session in
            let id = try WebhookEndpointStore.parseId(target.id, clientId: target.clientId, on: session.connection)
            return (id, try WebhookDeliveryLog.recover(since: since, endpointId: id, clientId: target.clientId, by: session.audit, on: session.connection))
        }
        if common.json {
            TurnupPrint.json(["deliveries": .number(Double(count))])
            return
        }
        print(count == 0
              ? "No delivery to webhook endpoint \(id.lowercasedString) has failed since \(Timestamp.format(since)); nothing to send again."
              : "Sending \(count) \(count == 1 ? "delivery" : "deliveries") to webhook endpoint \(id.lowercasedString) again now.")
    }
}

/// Webhook endpoints as text, and the commands' wording of errors.
enum TurnupWebhookText {
    static func state(_ endpoint: WebhookEndpoint) -> String {
        endpoint.enabled ? "on" : "off (\(endpoint.disabledReason?.rawValue ?? "admin"))"
    }

    static func printEndpoint(_ endpoint: WebhookEndpoint) {
        print("Webhook endpoint \(endpoint.id.lowercasedString)")
        print("  URL:           \(endpoint.url)")
        print("  Description:   \(endpoint.description ?? "-")")
        print("  Event types:   \(endpoint.eventTypes.isEmpty ? "all" : endpoint.eventTypes.joined(separator: ", "))")
        print("  Clubs:         \(endpoint.clubIds.isEmpty ? "all" : endpoint.clubIds.joined(separator: ", "))")
        print("  Rate limit:    \(endpoint.rateLimit.map { "\($0) a second" } ?? "none")")
        print("  State:         \(state(endpoint))" + (endpoint.disabledAt.map { " since \(TurnupPrint.time($0))" } ?? ""))
        print("  Last success:  \(endpoint.lastSuccessAt.map(TurnupPrint.time) ?? "never")")
        print("  Failing since: \(endpoint.failingSince.map(TurnupPrint.time) ?? "-")"
              + (endpoint.warnedAt.map { " (auto-disable warning \(TurnupPrint.time($0)))" } ?? ""))
        if let expires = endpoint.previousSecretExpiresAt, expires > Date() {
            print("  Old secret:    signs too until \(TurnupPrint.time(expires))")
        }
        print("  Version:       \(endpoint.version) (created \(TurnupPrint.time(endpoint.createdAt)), updated \(TurnupPrint.time(endpoint.updatedAt)))")
    }

    /// The option each body field comes from, and what to do about an unknown endpoint.
    static func hint(_ clientId: String) -> (ReceiverError) -> String? {
        { error in
            switch error {
            case .notFound(let detail) where !detail.hasPrefix("No client "):
                return detail + " List them with `connector-receiver turnup webhook list \(clientId)`."
            case .invalid(let errors):
                let options = ["url": "--url", "description": "--description", "eventTypes": "--event-type", "clubIds": "--club",
                               "rateLimit": "--rate-limit", "secret": "--secret", "enabled": "--enable"]
                return "invalid input:\n" + errors.map { "  \(options[$0.field] ?? $0.field): \($0.message)" }.joined(separator: "\n")
            default:
                return nil
            }
        }
    }
}
