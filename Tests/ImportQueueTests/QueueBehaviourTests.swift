import DiscovrAPI
import Foundation
import Testing
@testable import ImportQueue

@Suite struct EnqueueTests {
    @Test func enqueueIsIdempotentOnPlayKey() throws {
        try withNewQueue { queue, _ throws in
            let first = [entry("a", 1), entry("b", 2), entry("c", nil)]
            #expect(try queue.enqueue(first) == EnqueueSummary(added: 3, alreadyQueued: 0))
            #expect(try queue.enqueue(first) == EnqueueSummary(added: 0, alreadyQueued: 3))
            let superset = first + [entry("d", 4), entry("a", 5)]
            #expect(try queue.enqueue(superset) == EnqueueSummary(added: 2, alreadyQueued: 3))
            #expect(try queue.enqueue([entry("e", 1), entry("e", 1)]) == EnqueueSummary(added: 1, alreadyQueued: 1))
            #expect(try queue.enqueue([]) == EnqueueSummary(added: 0, alreadyQueued: 0))
            #expect(try queue.counts() == StateCounts(pending: 6))
        }
    }

    @Test func enqueueLeavesExistingRowsAsTheyAre() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1)])
            let item = try #require(try queue.claim(max: 1, nowMs: 0).first)
            try queue.markDelivered(id: item.id, status: 200, message: nil, added: nil, removed: nil)
            var changed = entry("a", 1)
            changed.title = "changed"
            changed.outgoing = .play(HistoryItem(mediaId: item.outgoing.mediaId, progress: 50,
                                                 updatedAt: Timestamp(millisecondsSince1970: 1)))
            #expect(try queue.enqueue([changed]) == EnqueueSummary(added: 0, alreadyQueued: 1))
            #expect(try queue.inspectionRows("SELECT title, progress, state, sort_at FROM item") == [[item.title, "100.0", "delivered", "1"]])
        }
    }

    @Test func claimHandsOutTheExactEntry() throws {
        try withNewQueue { queue, _ throws in
            let play = HistoryItem(mediaId: .show(1396), season: 1, episode: 5, progress: 57.25,
                                   updatedAt: Timestamp(millisecondsSince1970: 1_673_740_800_000))
            let planned = QueueEntry(play: play, title: "Breaking Bad S01E05 \u{e9}\u{1F37F}")
            let list = QueueEntry(list: ListItem(list: .superLiked, mediaId: .movie(550)), sortAt: 5, title: "Fight Club")
            _ = try queue.enqueue([list, planned])
            let claimed = try queue.claim(max: 5, nowMs: 0)
            // Plays before list writes, whatever the dates; each comes back exactly as it went in.
            #expect(claimed == [QueuedItem(id: claimed.first?.id ?? -1, outgoing: .play(play), title: planned.title, attempts: 0),
                                QueuedItem(id: claimed.last?.id ?? -1, outgoing: list.outgoing, title: "Fight Club", attempts: 0)])
            #expect(claimed.map(\.playKey) == ["TV_TMDBID1396:1:5@1673740800000", "super_liked:MV_TMDBID550"])
        }
    }
}

@Suite struct ClaimTests {
    /// Send order: unknown dates first (in insertion order), then oldest first, ties by insertion order.
    @Test(arguments: [
        ([Int64?(300), nil, 100, nil, 200], ["k1@-", "k3@-", "k2@100", "k4@200", "k0@300"]),
        ([Int64?(5), 5, 5], ["k0@5", "k1@5", "k2@5"]),
        ([Int64?(-1_000), 0, nil], ["k2@-", "k0@-1000", "k1@0"]),  // sentinel dates before 1970 sort as numbers
    ])
    func claimFollowsSendOrder(_ dates: [Int64?], _ expected: [String]) throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue(dates.enumerated().map { entry("k\($0.offset)", $0.element) })
            #expect(try queue.claim(max: 100, nowMs: 0).playKeys == expected)
            #expect(try queue.claim(max: 100, nowMs: 0).isEmpty)
        }
    }

    /// Send order holds across enqueue calls: an older play queued later (a newer export) goes first.
    @Test func olderPlaysEnqueuedLaterAreSentFirst() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 300)])
            _ = try queue.enqueue([entry("b", 100), entry("c", 300)])
            _ = try queue.enqueue([entry("d", nil)])
            #expect(try queue.claim(max: 10, nowMs: 0).playKeys == ["d@-", "b@100", "a@300", "c@300"])
        }
    }

    @Test func claimTakesAtMostMaxAndMarksThemInFlight() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue((0..<5).map { entry("k\($0)", Int64($0)) })
            #expect(try queue.claim(max: 0, nowMs: 0).isEmpty)
            #expect(try queue.claim(max: 2, nowMs: 0).playKeys == ["k0@0", "k1@1"])
            #expect(try queue.counts() == StateCounts(pending: 3, inFlight: 2))
            #expect(try queue.claim(max: 2, nowMs: 0).playKeys == ["k2@2", "k3@3"])
            #expect(try queue.claim(max: 2, nowMs: 0).playKeys == ["k4@4"])
        }
    }

    /// Two plays of one key are never claimed together; the later one waits until the earlier one is
    /// delivered or failed, whatever `max` is.
    @Test(arguments: ["delivered", "409", "failed"])
    func laterPlayOfAKeyWaitsForTheEarlierToSettle(_ settlement: String) throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 200), entry("b", 150), entry("a", 100), entry("a", nil)])
            let first = try queue.claim(max: 10, nowMs: 0)
            #expect(first.playKeys == ["a@-", "b@150"])
            #expect(try queue.claim(max: 10, nowMs: 0).isEmpty)
            let a = first[0]
            switch settlement {
            case "delivered": try queue.markDelivered(id: a.id, status: 200, message: nil, added: nil, removed: nil)
            case "409": try queue.markDelivered(id: a.id, status: 409, message: "already in history", added: nil, removed: nil, alreadyPresent: true)
            default: try queue.markFailed(id: a.id, status: 400, message: "bad")
            }
            #expect(try queue.claim(max: 10, nowMs: 0).playKeys == ["a@100"])
            #expect(try queue.claim(max: 10, nowMs: 0).isEmpty)
        }
    }

    /// A retried (backed-off) earlier play blocks the later plays of its key, but not other keys.
    @Test func backoffOfTheEarlierPlayBlocksTheLaterOne() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 100), entry("a", 200), entry("b", 300)])
            let a100 = try #require(try queue.claim(max: 1, nowMs: 0).first)
            #expect(testKey(a100.outgoing) == "a@100")
            try queue.markRetry(id: a100.id, status: 503, message: "busy", notBeforeMs: 1_000, countAttempt: true)
            #expect(try queue.claim(max: 10, nowMs: 999).playKeys == ["b@300"])
            #expect(try queue.nextReadyAt() == 1_000)
            let again = try queue.claim(max: 10, nowMs: 1_000)
            #expect(again.playKeys == ["a@100"])
            #expect(again.first?.attempts == 1)
            try queue.markDelivered(id: a100.id, status: 201, message: nil, added: nil, removed: nil)
            #expect(try queue.claim(max: 10, nowMs: 1_000).playKeys == ["a@200"])
        }
    }

    @Test func notBeforeIsRespectedAgainstTheInjectedClock() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1)])
            let item = try #require(try queue.claim(max: 1, nowMs: 10).first)
            try queue.markRetry(id: item.id, status: 429, message: "slow down", notBeforeMs: 5_000, countAttempt: false)
            #expect(try queue.claim(max: 1, nowMs: 4_999).isEmpty)
            let retried = try queue.claim(max: 1, nowMs: 5_000)
            #expect(retried.map(\.id) == [item.id])
            #expect(retried.first?.attempts == 0)  // countAttempt: false
        }
    }

    @Test func nextReadyAtReportsWhatWaitingCanUnblock() throws {
        try withNewQueue { queue, _ throws in
            #expect(try queue.nextReadyAt() == nil)
            _ = try queue.enqueue([entry("a", 1), entry("a", 2), entry("b", 3)])
            #expect(try queue.nextReadyAt() == 0)  // ready now
            let claimed = try queue.claim(max: 10, nowMs: 0)
            #expect(claimed.playKeys == ["a@1", "b@3"])
            #expect(try queue.nextReadyAt() == nil)  // a@2 waits for a@1 in flight, not for time
            try queue.markRetry(id: claimed[1].id, status: nil, message: "timeout", notBeforeMs: 7_000, countAttempt: true)
            try queue.markRetry(id: claimed[0].id, status: 500, message: "oops", notBeforeMs: 9_000, countAttempt: true)
            #expect(try queue.nextReadyAt() == 7_000)
        }
    }
}

@Suite struct SettleTests {
    @Test func settlingMovesStatesAndCounts() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue((0..<6).map { entry("k\($0)", Int64($0)) })
            let items = try queue.claim(max: 6, nowMs: 0)
            #expect(try queue.counts() == StateCounts(inFlight: 6))
            try queue.markDelivered(id: items[0].id, status: 200, message: "Item added", added: "1", removed: nil)
            try queue.markDelivered(id: items[1].id, status: 409, message: "already in history", added: nil, removed: nil, alreadyPresent: true)
            try queue.markFailed(id: items[2].id, status: 400, message: "invalid season")
            try queue.markRetry(id: items[3].id, status: 500, message: "oops", notBeforeMs: 0, countAttempt: true)
            try queue.markRetry(id: items[4].id, status: 401, message: "refresh", notBeforeMs: 0, countAttempt: false)
            let expected = StateCounts(pending: 2, inFlight: 1, delivered: 2, alreadyPresent: 1, failed: 1)
            #expect(try queue.counts() == expected)
            #expect(try queue.counts().total == 6)
            let rows = try queue.inspectionRows("SELECT play_key, state, attempts, last_status, last_message, already_present FROM item ORDER BY id")
            #expect(rows == [
                [realKey("k0@0"), "delivered", "1", "200", "Item added", "0"],
                [realKey("k1@1"), "delivered", "1", "409", "already in history", "1"],
                [realKey("k2@2"), "failed", "1", "400", "invalid season", "0"],
                [realKey("k3@3"), "pending", "1", "500", "oops", "0"],
                [realKey("k4@4"), "pending", "0", "401", "refresh", "0"],
                [realKey("k5@5"), "in-flight", "0", nil, nil, "0"],
            ])
            // The trigger-kept counts agree with the rows.
            #expect(try queue.inspectionRows("SELECT count(*) FROM item WHERE state = 'delivered' AND already_present = 1") == [["1"]])
        }
    }

    /// Settling an item that is not in flight is a caller bug: refused, and nothing changes.
    @Test(arguments: ["delivered", "retry", "failed"])
    func settlingAnItemNotInFlightIsRefused(_ how: String) throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2)])
            let item = try #require(try queue.claim(max: 1, nowMs: 0).first)
            try queue.markDelivered(id: item.id, status: 200, message: nil, added: nil, removed: nil)
            let pendingID = item.id + 1
            for id in [item.id, pendingID, 9_999] {
                #expect(throws: QueueError.notInFlight(id: id)) {
                    switch how {
                    case "delivered": try queue.markDelivered(id: id, status: 200, message: nil, added: nil, removed: nil)
                    case "retry": try queue.markRetry(id: id, status: 500, message: nil, notBeforeMs: 0, countAttempt: true)
                    default: try queue.markFailed(id: id, status: 400, message: nil)
                    }
                }
            }
            #expect(try queue.counts() == StateCounts(pending: 1, delivered: 1))
        }
    }

    /// A batch is one transaction: its changes land together, in order, or (one item not in flight) not at all.
    @Test func aSettleBatchCommitsOnceOrNotAtAll() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3), entry("d", 4), entry("e", 5)])
            let items = try queue.claim(max: 5, nowMs: 10)
            #expect(items.playKeys == ["a@1", "b@2", "c@3", "d@4", "e@5"])
            var batch = SettleBatch()
            batch.noteSend(id: items[0].id, atMs: 20)
            batch.markDelivered(id: items[0].id, status: 201, message: nil, added: "x", removed: nil)
            batch.markRetry(id: items[1].id, status: 503, message: "busy", notBeforeMs: 5_000, countAttempt: true)
            batch.markUncertain(id: items[2].id, sentAtMs: 10, notBeforeMs: 6_000, countAttempt: true, message: "lost")
            batch.markFailed(id: items[3].id, status: 422, message: "no")
            batch.release(ids: [items[4].id, 9_999])
            #expect(batch.count == 7)
            let ((), commits) = try queue.countingCommits { try queue.settle(batch) }
            #expect(commits == 1)
            #expect(try queue.counts() == StateCounts(pending: 3, delivered: 1, failed: 1))
            #expect(try queue.uncertainCount() == 1)
            #expect(try queue.nextReadyAt() == 0) // e, released
            #expect(try queue.failures(limit: nil).map { testKey($0.outgoing) } == ["d@4"])

            // One change refused: the whole batch is rolled back.
            let again = try queue.claim(max: 1, nowMs: 30)
            #expect(again.playKeys == ["e@5"])
            var refused = SettleBatch()
            refused.markDelivered(id: again[0].id, status: 201, message: nil, added: nil, removed: nil)
            refused.markDelivered(id: items[0].id, status: 201, message: nil, added: nil, removed: nil) // delivered already
            #expect(throws: QueueError.notInFlight(id: items[0].id)) { try queue.settle(refused) }
            #expect(try queue.counts() == StateCounts(pending: 2, inFlight: 1, delivered: 1, failed: 1))
            // An empty batch writes nothing.
            let ((), none) = try queue.countingCommits { try queue.settle(SettleBatch()) }
            #expect(none == 0)
        }
    }

    @Test func failuresListFailedItemsInSendOrder() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("c", 30), entry("a", 10), entry("b", 20), entry("ok", 5)])
            let items = try queue.claim(max: 4, nowMs: 0)
            #expect(items.playKeys == ["ok@5", "a@10", "b@20", "c@30"])
            try queue.markDelivered(id: items[0].id, status: 200, message: nil, added: nil, removed: nil)
            try queue.markFailed(id: items[3].id, status: 400, message: "season 0")
            try queue.markFailed(id: items[1].id, status: nil, message: "gave up after 8 attempts: connection refused")
            try queue.markRetry(id: items[2].id, status: 500, message: "x", notBeforeMs: 0, countAttempt: true)
            let b = try #require(try queue.claim(max: 1, nowMs: 0).first)
            try queue.markFailed(id: b.id, status: 500, message: "server error")
            #expect(try queue.failures(limit: nil) == [
                FailureRecord(outgoing: entry("a", 10).outgoing, title: "title a@10", attempts: 1,
                              lastStatus: nil, lastMessage: "gave up after 8 attempts: connection refused"),
                FailureRecord(outgoing: entry("b", 20).outgoing, title: "title b@20", attempts: 2,
                              lastStatus: 500, lastMessage: "server error"),
                FailureRecord(outgoing: entry("c", 30).outgoing, title: "title c@30", attempts: 1,
                              lastStatus: 400, lastMessage: "season 0"),
            ])
            #expect(try queue.failures(limit: 2).map { testKey($0.outgoing) } == ["a@10", "b@20"])
            #expect(try queue.failures(limit: 0).isEmpty)
        }
    }

    @Test func retryFailedBringsFailedItemsBackWithAttemptsReset() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let items = try queue.claim(max: 3, nowMs: 0)
            try queue.markFailed(id: items[0].id, status: 400, message: "bad")
            try queue.markFailed(id: items[2].id, status: 500, message: "down")
            try queue.markDelivered(id: items[1].id, status: 200, message: nil, added: nil, removed: nil)
            #expect(try queue.retryFailed() == 2)
            #expect(try queue.retryFailed() == 0)
            #expect(try queue.counts() == StateCounts(pending: 2, delivered: 1))
            #expect(try queue.failures(limit: nil).isEmpty)
            let again = try queue.claim(max: 10, nowMs: 0)
            #expect(again.playKeys == ["a@1", "c@3"])
            #expect(again.map(\.attempts) == [0, 0])
        }
    }

    @Test func releasePutsInFlightItemsBackWithoutCountingAnAttempt() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let items = try queue.claim(max: 3, nowMs: 0)
            try queue.markDelivered(id: items[2].id, status: 200, message: nil, added: nil, removed: nil)
            try queue.release(ids: items.map(\.id) + [12_345])  // settled and unknown ids are left alone
            try queue.release(ids: [])
            #expect(try queue.counts() == StateCounts(pending: 2, delivered: 1))
            let again = try queue.claim(max: 10, nowMs: 0)
            #expect(again.playKeys == ["a@1", "b@2"])
            #expect(again.map(\.attempts) == [0, 0])
        }
    }

    @Test func metaRoundTripsAndSurvivesReopening() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let queue = try ImportQueue.open(path: path)
            #expect(try queue.meta("export") == nil)
            try queue.setMeta("export", "first")
            try queue.setMeta("export", "second \u{1F37F}")
            try queue.setMeta("", "")
            #expect(try queue.meta("export") == "second \u{1F37F}")
            #expect(try queue.meta("") == "")
            queue.close()
            let reopened = try ImportQueue.open(path: path)
            defer { reopened.close() }
            #expect(try reopened.meta("export") == "second \u{1F37F}")
        }
    }
}

@Suite struct RecoveryTests {
    @Test func inFlightItemsLeftByAnUnsettledRunGoBackToPending() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let first = try ImportQueue.open(path: path)
            #expect(first.recoveredInFlight == 0)
            _ = try first.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let items = try first.claim(max: 3, nowMs: 0)
            try first.markRetry(id: items[1].id, status: 500, message: nil, notBeforeMs: 0, countAttempt: true)
            _ = try first.claim(max: 3, nowMs: 0)
            first.close()  // no settle: as if the process had stopped here

            let second = try ImportQueue.open(path: path)
            defer { second.close() }
            #expect(second.recoveredInFlight == 3)
            #expect(try second.counts() == StateCounts(pending: 3))
            #expect(try second.claim(max: 3, nowMs: 0).map(\.attempts) == [0, 1, 0])
        }
    }

    @Test func aQueueDroppedWithoutCloseReleasesItsLock() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            do {
                let dropped = try ImportQueue.open(path: path)
                _ = try dropped.enqueue([entry("a", 1)])
                _ = try dropped.claim(max: 1, nowMs: 0)
            }
            let reopened = try ImportQueue.open(path: path)
            defer { reopened.close() }
            #expect(reopened.recoveredInFlight == 1)
        }
    }
}

@Suite struct StorageErrorTests {
    /// SQLITE_FULL, made real with `max_page_count`: the failing enqueue is rolled back whole.
    @Test func aFullDiskGivesAStorageErrorAndNoHalfTransaction() throws {
        try withNewQueue { queue, path throws in
            _ = try queue.enqueue([entry("first", 1)])
            let pages = try #require(try queue.inspectionRows("PRAGMA page_count").first?.first ?? nil)
            try queue.inspectionExecute("PRAGMA max_page_count = \(pages)")
            let big = (0..<2_000).map { entry("k\($0)", Int64($0)) }
            let error = try #require(throws: QueueError.self) { try queue.enqueue(big) }
            guard case .storage(let errorPath, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(errorPath == path)
            #expect(reason.contains("disk is full") && reason.contains("free some disk space"))
            #expect(try queue.counts() == StateCounts(pending: 1))
            #expect(try queue.inspectionRows("SELECT count(*) FROM item") == [["1"]])
        }
    }

    /// SQLITE_READONLY at write time (`query_only` stands in for a file made read-only under us).
    @Test func aReadOnlyDatabaseGivesAStorageErrorThatSaysToCheckPermissions() throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([entry("a", 1)])
            try queue.inspectionExecute("PRAGMA query_only = 1")
            let error = try #require(throws: QueueError.self) { _ = try queue.claim(max: 1, nowMs: 0) }
            guard case .storage(_, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(reason.contains("check the permissions"))
            try queue.inspectionExecute("PRAGMA query_only = 0")
            #expect(try queue.counts() == StateCounts(pending: 1))
        }
    }
}
