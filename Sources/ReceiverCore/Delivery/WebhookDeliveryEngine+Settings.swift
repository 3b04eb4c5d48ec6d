import Foundation
import OutboundHTTP

extension WebhookDeliveryEngine {
    /// How the engine delivers; `serve`'s `--webhook-…` options set the first ones.
    package struct Settings: Sendable {
        /// When failed attempts are tried again.
        package var schedule: WebhookRetrySchedule = .standard
        /// How long every attempt to an endpoint may fail before it is disabled.
        package var disableAfter: Duration = .seconds(5 * 86_400)
        /// Send to loopback, private and link-local addresses too.
        package var allowPrivateAddresses = false
        /// How long a claim holds a delivery for this instance. A transfer is never started
        /// later than `lease - transferTimeout - 5 s` after its claim, so it has ended before
        /// another instance may take the delivery over.
        package var lease: Duration = .seconds(60)
        /// The longest one attempt may take.
        package var transferTimeout: Duration = .seconds(15)
        /// How often the engine looks for work when nothing wakes it (commits of other
        /// instances, retries falling due).
        package var pollInterval: Duration = .milliseconds(50)
        /// Events read per endpoint and pass.
        package var fanOutPageSize = 1000
        /// Deliveries claimed and not yet answered, per endpoint and instance: enough to keep
        /// its connections busy, few enough that a slow endpoint holds little.
        package var maxInFlightPerEndpoint = 1024
        /// The same for an endpoint that is failing: it gets its connections' worth.
        package var maxInFlightPerFailingEndpoint = 16
        /// How long succeeded and failed deliveries stay in the delivery log.
        package var keepFinished: Duration = .seconds(30 * 86_400)
        /// This instance's name in claims: host, process and a random part.
        package var instance = WebhookDeliveryEngine.instanceName()
        /// The multi client's limits (connections per endpoint host, queue).
        package var client = OutboundHTTPMultiClient.Configuration(maxConcurrentTransfers: 512, maxConnectionsPerHost: 8, maxQueuedTransfers: 100_000)

        package init() {}

        /// When the warning before auto-disable is recorded: halfway.
        package var warnAfter: Duration { disableAfter / 2 }

        /// How often warnings and auto-disable are checked and `/metrics` states refreshed.
        package var healthInterval: Duration { min(.seconds(5), max(.milliseconds(100), disableAfter / 20)) }
    }

    /// `host:pid:random`, unique among running instances.
    package static func instanceName() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host.prefix(64)):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
