import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("server lifecycle and stats", .timeLimit(.minutes(5)))
struct LifecycleTests {
    @Test("a second run on the same store, on the same port, keeps items, counts and sessions")
    func restartKeepsStore() async throws {
        let store = SandboxStore()
        let configuration = SandboxConfiguration(refreshToken: "rt_0123456789abcdef0123456789abcdef")
        let (port, token) = try await withSandbox(configuration, store: store) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(episodeBody(), bearer: token).status == 200)
            return (running.port, token)
        }
        // The server is gone: nothing listens on its port.
        #expect(await isListening(port: port) == false)

        var again = configuration
        again.port = port
        try await withSandbox(again, store: store) { running, client async throws in
            #expect(running.port == port)
            #expect(await isListening(port: port))
            #expect(running.store.storedItems().count == 1)
            // The session issued before the outage is still good, and the play is still there:
            // sending it again is a repeat (appended).
            #expect(try await client.history(episodeBody(), bearer: token).status == 200)
            #expect(running.store.stats().repeats == 1)
            #expect(try await client.history(episodeBody(episode: 6), bearer: token).status == 200)
        }
        #expect(store.storedItems().map(\.episode) == [5, 5, 6])
        #expect(store.stats().requests == 3)
        #expect(store.stats().tokensIssued == 1)
    }

    @Test("the same sandbox instance can run twice in a row")
    func runTwice() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        for _ in 0..<2 {
            let status = try await sandbox.run { running in
                let client = SandboxClient(url: running.url)
                let answer = try? await client.get("/health")
                try await client.http.shutdown()
                return answer?.status
            }
            #expect(status == 200)
        }
    }

    struct BodyFailure: Error, Equatable {}

    @Test("an error thrown by the body stops the server and reaches the caller")
    func bodyThrows() async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        await #expect(throws: BodyFailure()) {
            try await sandbox.run { running -> Int in
                continuation.yield(running.port)
                #expect(await isListening(port: running.port))
                throw BodyFailure()
            }
        }
        continuation.finish()
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        #expect(await isListening(port: port) == false)
    }

    @Test("stats add up, and /_sandbox/stats serves the same counts")
    func statsAddUp() async throws {
        let clock = ManualClock()
        let configuration = SandboxConfiguration(rateLimit: 4, now: clock.closure)
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.sessionToken(refreshToken: "rt_wrong", body: "{}") == nil)
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
            #expect(try await client.history(#"{"mediaId":"603"}"#, bearer: token).status == 400)
            #expect(try await client.history(movieBody(tmdb: 2), bearer: nil).status == 401)
            #expect(try await client.history(movieBody(tmdb: 2), bearer: token).status == 429)
            clock.advance(milliseconds: 250)
            #expect(try await client.history("[]", bearer: token).status == 422)

            let stats = running.store.stats()
            // Reads share the rate limit but have their own counts.
            clock.advance(milliseconds: 250)
            #expect(try await client.get(DiscovrEndpoints.history, bearer: token).status == 200)
            #expect(try await client.get(DiscovrEndpoints.history, bearer: token).status == 429)
            var expected = SandboxStats()
            expected.requests = 6
            expected.stored = 1
            expected.repeats = 1
            expected.rateLimited = 1
            expected.unauthorized = 1
            expected.invalid = 2
            expected.tokensIssued = 1
            expected.tokensRefused = 1
            #expect(stats == expected)
            #expect(stats.requests == stats.stored + stats.repeats + stats.rateLimited + stats.failed
                + stats.unauthorized + stats.invalid)
            let now = running.store.stats()
            #expect(now.reads == 2 && now.readsRateLimited == 1)
            let served = try await client.get("/_sandbox/stats")
            #expect(served.status == 200)
            #expect(try JSONDecoder().decode(SandboxStats.self, from: Data(served.body.utf8)) == now)
            // The old name is served too, for tests written before history appended.
            #expect(served.object?["repeats"] as? Int == 1 && served.object?["repeats"] as? Int == 1)
            #expect(stats.summary.hasPrefix("requests 6: stored 1, repeats 1, 429 1"))
        }
    }

    @Test("health answers 200 and unknown paths 404")
    func health() async throws {
        try await withSandbox(SandboxConfiguration()) { _, client async throws in
            #expect(try await client.get("/health").status == 200)
            #expect(try await client.get("/nowhere").status == 404)
        }
    }

    @Test("a configuration it cannot use is refused before binding", arguments: [
        SandboxConfiguration(port: 70_000),
        SandboxConfiguration(tokenTTL: 0),
        SandboxConfiguration(rateLimit: 0),
        SandboxConfiguration(failRate: 1.5),
        SandboxConfiguration(slowDelay: -1),
    ])
    func invalidConfiguration(_ configuration: SandboxConfiguration) async throws {
        let sandbox = DiscovrSandbox(configuration: configuration, logger: quietLogger)
        let error = await #expect(throws: SandboxError.self) {
            try await sandbox.run { _ in 0 }
        }
        guard case .invalidConfiguration = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
    }

    @Test("a port already taken gives cannotStart")
    func portInUse() async throws {
        try await withSandbox(SandboxConfiguration()) { running, _ in
            let second = DiscovrSandbox(configuration: SandboxConfiguration(port: running.port), logger: quietLogger)
            let error = await #expect(throws: SandboxError.self) {
                try await second.run { _ in 0 }
            }
            guard case .cannotStart(_, let port, _) = error else {
                Issue.record("expected cannotStart, got \(String(describing: error))")
                return
            }
            #expect(port == running.port)
        }
    }

    @Test("cancelling the task that runs the sandbox stops the server")
    func cancellation() async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        let task = Task {
            try await sandbox.run { running in
                continuation.yield(running.port)
                // Waits for the cancellation, which ends this at once.
                try await Task.sleep(for: .seconds(3600))
            }
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        task.cancel()
        await #expect(throws: CancellationError.self) {
            try await task.value
        }
        #expect(await isListening(port: port) == false)
    }
}
