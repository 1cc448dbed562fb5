import DiscovrAPI
import Synchronization
import Testing
@testable import Delivery

/// A refresh closure that hands out `jwt-1`, `jwt-2`, ... living `lifetimeMs` from the manual clock's now.
final class FakeExchange: Sendable {
    let clock: ManualClock
    let lifetimeMs: Int64
    private let issued = Mutex(0)
    private let failure = Mutex<DeliveryStop?>(nil)

    init(clock: ManualClock, lifetimeMs: Int64) {
        self.clock = clock
        self.lifetimeMs = lifetimeMs
    }

    var count: Int { issued.withLock { $0 } }

    func failNext(with error: DeliveryStop?) { failure.withLock { $0 = error } }

    var refresh: SessionTokens.Refresh {
        { [self] in
            if let error = failure.withLock({ value -> DeliveryStop? in defer { value = nil }; return value }) {
                throw error
            }
            let n = issued.withLock { $0 += 1; return $0 }
            return SessionToken(token: "jwt-\(n)", expiresAt: Timestamp(millisecondsSince1970: clock.nowMs + lifetimeMs))
        }
    }
}

@Suite struct SessionTokensTests {
    @Test func refreshesAheadOfExpiry() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        #expect(try await tokens.token() == "jwt-1")
        clock.advance(byMs: 600_000 - DiscovrEndpoints.refreshAhead - 1)
        #expect(try await tokens.token() == "jwt-1")
        clock.advance(byMs: 1)
        #expect(try await tokens.token() == "jwt-2")
        #expect(exchange.count == 2)
        #expect(await tokens.refreshes == 2)
    }

    @Test func aShortSessionIsRefreshedAtHalfItsLife() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 1_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        #expect(try await tokens.token() == "jwt-1")
        clock.advance(byMs: 499)
        #expect(try await tokens.token() == "jwt-1")
        clock.advance(byMs: 1)
        #expect(try await tokens.token() == "jwt-2")
    }

    @Test func refreshesOnUnauthorized() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        let first = try await tokens.token()
        try await tokens.invalidate(first)
        #expect(try await tokens.token() == "jwt-2")
        // A 401 for a token that was already replaced changes nothing.
        try await tokens.invalidate(first)
        #expect(try await tokens.token() == "jwt-2")
        #expect(exchange.count == 2)
    }

    @Test func aSecondUnauthorizedOnAFreshSessionIsForbidden() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        try await tokens.invalidate(try await tokens.token())
        let fresh = try await tokens.token()
        await #expect(throws: DeliveryStop.forbidden("a fresh session was refused (401 twice in a row)")) {
            try await tokens.invalidate(fresh)
        }
    }

    @Test func aSessionThatWorkedMayExpireAgain() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        try await tokens.invalidate(try await tokens.token())
        let fresh = try await tokens.token()
        await tokens.accepted(fresh)
        try await tokens.invalidate(fresh) // not forbidden: it was accepted before
        #expect(try await tokens.token() == "jwt-3")
    }

    @Test func theFirstSessionRefusedOnceIsNotForbidden() async throws {
        // The first session of a run was not fetched because of a 401: one 401 just refreshes it.
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        let first = try await tokens.token()
        try await tokens.invalidate(first)
        #expect(try await tokens.token() == "jwt-2")
    }

    @Test func aRefusedRefreshIsThrownAndTheNextCallTriesAgain() async throws {
        let clock = ManualClock()
        let exchange = FakeExchange(clock: clock, lifetimeMs: 600_000)
        let tokens = SessionTokens(now: clock.now, refresh: exchange.refresh)
        let refusal = IdentityRefusal(kind: .refreshTokenInvalid, status: 401, body: ErrorBody(message: "invalid refresh token"))
        exchange.failNext(with: .credentialsRefused(refusal))
        await #expect(throws: DeliveryStop.credentialsRefused(refusal)) {
            _ = try await tokens.token()
        }
        #expect(try await tokens.token() == "jwt-1")
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = ManualClock()
        let gate = AsyncStream<Void>.makeStream()
        let started = AsyncStream<Void>.makeStream()
        let calls = Mutex(0)
        let tokens = SessionTokens(now: clock.now) {
            calls.withLock { $0 += 1 }
            started.continuation.yield()
            var iterator = gate.stream.makeAsyncIterator()
            _ = await iterator.next()
            return SessionToken(token: "shared", expiresAt: Timestamp(millisecondsSince1970: clock.nowMs + 600_000))
        }
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask { try await tokens.token() }
            var startedIterator = started.stream.makeAsyncIterator()
            _ = await startedIterator.next() // the first refresh is running and held at the gate
            for _ in 0..<9 { group.addTask { try await tokens.token() } }
            var spins = 0
            while await tokens.waitingForRefresh < 9, spins < 100_000 {
                spins += 1
                await Task.yield()
            }
            #expect(await tokens.waitingForRefresh == 9)
            gate.continuation.finish()
            for try await token in group { #expect(token == "shared") }
        }
        #expect(calls.withLock { $0 } == 1)
    }
}
