import DiscovrAPI
import Testing
@testable import Delivery

@Suite struct RateLimiterTests {
    /// Drives the limiter as fast as it allows for `durationMs` and returns the send times.
    private func saturate(_ limiter: inout RateLimiter, fromMs start: Int64, durationMs: Int64) -> [Int64] {
        var sends: [Int64] = []
        var now = start
        while now < start + durationMs {
            switch limiter.decide(nowMs: now) {
            case .send:
                sends.append(now)
            case .wait(let until):
                #expect(until > now, "a wait must move time forward")
                now = until
            }
        }
        return sends
    }

    @Test(arguments: [0.5, 1, 5, 33.3, 50, 999, 2_500])
    func neverAboveTheRateOverASimulatedMinute(rate: Double) {
        var limiter = RateLimiter(rate: rate)
        let sends = saturate(&limiter, fromMs: 0, durationMs: 60_000)
        let burst = max(1, Int((rate / 1000).rounded(.up)))
        #expect(Double(sends.count) <= rate * 60 + Double(burst) + 1e-6) // (floating-point slack)
        // It does use the rate it is given (within one interval).
        #expect(Double(sends.count) >= rate * 60 - 1)
        // And over every one-second window, not just on average.
        var first = 0
        for (index, time) in sends.enumerated() {
            while sends[first] <= time - 1000 { first += 1 }
            #expect(Double(index - first + 1) <= rate + Double(burst) + 1e-6)
        }
    }

    @Test(arguments: RetryAfterCase.all)
    func aRateLimitedAnswerLowersTheRateAndHoldsUntilRetryAfter(_ form: RetryAfterCase) {
        var limiter = RateLimiter(rate: 10)
        let now = Timestamp(millisecondsSince1970: 1_700_000_000_000) // a whole second, for the HTTP date
        #expect(limiter.decide(nowMs: now.millisecondsSince1970) == .send)
        let hints = RateLimitHints(headers: [("retry-after", form.header(now))], now: now)
        limiter.record(status: 429, hints: hints, sentAtMs: now.millisecondsSince1970, nowMs: now.millisecondsSince1970)
        #expect(limiter.currentRate == 10 * RateLimiter.decrease)
        let until = now.millisecondsSince1970 + 3_000
        #expect(limiter.decide(nowMs: now.millisecondsSince1970 + 1) == .wait(untilMs: until))
        #expect(limiter.decide(nowMs: until - 1) == .wait(untilMs: until))
        #expect(limiter.decide(nowMs: until) == .send)
    }

    @Test func aRateLimitedAnswerWithoutRetryAfterHoldsOneSecond() {
        var limiter = RateLimiter(rate: 100)
        limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: 0, nowMs: 5_000)
        #expect(limiter.decide(nowMs: 5_999) == .wait(untilMs: 6_000))
        #expect(limiter.decide(nowMs: 6_000) == .send)
    }

    @Test func requestsAlreadyInFlightLowerTheRateOnlyOnce() {
        var limiter = RateLimiter(rate: 10)
        // Eight requests sent before the first 429 came back: one congestion event.
        for _ in 0..<8 {
            limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: 900, nowMs: 1_000)
        }
        #expect(limiter.currentRate == 10 * RateLimiter.decrease)
        // A request sent after the decrease that is refused again lowers it again.
        limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: 2_000, nowMs: 2_050)
        #expect(abs(limiter.currentRate - 10 * RateLimiter.decrease * RateLimiter.decrease) < 1e-9)
    }

    @Test func theRateHasAFloor() {
        var limiter = RateLimiter(rate: 5)
        for i in 0..<100 {
            let t = Int64(i) * 10_000
            limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: t, nowMs: t + 1)
        }
        #expect(limiter.currentRate == RateLimiter.minimumRate)
        // A configured rate below the floor is kept as it is.
        var slow = RateLimiter(rate: 0.1)
        slow.record(status: 429, hints: RateLimitHints(), sentAtMs: 0, nowMs: 1)
        #expect(slow.currentRate == 0.1)
    }

    @Test func theRateRecoversSlowlyAndNeverPassesTheConfiguredRate() {
        var limiter = RateLimiter(rate: 8)
        limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: 0, nowMs: 1)
        let lowered = limiter.currentRate
        // Fewer successes than a recovery run change nothing; errors do not count as successes.
        for _ in 0..<(RateLimiter.recoveryRun - 1) {
            limiter.record(status: 200, hints: RateLimitHints(), sentAtMs: 10, nowMs: 10)
        }
        limiter.record(status: 503, hints: RateLimitHints(), sentAtMs: 10, nowMs: 10)
        #expect(limiter.currentRate == lowered)
        limiter.record(status: 409, hints: RateLimitHints(), sentAtMs: 10, nowMs: 10)
        #expect(limiter.currentRate == lowered * RateLimiter.increase)
        for _ in 0..<(RateLimiter.recoveryRun * 20) {
            limiter.record(status: 200, hints: RateLimitHints(), sentAtMs: 10, nowMs: 10)
            #expect(limiter.currentRate <= 8)
        }
        #expect(limiter.currentRate == 8)
    }

    @Test func aLoweredRateSpacesSendsFurtherApart() {
        var limiter = RateLimiter(rate: 10)
        limiter.record(status: 429, hints: RateLimitHints(), sentAtMs: 0, nowMs: 0) // hold until 1000
        let sends = saturate(&limiter, fromMs: 0, durationMs: 11_000)
        // 10 s after the hold at 7/s: 70 sends (and one at the very start of the window).
        #expect(sends.count <= 71)
        #expect(sends.count >= 69)
        #expect(sends.first == 1_000)
    }

    @Test func remainingZeroHoldsUntilTheReset() {
        var limiter = RateLimiter(rate: 100)
        let now = Timestamp(millisecondsSince1970: 50_000)
        let hints = RateLimitHints(headers: [("RateLimit-Limit", "50"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "2")], now: now)
        limiter.record(status: 200, hints: hints, sentAtMs: 49_990, nowMs: 50_000)
        #expect(limiter.decide(nowMs: 50_001) == .wait(untilMs: 52_000))
        #expect(limiter.decide(nowMs: 52_000) == .send)
        #expect(limiter.currentRate == 100) // a hint is not a refusal: the rate stays
        // Remaining above zero changes nothing.
        var other = RateLimiter(rate: 100)
        let some = RateLimitHints(headers: [("RateLimit-Remaining", "3"), ("RateLimit-Reset", "2")], now: now)
        other.record(status: 200, hints: some, sentAtMs: 49_990, nowMs: 50_000)
        #expect(other.decide(nowMs: 50_001) == .send)
    }

    @Test func anAbsurdResetIsCapped() {
        var limiter = RateLimiter(rate: 100)
        let now = Timestamp(millisecondsSince1970: 50_000)
        let hints = RateLimitHints(headers: [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "86400")], now: now)
        limiter.record(status: 200, hints: hints, sentAtMs: 50_000, nowMs: 50_000)
        #expect(limiter.decide(nowMs: 50_001) == .wait(untilMs: 50_000 + RateLimiter.maximumResetHoldMs))
    }
}

/// The two forms of `Retry-After`, both meaning "in 3 seconds".
struct RetryAfterCase: Sendable, CustomTestStringConvertible {
    var name: String
    var header: @Sendable (Timestamp) -> String
    var testDescription: String { name }

    static let all: [RetryAfterCase] = [
        RetryAfterCase(name: "seconds") { _ in "3" },
        RetryAfterCase(name: "http-date") { now in
            HTTPDate.format(Timestamp(millisecondsSince1970: now.millisecondsSince1970 + 3_000))
        },
    ]
}
