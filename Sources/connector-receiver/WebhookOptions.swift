import ArgumentParser
import Foundation
import ReceiverCore

/// `serve`'s webhook delivery options (README "Webhooks"), resolved against the environment.
struct WebhookOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Delays before each attempt of a webhook delivery, comma-separated, in seconds or with a unit (ms, s, m, h, d); each gets ±20 % jitter, and a delivery whose last attempt fails is kept as failed. (env: RECEIVER_WEBHOOK_RETRY_SCHEDULE, default 0,5s,5m,30m,2h,5h,10h,10h,10h,10h,10h,10h,10h: 13 attempts over 3 days 5 h)",
        valueName: "delays"))
    var webhookRetrySchedule: String?

    @Option(help: ArgumentHelp(
        "How long every attempt to a webhook endpoint may fail before it is disabled, in seconds or with a unit (s, m, h, d); a warning is recorded halfway. (env: RECEIVER_WEBHOOK_DISABLE_AFTER, default 5d)",
        valueName: "duration"))
    var webhookDisableAfter: String?

    @Flag(help: ArgumentHelp(
        "Let webhook endpoints be at loopback, private and link-local addresses (tests, on-premises receivers); without it such URLs are refused when created and every connection to such an address is refused. (env: RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=on)"))
    var webhookAllowPrivateAddresses = false

    @Option(help: ArgumentHelp(
        "Deliver webhooks from this instance: on or off (off: this instance only serves; others deliver). (env: RECEIVER_WEBHOOK_DELIVERY, default on)",
        valueName: "on|off"))
    var webhookDelivery: String?

    /// The engine's settings; nil when this instance does not deliver.
    func settings(keepFinished: Duration) throws -> WebhookDeliveryEngine.Settings? {
        var settings = WebhookDeliveryEngine.Settings()
        settings.keepFinished = keepFinished
        if let text = webhookRetrySchedule ?? Environment.value("RECEIVER_WEBHOOK_RETRY_SCHEDULE") {
            guard let schedule = WebhookRetrySchedule(parsing: text) else {
                throw ValidationError("--webhook-retry-schedule (or RECEIVER_WEBHOOK_RETRY_SCHEDULE) must be delays such as 0,5s,5m,2h, each at most 7 days, not \(text).")
            }
            settings.schedule = schedule
        }
        if let text = webhookDisableAfter ?? Environment.value("RECEIVER_WEBHOOK_DISABLE_AFTER") {
            guard let parsed = WebhookRetrySchedule(parsing: text), parsed.delays.count == 1, parsed.delays[0] >= .seconds(1) else {
                throw ValidationError("--webhook-disable-after (or RECEIVER_WEBHOOK_DISABLE_AFTER) must be one duration of at least 1 s and at most 7 days, such as 5d or 90s, not \(text).")
            }
            settings.disableAfter = parsed.delays[0]
        }
        settings.allowPrivateAddresses = try allowsPrivateAddresses()
        let delivering = try Environment.onOff(
            webhookDelivery, "RECEIVER_WEBHOOK_DELIVERY", default: true, name: "--webhook-delivery (or RECEIVER_WEBHOOK_DELIVERY)")
        return delivering ? settings : nil
    }

    /// Whether endpoints may be at non-public addresses: for delivery, and for the admin API's
    /// check when an endpoint is created or its URL changed (on every instance, delivering or not).
    func allowsPrivateAddresses() throws -> Bool {
        try webhookAllowPrivateAddresses
            || Environment.onOff(nil, "RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default: false, name: "RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES")
    }
}
