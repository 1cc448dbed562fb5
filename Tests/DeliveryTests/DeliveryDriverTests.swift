import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportQueue
import Synchronization
import Testing
@testable import Delivery

/// End to end: a real SQLite queue in a temp directory, a real sandbox on port 0, the real driver.
@Suite(.timeLimit(.minutes(5))) struct DeliveryDriverTests {
    /// Settings fast enough for a test: high rate, short timeouts, a fixed jitter seed.
    static func settings(_ running: RunningSandbox, _ change: (inout DeliverySettings) -> Void = { _ in }) -> DeliverySettings {
        var settings = DeliverySettings(baseURL: running.url, refreshToken: running.refreshToken, rate: 1_000, concurrency: 8,
                                        maxAttempts: 8, requestTimeout: 5, unreachableAfter: 5, jitterSeed: 7)
        change(&settings)
        return settings
    }

    /// Opens a queue with `entries` in a fresh temp directory, runs `body`, closes and removes it.
    static func withFilledQueue<T>(_ entries: [QueueEntry], _ body: (ImportQueue) async throws -> T) async throws -> T {
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        let queue = try ImportQueue.open(path: directory.statePath)
        defer { queue.close() }
        let summary = try queue.enqueue(entries)
        #expect(summary.added == entries.count)
        return try await body(queue)
    }

    static func deliver(_ queue: ImportQueue, _ settings: DeliverySettings, stop: StopSignal = StopSignal(),
                        progress: @escaping @Sendable (DeliveryProgress) -> Void = { _ in }) async -> DeliveryResult {
        await DeliveryDriver(queue: queue, settings: settings, logger: quietLogger).run(stop: stop, progress: progress)
    }

    /// Every queued play is in the sandbox exactly once, and nothing else is.
    static func expectStoredExactlyOnce(_ entries: [QueueEntry], _ store: SandboxStore) {
        let stored = identities(of: store.storedItems())
        #expect(stored.count == entries.count)
        #expect(Set(stored) == Set(identities(of: entries)))
    }

    @Test func deliversEveryItemExactlyOnce() async throws {
        let entries = makeEntries(200)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let updates = Shared<[DeliveryProgress]>([])
                let result = await Self.deliver(queue, Self.settings(running)) { p in updates.update { $0.append(p) } }
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(pending: 0, inFlight: 0, delivered: 200, alreadyPresent: 0, failed: 0))
                #expect(result.sent == 200)
                #expect(result.retries == 0)
                Self.expectStoredExactlyOnce(entries, running.store)
                let stats = running.store.stats()
                #expect(stats.repeats == 0 && stats.tokensIssued == 1)
                let last = try #require(updates.get().last)
                #expect(last.delivered == 200 && last.pending == 0 && last.inFlight == 0 && last.total == 200)
            }
        }
    }

    @Test func serverErrorsAreRetriedUntilEverythingArrives() async throws {
        let entries = makeEntries(60)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(failRate: 0.3, seed: 5), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running) { $0.maxAttempts = 20 })
                #expect(result.stop == .finished)
                #expect(result.counts.delivered == 60 && result.counts.failed == 0 && result.counts.pending == 0)
                let stats = running.store.stats()
                #expect(stats.failed > 0)
                #expect(result.retries == stats.failed)
                #expect(result.sent == 60 + stats.failed)
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func lostAnswersAreReadBackNotSentAgain() async throws {
        let entries = makeEntries(40)
        // The documented server: history appends, so a blind re-send would be a second entry. Each
        // lost answer (the play was stored, the connection closed) is read back after the grace period.
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(dropRate: 0.2, seed: 9), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running) { $0.maxAttempts = 20; $0.existingHistory = .ignore })
                #expect(result.stop == .finished)
                #expect(result.counts.delivered == 40 && result.counts.failed == 0)
                let stats = running.store.stats()
                #expect(stats.dropped > 0)
                // Each lost answer is one retry, one read-back page, and found: never a second POST.
                #expect(result.retries == stats.dropped)
                #expect(result.sent == 40)
                #expect(result.readBacks == stats.dropped && stats.reads == stats.dropped)
                #expect(result.foundOnReadBack == stats.dropped)
                #expect(result.counts.alreadyPresent == stats.dropped)
                #expect(stats.repeats == 0)
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test(arguments: [RetryAfterForm.seconds, .httpDate])
    func rateLimitedAnswersAreWaitedOutAndEverythingArrives(_ form: RetryAfterForm) async throws {
        // A low limit, so that even a loaded machine sends faster than the sandbox allows; no
        // RateLimit-* headers, or the limiter would follow them and meet no 429 at all.
        let entries = makeEntries(30)
        var configuration = SandboxConfiguration(rateLimit: 10, retryAfterForm: form)
        configuration.rateLimitHeaders = false
        let sandbox = DiscovrSandbox(configuration: configuration, logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running))
                #expect(result.stop == .finished)
                #expect(result.counts.delivered == 30 && result.counts.failed == 0)
                let stats = running.store.stats()
                #expect(stats.rateLimited > 0, "a rate of 1000/s against 10/s must meet 429s")
                #expect(result.rateLimited == stats.rateLimited)
                #expect(result.sent == 30 + stats.rateLimited)
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test func expiredSessionsAreRefreshed() async throws {
        // The sandbox's clock moves 40 ms each time it is read (once per request), whatever the real
        // time: its one-second sessions last about 25 requests, however loaded the machine is.
        let ticks = Shared<Int64>(0)
        let start = SandboxConfiguration.systemNow().millisecondsSince1970
        let fast: @Sendable () -> Timestamp = {
            var n: Int64 = 0
            ticks.update { $0 += 1; n = $0 }
            return Timestamp(millisecondsSince1970: start + n * 40)
        }
        let entries = makeEntries(150)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(tokenTTL: 1, now: fast), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running) { $0.rate = 300; $0.concurrency = 4 })
                #expect(result.stop == .finished)
                #expect(result.counts.delivered == 150 && result.counts.failed == 0)
                let stats = running.store.stats()
                #expect(stats.tokensIssued >= 3)
                #expect(stats.unauthorized > 0)
                // A 401 is not an attempt and not a queue retry: it is refreshed and sent again in place.
                #expect(result.retries == 0)
                #expect(result.sent == 150 + stats.unauthorized)
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test func aRefusedRefreshTokenSendsNothing() async throws {
        let entries = makeEntries(10)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let wrong = "rt_" + String(repeating: "f", count: 32)
                let result = await Self.deliver(queue, Self.settings(running) { $0.refreshToken = wrong })
                guard case .credentialsRefused(let refusal) = result.stop else {
                    Issue.record("expected credentialsRefused, got \(result.stop)")
                    return
                }
                let why = refusal.description
                #expect(refusal.kind == .refreshTokenInvalid)
                #expect(!why.contains(wrong) && !why.contains(running.refreshToken))
                #expect(result.sent == 0)
                #expect(result.counts == StateCounts(pending: 10))
                #expect(running.store.stats().requests == 0)
            }
        }
    }

    @Test func aLimitSettlesExactlyThatManyAndResumeDeliversTheRest() async throws {
        let entries = makeEntries(30)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let first = await Self.deliver(queue, Self.settings(running) { $0.limit = 11 })
                #expect(first.stop == .limitReached)
                #expect(first.counts == StateCounts(pending: 19, delivered: 11))
                #expect(running.store.stats().stored == 11)
                let second = await Self.deliver(queue, Self.settings(running) { $0.limit = 100 })
                #expect(second.stop == .finished)
                #expect(second.counts == StateCounts(delivered: 30))
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test func aLimitAboveWhatIsLeftFinishes() async throws {
        let entries = makeEntries(5)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running) { $0.limit = 5 })
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 5))
            }
        }
    }

    /// A profile the session exchange refuses while delivering ends the run with the refusal itself,
    /// its kind kept (the executable maps a refused profile to 64 wherever it is refused, issue #18).
    @Test func aRefusedProfileDuringDeliveryKeepsItsKind() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(makeEntries(3)) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running) { $0.profileId = "profile_notmine000" })
                guard case .credentialsRefused(let refusal) = result.stop else {
                    Issue.record("expected credentialsRefused, got \(result.stop)")
                    return
                }
                #expect(refusal.kind == .badProfile)
                #expect(result.sent == 0 && result.counts == StateCounts(pending: 3))
            }
        }
    }

    @Test func anInvalidItemFailsWithTheServersMessageAndIsNotRetried() async throws {
        // A show without a season: the server refuses it with 400.
        let entries = [QueueEntry(play: HistoryItem(mediaId: .show(1), updatedAt: nil), title: "Broken S?")] + makeEntries(5)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let result = await Self.deliver(queue, Self.settings(running))
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 5, failed: 1))
                #expect(result.sent == 6)
                let failures = try queue.failures(limit: nil)
                #expect(failures == [FailureRecord(outgoing: entries[0].outgoing, title: "Broken S?", attempts: 1,
                                                   lastStatus: 400, lastMessage: "season is required for TV shows")])
                #expect(running.store.stats().invalid == 1)
            }
        }
    }

    @Test func aStopRequestSettlesWhatIsInFlightAndResumeDeliversTheRest() async throws {
        let entries = makeEntries(300)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await Self.withFilledQueue(entries) { queue in
            try await sandbox.run { running in
                let stop = StopSignal()
                let first = await Self.deliver(queue, Self.settings(running) { $0.rate = 100 }, stop: stop) { p in
                    if p.delivered >= 10 { stop.request() }
                }
                #expect(first.stop == .stopped)
                #expect(first.counts.delivered >= 10 && first.counts.delivered < 300)
                #expect(first.counts.inFlight == 0 && first.counts.failed == 0)
                #expect(first.counts.delivered + first.counts.pending == 300)
                // Nothing was left half-done: what the server stored is exactly what the queue says was delivered.
                #expect(running.store.stats().stored == first.counts.delivered)

                let second = await Self.deliver(queue, Self.settings(running))
                #expect(second.stop == .finished)
                #expect(second.counts == StateCounts(delivered: 300))
                #expect(running.store.stats().repeats == 0)
                Self.expectStoredExactlyOnce(entries, running.store)
            }
        }
    }

    @Test func aStoppedServerMakesTheRunUnreachableWithItemsPending() async throws {
        let entries = makeEntries(200)
        let store = SandboxStore()
        try await Self.withFilledQueue(entries) { queue in
            // The server goes away in the middle of the run.
            let url = Shared<(String, String)?>(nil)
            let driverDone = Shared(false)
            let first = try await withThrowingTaskGroup(of: DeliveryResult?.self) { group in
                let ready = AsyncStream<Void>.makeStream()
                group.addTask {
                    try await DiscovrSandbox(configuration: SandboxConfiguration(), store: store, logger: quietLogger).run { running in
                        url.set((running.url, running.refreshToken))
                        ready.continuation.finish()
                        // Up once some plays arrived (or the driver is done already: nothing to wait for).
                        while running.store.stats().stored < 20, !driverDone.get() {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    return nil
                }
                for await _ in ready.stream {}
                let (baseURL, refreshToken) = try #require(url.get())
                let settings = DeliverySettings(baseURL: baseURL, refreshToken: refreshToken, rate: 100, concurrency: 4,
                                                requestTimeout: 2, unreachableAfter: 1, jitterSeed: 3)
                let result = await Self.deliver(queue, settings)
                driverDone.set(true)
                var out: DeliveryResult?
                for try await value in group where value != nil { out = value }
                return out ?? result
            }
            guard case .unreachable = first.stop else {
                Issue.record("expected unreachable, got \(first.stop)")
                return
            }
            #expect(first.counts.failed == 0 && first.counts.inFlight == 0)
            #expect(first.counts.pending > 0)
            #expect(first.counts.delivered + first.counts.pending == 200)
            #expect(store.stats().stored >= first.counts.delivered)
            // The outage is the server's, not the items': none keeps a backoff that would slow the resume.
            let ready = try #require(try queue.nextReadyAt())
            #expect(ready <= DeliveryDriver.systemWallClock())

            // The server is back (same store): resume delivers the rest, each play stored once.
            try await DiscovrSandbox(configuration: SandboxConfiguration(), store: store, logger: quietLogger).run { running in
                let settings = DeliverySettings(baseURL: running.url, refreshToken: running.refreshToken, rate: 1_000,
                                                concurrency: 8, requestTimeout: 5, unreachableAfter: 5, jitterSeed: 4)
                let second = await Self.deliver(queue, settings)
                #expect(second.stop == .finished)
                #expect(second.counts.delivered == 200 && second.counts.failed == 0)
            }
            Self.expectStoredExactlyOnce(entries, store)
        }
    }

    @Test func anUnreachableServerAtStartIsReportedAfterUnreachableAfter() async throws {
        let entries = makeEntries(3)
        let url = try await DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger).run { $0.url }
        try await Self.withFilledQueue(entries) { queue in
            let settings = DeliverySettings(baseURL: url, refreshToken: "rt_" + String(repeating: "a", count: 32),
                                            requestTimeout: 1, unreachableAfter: 0.5, jitterSeed: 1)
            let result = await Self.deliver(queue, settings)
            guard case .unreachable(let why) = result.stop else {
                Issue.record("expected unreachable, got \(result.stop)")
                return
            }
            #expect(why.contains("could not connect: connection refused"))
            #expect(result.sent == 0)
            #expect(result.counts == StateCounts(pending: 3))
        }
    }
}

/// Every wait outside the machine is `RunTime.sleep(untilMs:stop:)`: a stop ends it at once, without polling.
/// (Times are checked against the sleep's deadline, not a wall-clock bound: with the whole suite in
/// parallel, tests that block threads can hold every task back for minutes.)
@Suite(.timeLimit(.minutes(5))) struct RunTimeSleepTests {
    @Test func aStopEndsALongSleepAtOnce() async {
        let time = RunTime.make(clock: ContinuousClock(), startMs: 0)
        let stop = StopSignal()
        let until = time.nowMs() + 3_600_000
        async let slept = time.sleep(untilMs: until, stop: stop)
        try? await Task.sleep(for: .milliseconds(50))
        stop.request()
        #expect(await slept == false)
        #expect(time.nowMs() < until)
        #expect(await time.sleep(untilMs: time.nowMs() + 60_000, stop: stop) == false) // a stop already requested
    }

    @Test func withoutAStopItSleepsOnTheInjectedClock() async {
        let time = RunTime.make(clock: ContinuousClock(), startMs: 1_700_000_000_000)
        let until = time.nowMs() + 30
        #expect(await time.sleep(untilMs: until, stop: StopSignal()))
        #expect(time.nowMs() >= until)
    }
}
