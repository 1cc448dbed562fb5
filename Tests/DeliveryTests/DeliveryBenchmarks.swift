import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportQueue
import Testing
@testable import Delivery

/// Throughput figures, not assertions about time: run with `T2D_BENCH=1 swift test --filter DeliveryBenchmarks`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["T2D_BENCH"] == "1", "set T2D_BENCH=1 to measure"))
struct DeliveryBenchmarks {
    private static func measure(items: Int, sandbox configuration: SandboxConfiguration, rate: Double, concurrency: Int)
        async throws -> (seconds: Double, result: DeliveryResult, stats: SandboxStats) {
        let entries = makeEntries(items)
        return try await DeliveryDriverTests.withFilledQueue(entries) { queue in
            try await DiscovrSandbox(configuration: configuration, logger: quietLogger).run { running in
                let settings = DeliverySettings(baseURL: running.url, refreshToken: running.refreshToken, rate: rate,
                                                concurrency: concurrency, requestTimeout: 30, unreachableAfter: 30)
                let clock = ContinuousClock()
                let start = clock.now
                let result = await DeliveryDriverTests.deliver(queue, settings)
                let elapsed = start.duration(to: clock.now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                #expect(result.stop == .finished)
                #expect(result.counts.delivered == items)
                DeliveryDriverTests.expectStoredExactlyOnce(entries, running.store)
                return (seconds, result, running.store.stats())
            }
        }
    }

    @Test func unlimitedThroughput() async throws {
        let n = 5_000
        let (seconds, result, _) = try await Self.measure(items: n, sandbox: SandboxConfiguration(), rate: 100_000, concurrency: 8)
        print(String(format: "BENCH unlimited: %d items, concurrency 8, rate 100000: %.2f s, %.0f items/s (sent %d)",
                     n, seconds, Double(n) / seconds, result.sent))
    }

    @Test func pacedAgainstTheServersLimit() async throws {
        let n = 500, r = 50.0
        let (seconds, result, stats) = try await Self.measure(items: n, sandbox: SandboxConfiguration(rateLimit: r), rate: r, concurrency: 4)
        let share = Double(stats.rateLimited) / Double(max(1, stats.requests))
        print(String(format: "BENCH paced: %d items, sandbox limit %.0f/s, --rate %.0f: %.2f s (N/R = %.2f s), 429s %d of %d requests (%.2f %%)",
                     n, r, r, seconds, Double(n) / r, stats.rateLimited, stats.requests, share * 100))
        #expect(result.rateLimited == stats.rateLimited)
    }
}
