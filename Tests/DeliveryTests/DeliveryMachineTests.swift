import DiscovrAPI
import ImportQueue
import Testing
@testable import Delivery

/// The delivery loop's decisions alone: `DeliveryMachine` fed events by hand, with a manual clock
/// (the `nowMs` of each call), no network, no queue, no sleeping. Each test plays one situation of
/// `importer.md` section 5 and checks the actions that come out.
@Suite struct DeliveryMachineTests {
    typealias Action = DeliveryMachine.Action
    typealias Write = DeliveryMachine.QueueWrite

    static let start: Int64 = 1_800_000_000_000

    /// The machine and its clock. The rate is high enough that the limiter never holds a send back
    /// unless a test asks for a pace.
    struct Harness {
        var machine: DeliveryMachine
        var now: Int64
        var actions: [Action] = []

        init(concurrency: Int = 2, limit: Int? = nil, maxAttempts: Int = 3, timeoutMs: Int64 = 5_000,
             giveUpAfterMs: Int64 = 120_000, rate: Double = 1_000_000, pending: Int = 10, uncertainDueAtMs: Int64? = nil) {
            now = DeliveryMachineTests.start
            machine = DeliveryMachine(configuration: .init(concurrency: concurrency, limit: limit, maxAttempts: maxAttempts,
                                                           requestTimeoutMs: timeoutMs, giveUpAfterMs: giveUpAfterMs,
                                                           seed: 1),
                                      nowMs: now, limiter: RateLimiter(rate: rate))
            handle(.start(StateCounts(pending: pending), uncertainDueAtMs: uncertainDueAtMs))
        }

        @discardableResult
        mutating func handle(_ event: DeliveryMachine.Event) -> [Action] {
            actions = machine.handle(event, nowMs: now)
            return actions
        }

        /// Moves the clock to `ms` and tells the machine (a deadline it named has come).
        @discardableResult
        mutating func tick(at ms: Int64) -> [Action] {
            now = ms
            return handle(.tick)
        }

        mutating func claimed(_ items: [QueuedItem], exhausted: Bool = true, nextReadyAtMs: Int64? = nil) {
            handle(.claimed(items, exhausted: exhausted, nextReadyAtMs: nextReadyAtMs))
        }

        mutating func answer(_ id: Int64, _ status: Int, retryAt: Int64? = nil, sentAt: Int64? = nil) {
            let hints = RateLimitHints(retryAt: retryAt.map(Timestamp.init(millisecondsSince1970:)))
            handle(.sent(id: id, .answered(DiscovrAnswer(status: status, hints: hints), sentAtMs: sentAt ?? now)))
        }

        var sends: [Int64] { actions.compactMap { if case .send(let item) = $0 { return item.id } else { return nil } } }
        var lookUps: [(id: Int64, token: String?)] {
            actions.compactMap { if case .lookUp(let item, let token) = $0 { return (item.id, token) } else { return nil } }
        }
        var writes: [Write] { actions.compactMap { if case .write(let write) = $0 { return write } else { return nil } } }
        var claim: Int? { actions.lazy.compactMap { if case .claim(let max) = $0 { return max } else { return nil } }.first }
        var ended: DeliveryStop? { actions.lazy.compactMap { if case .end(let stop) = $0 { return stop } else { return nil } }.first }
        /// The wait named last: `.some(nil)` is "until the next event".
        var wait: Int64?? { actions.lazy.compactMap { if case .wait(let until) = $0 { return until } else { return nil } }.last }
        var cancels: Bool { actions.contains(.cancelRequests) }
    }

    /// A movie play with a date (matched by it on a read-back).
    static func item(_ id: Int64, attempts: Int = 0, uncertain: Bool = false, sentAtMs: Int64? = nil, lastSendMs: Int64? = nil,
                     dated: Bool = true) -> QueuedItem {
        let play = HistoryItem(mediaId: .movie(id), updatedAt: dated ? Timestamp(iso8601: "2020-01-01T20:00:00.000Z") : nil)
        return QueuedItem(id: id, outgoing: .play(play), title: "Movie \(id)", attempts: attempts, uncertain: uncertain, sentAtMs: sentAtMs, lastSendMs: lastSendMs)
    }

    /// A history entry for the movie `id`: the same play when `dated` (same updatedAt), or one with no
    /// date created at `createdAt`.
    static func entry(_ id: Int64, updatedAt: String? = "2020-01-01T20:00:00.000Z", createdAt: Int64? = nil) -> HistoryEntry {
        HistoryEntry(rawId: "MV_TMDBID\(id)", progress: 100, updatedAt: updatedAt.flatMap { Timestamp(iso8601: $0) },
                     createdAt: createdAt.map(Timestamp.init(millisecondsSince1970:)), imported: "trakt")
    }

    static func page(_ entries: [HistoryEntry], next: String? = nil) -> DeliveryMachine.LookupResult {
        .page(HistoryPage(items: entries, hasMore: next != nil, nextPageToken: next), sentAtMs: start)
    }

    // MARK: - The plain path

    @Test func aCleanRunClaimsSendsSettlesAndEnds() {
        var h = Harness(concurrency: 2, pending: 3)
        #expect(h.claim == 2)
        h.claimed([Self.item(1), Self.item(2)], exhausted: false)
        #expect(h.sends == [1, 2])
        // Both slots are taken: nothing more until an answer; the wait is the stall deadline.
        #expect(h.claim == nil)
        #expect(h.wait == .some(Self.start + 120_000))

        h.now += 40
        h.answer(1, 201)
        #expect(h.writes == [.delivered(id: 1, status: 201, message: nil, added: nil, removed: nil, alreadyPresent: false)])
        #expect(h.claim == 1)
        h.claimed([Self.item(3)])
        #expect(h.sends == [3])
        h.answer(2, 200)
        // A settle may have freed a key: the machine asks again, and the queue has nothing.
        #expect(h.claim == 1)
        h.claimed([])
        #expect(h.ended == nil, "item 3 is still out")
        h.answer(3, 201)
        #expect(h.ended == nil && h.claim == 2)
        // The last claim came back empty with nothing that becomes ready by waiting: done.
        h.claimed([])
        #expect(h.ended == .finished)
        #expect(h.machine.counts == StateCounts(pending: 0, inFlight: 0, delivered: 3, alreadyPresent: 0, failed: 0))
        #expect(h.machine.sent == 3 && h.machine.readBacks == 0 && h.machine.settled == 3)
    }

    /// Answers that come in while a claim is asked for and not yet answered (the driver makes the claim
    /// after the answers in hand) do not ask for a second claim: the first one's size was worked out
    /// without the items it will bring, so a second would take that room again (over the concurrency,
    /// over `--limit`). Nor does the run end while one is out.
    @Test func noSecondClaimWhileOneIsOut() {
        var h = Harness(concurrency: 3, limit: 4, pending: 10)
        #expect(h.claim == 3)
        h.claimed([Self.item(1), Self.item(2), Self.item(3)], exhausted: false)
        #expect(h.sends == [1, 2, 3])
        h.answer(1, 201)
        #expect(h.claim == 1) // limit 4: one settled, two out, room for one
        h.answer(2, 201)
        #expect(h.writes.count == 1 && h.claim == nil)
        h.answer(3, 201)
        #expect(h.writes.count == 1 && h.claim == nil && h.ended == nil)
        h.tick(at: h.now + 10)
        #expect(h.claim == nil && h.ended == nil)
        h.claimed([Self.item(4)], exhausted: false)
        #expect(h.sends == [4] && h.claim == nil)
        h.answer(4, 201)
        #expect(h.ended == .limitReached)
        #expect(h.machine.counts.delivered == 4)
    }

    @Test func aLimitEndsTheRunWithWorkLeft() {
        var h = Harness(concurrency: 4, limit: 2, pending: 5)
        // Room for the limit only, not for the concurrency.
        #expect(h.claim == 2)
        h.claimed([Self.item(1), Self.item(2)], exhausted: false)
        h.answer(1, 201)
        #expect(h.claim == nil, "a third would go past --limit")
        h.answer(2, 201)
        #expect(h.ended == .limitReached)
    }

    @Test func aClaimThatComesBackShortWaitsForTheNextReadyItem() {
        var h = Harness(pending: 1)
        // One item is pending but held back until a moment (its backoff, or a key in flight).
        h.claimed([], exhausted: true, nextReadyAtMs: Self.start + 3_000)
        #expect(h.ended == nil)
        #expect(h.wait == .some(Self.start + 3_000))
        h.tick(at: Self.start + 3_000)
        #expect(h.claim == 2)
    }

    // MARK: - Answers

    @Test func aRetryableAnswerPutsTheItemBackCountedAndCertain() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1)])
        h.answer(1, 503)
        guard case .retry(let id, let status, _, let notBefore, let counted, let clear)? = h.writes.first else {
            Issue.record("no retry: \(h.actions)")
            return
        }
        #expect(id == 1 && status == 503 && counted && !clear)
        #expect(notBefore >= h.now)
        #expect(h.machine.counts.pending == 1 && h.machine.counts.inFlight == 0)
    }

    @Test func anAnswerThatSaysNothingWasStoredMakesAnUncertainItemCertainAgain() {
        var h = Harness(pending: 1)
        // A read-back found nothing, so the item was sent; the server answered 500: not stored.
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: Self.start - 60_000)])
        h.handle(.lookedUp(id: 1, Self.page([])))
        #expect(h.sends == [1])
        h.answer(1, 500)
        guard case .retry(_, _, _, _, true, let clear)? = h.writes.first else {
            Issue.record("no counted retry: \(h.actions)")
            return
        }
        #expect(clear, "a 500 says the send was not stored: no read-back is needed before the next one")
    }

    @Test func aRejectedPlayFailsWithoutMoreAttempts() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1)])
        h.answer(1, 400)
        guard case .failed(1, 400, _)? = h.writes.first else {
            Issue.record("not failed: \(h.actions)")
            return
        }
        #expect(h.machine.counts.failed == 1)
    }

    @Test func a401IsSentAgainAtOnceUncountedTwiceThenCounts() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1)])
        for _ in 0..<DeliveryMachine.unauthorizedRetries {
            h.now += 10
            h.answer(1, 401)
            // Sent again at once, the send time noted (a kill now reads back from this moment).
            #expect(h.writes == [.sendStarted(id: 1, atMs: h.now)])
            #expect(h.sends == [1])
        }
        h.answer(1, 401)
        guard case .retry(1, 401, _, _, true, _)? = h.writes.first else {
            Issue.record("the third 401 did not count: \(h.actions)")
            return
        }
    }

    @Test func a403EndsTheRunAndCancelsTheOthers() {
        var h = Harness(concurrency: 2, pending: 2)
        h.claimed([Self.item(1), Self.item(2)])
        h.answer(1, 403)
        #expect(h.writes.contains(.release([1])))
        #expect(h.machine.isEnding)
        #expect(h.cancels)
        #expect(h.ended == nil, "item 2 is still out")
        h.handle(.sent(id: 2, .cancelledInFlight(sentAtMs: Self.start)))
        guard case .forbidden? = h.ended else {
            Issue.record("did not end forbidden: \(h.actions)")
            return
        }
        // The cancelled send may have been stored: uncertain, not counted.
        guard case .uncertain(2, Self.start, _, false, _, _)? = h.writes.first else {
            Issue.record("the cancelled send is not uncertain: \(h.actions)")
            return
        }
    }

    // MARK: - Uncertain sends and read-backs

    @Test func aLostAnswerIsUncertainAndReadBackAfterTheGrace() {
        var h = Harness(timeoutMs: 7_000, pending: 1)
        let grace: Int64 = 14_000 // twice the timeout, above the 10 s minimum
        #expect(h.machine.configuration.graceMs(after: .ownTimeout) == grace)
        h.claimed([Self.item(1)])
        let sentAt = h.now
        h.now += 7_000
        h.handle(.sent(id: 1, .noAnswer(.timedOut("7 s"), sentAtMs: sentAt)))
        guard case .uncertain(1, sentAt, let notBefore, true, nil, _)? = h.writes.first else {
            Issue.record("not uncertain: \(h.actions)")
            return
        }
        #expect(notBefore >= sentAt + grace, "read back no sooner than the grace after the send")
        #expect(h.sends.isEmpty, "never re-sent blind")
        #expect(h.machine.awaitingReadBack == [1])
        #expect(h.machine.progress(startedAtMs: Self.start, nowMs: h.now).awaitingReadBack == 1)
        // The queue holds it back until then.
        #expect(h.claim != nil)
        h.claimed([], nextReadyAtMs: notBefore)
        #expect(h.wait == .some(notBefore))

        // The queue hands it back once due, uncertain: it is read back, not sent.
        h.tick(at: notBefore)
        #expect(h.claim != nil)
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, lastSendMs: sentAt)])
        #expect(h.lookUps.map(\.id) == [1] && h.lookUps.first?.token == nil)
        #expect(h.sends.isEmpty)
        #expect(h.machine.awaitingReadBack.isEmpty)
        // Found: delivered, already present, nothing sent.
        h.handle(.lookedUp(id: 1, Self.page([Self.entry(2), Self.entry(1)])))
        #expect(h.writes == [.delivered(id: 1, status: 200, message: DeliveryMachine.foundMessage, added: nil, removed: nil,
                                        alreadyPresent: true)])
        #expect(h.sends.isEmpty)
        #expect(h.machine.counts.alreadyPresent == 1 && h.machine.foundOnReadBack == 1 && h.machine.readBacks == 1)
        let progress = h.machine.progress(startedAtMs: Self.start, nowMs: h.now)
        #expect(progress.readBacks == 1 && progress.foundOnReadBack == 1 && progress.awaitingReadBack == 0)
    }

    @Test func aLostConnectionAndA502AreUncertainToo() {
        var h = Harness(pending: 2)
        h.claimed([Self.item(1), Self.item(2)])
        h.handle(.sent(id: 1, .noAnswer(.connectionLost("reset"), sentAtMs: h.now)))
        h.answer(2, 502)
        // 502/504: a gateway may have passed the request on.
        guard case .uncertain(2, _, _, true, 502, _)? = h.writes.first else {
            Issue.record("502 not uncertain: \(h.actions)")
            return
        }
        #expect(h.machine.counts.pending == 2)
    }

    /// Section 5: after our own timeout the server may still be working on the send, so its read-back
    /// waits twice `--timeout` after the send began; after a connection that broke or closed before the
    /// answer (and a gateway's 502), 10 s. With the default `--timeout 30` that is 60 s against 10 s.
    @Test(arguments: [(Int64(30_000), "timeout", Int64(60_000)), (30_000, "lost", 10_000), (30_000, "502", 10_000),
                      (2_000, "timeout", 10_000), (2_000, "lost", 10_000)])
    func theGraceDependsOnWhyTheOutcomeIsUnknown(timeoutMs: Int64, cause: String, grace: Int64) {
        var h = Harness(timeoutMs: timeoutMs, pending: 1)
        h.claimed([Self.item(1)])
        let sentAt = h.now
        h.now += 1_000
        switch cause {
        case "timeout": h.handle(.sent(id: 1, .noAnswer(.timedOut("no answer"), sentAtMs: sentAt)))
        case "lost": h.handle(.sent(id: 1, .noAnswer(.connectionLost("the server closed the connection"), sentAtMs: sentAt)))
        default: h.answer(1, 502, sentAt: sentAt)
        }
        guard case .uncertain(1, sentAt, let notBefore, true, _, _)? = h.writes.first else {
            Issue.record("not uncertain: \(h.actions)")
            return
        }
        // Not before the grace; the jittered backoff of a first attempt (at most 500 ms after the answer) adds nothing here.
        #expect(notBefore == sentAt + grace, "\(cause) with --timeout \(timeoutMs / 1000) s: read back at +\(notBefore - sentAt) ms")
        h.claimed([], nextReadyAtMs: notBefore)
        #expect(h.wait == .some(notBefore))
        // The queue hands it back when due: it is read back then, not put back for a longer grace.
        h.tick(at: notBefore)
        #expect(h.claim != nil)
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, lastSendMs: sentAt)])
        #expect(h.lookUps.map(\.id) == [1], "\(h.actions)")
        #expect(h.writes.isEmpty)
    }

    /// The progress line's ETA while the last items wait out their grace: the run cannot end before
    /// their read-backs, so the ETA counts that wait (before, it was the items left at the pace of
    /// sending: a second or two, for the whole wait). Checked against when the run really ends.
    @Test func theETACountsTheWaitForReadBacks() throws {
        var h = Harness(concurrency: 4, timeoutMs: 30_000, pending: 40)
        // A small queue: 40 plays, answered 50 ms after they go out; the first send of every tenth
        // loses its connection (read back 10 s after that send, and found).
        var ready = (1...40).map { Self.item(Int64($0)) }
        var backoff: [(item: QueuedItem, notBefore: Int64)] = []
        var out: [(id: Int64, lookUp: Bool)] = []
        var asked: (atMs: Int64, progress: DeliveryProgress)?
        func collect(_ h: Harness) {
            out += h.sends.map { ($0, false) } + h.lookUps.map { ($0.id, true) }
            for case .uncertain(let id, let sentAt, let notBefore, _, _, _) in h.writes {
                backoff.append((Self.item(id, attempts: 1, uncertain: true, sentAtMs: sentAt, lastSendMs: sentAt), notBefore))
            }
        }
        for _ in 0..<1_000 where h.ended == nil {
            if let max = h.claim {
                let dueNow = backoff.filter { $0.notBefore <= h.now }.map(\.item)
                backoff.removeAll { $0.notBefore <= h.now }
                ready = dueNow + ready
                let taken = Array(ready.prefix(max))
                ready.removeFirst(taken.count)
                h.claimed(taken, exhausted: taken.count < max, nextReadyAtMs: ready.isEmpty ? backoff.map(\.notBefore).min() : h.now)
                collect(h)
            } else if !out.isEmpty {
                let (id, lookUp) = out.removeFirst()
                h.now += 50
                if lookUp {
                    h.handle(.lookedUp(id: id, Self.page([Self.entry(id)])))
                } else if id % 10 == 0 && !backoff.contains(where: { $0.item.id == id }) && h.machine.readBacks == 0 {
                    h.handle(.sent(id: id, .noAnswer(.connectionLost("closed"), sentAtMs: h.now - 50)))
                } else {
                    h.answer(id, 201, sentAt: h.now - 50)
                }
                collect(h)
            } else if case .some(.some(let until)) = h.wait {
                if asked == nil && backoff.count == 4 {
                    asked = (h.now, h.machine.progress(startedAtMs: Self.start, nowMs: h.now))
                }
                h.tick(at: until)
                collect(h)
            } else {
                break
            }
        }
        #expect(h.ended == .finished, "\(h.actions)")
        #expect(h.machine.counts.delivered == 40 && h.machine.foundOnReadBack == 4)
        let (askedAt, progress) = try #require(asked)
        #expect(progress.awaitingReadBack == 4 && progress.delivered == 36, "\(progress)")
        // Pace per second of wall time: 36 settled since the start.
        #expect(abs(progress.pace - 36 / (Double(askedAt - Self.start) / 1000)) < 0.01)
        let eta = try #require(progress.etaSeconds)
        let real = Double(h.now - askedAt) / 1000
        #expect(real > 5, "the last read-back is due several seconds after the question: \(real) s")
        #expect(abs(eta - real) <= 0.2 * real, "ETA \(eta) s, the run ended \(real) s later")
    }

    @Test func aConnectFailureIsNotUncertain() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1)])
        h.handle(.sent(id: 1, .noAnswer(.connectFailed("refused"), sentAtMs: h.now)))
        guard case .retry(1, nil, _, _, false, false)? = h.writes.first else {
            Issue.record("a refused connection reached no server: a plain uncounted retry, got \(h.actions)")
            return
        }
    }

    @Test func aReadBackReadsEveryPageThenSendsWhenNotFound() {
        var h = Harness(pending: 1)
        let sentAt = Self.start - 30_000
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, lastSendMs: sentAt)])
        #expect(h.lookUps.first?.token == nil)
        // Page one: other plays of the same film (another date), and more to come.
        h.handle(.lookedUp(id: 1, Self.page([Self.entry(1, updatedAt: "2019-05-05T20:00:00.000Z")], next: "p2")))
        #expect(h.lookUps.first?.token == "p2")
        #expect(h.sends.isEmpty)
        h.handle(.lookedUp(id: 1, Self.page([Self.entry(1, updatedAt: "2018-05-05T20:00:00.000Z")])))
        // Not there: sent now, the send time noted.
        #expect(h.writes == [.sendStarted(id: 1, atMs: h.now)])
        #expect(h.sends == [1])
        h.answer(1, 201)
        #expect(h.writes == [.delivered(id: 1, status: 201, message: nil, added: nil, removed: nil, alreadyPresent: false)])
        #expect(h.machine.counts.alreadyPresent == 0)
    }

    @Test func aPageTokenThatRepeatsEndsTheReadBack() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: Self.start - 30_000)])
        h.handle(.lookedUp(id: 1, Self.page([], next: "same")))
        #expect(h.lookUps.first?.token == "same")
        h.handle(.lookedUp(id: 1, Self.page([], next: "same")))
        #expect(h.lookUps.isEmpty, "a server that hands back the same token would loop for ever")
        #expect(h.sends == [1])
    }

    @Test func aFailedReadBackIsRetriedAndNeverFailsTheItem() {
        // Attempts already used up: a read-back failure must still not fail the item. (No stall clock:
        // this test is about the item alone.)
        var h = Harness(maxAttempts: 3, giveUpAfterMs: 1_000_000_000, pending: 1)
        let sentAt = Self.start - 30_000
        let failures: [DeliveryMachine.LookupResult] = [
            .noAnswer(.timedOut("5 s"), sentAtMs: Self.start),
            .answered(DiscovrAnswer(status: 503), sentAtMs: Self.start),
            .noAnswer(.connectionLost("reset"), sentAtMs: Self.start),
            .answered(DiscovrAnswer(status: 500, response: HistoryResponse(message: "boom")), sentAtMs: Self.start),
            .answered(DiscovrAnswer(status: 429), sentAtMs: Self.start),
            .answered(DiscovrAnswer(status: 200, response: HistoryResponse(message: "not a page")), sentAtMs: Self.start),
        ]
        for round in 0..<20 {
            h.claimed([Self.item(1, attempts: 3, uncertain: true, sentAtMs: sentAt, lastSendMs: sentAt)])
            #expect(h.lookUps.map(\.id) == [1], "round \(round): \(h.actions)")
            h.now += 1_000
            h.handle(.lookedUp(id: 1, failures[round % failures.count]))
            guard case .retry(1, _, _, let notBefore, false, false)? = h.writes.first else {
                Issue.record("round \(round): not an uncounted retry that stays uncertain: \(h.actions)")
                return
            }
            #expect(notBefore >= h.now)
            #expect(h.machine.counts.failed == 0)
            h.now = max(h.now, notBefore)
        }
    }

    @Test func notFoundWithTheAttemptsUsedUpFails() {
        var h = Harness(maxAttempts: 3, pending: 1)
        h.claimed([Self.item(1, attempts: 3, uncertain: true, sentAtMs: Self.start - 30_000)])
        h.handle(.lookedUp(id: 1, Self.page([])))
        guard case .failed(1, nil, let message)? = h.writes.first else {
            Issue.record("not failed: \(h.actions)")
            return
        }
        #expect(message.contains("read-back did not find it"))
        #expect(h.sends.isEmpty)
    }

    @Test func a404OnTheReadBackMeansNothingIsThere() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: Self.start - 30_000)])
        h.handle(.lookedUp(id: 1, .answered(DiscovrAnswer(status: 404), sentAtMs: h.now)))
        #expect(h.sends == [1])
    }

    /// A 429 to a read-back is one rate-limited answer (it was counted twice: by the answer's
    /// bookkeeping and again by the read-back's own branch).
    @Test func a429OnTheReadBackIsCountedOnceAndTriedAgainLater() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: Self.start - 30_000)])
        h.handle(.lookedUp(id: 1, .answered(DiscovrAnswer(status: 429), sentAtMs: h.now)))
        #expect(h.machine.rateLimited == 1)
        guard case .retry(1, 429, _, let notBefore, false, false)? = h.writes.first else {
            Issue.record("not an uncounted retry that stays uncertain: \(h.actions)")
            return
        }
        #expect(notBefore > h.now && h.sends.isEmpty)
    }

    @Test func aPlayWithoutADateMatchesOnlyAnEntryCreatedWhileItsSendWasUnderWay() {
        let sentAt = Self.start - 30_000
        // An entry of the same film, no date, created before the send began: another play.
        var before = Harness(pending: 1)
        before.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, dated: false)])
        before.handle(.lookedUp(id: 1, Self.page([Self.entry(1, updatedAt: nil, createdAt: sentAt - 1)])))
        #expect(before.sends == [1])
        // Created after the send began: this play.
        var during = Harness(pending: 1)
        during.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, dated: false)])
        during.handle(.lookedUp(id: 1, Self.page([Self.entry(1, updatedAt: nil, createdAt: sentAt + 200)])))
        #expect(during.sends.isEmpty)
        #expect(during.machine.counts.alreadyPresent == 1)
        // No creation time at all: cannot be told apart, so not matched.
        var unknown = Harness(pending: 1)
        unknown.claimed([Self.item(1, attempts: 1, uncertain: true, sentAtMs: sentAt, dated: false)])
        unknown.handle(.lookedUp(id: 1, Self.page([Self.entry(1, updatedAt: nil)])))
        #expect(unknown.sends == [1])
    }

    @Test func anUncertainItemADeadRunLeftWaitsItsGraceOnceNotOneMorePerClaim() {
        // A dead run claimed it 2 s ago: its send may still be under way at the server.
        let lastSend = Self.start - 2_000
        var h = Harness(pending: 1)
        h.claimed([Self.item(1, attempts: 0, uncertain: true, sentAtMs: lastSend, lastSendMs: lastSend)])
        let due = lastSend + h.machine.configuration.timeoutGraceMs // the cause is not known: the longer grace
        #expect(h.writes == [.retry(id: 1, status: nil, message: nil, notBeforeMs: due, countAttempt: false, clearUncertain: false)])
        #expect(h.lookUps.isEmpty && h.sends.isEmpty)
        #expect(h.wait == .some(due))
        #expect(h.machine.awaitingReadBack == [1])
        // Once due the queue hands it out again, and that claim's row says it was last claimed now
        // (the claim that deferred it wrote claimed_at): the due time set then holds, and it is read
        // back (a due time counted from the last claim would move one grace further on every claim).
        h.tick(at: due)
        #expect(h.claim != nil)
        h.claimed([Self.item(1, attempts: 0, uncertain: true, sentAtMs: lastSend, lastSendMs: Self.start)])
        #expect(h.lookUps.map(\.id) == [1], "\(h.actions)")
        #expect(h.writes.isEmpty)
    }

    // MARK: - The clocks of section 5

    @Test func noItemSettledForGiveUpAfterEndsTheRun() {
        var h = Harness(maxAttempts: 1_000, giveUpAfterMs: 60_000, pending: 1)
        h.claimed([Self.item(1)])
        // 503 after 503, one every 5 s: answers come, none settles.
        for attempt in 1...100 {
            h.now += 5_000
            h.answer(1, 503)
            if h.ended != nil { break }
            #expect(h.claim != nil)
            h.claimed([Self.item(1, attempts: attempt)])
            #expect(h.sends == [1])
        }
        guard case .gaveUp(let why)? = h.ended else {
            Issue.record("did not give up: \(h.actions)")
            return
        }
        #expect(why.contains("no item settled"))
        #expect(h.now == Self.start + 60_000)
    }

    @Test func waitingOutOurOwnGraceIsNeitherAStallNorTheServerAway() {
        // The grace (10 s) restarts the stall clock and the no-answer clock: a give-up-after of 8 s must
        // not end the run (gaveUp, or unreachable: the last request got no answer) while an uncertain
        // item waits for its read-back. The same with `--timeout 60` (grace 120 s) and the default
        // give-up-after of 120 s when the last item's answer is lost.
        var h = Harness(giveUpAfterMs: 8_000, pending: 1)
        h.claimed([Self.item(1)])
        let sentAt = h.now
        h.handle(.sent(id: 1, .noAnswer(.connectionLost("reset"), sentAtMs: sentAt)))
        guard case .uncertain(_, _, let notBefore, _, _, _)? = h.writes.first else {
            Issue.record("not uncertain: \(h.actions)")
            return
        }
        h.claimed([], nextReadyAtMs: notBefore)
        #expect(h.ended == nil)
        h.tick(at: notBefore)
        #expect(h.ended == nil, "\(h.actions)")
        #expect(h.claim != nil)
    }

    @Test func aRetryAfterLongerThanGiveUpAfterStopsInsteadOfSleeping() {
        var h = Harness(giveUpAfterMs: 60_000, pending: 1)
        h.claimed([Self.item(1)])
        h.answer(1, 429, retryAt: h.now + 3_600_000)
        #expect(h.writes.contains(.release([1])))
        guard case .gaveUp(let why)? = h.ended else {
            Issue.record("did not stop: \(h.actions)")
            return
        }
        #expect(why.contains("Retry-After"))
    }

    @Test func aShortRetryAfterIsWaitedOutAndIsNotAnAttempt() {
        var h = Harness(pending: 1)
        h.claimed([Self.item(1)])
        h.answer(1, 429, retryAt: h.now + 2_000)
        guard case .retry(1, 429, _, let notBefore, false, _)? = h.writes.first else {
            Issue.record("not an uncounted retry: \(h.actions)")
            return
        }
        #expect(notBefore >= h.now + 2_000)
        #expect(h.ended == nil && h.machine.rateLimited == 1)
    }

    @Test func connectFailuresPauseTheRunThenProbeOneAtATimeThenEndUnreachable() {
        var h = Harness(concurrency: 4, giveUpAfterMs: 30_000, pending: 4)
        h.claimed([Self.item(1), Self.item(2), Self.item(3), Self.item(4)])
        #expect(h.sends.count == 4)
        for id in Int64(1)...4 {
            h.handle(.sent(id: id, .noAnswer(.connectFailed("refused"), sentAtMs: Self.start)))
            // Not one counted attempt, not uncertain: the request never reached a server.
            #expect(h.writes == [.retry(id: id, status: nil, message: "could not connect: refused", notBeforeMs: h.now,
                                        countAttempt: false, clearUncertain: false)])
        }
        // From now on, one probe at a time until an answer comes; then unreachable after give-up-after.
        var probes = 0
        while h.ended == nil && probes < 200 {
            if let max = h.claim {
                #expect(max == 1, "more than one probe while the server is away: \(h.actions)")
                h.claimed([Self.item(Int64(probes % 4 + 1))], exhausted: false)
            }
            #expect(h.machine.requestsOut <= 1)
            if let id = h.sends.first {
                h.now += 1
                h.handle(.sent(id: id, .noAnswer(.connectFailed("refused"), sentAtMs: h.now - 1)))
                probes += 1
                continue
            }
            if h.ended != nil { break }
            guard case .some(.some(let next)) = h.wait else {
                Issue.record("no deadline named: \(h.actions)")
                break
            }
            #expect(next > h.now, "a pause between probes")
            h.tick(at: next)
        }
        guard case .unreachable(let why)? = h.ended else {
            Issue.record("not unreachable after \(probes) probes: \(h.actions)")
            return
        }
        #expect(why.contains("refused"))
        #expect(h.now - Self.start >= 30_000)
        #expect(probes >= 3)
    }

    // MARK: - Stopping

    @Test func aStopLetsRequestsOutFinishAndReleasesTheRest() {
        var h = Harness(concurrency: 2, pending: 3)
        h.claimed([Self.item(1), Self.item(2)], exhausted: false)
        h.handle(.stopRequested)
        #expect(!h.cancels, "a graceful stop waits for the answers")
        #expect(h.ended == nil && h.claim == nil)
        h.answer(1, 201)
        #expect(h.ended == nil)
        h.answer(2, 201)
        #expect(h.ended == .stopped)
        #expect(h.machine.counts.delivered == 2 && h.machine.counts.inFlight == 0)
    }

    @Test func aClaimThatArrivesAfterAStopIsReleasedUnsent() {
        var h = Harness(pending: 2)
        #expect(h.claim == 2)
        h.handle(.stopRequested)
        h.claimed([Self.item(1), Self.item(2)])
        #expect(h.sends.isEmpty)
        #expect(h.writes.contains(.release([1])) && h.writes.contains(.release([2])))
        #expect(h.ended == .stopped)
        #expect(h.machine.counts.pending == 2 && h.machine.counts.inFlight == 0)
    }

    @Test func aStorageFailureEndsTheRunAndCancelsWhatIsOut() {
        var h = Harness(pending: 2)
        h.claimed([Self.item(1), Self.item(2)])
        h.handle(.storageFailed(.storage(path: "/tmp/state.sqlite", reason: "database or disk is full")))
        #expect(h.cancels)
        h.handle(.sent(id: 1, .cancelledInFlight(sentAtMs: Self.start)))
        h.handle(.sent(id: 2, .notSent))
        guard case .storage? = h.ended else {
            Issue.record("did not end with the storage error: \(h.actions)")
            return
        }
    }

    // MARK: - Pace

    @Test func theLimiterSpacesSendsOnTheClock() {
        // 10 a second: after the first, one send every 100 ms, named as a wait, not slept.
        var h = Harness(concurrency: 8, rate: 10, pending: 20)
        var sendTimes: [Int64] = []
        var id: Int64 = 0
        var steps = 0
        while sendTimes.count < 5 && steps < 100 {
            steps += 1
            if let max = h.claim {
                let items = (0..<max).map { _ -> QueuedItem in id += 1; return Self.item(id) }
                h.claimed(items, exhausted: false)
            }
            for sent in h.sends {
                sendTimes.append(h.now)
                h.answer(sent, 201)
            }
            if h.claim != nil { continue }
            guard case .some(.some(let until)) = h.wait else { break }
            h.tick(at: max(until, h.now + 1))
        }
        #expect(sendTimes.count >= 5)
        let gaps = zip(sendTimes.dropFirst(), sendTimes).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 >= 90 && $0 <= 110 }, "gaps \(gaps)")
    }
}
