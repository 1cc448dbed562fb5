import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("rate limiting")
struct RateLimitTests {
    @Test("beyond the bucket: 429 with Retry-After in seconds and RateLimit headers on every answer")
    func secondsForm() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(rateLimit: 2, now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let first = try await client.history(movieBody(tmdb: 1), bearer: token)
            #expect(first.status == 200)
            #expect(first.header("RateLimit-Limit") == "2")
            #expect(first.header("RateLimit-Remaining") == "1")
            #expect(first.header("RateLimit-Reset") == "1")
            #expect(first.header("Retry-After") == nil)
            let second = try await client.history(movieBody(tmdb: 2), bearer: token)
            #expect(second.status == 200)
            #expect(second.header("RateLimit-Remaining") == "0")
            let third = try await client.history(movieBody(tmdb: 3), bearer: token)
            #expect(third.status == 429)
            #expect(third.header("Retry-After") == "1")
            #expect(third.header("RateLimit-Limit") == "2")
            #expect(third.header("RateLimit-Remaining") == "0")
            #expect(third.header("RateLimit-Reset") == "1")
            #expect(third.message?.hasPrefix("rate limit exceeded") == true)
            // Half a second later one token is back (2 per second).
            clock.advance(milliseconds: 499)
            #expect(try await client.history(movieBody(tmdb: 3), bearer: token).status == 429)
            clock.advance(milliseconds: 1)
            #expect(try await client.history(movieBody(tmdb: 3), bearer: token).status == 200)
            // Even a refused token counts against the limit and carries the headers.
            let unauthorized = try await client.history(movieBody(tmdb: 4), bearer: "nope")
            #expect(unauthorized.status == 429)
            clock.advance(milliseconds: 500)
            let refused = try await client.history(movieBody(tmdb: 4), bearer: "nope")
            #expect(refused.status == 401)
            #expect(refused.header("RateLimit-Limit") == "2")
            let stats = running.store.stats()
            #expect(stats.rateLimited == 3)
            #expect(stats.stored == 3)
            #expect(running.store.storedItems().map(\.mediaId) == ["MV_TMDBID1", "MV_TMDBID2", "MV_TMDBID3"])
        }
    }

    @Test("Retry-After as an IMF-fixdate, never earlier than the wait")
    func httpDateForm() async throws {
        let clock = ManualClock()
        clock.advance(milliseconds: 250) // not on a whole second: the date must round up
        let configuration = SandboxConfiguration(rateLimit: 0.25, retryAfterForm: .httpDate, now: clock.closure)
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
            let limited = try await client.history(movieBody(tmdb: 2), bearer: token)
            #expect(limited.status == 429)
            let retryAfter = try #require(limited.header("Retry-After"))
            // One token per 4 s: due at start + 0.25 s + 4 s, rounded up to start + 5 s.
            #expect(retryAfter == HTTPDate.format(Timestamp(millisecondsSince1970: ManualClock.start + 5000)))
            #expect(retryAfter.hasSuffix(" GMT"))
            let hints = RateLimitHints(headers: limited.headers, now: clock.now)
            #expect(hints.retryAt?.millisecondsSince1970 == ManualClock.start + 5000)
            #expect(hints.limit == 1)
            #expect(hints.remaining == 0)
            clock.advance(milliseconds: 4000)
            #expect(try await client.history(movieBody(tmdb: 2), bearer: token).status == 200)
        }
    }

    @Test("a client sending at exactly the allowed rate is never refused", arguments: [0.5, 1, 5, 7.5])
    func exactRate(rate: Double) async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(rateLimit: rate, now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let intervalMs = Int64((1000 / rate).rounded(.up))
            for n in 1...30 {
                let answer = try await client.history(movieBody(tmdb: Int64(n)), bearer: token)
                #expect(answer.status == 200, "request \(n) at \(rate)/s")
                clock.advance(milliseconds: intervalMs)
            }
            #expect(running.store.stats().rateLimited == 0)
        }
    }

    @Test("a burst gets the bucket's capacity through, then one more per 1/rate seconds")
    func burst() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(rateLimit: 5, now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            var statuses: [Int] = []
            for n in 1...7 {
                statuses.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status)
            }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429])
            clock.advance(milliseconds: 200)
            #expect(try await client.history(movieBody(tmdb: 6), bearer: token).status == 200)
            #expect(try await client.history(movieBody(tmdb: 7), bearer: token).status == 429)
        }
    }
}
