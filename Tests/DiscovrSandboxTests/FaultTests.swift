import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("fault knobs", .timeLimit(.minutes(5)))
struct FaultTests {
    @Test("failRate 1 answers 500 or 503 and stores nothing")
    func failAll() async throws {
        try await withSandbox(SandboxConfiguration(failRate: 1)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            var statuses = Set<Int>()
            for n in 1...20 {
                statuses.insert(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status)
            }
            #expect(statuses.isSubset(of: [500, 503]))
            #expect(!statuses.isEmpty)
            #expect(running.store.storedItems().isEmpty)
            let stats = running.store.stats()
            #expect(stats.failed == 20)
            #expect(stats.stored == 0)
        }
    }

    @Test("the same seed gives the same faults in the same order")
    func seeded() async throws {
        @Sendable func statuses(seed: UInt64) async throws -> [Int] {
            try await withSandbox(SandboxConfiguration(failRate: 0.5, seed: seed)) { running, client in
                let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
                var out: [Int] = []
                for n in 1...24 {
                    out.append(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status)
                }
                return out
            }
        }
        let first = try await statuses(seed: 7)
        let second = try await statuses(seed: 7)
        #expect(first == second)
        #expect(first.contains(200))
        #expect(first.contains { $0 >= 500 })
    }

    @Test("dropRate 1 stores the play and closes the connection without an answer")
    func dropAll() async throws {
        try await withSandbox(SandboxConfiguration(dropRate: 1)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            await #expect(throws: (any Error).self) {
                _ = try await client.history(episodeBody(), bearer: token)
            }
            #expect(running.store.storedItems().count == 1)
            // Sending it again appends a second entry, a repeat (and that answer is lost too).
            await #expect(throws: (any Error).self) {
                _ = try await client.history(episodeBody(), bearer: token)
            }
            let stats = running.store.stats()
            #expect(stats.dropped == 2)
            #expect(stats.stored == 1)
            #expect(stats.repeats == 1)
            #expect(running.store.storedItems().count == 2)
            // The server itself is fine.
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test("dropBeforeStoreRate 1 closes the connection without an answer and stores nothing")
    func dropBeforeStoringAll() async throws {
        var configuration = SandboxConfiguration()
        configuration.dropBeforeStoreRate = 1
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for _ in 1...2 {
                await #expect(throws: (any Error).self) {
                    _ = try await client.history(episodeBody(), bearer: token)
                }
            }
            #expect(running.store.storedItems().isEmpty)
            let stats = running.store.stats()
            #expect(stats.droppedBeforeStore == 2 && stats.requests == 2)
            #expect(stats.stored == 0 && stats.repeats == 0 && stats.dropped == 0 && stats.failed == 0)
            #expect(stats.summary.contains("dropped before storing 2"))
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test("dropBeforeStoreRate: a share of the requests is lost unstored, the others are stored")
    func dropBeforeStoringSome() async throws {
        var configuration = SandboxConfiguration(seed: 7)
        configuration.dropBeforeStoreRate = 0.3
        try await withSandbox(configuration) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            var lost = 0
            for n in 1...60 {
                do {
                    _ = try await client.history(movieBody(tmdb: Int64(n)), bearer: token)
                } catch {
                    lost += 1
                }
            }
            let stats = running.store.stats()
            #expect(stats.droppedBeforeStore == lost && lost > 5 && lost < 35, "\(stats.summary)")
            #expect(stats.stored == 60 - lost && running.store.storedItems().count == 60 - lost)
        }
    }

    @Test("slowRate 1 stores and answers after slowDelay")
    func slowAll() async throws {
        try await withSandbox(SandboxConfiguration(slowRate: 1, slowDelay: 0.05)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(movieBody(), bearer: token).status == 200)
            #expect(try await client.history(movieBody(), bearer: token).status == 200)
            let stats = running.store.stats()
            #expect(stats.slow == 2)
            #expect(stats.stored == 1 && stats.repeats == 1)
        }
    }
}
