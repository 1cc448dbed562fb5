import DiscovrAPI
import Foundation
import Testing
@testable import ImportQueue

/// Figures for docs/performance.md, not a pass/fail test: runs only with T2D_BENCH=1, e.g.
/// `T2D_BENCH=1 swift test -c debug --filter QueueBenchmark` (add `-c release` for release figures).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["T2D_BENCH"] == "1", "set T2D_BENCH=1 to run"))
struct QueueBenchmark {
    /// Episode plays shaped like the planner's: ~10% rewatches of a key, 1% unknown dates, shuffled dates.
    static func plannedEntries(_ count: Int, seed: UInt64) -> [QueueEntry] {
        var state = seed
        func next() -> UInt64 {  // splitmix64: reproducible without Foundation randomness
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<count).map { n in
            let show = 1_000 + Int(next() % 50_000), season = 1 + Int(next() % 8), episode = 1 + Int(next() % 20)
            // Dates distinct per play (n in the milliseconds), so play keys are distinct.
            let at: Int64? = next() % 100 == 0 ? nil : 1_262_304_000_000 + Int64(next() % 470_000_000) * 1_000 + Int64(n % 1_000)
            let play = HistoryItem(mediaId: .show(Int64(show)), season: season, episode: episode,
                                   updatedAt: at.map(Timestamp.init(millisecondsSince1970:)))
            return QueueEntry(play: play, title: "Show \(show) S\(season)E\(episode)")
        }
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func report(_ line: String) {
        print("[queue-bench] " + line)
    }

    @Test func enqueue200k() throws {
        try withTemporaryFolder { folder throws in
            let queue = try ImportQueue.open(path: folder + "/bench.sqlite")
            defer { queue.close() }
            let entries = Self.plannedEntries(200_000, seed: 7)
            let first = try Self.seconds { () throws in #expect(try queue.enqueue(entries).added == 200_000) }
            let again = try Self.seconds { () throws in #expect(try queue.enqueue(entries).added == 0) }
            Self.report(String(format: "enqueue 200,000 new: %.2f s; the same again (all already queued): %.2f s", first, again))
        }
    }

    @Test func claimAndSettleInAMillionRowQueue() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/bench.sqlite"
            var queue = try ImportQueue.open(path: path)
            let entries = Self.plannedEntries(1_000_000, seed: 42)
            let enqueue = try Self.seconds { () throws in #expect(try queue.enqueue(entries).added == 1_000_000) }
            Self.report(String(format: "enqueue 1,000,000 in one transaction: %.2f s", enqueue))

            for plan in try queue.inspectionRows("EXPLAIN QUERY PLAN " + ImportQueue.claimSQL, arguments: [0, 4])
                + queue.inspectionRows("EXPLAIN QUERY PLAN " + ImportQueue.nextReadySQL) {
                Self.report("plan: " + (plan.last.flatMap { $0 } ?? ""))
            }

            // The driver's steady state: claim a few, settle each.
            let rounds = 5_000
            var settled = 0
            let steady = try Self.seconds { () throws in
                for round in 0..<rounds {
                    for item in try queue.claim(max: 4, nowMs: 0) {
                        if round % 50 == 0 {
                            try queue.markRetry(id: item.id, status: 503, message: "busy", notBeforeMs: 0, countAttempt: true)
                        } else {
                            try queue.markDelivered(id: item.id, status: 200, message: "ok", added: nil, removed: nil)
                        }
                        settled += 1
                    }
                }
            }
            Self.report(String(format: "%d claims of 4 + %d settles: %.2f s (%.2f ms per claim+4 settles)",
                               rounds, settled, steady, steady * 1000 / Double(rounds)))

            // A worst case: the first 2,000 items in send order backed off (a long outage).
            let backedOff = try queue.claim(max: 2_000, nowMs: 0)
            for item in backedOff {
                try queue.markRetry(id: item.id, status: nil, message: "refused", notBeforeMs: 10_000, countAttempt: true)
            }
            let blockedClaim = try Self.seconds { () throws in for _ in 0..<100 { _ = try queue.release(ids: try queue.claim(max: 4, nowMs: 0).map(\.id)) } }
            Self.report(String(format: "claim of 4 behind 2,000 backed-off items: %.2f ms", blockedClaim * 10))

            var ready: Int64?
            let nextReady = try Self.seconds { () throws in for _ in 0..<100 { ready = try queue.nextReadyAt() } }
            Self.report(String(format: "nextReadyAt: %.3f ms", nextReady * 10) + " (answer \(String(describing: ready)))")
            var counts = StateCounts()
            let countTime = try Self.seconds { () throws in for _ in 0..<100 { counts = try queue.counts() } }
            Self.report(String(format: "counts: %.3f ms", countTime * 10) + " (\(counts))")

            // Leave some in flight, then reopen as after a crash.
            _ = try queue.claim(max: 4, nowMs: 100_000)
            queue.close()
            var recovered = 0
            let reopen = try Self.seconds { () throws in
                queue = try ImportQueue.open(path: path)
                recovered = queue.recoveredInFlight
            }
            defer { queue.close() }
            Self.report(String(format: "reopen of the 1,000,000-row file with %d in flight recovered: %.3f s", recovered, reopen))
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            Self.report("state file size: \(size / 1_048_576) MiB")
        }
    }
}
