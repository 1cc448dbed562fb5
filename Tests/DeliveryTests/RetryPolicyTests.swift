import Testing
import DiscovrAPI
@testable import Delivery

@Suite struct RetryPolicyTests {
    struct StatusCase: Sendable, CustomTestStringConvertible {
        var status: Int
        var message: String?
        var retryAfterMs: Int64?
        var expected: Expected
        var testDescription: String { "status \(status)" }

        enum Expected: Sendable {
            case exactly(RetryDecision)
            /// A counted retry after a jittered delay of at least `minimumMs`.
            case countedRetry(minimumMs: Int64)
        }
    }

    static let statusCases: [StatusCase] = [
        StatusCase(status: 200, expected: .exactly(.delivered(alreadyPresent: false))),
        StatusCase(status: 201, expected: .exactly(.delivered(alreadyPresent: false))),
        StatusCase(status: 409, message: "already in history", expected: .exactly(.delivered(alreadyPresent: true))),
        StatusCase(status: 400, message: "season is required for TV shows",
                   expected: .exactly(.giveUp(reason: "season is required for TV shows"))),
        StatusCase(status: 404, message: "unknown media", expected: .exactly(.giveUp(reason: "unknown media"))),
        StatusCase(status: 422, message: "body must be a JSON object", expected: .exactly(.giveUp(reason: "body must be a JSON object"))),
        StatusCase(status: 418, expected: .exactly(.giveUp(reason: "refused with status 418"))),
        StatusCase(status: 401, message: "session expired", expected: .exactly(.refreshSession)),
        StatusCase(status: 403, message: "not your profile", expected: .exactly(.stopRun(reason: "not your profile"))),
        StatusCase(status: 429, retryAfterMs: 2_500, expected: .exactly(.retry(afterMs: 2_500, countAttempt: false))),
        StatusCase(status: 429, expected: .exactly(.retry(afterMs: 1_000, countAttempt: false))),
        StatusCase(status: 500, expected: .countedRetry(minimumMs: 0)),
        StatusCase(status: 502, expected: .countedRetry(minimumMs: 0)),
        StatusCase(status: 503, retryAfterMs: 7_000, expected: .countedRetry(minimumMs: 7_000)),
        StatusCase(status: 408, expected: .countedRetry(minimumMs: 0)),
    ]

    @Test(arguments: statusCases)
    func eachStatusClass(_ c: StatusCase) {
        var policy = RetryPolicy(maxAttempts: 8, seed: 42)
        let decision = policy.decide(attemptsSoFar: 0, outcome: .answered(DiscovrAnswer(status: c.status, response: HistoryResponse(message: c.message)),
                                                                      retryAfterMs: c.retryAfterMs))
        switch c.expected {
        case .exactly(let expected):
            #expect(decision == expected)
        case .countedRetry(let minimum):
            guard case .retry(let after, let counted) = decision else {
                Issue.record("expected a retry, got \(decision)")
                return
            }
            #expect(counted)
            #expect(after >= minimum)
            #expect(after <= max(minimum, RetryPolicy.baseDelayMs))
        }
    }

    @Test(arguments: [
        (DeliveryOutcome.connectFailed("connection refused"), false),
        (DeliveryOutcome.timedOut("no answer within 30 s"), true),
        (DeliveryOutcome.connectionLost("the server closed the connection before answering"), true),
    ])
    func transportFailuresAreRetriedAndCountedOnlyWhenTheServerMayHaveSeenTheItem(_ outcome: DeliveryOutcome, counted: Bool) {
        var policy = RetryPolicy(maxAttempts: 8, seed: 1)
        guard case .retry(_, let countAttempt) = policy.decide(attemptsSoFar: 3, outcome: outcome) else {
            Issue.record("expected a retry")
            return
        }
        #expect(countAttempt == counted)
    }

    @Test func backoffCeilingDoublesFromTheBaseAndIsCapped() {
        let ceilings = (0..<12).map(RetryPolicy.ceilingMs(step:))
        #expect(ceilings == [500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000])
        #expect(RetryPolicy.ceilingMs(step: 10_000) == RetryPolicy.capDelayMs)
        #expect(RetryPolicy.ceilingMs(step: -3) == RetryPolicy.baseDelayMs)
    }

    @Test func jitteredDelaysStayUnderTheCeilingAndGrowOnAverage() {
        var policy = RetryPolicy(maxAttempts: 8, seed: 7)
        var means: [Double] = []
        for step in 0..<10 {
            var sum: Int64 = 0
            for _ in 0..<2_000 {
                let delay = policy.backoffMs(step: step)
                #expect(delay >= 0 && delay <= RetryPolicy.ceilingMs(step: step))
                sum += delay
            }
            means.append(Double(sum) / 2_000)
        }
        // Full jitter: the mean is half the ceiling (within 10 %), so it grows until the cap.
        for (step, mean) in means.enumerated() {
            let half = Double(RetryPolicy.ceilingMs(step: step)) / 2
            #expect(abs(mean - half) < half * 0.1, "step \(step): mean \(mean)")
        }
        #expect(means[6] > means[0] * 30)
    }

    @Test func jitterIsDeterministicForASeed() {
        func delays(seed: UInt64) -> [Int64] {
            var policy = RetryPolicy(maxAttempts: 100, seed: seed)
            return (0..<20).map { attempt in
                guard case .retry(let after, _) = policy.decide(attemptsSoFar: attempt, outcome: .answered(DiscovrAnswer(status: 503), retryAfterMs: nil)) else {
                    return -1
                }
                return after
            }
        }
        #expect(delays(seed: 99) == delays(seed: 99))
        #expect(delays(seed: 99) != delays(seed: 100))
        var a = SplitMix64(seed: 0)
        // First outputs of SplitMix64 seeded with 0 (the reference implementation's values).
        #expect(a.next() == 0xE220_A839_7B1D_CDAF)
        #expect(a.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test(arguments: [
        (DeliveryOutcome.answered(DiscovrAnswer(status: 503, response: HistoryResponse(message: "try later")), retryAfterMs: nil), "gave up after 8 attempts: status 503: try later"),
        (DeliveryOutcome.answered(DiscovrAnswer(status: 500), retryAfterMs: nil), "gave up after 8 attempts: status 500"),
        (DeliveryOutcome.timedOut("no answer within 30 s"), "gave up after 8 attempts: no answer within 30 s"),
        (DeliveryOutcome.connectionLost("reset"), "gave up after 8 attempts: reset"),
    ])
    func givesUpAtMaxAttempts(_ outcome: DeliveryOutcome, reason: String) {
        var policy = RetryPolicy(maxAttempts: 8, seed: 3)
        guard case .retry(_, true) = policy.decide(attemptsSoFar: 6, outcome: outcome) else {
            Issue.record("the 7th attempt should be retried")
            return
        }
        #expect(policy.decide(attemptsSoFar: 7, outcome: outcome) == .giveUp(reason: reason))
    }

    @Test func rateLimitsAndUnreachableServersNeverUseUpAttempts() {
        var policy = RetryPolicy(maxAttempts: 2, seed: 3)
        #expect(policy.decide(attemptsSoFar: 50, outcome: .answered(DiscovrAnswer(status: 429), retryAfterMs: 10)) == .retry(afterMs: 10, countAttempt: false))
        guard case .retry(_, false) = policy.decide(attemptsSoFar: 50, outcome: .connectFailed("refused")) else {
            Issue.record("a connection failure must be retried, not counted")
            return
        }
    }

    @Test func connectionFailuresInARowBackOffFurtherUntilTheServerAnswers() {
        var policy = RetryPolicy(maxAttempts: 8, seed: 11)
        for expected in 1...5 {
            _ = policy.decide(attemptsSoFar: 0, outcome: .connectFailed("refused"))
            #expect(policy.connectFailuresInARow == expected)
        }
        _ = policy.decide(attemptsSoFar: 0, outcome: .answered(DiscovrAnswer(status: 503), retryAfterMs: nil))
        #expect(policy.connectFailuresInARow == 0)
    }

    /// Four requests in flight when the server goes away fail together: one outage event, one step
    /// of backoff. A probe started after that failure, failing too, is the next step. (Found by the
    /// fault matrix: after a 2 s outage the first probe came up to 4 s later, then up to 8 s.)
    @Test func requestsInFlightWhenTheServerGoesAwayCountAsOneFailure() {
        var policy = RetryPolicy(maxAttempts: 8, seed: 5)
        for k in 0..<4 {
            let decision = policy.decide(attemptsSoFar: 0, outcome: .connectFailed("refused"), sentAtMs: 1_000 + Int64(k), nowMs: 1_010 + Int64(k))
            #expect(policy.connectFailuresInARow == 1)
            if k > 0 { #expect(decision == .retry(afterMs: 0, countAttempt: false)) }
        }
        // The probe, sent after the pause.
        _ = policy.decide(attemptsSoFar: 0, outcome: .connectFailed("refused"), sentAtMs: 1_600, nowMs: 1_601)
        #expect(policy.connectFailuresInARow == 2)
        // A straggler started before the probe's failure is still that event.
        _ = policy.decide(attemptsSoFar: 0, outcome: .connectFailed("refused"), sentAtMs: 1_590, nowMs: 1_602)
        #expect(policy.connectFailuresInARow == 2)
        // An answer ends the outage; the next failure starts a new run of them.
        _ = policy.decide(attemptsSoFar: 0, outcome: .answered(DiscovrAnswer(status: 200), retryAfterMs: nil), sentAtMs: 2_000, nowMs: 2_010)
        _ = policy.decide(attemptsSoFar: 0, outcome: .connectFailed("refused"), sentAtMs: 1_990, nowMs: 2_020)
        #expect(policy.connectFailuresInARow == 1)
    }

    @Test func maxAttemptsOfOneGivesUpAtOnce() {
        var policy = RetryPolicy(maxAttempts: 1, seed: 3)
        #expect(policy.decide(attemptsSoFar: 0, outcome: .timedOut("slow")) == .giveUp(reason: "gave up after 1 attempt: slow"))
    }
}
