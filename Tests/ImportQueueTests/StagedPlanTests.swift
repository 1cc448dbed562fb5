import Foundation
import DiscovrAPI
import Testing
@testable import ImportQueue

/// A plan enqueued into an empty state is staged (packed pages, unpacked by claim): these tests check
/// that it is stored as pages, and that a delivery from it sees exactly what a delivery from rows sees.
@Suite struct StagedPlanTests {
    /// A plan of `count` plays over fewer item keys (rewatches wait for the play before them), about
    /// one in ten without a date, dates with ties; in no particular order. With `lists`, about one
    /// write in twelve is a list write instead (a verdict or the watchlist, some titles twice).
    static func plan(count: Int, seed: UInt64, lists: Bool = false) -> [QueueEntry] {
        var random = SplitMix64(seed: seed)
        var keys = Set<String>()
        var planned: [QueueEntry] = []
        while planned.count < count {
            let id = MediaID.show(Int64(random.next(below: count / 3 + 1)) + 1)
            var at: Int64? = random.next(below: 10) == 0 ? nil : Int64(random.next(below: count)) * 1_000
            var entry: QueueEntry
            if lists && random.next(below: 12) == 0 {
                let list = DiscovrList.allCases[random.next(below: DiscovrList.allCases.count)]
                entry = QueueEntry(list: ListItem(list: list, mediaId: id), sortAt: at, title: "list \(planned.count)")
            } else {
                let episode = random.next(below: 3) + 1
                var play = HistoryItem(mediaId: id, season: 1, episode: episode, progress: Double(random.next(below: 10_001)) / 100,
                                       updatedAt: at.map(Timestamp.init(millisecondsSince1970:)))
                // Distinct play keys: a repeated key and date moves the date by a millisecond.
                while keys.contains(play.playKey) {
                    at = (at ?? 0) + 1
                    play.updatedAt = at.map(Timestamp.init(millisecondsSince1970:))
                }
                entry = QueueEntry(play: play, title: "play \(planned.count)")
            }
            guard keys.insert(entry.playKey).inserted else { continue }
            entry.title += " \u{e9}\u{1F37F}"
            planned.append(entry)
        }
        return planned
    }

    /// The typed columns of every row, in `order`.
    static func rows(_ queue: ImportQueue, order: String = "id") throws -> [[String?]] {
        try queue.inspectionRows("""
            SELECT play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, sort_at FROM item ORDER BY \(order)
            """)
    }

    /// `entry`'s row as `rows` reads it.
    static func row(_ entry: QueueEntry) -> [String?] {
        let play = entry.outgoing.play
        return [entry.playKey, entry.itemKey, play == nil ? "1" : "0", entry.outgoing.list?.rawValue,
                entry.outgoing.mediaId.kind.head, String(entry.outgoing.mediaId.tmdb), play?.season.map { String($0) },
                play?.episode.map { String($0) }, play.map { String($0.progress) }, entry.title, entry.sortAt.map { String($0) }]
    }

    @Test func aPlanEnqueuedIntoAnEmptyStateIsStoredAsPages() throws {
        try withNewQueue { queue, _ throws in
            let planned = Self.plan(count: StagedPlan.pageSize * 2 + 7, seed: 1)
            #expect(try queue.enqueue(planned) == EnqueueSummary(added: planned.count, alreadyQueued: 0))
            #expect(try queue.inspectionRows("SELECT count(*) FROM item", unpacking: false) == [["0"]])
            #expect(try queue.inspectionRows("SELECT items FROM staged_page ORDER BY id", unpacking: false)
                == [["\(StagedPlan.pageSize)"], ["\(StagedPlan.pageSize)"], ["7"]])
            #expect(try queue.counts() == StateCounts(pending: planned.count))
            // The first claim unpacks one page, no more.
            #expect(try queue.claim(max: 1, nowMs: 0).count == 1)
            #expect(try queue.inspectionRows("SELECT count(*) FROM item", unpacking: false) == [["\(StagedPlan.pageSize)"]])
            #expect(try queue.counts() == StateCounts(pending: planned.count - 1, inFlight: 1))
        }
    }

    @Test func stagedRowsAreTheEnqueuedEntriesInSendOrder() throws {
        try withNewQueue { queue, _ throws in
            let planned = Self.plan(count: 1_500, seed: 2, lists: true)
            _ = try queue.enqueue(planned)
            // Plays unpacked in send order after the list writes, which are rows from the start.
            let order = ImportQueue.sendOrder(planned).map { planned[$0] }
            let expected = order.filter { $0.outgoing.list != nil } + order.filter { $0.outgoing.list == nil }
            #expect(try Self.rows(queue) == expected.map(Self.row))
            #expect(try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
        }
    }

    /// The same plan delivered twice by one scripted sender (random claim sizes, answers, backoffs and
    /// clock), once from a staged state and once from rows: every claim, every nextReadyAt, every count
    /// and the first unsent body must be the same at each step.
    @Test(arguments: [UInt64(3), 4, 5])
    func deliveryFromPagesMatchesDeliveryFromRows(seed: UInt64) throws {
        let planned = Self.plan(count: StagedPlan.pageSize * 3 + 100, seed: seed, lists: true)
        try withNewQueue { staged, _ throws in
            try withNewQueue { rows, _ throws in
                #expect(try staged.enqueue(planned).added == planned.count)
                // A plan naming a play twice is not staged: the second queue gets rows.
                #expect(try rows.enqueue(planned + [planned[0]]) == EnqueueSummary(added: planned.count, alreadyQueued: 1))
                #expect(try rows.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
                let plays = planned.filter { $0.outgoing.play != nil }.count
                #expect(try staged.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false)
                    == [["\((plays + StagedPlan.pageSize - 1) / StagedPlan.pageSize)"]])

                var script = SplitMix64(seed: seed &* 7919)
                var now: Int64 = 0
                var steps = 0
                while try staged.counts().pending + staged.counts().inFlight > 0, steps < 20_000 {
                    steps += 1
                    #expect(try staged.firstUnsentPlay() == rows.firstUnsentPlay())
                    let max = script.next(below: 24) + 1
                    let a = try staged.claim(max: max, nowMs: now)
                    let b = try rows.claim(max: max, nowMs: now)
                    try #require(a.map(\.playKey) == b.map(\.playKey), "claim \(steps) differs")
                    for (x, y) in zip(a, b) {
                        #expect(x.outgoing == y.outgoing && x.title == y.title)
                        switch script.next(below: 10) {
                        case 0:
                            let until = now + Int64(script.next(below: 5_000))
                            try staged.markRetry(id: x.id, status: 503, message: "busy", notBeforeMs: until, countAttempt: true)
                            try rows.markRetry(id: y.id, status: 503, message: "busy", notBeforeMs: until, countAttempt: true)
                        case 1 where x.outgoing.play != nil:
                            let until = now + Int64(script.next(below: 5_000))
                            try staged.markUncertain(id: x.id, sentAtMs: now, notBeforeMs: until, countAttempt: true, message: "lost")
                            try rows.markUncertain(id: y.id, sentAtMs: now, notBeforeMs: until, countAttempt: true, message: "lost")
                        case 2 where script.next(below: 4) == 0:
                            try staged.markFailed(id: x.id, status: 422, message: "no")
                            try rows.markFailed(id: y.id, status: 422, message: "no")
                        default:
                            try staged.markDelivered(id: x.id, status: 201, message: nil, added: nil, removed: nil)
                            try rows.markDelivered(id: y.id, status: 201, message: nil, added: nil, removed: nil)
                        }
                    }
                    let nextA = try staged.nextReadyAt()
                    let nextB = try rows.nextReadyAt()
                    try #require(nextA == nextB, "nextReadyAt \(steps) differs")
                    #expect(try staged.counts() == rows.counts())
                    now += Int64(script.next(below: 400))
                    if a.isEmpty, let next = nextA { now = Swift.max(now, next) }
                }
                #expect(try staged.counts() == rows.counts())
                #expect(try staged.counts().pending == 0)
                #expect(try staged.failures(limit: nil) == rows.failures(limit: nil))
                #expect(try staged.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
            }
        }
    }

    @Test func aSecondEnqueueComparesWithTheStagedPlays() throws {
        try withNewQueue { queue, _ throws in
            let planned = Self.plan(count: 700, seed: 6)
            _ = try queue.enqueue(planned)
            let newer = [entry("late", 1)]
            #expect(try queue.enqueue(planned + newer) == EnqueueSummary(added: 1, alreadyQueued: planned.count))
            #expect(try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
            #expect(try queue.inspectionRows("SELECT count(*) FROM item", unpacking: false) == [["701"]])
            #expect(try queue.counts() == StateCounts(pending: 701))
        }
    }

    @Test func theExistingHistoryCheckFindsStagedPlays() throws {
        try withNewQueue { queue, _ throws in
            let planned = Self.plan(count: 1_200, seed: 7)
            _ = try queue.enqueue(planned)
            let last = planned[planned.count - 1].playKey
            #expect(try queue.heldPlays([last, "nowhere@1"]) == [last])
            #expect(try queue.markAlreadyPresent(playKeys: [last], meta: nil) == 1)
            #expect(try queue.counts() == StateCounts(pending: 1_199, delivered: 1, alreadyPresent: 1))
        }
    }

    @Test func aDamagedPageIsAStorageErrorNotACrash() throws {
        try withNewQueue { queue, path throws in
            _ = try queue.enqueue(Self.plan(count: 10, seed: 8))
            try queue.inspectionExecute("UPDATE staged_page SET rows = x'01ffffff'", unpacking: false)
            #expect {
                _ = try queue.claim(max: 1, nowMs: 0)
            } throws: { error in
                guard case .storage(let at, let reason) = error as? QueueError else { return false }
                return at == path && reason.contains("damaged")
            }
            // Nothing was half unpacked: the claim's transaction rolled back.
            #expect(try queue.inspectionRows("SELECT count(*) FROM item", unpacking: false) == [["0"]])
            #expect(try queue.counts() == StateCounts(pending: 10))
        }
    }

    @Test func pagesDecodeWhatWasEncoded() throws {
        let edges = [
            HistoryItem(mediaId: .movie(Int64.max), progress: 0.01, updatedAt: Timestamp(millisecondsSince1970: Int64.min)),
            HistoryItem(mediaId: .show(1), season: Int.min, episode: Int.max, progress: 0, updatedAt: nil),
        ].map { QueueEntry(play: $0, title: "") }
        let planned = Self.plan(count: 50, seed: 9) + edges
        let pages = Self.pages(planned)
        let page = try #require(pages.pages.first).bytes
        #expect(pages.pages.count == 1 && pages.pages[0].count == planned.count)
        func decode(_ bytes: [UInt8]) throws -> [QueueEntry] {
            try StagedPlan.decode(bytes, count: planned.count, page: 1)
        }
        #expect(try decode(page) == planned)
        #expect(try pages.entries() == planned)
        // Cut anywhere, or with bytes left over, a page is damaged.
        for cut in [1, 9, page.count / 2, page.count - 1] {
            #expect(throws: (any Error).self) { try decode(Array(page.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try decode(page + [0]) }
    }

    /// The plan in send order, written play by play as `PlanPages` (as the CLI writes it, from bytes).
    static func pages(_ entries: [QueueEntry]) -> PlanPages {
        var pages = PlanPages()
        for one in entries { pages.append(play: one.outgoing.play!, title: one.title) }
        return pages
    }

    @Test func pagesWrittenByTheMakerAreStagedAsEntriesWouldBe() throws {
        let planned = Self.plan(count: StagedPlan.pageSize * 2 + 33, seed: 10)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        try withNewQueue { fromPages, _ throws in
            try withNewQueue { fromEntries, _ throws in
                #expect(try fromPages.enqueue(Self.pages(sorted)) == EnqueueSummary(added: planned.count, alreadyQueued: 0))
                #expect(try fromEntries.enqueue(planned) == EnqueueSummary(added: planned.count, alreadyQueued: 0))
                let staged = "SELECT items, hex(rows) FROM staged_page ORDER BY id"
                let pages = try fromPages.inspectionRows(staged, unpacking: false)
                #expect(pages.count == 3)
                #expect(pages == (try fromEntries.inspectionRows(staged, unpacking: false)))
                #expect(try fromPages.counts() == StateCounts(pending: planned.count))
                #expect(try Self.rows(fromPages) == Self.rows(fromEntries))
                // Into a state that holds the plan already: nothing is added, nothing staged again.
                #expect(try fromPages.enqueue(Self.pages(sorted)) == EnqueueSummary(added: 0, alreadyQueued: planned.count))
                #expect(try fromPages.counts() == StateCounts(pending: planned.count))
            }
        }
    }

    /// Pages whose plays are out of send order, or name a play twice, cannot be staged as they are:
    /// they are enqueued as entries (sorted; the repeat counted as already queued).
    @Test func pagesOutOfOrderOrWithARepeatAreEnqueuedAsEntries() throws {
        let planned = Self.plan(count: 900, seed: 11)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        #expect(!Self.pages(planned).inSendOrder)
        #expect(Self.pages(sorted).inSendOrder && Self.accepted([Self.pages(sorted)]))
        #expect(!Self.accepted([Self.pages(sorted + [sorted[sorted.count - 1]])]))
        try withNewQueue { fromPages, _ throws in
            try withNewQueue { fromEntries, _ throws in
                #expect(try fromPages.enqueue(Self.pages(planned)) == EnqueueSummary(added: planned.count, alreadyQueued: 0))
                #expect(try fromEntries.enqueue(planned) == EnqueueSummary(added: planned.count, alreadyQueued: 0))
                #expect(try Self.rows(fromPages, order: "sort_at, id") == Self.rows(fromEntries, order: "sort_at, id"))
            }
        }
        try withNewQueue { queue, _ throws in
            let repeated = sorted + [sorted[sorted.count - 1]]
            #expect(try queue.enqueue(Self.pages(repeated)) == EnqueueSummary(added: planned.count, alreadyQueued: 1))
            #expect(try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
            #expect(try queue.inspectionRows("SELECT count(*) FROM item", unpacking: false) == [["\(planned.count)"]])
        }
    }

    /// `enqueue(parts:)`: the parts a maker hands over one by one, cut at `bounds`.
    static func parts(_ entries: [QueueEntry], cutAt bounds: [Int]) -> [PlanPages] {
        let edges = [0] + bounds + [entries.count]
        return zip(edges, edges.dropFirst()).map { Self.pages(Array(entries[$0..<$1])) }
    }

    @Test func partsSavedAsTheyComeAreStagedAsOnePlan() throws {
        let planned = Self.plan(count: StagedPlan.pageSize * 3 + 20, seed: 13)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        let staged = "SELECT items, hex(rows) FROM staged_page ORDER BY id"
        try withNewQueue { fromParts, _ throws in
            try withNewQueue { whole, _ throws in
                var calls = 0
                let summary = try fromParts.enqueue(parts: { save in
                    calls += 1
                    for part in Self.parts(sorted, cutAt: [StagedPlan.pageSize, StagedPlan.pageSize * 3]) { try save(part) }
                })
                #expect(summary == EnqueueSummary(added: planned.count, alreadyQueued: 0))
                #expect(calls == 1)
                #expect(try whole.enqueue(Self.pages(sorted)).added == planned.count)
                #expect(try fromParts.inspectionRows(staged, unpacking: false) == whole.inspectionRows(staged, unpacking: false))
                #expect(try fromParts.counts() == StateCounts(pending: planned.count))
                // Again into the same state: the parts are made again and compared with what is held.
                let again = try fromParts.enqueue(parts: { save in
                    calls += 1
                    for part in Self.parts(sorted + [entry("late", nil)], cutAt: [100]) { try save(part) }
                })
                #expect(again == EnqueueSummary(added: 1, alreadyQueued: planned.count))
                #expect(calls == 2) // not inside the transaction: the state holds a plan
                #expect(try fromParts.counts() == StateCounts(pending: planned.count + 1))
            }
        }
    }

    /// Parts that are out of send order across a cut, or repeat a play of an earlier part, are not
    /// staged as they come: nothing of them is kept, and they are made again and enqueued as entries
    /// (sorted, and then staged if the keys are distinct; as rows if not).
    @Test(arguments: ["order", "repeat"])
    func partsThatCannotBeStagedAreEnqueuedAsEntries(_ what: String) throws {
        let planned = Self.plan(count: 1_300, seed: 14)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        let cut = sorted.count / 2
        let parts = what == "order"
            ? [Self.pages(Array(sorted[cut...])), Self.pages(Array(sorted[..<cut]))]
            : Self.parts(sorted, cutAt: [cut]) + [Self.pages([sorted[3]])]
        try withNewQueue { queue, _ throws in
            var calls = 0
            let summary = try queue.enqueue(parts: { save in
                calls += 1
                for part in parts { try save(part) }
            })
            #expect(calls == 2)
            #expect(summary == EnqueueSummary(added: sorted.count, alreadyQueued: what == "order" ? 0 : 1))
            let staged = try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false)
            #expect(staged == [[what == "order" ? "3" : "0"]])
            #expect(try queue.counts() == StateCounts(pending: sorted.count))
            // The plays as given, sorted (equal dates keep the order given).
            let given = try parts.flatMap { try $0.entries() }
            var seen = Set<String>()
            let expected = ImportQueue.sendOrder(given).map { given[$0] }.filter { seen.insert($0.playKey).inserted }
            let rows = try queue.inspectionRows("SELECT play_key FROM item ORDER BY id")
            let inSendOrder = rows == expected.map { [$0.playKey] }
            #expect(inSendOrder)
        }
    }

    /// A maker that fails half way (the disk filled, say) leaves nothing: the one transaction is rolled back.
    @Test func aMakerThatFailsHalfWayLeavesNoPlan() throws {
        struct Broke: Error {}
        let planned = Self.plan(count: 2_000, seed: 15)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        try withNewQueue { queue, path throws in
            #expect(throws: (any Error).self) {
                _ = try queue.enqueue(parts: { save in
                    for (n, part) in Self.parts(sorted, cutAt: [600, 1_200]).enumerated() {
                        if n == 2 { throw Broke() }
                        try save(part)
                    }
                })
            }
            #expect(try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
            #expect(try queue.counts() == StateCounts())
            // And the state takes the plan afterwards.
            #expect(try queue.enqueue(Self.pages(sorted)).added == sorted.count)
            #expect(!FileManager.default.fileExists(atPath: path + "-journal"))
        }
        try withNewQueue { queue, _ throws in
            #expect(try queue.enqueue(parts: { _ in }) == EnqueueSummary(added: 0, alreadyQueued: 0))
            #expect(try queue.counts() == StateCounts())
        }
    }

    /// Whether `Continuity` takes every one of `parts`, in order (as `enqueue(parts:)` hands them over).
    static func accepted(_ parts: [PlanPages]) -> Bool {
        var continuity = PlanPages.Continuity()
        return parts.allSatisfy { continuity.accepts($0) }
    }

    @Test func partsInOrderAreOnePlan() throws {
        let planned = Self.plan(count: StagedPlan.pageSize * 4 + 5, seed: 12)
        let sorted = ImportQueue.sendOrder(planned).map { planned[$0] }
        let whole = Self.pages(sorted)
        for cuts in [[StagedPlan.pageSize, StagedPlan.pageSize * 3], [0, 700, 701, sorted.count]] {
            let bounds = [0] + cuts + [sorted.count]
            let parts = zip(bounds, bounds.dropFirst()).map { Self.pages(Array(sorted[$0..<$1])) }
            #expect(parts.reduce(0) { $0 + $1.count } == sorted.count && Self.accepted(parts))
            #expect(parts.flatMap(\.keyHashes) == whole.keyHashes)
            #expect(try parts.flatMap { try $0.entries() } == sorted)
            if cuts[0] == StagedPlan.pageSize {
                // Cut at whole pages: the same pages as one maker writes.
                #expect(parts.flatMap { $0.pages.map(\.bytes) } == whole.pages.map(\.bytes))
            }
        }
        // Parts in the wrong order, or a play without a date after dated ones, are out of send order.
        let half = sorted.count / 2
        #expect(!Self.accepted([Self.pages(Array(sorted[half...])), Self.pages(Array(sorted[..<half]))]))
        let dated = sorted.filter { $0.sortAt != nil }, undated = sorted.filter { $0.sortAt == nil }
        #expect(!undated.isEmpty)
        #expect(Self.accepted([Self.pages(undated), Self.pages(dated)]))
        #expect(!Self.accepted([Self.pages(dated), Self.pages(undated)]))
        #expect(!Self.pages(dated + undated).inSendOrder)
    }
}

extension SplitMix64 {
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(Swift.max(bound, 1))) }
}
