import DiscovrAPI
import DiscovrSandbox
import Foundation
import Synchronization
import Testing

/// The list POSTs under the sandbox's knobs: which paths are served, the id forms, the fault knobs
/// (the same code path as history), and the test-only inspection and counts.
@Suite("list POSTs under the knobs", .timeLimit(.minutes(5)))
struct ListKnobTests {
    static let undocumented: [DiscovrList] = [.liked, .superLiked, .watchlist]

    @Test("listPaths documented: liked, super_liked and watchlist answer 404 exactly as an unknown route; disliked works")
    func documentedOnly() async throws {
        var configuration = SandboxConfiguration()
        configuration.listPaths = .documented
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let unknownRoute = try await client.post("/profile/nowhere", bearer: token, body: #"{"mediaId":"MV_550"}"#)
            #expect(unknownRoute.status == 404)
            for list in Self.undocumented {
                for bearer in [token, nil] {
                    let answer = try await client.list(list, "MV_550", bearer: bearer)
                    #expect(answer.status == 404, "\(list): \(answer.body)")
                    #expect(answer.body == unknownRoute.body)
                    #expect(answer.header("Content-Type") == unknownRoute.header("Content-Type"))
                }
            }
            let disliked = try await client.list(.disliked, "MV_550", bearer: token)
            #expect(disliked.status == 200)
            #expect(ListAnswer.fields(disliked.body).added == "disliked")
            #expect(try await client.lists() == ListAnswer.only(.disliked, ["MV_TMDBID550"]))
            let stats = running.store.stats().lists
            #expect(stats.requests == 7 && stats.notServed == 6 && stats.stored == 1 && stats.unauthorized == 0)
        }
    }

    @Test("listPaths documented-405: liked, super_liked and watchlist answer 405 with Allow; disliked works")
    func documentedWith405() async throws {
        var configuration = SandboxConfiguration()
        configuration.listPaths = .documentedWith405
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for list in Self.undocumented {
                let answer = try await client.list(list, "MV_550", bearer: token)
                #expect(answer.status == 405, "\(list): \(answer.body)")
                #expect(answer.header("Allow") != nil)
                #expect(answer.code == "METHOD_NOT_ALLOWED")
                #expect(answer.message?.contains(list.path) == true)
            }
            #expect(try await client.list(.disliked, "TV_1396", bearer: token).status == 200)
            #expect(try await client.lists() == ListAnswer.only(.disliked, ["TV_TMDBID1396"]))
            let stats = running.store.stats().lists
            #expect(stats.requests == 4 && stats.notServed == 3 && stats.stored == 1)
        }
    }

    @Test("a path taken away is not a write: the hostile knobs and the rate limit leave it alone")
    func takenAwayPathsAreNotWrites() async throws {
        let clock = ManualClock()
        var configuration = SandboxConfiguration(rateLimit: 1, now: clock.closure)
        configuration.listPaths = .documented
        configuration.hostile = HostileKnobs(retryAfter: "7")
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.list(.liked, "MV_550", bearer: token).status == 404)
            let disliked = try await client.list(.disliked, "MV_550", bearer: token)
            #expect(disliked.status == 429 && disliked.header("Retry-After") == "7")
            #expect(try await client.lists() == ListAnswer.empty)
        }
    }

    @Test("--media-id-form: a list POST in a refused form answers 400 and says so; the taken form works",
          arguments: ReadHistoryTests.formCases)
    func mediaIdForm(_ example: ReadHistoryTests.FormCase) async throws {
        try await withSandbox(SandboxConfiguration(mediaIDForms: example.accepted)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let id = MediaID.show(1396).rawValue(in: example.sent)
            for list in DiscovrList.allCases {
                let answer = try await client.list(list, id, bearer: token)
                if example.takes {
                    #expect(answer.status == 200, "\(list): \(answer.body)")
                } else {
                    #expect(answer.status == 400, "\(list): \(answer.body)")
                    #expect(answer.code == "BAD_REQUEST")
                    #expect(answer.message?.contains("\(example.sent.rawValue) form") == true, "got \(answer.body)")
                    #expect(answer.message?.contains(MediaID.show(1396).rawValue(in: example.sent.other)) == true)
                }
            }
            let lists = try await client.lists()
            let stats = running.store.stats().lists
            if example.takes {
                // The three exclusive lists took turns; the watchlist holds it too.
                var expected = ListAnswer.empty
                expected["disliked"] = ["TV_TMDBID1396"]
                expected["watchlist"] = ["TV_TMDBID1396"]
                #expect(lists == expected)
                #expect(stats.stored == 4 && stats.moved == 2 && stats.invalid == 0)
            } else {
                #expect(lists == ListAnswer.empty)
                #expect(stats.invalid == 4 && stats.stored == 0)
            }
        }
    }

    // MARK: Faults: the history POST's, on the same code path

    @Test("dropRate 1: the list write is stored, then the answer is lost; the re-send is a no-change success")
    func lostAnswerAfterStore() async throws {
        try await withSandbox(SandboxConfiguration(dropRate: 1)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            await #expect(throws: (any Error).self) {
                _ = try await client.list(.liked, "MV_550", bearer: token)
            }
            #expect(try await client.lists() == ListAnswer.only(.liked, ["MV_TMDBID550"]))
            await #expect(throws: (any Error).self) {
                _ = try await client.list(.liked, "MV_550", bearer: token)
            }
            let stats = running.store.stats()
            #expect(stats.lists.dropped == 2 && stats.lists.stored == 1 && stats.lists.unchanged == 1 && stats.lists.requests == 2)
            // History's counts are its own.
            #expect(stats.requests == 0 && stats.dropped == 0)
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test("dropBeforeStoreRate 1: the connection closes and nothing is written")
    func lostBeforeStore() async throws {
        var configuration = SandboxConfiguration()
        configuration.dropBeforeStoreRate = 1
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            await #expect(throws: (any Error).self) {
                _ = try await client.list(.watchlist, "MV_550", bearer: token)
            }
            #expect(try await client.lists() == ListAnswer.empty)
            let stats = running.store.stats().lists
            #expect(stats.droppedBeforeStore == 1 && stats.stored == 0 && stats.requests == 1)
        }
    }

    @Test("failRate 1: 500 or 503, nothing written; slowRate 1: written, answered late")
    func failAndSlow() async throws {
        try await withSandbox(SandboxConfiguration(failRate: 1)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for list in DiscovrList.allCases {
                let answer = try await client.list(list, "MV_550", bearer: token)
                #expect([500, 503].contains(answer.status) && answer.code == "SERVER_ERROR")
            }
            #expect(try await client.lists() == ListAnswer.empty)
            #expect(running.store.stats().lists.failed == 4)
        }
        try await withSandbox(SandboxConfiguration(slowRate: 1, slowDelay: 0.05)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.list(.disliked, "MV_550", bearer: token).status == 200)
            #expect(running.store.stats().lists.slow == 1 && running.store.stats().lists.stored == 1)
        }
    }

    @Test("the rate limit is one bucket for history and lists, with the same headers")
    func sharedRateLimit() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(rateLimit: 1, now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(movieBody(), bearer: token).status == 200)
            let limited = try await client.list(.disliked, "MV_550", bearer: token)
            #expect(limited.status == 429 && limited.header("Retry-After") == "1" && limited.code == "RATE_LIMITED")
            clock.advance(milliseconds: 1000)
            let answer = try await client.list(.disliked, "MV_550", bearer: token)
            #expect(answer.status == 200 && answer.header("RateLimit-Limit") == "1" && answer.header("RateLimit-Remaining") == "0")
            let stats = running.store.stats()
            #expect(stats.lists.rateLimited == 1 && stats.lists.stored == 1 && stats.rateLimited == 0 && stats.stored == 1)
        }
    }

    @Test("the hostile knobs of the history POST apply to list POSTs")
    func hostile() async throws {
        var configuration = SandboxConfiguration()
        configuration.hostile = HostileKnobs(retryAfter: "1e20")
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.list(.liked, "MV_550", bearer: token)
            #expect(answer.status == 429 && answer.header("Retry-After") == "1e20")
            #expect(try await client.lists() == ListAnswer.empty)
            #expect(running.store.stats().lists.rateLimited == 1 && running.store.stats().rateLimited == 0)
        }
        configuration.hostile = HostileKnobs(rateLimitReset: "1e20", redirectTo: nil, bodyBytes: 1000)
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.list(.watchlist, "MV_550", bearer: token)
            #expect(answer.status == 200 && answer.body.utf8.count == 1000 && answer.header("RateLimit-Reset") == "1e20")
            #expect(try await client.lists() == ListAnswer.only(.watchlist, ["MV_TMDBID550"]))
        }
        // The test client follows redirects: to the sandbox's own /health.
        configuration.hostile = HostileKnobs(redirectTo: "/health")
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.list(.disliked, "MV_550", bearer: token)
            #expect(answer.status == 200 && answer.message == "ok")
            #expect(try await client.lists() == ListAnswer.empty)
            #expect(running.store.stats().lists.requests == 1 && running.store.stats().lists.stored == 0)
        }
    }

    @Test("the list writes draw their faults from a generator of their own: the same seed, the same list faults, with or without plays between")
    func seededApartFromHistory() async throws {
        @Sendable func statuses(seed: UInt64, withPlays: Bool) async throws -> (lists: [Int], history: [Int]) {
            try await withSandbox(SandboxConfiguration(failRate: 0.4, seed: seed)) { running, client in
                let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
                var lists: [Int] = [], history: [Int] = []
                for n in 1...24 {
                    if withPlays { history.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status) }
                    lists.append(try await client.list(.watchlist, "MV_\(n)", bearer: token).status)
                }
                return (lists, history)
            }
        }
        let alone = try await statuses(seed: 7, withPlays: false)
        let mixed = try await statuses(seed: 7, withPlays: true)
        #expect(alone.lists == mixed.lists)
        #expect(alone.lists.contains(200) && alone.lists.contains { $0 >= 500 })
        // The plays get the draws a run without lists would give them.
        let playsAlone = try await FaultKnobTests.statuses(SandboxConfiguration(failRate: 0.4, seed: 7), count: 24).statuses
        #expect(mixed.history == playsAlone)
        // And the list stream is not the history stream.
        #expect(alone.lists != playsAlone)
    }

    @Test("outageAfter counts list writes too")
    func outageCountsListWrites() async throws {
        let pauses = Mutex(0)
        let (starts, startsContinuation) = AsyncStream.makeStream(of: (RunningSandbox, Bool).self)
        let (stopSignal, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(outageAfter: 2, outageFor: 1), logger: quietLogger)
        async let served: Void = sandbox.serve(
            listening: { running, isRestart in startsContinuation.yield((running, isRestart)) },
            pause: { _ in pauses.withLock { $0 += 1 } },
            until: { for await _ in stopSignal { return } })
        var events = starts.makeAsyncIterator()
        let (first, _) = try #require(await events.next())
        try await FaultKnobTests.withClient(first.url) { client in
            let token = try #require(try await client.sessionToken(refreshToken: first.refreshToken))
            #expect(try await client.list(.disliked, "MV_1", bearer: token).status == 200)
            #expect(try await client.list(.watchlist, "MV_1", bearer: token).status == 200)
        }
        // Polled, so that an outage that never comes fails the test instead of hanging it.
        var fired = false
        for _ in 0..<1000 where !fired {
            fired = sandbox.store.stats().outages == 1
            if !fired { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(fired, "the second list write did not bring the outage")
        if fired {
            let (_, isRestart) = try #require(await events.next())
            #expect(isRestart)
            #expect(pauses.withLock { $0 } == 1)
        }
        stopContinuation.finish()
        try await served
        startsContinuation.finish()
    }

    // MARK: Inspection and counts

    @Test("/_sandbox/lists: exactly the four lists, sorted keys; the first profile by default; an unknown profile is 400")
    func inspection() async throws {
        try await withSandbox(SandboxConfiguration(profiles: 2)) { running, client in
            let empty = try await client.get("/_sandbox/lists")
            #expect(empty.status == 200)
            #expect(empty.body == #"{"disliked":[],"liked":[],"super_liked":[],"watchlist":[]}"#)
            let main = running.profiles[0].id
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: main))
            #expect(try await client.list(.liked, "TV_1396", bearer: token).status == 200)
            #expect(try await client.list(.liked, "MV_TMDBID550", bearer: token).status == 200)
            let served = try await client.get("/_sandbox/lists?profileId=" + main)
            #expect(served.body == #"{"disliked":[],"liked":["MV_TMDBID550","TV_TMDBID1396"],"super_liked":[],"watchlist":[]}"#)
            #expect(try await client.get("/_sandbox/lists").body == served.body)
            #expect(try JSONDecoder().decode(ProfileLists.self, from: Data(served.body.utf8))
                == ProfileLists(liked: ["MV_TMDBID550", "TV_TMDBID1396"]))
            #expect(running.store.lists(profileId: main)[.liked] == ["MV_TMDBID550", "TV_TMDBID1396"])
            let unknown = try await client.get("/_sandbox/lists?profileId=profile_nobody")
            #expect(unknown.status == 400 && unknown.code == "PROFILE_NOT_FOUND")
        }
    }

    @Test("the list counts add up, apart from history's, and /_sandbox/stats serves them")
    func countsAddUp() async throws {
        let clock = ManualClock()
        var configuration = SandboxConfiguration(rateLimit: 6, now: clock.closure)
        configuration.listPaths = .documented
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.list(.disliked, "MV_550", bearer: token).status == 200)
            #expect(try await client.list(.disliked, "MV_550", bearer: token).status == 200)
            #expect(try await client.list(.disliked, "MV_5", bearer: nil).status == 401)
            #expect(try await client.list(.disliked, "5", bearer: token).status == 400)
            #expect(try await client.list(.liked, "MV_5", bearer: token).status == 404)
            #expect(try await client.list(.disliked, "MV_5", bearer: token).status == 200)
            #expect(try await client.list(.disliked, "MV_6", bearer: token).status == 200)
            #expect(try await client.list(.disliked, "MV_7", bearer: token).status == 429)
            var expected = ListWriteStats()
            expected.requests = 8
            expected.stored = 3
            expected.unchanged = 1
            expected.unauthorized = 1
            expected.invalid = 1
            expected.notServed = 1
            expected.rateLimited = 1
            let stats = running.store.stats()
            #expect(stats.lists == expected)
            let l = stats.lists
            #expect(l.requests == l.stored + l.unchanged + l.rateLimited + l.failed + l.unauthorized + l.invalid
                + l.droppedBeforeStore + l.notServed)
            #expect(stats.requests == 0 && stats.invalid == 0 && stats.unauthorized == 0)
            let served = try await client.get("/_sandbox/stats")
            #expect(try JSONDecoder().decode(SandboxStats.self, from: Data(served.body.utf8)) == stats)
            #expect(stats.summary.hasSuffix("; lists 8: stored 3 (moved 0), unchanged 1, 429 1, 5xx 0, 401 1, invalid 1, not served 1 (dropped 0, slow 0)"))
        }
    }
}
