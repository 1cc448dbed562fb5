import Foundation
import Testing
@testable import ImportQueue

/// The queue's side of `verify`: the settled plays it holds against the history, and putting the
/// missing ones back with the result, in one transaction.
@Suite struct VerifyQueueTests {
    @Test func settledPlaysAreTheDeliveredOnesInSendOrderWithWhenTheyWereSent() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3), entry("d", 4)])
            let claimed = try queue.claim(max: 3, nowMs: 1_000)
            try queue.markDelivered(id: claimed[0].id, status: 200, message: nil, added: nil, removed: nil)
            // b: uncertain at 1,500, then found on its read-back: its first send is what counts.
            var batch = SettleBatch()
            batch.markUncertain(id: claimed[1].id, sentAtMs: 1_500, notBeforeMs: 0, countAttempt: true, message: "lost")
            try queue.settle(batch)
            let again = try queue.claim(max: 1, nowMs: 9_000)
            #expect(again.playKeys == ["b@2"])
            try queue.markDelivered(id: again[0].id, status: 200, message: "found", added: nil, removed: nil, alreadyPresent: true)
            try queue.markFailed(id: claimed[2].id, status: 422, message: "bad")
            _ = try queue.markAlreadyPresent(playKeys: [realKey("d@4")], meta: nil)
            let plays = try queue.settledPlays()
            #expect(plays.map(\.playKey) == ["a@1", "b@2", "d@4"].map(realKey))
            #expect(plays.map(\.sentAtMs) == [1_000, 1_500, nil])
            #expect(plays.map(\.foundBeforeSending) == [false, false, true])
            #expect(plays.map(\.title) == ["title a@1", "title b@2", "title d@4"])
        }
    }

    @Test func requeueMissingPutsOnlyDeliveredPlaysBackAndRecordsTheResultWithThem() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let claimed = try queue.claim(max: 3, nowMs: 0)
            try queue.markDelivered(id: claimed[0].id, status: 200, message: "ok", added: nil, removed: nil)
            try queue.markDelivered(id: claimed[1].id, status: 200, message: "found", added: nil, removed: nil, alreadyPresent: true)
            try queue.markFailed(id: claimed[2].id, status: 422, message: "bad")
            let moved = try queue.requeueMissing(ids: [claimed[1].id, claimed[2].id, 999], verifyRecord: "{\"missing\":2}")
            #expect(moved == 1)
            #expect(try queue.counts() == StateCounts(pending: 1, delivered: 1, failed: 1))
            #expect(try queue.meta(StateMeta.lastVerify) == "{\"missing\":2}")
            let rows = try queue.inspectionRows("SELECT play_key, state, already_present, attempts, uncertain, last_message FROM item ORDER BY id")
            #expect(rows[1] == [realKey("b@2"), "pending", "0", "0", "0", ImportQueue.missingOnVerifyMessage])
            #expect(try queue.claim(max: 5, nowMs: 0).playKeys == ["b@2"])
        }
    }

    @Test func aRequeueThatCannotBeWrittenLeavesNothingChanged() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let id: Int64 = try withQueue(at: path) { queue in
                _ = try queue.enqueue([entry("a", 1)])
                let claimed = try queue.claim(max: 1, nowMs: 0)
                try queue.markDelivered(id: claimed[0].id, status: 200, message: "ok", added: nil, removed: nil)
                return claimed[0].id
            }
            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            // A trigger that refuses the record's write: the requeue before it must roll back with it.
            try queue.inspectionExecute("""
                CREATE TRIGGER refuse_verify BEFORE INSERT ON meta WHEN NEW.key = 'last-verify'
                BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END
                """, unpacking: false)
            #expect(throws: QueueError.self) { try queue.requeueMissing(ids: [id], verifyRecord: "{}") }
            #expect(try queue.counts() == StateCounts(delivered: 1))
        }
    }
}
