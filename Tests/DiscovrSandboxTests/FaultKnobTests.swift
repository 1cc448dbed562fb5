import DiscovrAPI
import DiscovrSandbox
import Foundation
import Synchronization
import Testing

/// The knobs the CI fault matrix needs: failure bursts, 429s without RateLimit headers, and an
/// outage at the network level (`serve`).
@Suite("fault knobs for the fault matrix")
struct FaultKnobTests {
    /// Statuses of `count` history requests sent one at a time, each a new play.
    static func statuses(_ configuration: SandboxConfiguration, count: Int) async throws -> (statuses: [Int], stats: SandboxStats) {
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            var out: [Int] = []
            for n in 1...count {
                out.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status)
            }
            return (out, running.store.stats())
        }
    }

    @Test("failBurst n: a drawn failure fails the next n-1 requests too, on the same seeded draws", arguments: [2, 3, 5])
    func failBursts(burst: Int) async throws {
        let count = 60
        // Burst 1 shows where the seed's fresh draws hit; burst n must be exactly those hits widened.
        let single = try await Self.statuses(SandboxConfiguration(failRate: 0.15, seed: 42), count: count).statuses
        let (bursty, stats) = try await Self.statuses(SandboxConfiguration(failRate: 0.15, failBurst: burst, seed: 42), count: count)
        var expected: [Bool] = []
        var left = 0
        for status in single {
            if left > 0 {
                left -= 1
                expected.append(true)
            } else if status >= 500 {
                left = burst - 1
                expected.append(true)
            } else {
                expected.append(false)
            }
        }
        #expect(bursty.map { $0 >= 500 } == expected)
        #expect(Set(bursty).isSubset(of: [200, 500, 503]))
        // Every run of failures that ends before the last request is at least `burst` long.
        var runs: [Int] = []
        var run = 0
        for failed in bursty.map({ $0 >= 500 }) {
            if failed { run += 1 } else if run > 0 { runs.append(run); run = 0 }
        }
        #expect(!runs.isEmpty)
        #expect(runs.allSatisfy { $0 >= burst }, "runs \(runs)")
        #expect(stats.failed == bursty.filter { $0 >= 500 }.count)
        #expect(stats.stored == bursty.filter { $0 == 200 }.count)
        #expect(stats.stored + stats.failed == count)
    }

    @Test("without RateLimit headers a 429 carries only Retry-After", arguments: RetryAfterForm.allCases)
    func noRateLimitHeaders(form: RetryAfterForm) async throws {
        let clock = ManualClock()
        let configuration = SandboxConfiguration(rateLimit: 2, retryAfterForm: form, rateLimitHeaders: false, now: clock.closure)
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            var answers: [Answer] = []
            for n in 1...3 {
                answers.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token))
            }
            #expect(answers.map(\.status) == [200, 200, 429])
            for answer in answers {
                for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
                    #expect(answer.header(name) == nil, "\(name) on a \(answer.status)")
                }
            }
            let retryAfter = try #require(answers[2].header("Retry-After"))
            switch form {
            case .seconds:
                #expect(retryAfter == "1")
            case .httpDate:
                #expect(retryAfter == HTTPDate.format(Timestamp(millisecondsSince1970: ManualClock.start + 1000)))
            }
            // The bucket itself is unchanged: half a second later a token is back.
            clock.advance(milliseconds: 500)
            #expect(try await client.history(movieBody(tmdb: 3), bearer: token).status == 200)
            #expect(running.store.stats().rateLimited == 1)
        }
    }

    /// A client that is always shut down (AsyncHTTPClient insists).
    static func withClient<T: Sendable>(_ url: String, _ body: (SandboxClient) async throws -> T) async throws -> T {
        let client = SandboxClient(url: url)
        do {
            let result = try await body(client)
            try await client.http.shutdown()
            return result
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }

    /// What `serve` reported, for the test to look at.
    final class ServeLog: Sendable {
        let pauses = Mutex<[Double]>([])
        let closedDuringPause = Mutex<[Bool]>([])
        let firstPort = Mutex<Int?>(nil)
    }

    @Test("outageAfter: serve closes the listener, pauses, and listens again on the same port with the same store")
    func outage() async throws {
        let log = ServeLog()
        let (starts, startsContinuation) = AsyncStream.makeStream(of: (RunningSandbox, Bool).self)
        let (stopSignal, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(outageAfter: 2, outageFor: 2.5), logger: quietLogger)
        async let served: Void = sandbox.serve(
            listening: { running, isRestart in
                if !isRestart { log.firstPort.withLock { $0 = running.port } }
                startsContinuation.yield((running, isRestart))
            },
            pause: { seconds in
                // No sleeping: the pause only looks at the port while the server is away.
                let port = log.firstPort.withLock { $0 } ?? 0
                let listening = await isListening(port: port)
                log.closedDuringPause.withLock { $0.append(!listening) }
                log.pauses.withLock { $0.append(seconds) }
            },
            until: {
                for await _ in stopSignal { return }
            })

        var events = starts.makeAsyncIterator()
        let (first, firstIsRestart) = try #require(await events.next())
        #expect(!firstIsRestart)
        let token = try await Self.withClient(first.url) { client in
            let token = try #require(try await client.sessionToken(refreshToken: first.refreshToken))
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
            // The second history request brings the outage; it is still answered.
            #expect(try await client.history(movieBody(tmdb: 2), bearer: token).status == 200)
            return token
        }

        let (second, secondIsRestart) = try #require(await events.next())
        #expect(secondIsRestart)
        #expect(second.port == first.port)
        #expect(second.refreshToken == first.refreshToken)
        #expect(log.pauses.withLock { $0 } == [2.5])
        #expect(log.closedDuringPause.withLock { $0 } == [true])

        // A new client: the old one's connection went down with the first server.
        try await Self.withClient(second.url) { client async throws in
            // The session issued before the outage still works, and the plays are still there.
            #expect(try await client.history(movieBody(tmdb: 2), bearer: token).status == 200) // a repeat
            for n in 3...5 {
                #expect(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status == 200)
            }
        }
        let stats = sandbox.store.stats()
        #expect(stats.outages == 1)
        #expect(stats.requests == 6)
        #expect(stats.stored == 5)
        #expect(stats.repeats == 1)
        #expect(stats.tokensIssued == 1)
        #expect(stats.summary.hasSuffix("; outages 1"))
        // Once only: more requests past the count bring no second outage.
        #expect(log.pauses.withLock { $0.count } == 1)

        stopContinuation.finish()
        try await served
        startsContinuation.finish()
        #expect(await isListening(port: first.port) == false)
        #expect(await events.next() == nil)
    }

    @Test("a stop during the outage's pause ends serve without another server")
    func stopDuringPause() async throws {
        let (starts, startsContinuation) = AsyncStream.makeStream(of: RunningSandbox.self)
        let (pauses, pausesContinuation) = AsyncStream.makeStream(of: Void.self)
        let (stopSignal, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(outageAfter: 1, outageFor: 3600), logger: quietLogger)
        async let served: Void = sandbox.serve(
            listening: { running, _ in startsContinuation.yield(running) },
            pause: { _ in
                pausesContinuation.yield()
                // An hour-long outage that only cancellation ends (no sleeping).
                let (never, keep) = AsyncStream.makeStream(of: Void.self)
                for await _ in never {}
                keep.finish()
                try Task.checkCancellation()
            },
            until: {
                for await _ in stopSignal { return }
            })
        var startIterator = starts.makeAsyncIterator()
        let first = try #require(await startIterator.next())
        try await Self.withClient(first.url) { client async throws in
            let token = try #require(try await client.sessionToken(refreshToken: first.refreshToken))
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
        }
        var pauseIterator = pauses.makeAsyncIterator()
        #expect(await pauseIterator.next() != nil)
        #expect(await isListening(port: first.port) == false)
        stopContinuation.finish()
        try await served
        startsContinuation.finish()
        #expect(await startIterator.next() == nil) // no second server
        #expect(sandbox.store.stats().outages == 1)
        #expect(sandbox.store.stats().stored == 1)
    }

    @Test("without an outage, serve listens until stop returns")
    func serveWithoutOutage() async throws {
        let (starts, startsContinuation) = AsyncStream.makeStream(of: Int.self)
        let (stopSignal, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        async let served: Void = sandbox.serve(
            listening: { running, _ in startsContinuation.yield(running.port) },
            pause: { _ in Issue.record("no outage was configured") },
            until: {
                for await _ in stopSignal { return }
            })
        var ports = starts.makeAsyncIterator()
        let port = try #require(await ports.next())
        #expect(await isListening(port: port))
        stopContinuation.finish()
        try await served
        #expect(await isListening(port: port) == false)
        #expect(sandbox.store.stats().outages == 0)
    }

    @Test("serve throws when the server cannot start, and cancels the stop wait")
    func serveCannotStart() async throws {
        try await withSandbox(SandboxConfiguration()) { running, _ in
            let second = DiscovrSandbox(configuration: SandboxConfiguration(port: running.port), logger: quietLogger)
            let error = await #expect(throws: SandboxError.self) {
                try await second.serve(listening: { _, _ in }, until: {
                    // Never signalled: only cancellation ends it.
                    let (never, continuation) = AsyncStream.makeStream(of: Void.self)
                    for await _ in never { return }
                    continuation.finish()
                })
            }
            guard case .cannotStart = error else {
                Issue.record("expected cannotStart, got \(String(describing: error))")
                return
            }
        }
    }

    /// A configuration named by its knob (the test log would otherwise print its refresh token).
    struct Knob: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var configuration: SandboxConfiguration
    }

    @Test("new knobs out of range are refused before binding", arguments: [
        Knob(testDescription: "failBurst 0", configuration: SandboxConfiguration(failBurst: 0)),
        Knob(testDescription: "outageAfter 0", configuration: SandboxConfiguration(outageAfter: 0)),
        Knob(testDescription: "outageFor -1", configuration: SandboxConfiguration(outageAfter: 3, outageFor: -1)),
        Knob(testDescription: "outageFor infinity", configuration: SandboxConfiguration(outageFor: .infinity)),
    ])
    func invalidKnobs(_ knob: Knob) async throws {
        let sandbox = DiscovrSandbox(configuration: knob.configuration, logger: quietLogger)
        let error = await #expect(throws: SandboxError.self) {
            try await sandbox.run { _ in 0 }
        }
        guard case .invalidConfiguration = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
    }

    @Test("readFailRate: history reads fail with 500 or 503 on their own seeded draws; the POST faults stay the same")
    func readFailures() async throws {
        let count = 40
        func run(_ configuration: SandboxConfiguration) async throws -> (posts: [Int], reads: [Int], stats: SandboxStats) {
            try await withSandbox(configuration) { running, client in
                let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
                var posts: [Int] = [], reads: [Int] = []
                for n in 1...count {
                    posts.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status)
                    let read = try await client.get(DiscovrEndpoints.history + "/MV_TMDBID\(n)?limit=50", bearer: token)
                    reads.append(read.status)
                    if read.status >= 500 { #expect(read.object?["code"] as? String != nil, "\(read.body)") }
                }
                return (posts, reads, running.store.stats())
            }
        }
        let plain = try await run(SandboxConfiguration(failRate: 0.2, seed: 9))
        let faulty = try await run(SandboxConfiguration(failRate: 0.2, readFailRate: 0.5, seed: 9))
        #expect(plain.reads.allSatisfy { $0 == 200 })
        #expect(faulty.posts == plain.posts, "the reads' draws changed the POST faults")
        let failed = faulty.reads.filter { $0 >= 500 }.count
        #expect(Set(faulty.reads).isSubset(of: [200, 500, 503]))
        #expect(failed >= 8 && failed <= 32, "\(failed) of \(count) reads failed at p = 0.5")
        #expect(faulty.stats.readsFailed == failed && faulty.stats.reads == count)
        // A failed read changes nothing: what was stored is the same.
        #expect(faulty.stats.stored == plain.stats.stored)
    }
}
