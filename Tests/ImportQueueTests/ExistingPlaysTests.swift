import Foundation
import Testing
@testable import ImportQueue

/// The queue's side of the existing-history check: which plays it holds, and marking the ones a
/// profile already has, all in one transaction.
@Suite struct ExistingPlaysTests {
    @Test func heldPlaysAnswersForEveryStateAndIgnoresUnknownKeys() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let claimed = try queue.claim(max: 1, nowMs: 0)
            try queue.markDelivered(id: claimed[0].id, status: 200, message: nil, added: nil, removed: nil)
            #expect(try queue.heldPlays(["a@1", "b@2", "c@3", "d@4", "a@2", "a@1"].map(realKey)) == Set(["a@1", "b@2", "c@3"].map(realKey)))
            #expect(try queue.heldPlays([]) == [])
        }
    }

    @Test func marksOnlyPendingPlaysAsAlreadyPresentAndWritesTheRecordWithTheCount() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3), entry("d", 4), entry("e", 5)])
            // a delivered, b failed, c-e pending.
            let first = try queue.claim(max: 2, nowMs: 0)
            try queue.markDelivered(id: first[0].id, status: 200, message: "ok", added: nil, removed: nil)
            try queue.markFailed(id: first[1].id, status: 422, message: "invalid")
            let marked = try queue.markAlreadyPresent(playKeys: ["a@1", "b@2", "c@3", "e@5", "zz@9", "c@3"].map(realKey),
                                                      meta: ("checked", { "found \($0)" }))
            #expect(marked == 2)
            #expect(try queue.counts() == StateCounts(pending: 1, delivered: 3, alreadyPresent: 2, failed: 1))
            #expect(try queue.meta("checked") == "found 2")
            let rows = try queue.inspectionRows("SELECT play_key, state, already_present, attempts, last_message FROM item ORDER BY id")
            #expect(rows == [
                [realKey("a@1"), "delivered", "0", "1", "ok"],
                [realKey("b@2"), "failed", "0", "1", "invalid"],
                [realKey("c@3"), "delivered", "1", "0", ImportQueue.foundInProfileMessage],
                [realKey("d@4"), "pending", "0", "0", nil],
                [realKey("e@5"), "delivered", "1", "0", ImportQueue.foundInProfileMessage],
            ])
            // Marked plays are settled: never claimed again.
            #expect(try queue.claim(max: 10, nowMs: 0).playKeys == ["d@4"])
        }
    }

    /// A later play of a key waits for the earlier one; once the earlier one is found in the profile,
    /// the later one may go.
    @Test func aPlayFoundInTheProfileNoLongerHoldsBackTheNextPlayOfItsKey() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("k", 1), entry("k", 2)])
            _ = try queue.markAlreadyPresent(playKeys: [realKey("k@1")], meta: nil)
            #expect(try queue.nextReadyAt() == 0)
            #expect(try queue.claim(max: 10, nowMs: 0).playKeys == ["k@2"])
        }
    }

    /// The marks and the record are one transaction: when the record cannot be written (the disk is
    /// full), no play is marked either, so the next run checks again and nothing is half done.
    @Test func aFailedRecordLeavesNoPlayMarked() throws {
        try withNewQueue { queue, _ throws in
            let keys = (0..<500).map { realKey("k\($0)@\($0)") }
            _ = try queue.enqueue((0..<500).map { entry("k\($0)", Int64($0)) })
            let pages = try #require(try queue.inspectionRows("PRAGMA page_count").first?.first ?? nil)
            try queue.inspectionExecute("PRAGMA max_page_count = \(pages)")
            let huge = String(repeating: "x", count: 4_000_000)
            #expect(throws: QueueError.self) {
                try queue.markAlreadyPresent(playKeys: keys, meta: ("checked", { _ in huge }))
            }
            #expect(try queue.counts() == StateCounts(pending: 500))
            #expect(try queue.meta("checked") == nil)
        }
    }

    /// 20,000 plays looked for in one call: one transaction, and every count right.
    @Test func twentyThousandPlaysAreMarkedInOneCall() throws {
        try withNewQueue { queue, _ throws in
            let entries = (0..<20_000).map { entry("k\($0)", Int64($0)) }
            _ = try queue.enqueue(entries)
            let keys = entries.prefix(8_000).map(\.playKey) + (0..<1_000).map { "other\($0)@1" }
            let (marked, commits) = try queue.countingCommits {
                try queue.markAlreadyPresent(playKeys: keys + entries.suffix(12_000).map { $0.playKey + "0" },
                                             meta: ("checked", { "\($0)" }))
            }
            #expect(marked == 8_000)
            #expect(commits == 1)
            #expect(try queue.counts() == StateCounts(pending: 12_000, delivered: 8_000, alreadyPresent: 8_000))
            #expect(try queue.meta("checked") == "8000")
        }
    }
}
