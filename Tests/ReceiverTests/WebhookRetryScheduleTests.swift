import Testing
@testable import ReceiverCore

/// The written-down retry schedule: its length, jitter bounds, Retry-After and the settings' syntax.
@Suite struct WebhookRetryScheduleTests {
    @Test func theStandardScheduleRetriesForMoreThanThreeDays() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.attempts == 13)
        let total = schedule.delays.reduce(Duration.zero, +)
        let threeDays: Duration = .seconds(259_200)
        #expect(total > threeDays)
        #expect(total == .seconds(279_305), "3 days 5 h 35 min 5 s")
        #expect(schedule.delay(afterFailures: 1, random: 0.5) == .seconds(5))
        #expect(schedule.delay(afterFailures: 12, random: 0.5) == .seconds(36_000))
        #expect(schedule.delay(afterFailures: 13) == nil, "the 13th failure is the last")
        #expect(schedule.delay(afterFailures: 0) == nil)
    }

    @Test func jitterStaysWithinItsFraction() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.delay(afterFailures: 2, random: 0) == .seconds(240))
        #expect(schedule.delay(afterFailures: 2, random: 0.999_999)! > .seconds(359))
        #expect(schedule.delay(afterFailures: 2, random: 0.999_999)! <= .seconds(360))
    }

    @Test func retryAfterIsHonouredUpToItsBound() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.delay(afterFailures: 1, retryAfter: .seconds(120), random: 0.5) == .seconds(120), "later than the schedule: the server's")
        #expect(schedule.delay(afterFailures: 3, retryAfter: .seconds(1), random: 0.5) == .seconds(1800), "earlier: the schedule's")
        #expect(schedule.delay(afterFailures: 1, retryAfter: .seconds(86_400), random: 0.5) == .seconds(3600), "bounded")
        #expect(schedule.delay(afterFailures: 13, retryAfter: .seconds(1)) == nil, "no attempt past the schedule")
    }

    @Test func theSettingsSyntax() throws {
        let parsed = try #require(WebhookRetrySchedule(parsing: "0, 1.5, 250ms, 2s,5m,2h,1d"))
        #expect(parsed.delays == [.zero, .milliseconds(1500), .milliseconds(250), .seconds(2), .seconds(300), .seconds(7200), .seconds(86_400)])
        #expect(WebhookRetrySchedule(parsing: parsed.text)?.delays == parsed.delays)
        for bad in ["", "5x", "-1", "1,,2", "8d", "s"] {
            #expect(WebhookRetrySchedule(parsing: bad) == nil, "\(bad)")
        }
    }
}
