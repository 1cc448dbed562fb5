import DiscovrAPI
import ImportQueue
import Testing
@testable import Delivery

/// List writes (importer.md section 7) in the delivery machine, fed by hand with a manual clock: a
/// list is a set, so a lost answer is sent again, never read back; a path the server does not take
/// fails the list's other writes once, and everything else goes on.
@Suite struct ListWriteMachineTests {
    typealias Harness = DeliveryMachineTests.Harness

    static func write(_ id: Int64, _ list: DiscovrList, attempts: Int = 0) -> QueuedItem {
        QueuedItem(id: id, outgoing: .list(ListItem(list: list, mediaId: .movie(id))), title: "Movie \(id)", attempts: attempts)
    }

    static func refusals(_ h: Harness) -> [DiscovrList] {
        h.writes.compactMap { if case .refuseList(let list, _, _) = $0 { return list } else { return nil } }
    }

    @Test(arguments: [TransportFailure.timedOut("timed out after 5 s"), .connectionLost("connection reset")])
    func aLostAnswerToAListWriteIsSentAgainNotReadBack(_ failure: TransportFailure) {
        var h = Harness(pending: 1)
        h.claimed([Self.write(1, .liked)])
        #expect(h.sends == [1])
        h.handle(.sent(id: 1, .noAnswer(failure, sentAtMs: h.now)))
        guard case .retry(1, nil, _, let notBefore, true, false)? = h.writes.first else {
            Issue.record("not a counted retry: \(h.actions)")
            return
        }
        #expect(h.machine.awaitingReadBack.isEmpty)
        h.tick(at: notBefore)
        h.claimed([Self.write(1, .liked, attempts: 1)])
        #expect(h.sends == [1] && h.lookUps.isEmpty, "sent again, without a read-back")
    }

    @Test func aGatewayAnswerToAListWriteIsRetriedNotReadBack() {
        var h = Harness(pending: 1)
        h.claimed([Self.write(1, .watchlist)])
        h.answer(1, 502)
        guard case .retry(1, 502, _, _, true, _)? = h.writes.first else {
            Issue.record("not a retry: \(h.actions)")
            return
        }
        #expect(h.machine.awaitingReadBack.isEmpty)
    }

    @Test func a405RefusesThePathOnceAndTheRunGoesOn() {
        var h = Harness(concurrency: 3, pending: 5)
        h.claimed([Self.write(1, .superLiked), Self.write(2, .superLiked), Self.write(3, .disliked)], exhausted: false)
        h.answer(1, 405)
        #expect(Self.refusals(h) == [.superLiked])
        guard case .failed(1, 405, let reason)? = h.writes.last else {
            Issue.record("not failed: \(h.actions)")
            return
        }
        #expect(reason.contains("POST /profile/super_liked") && reason.contains("retry-failed"))
        #expect(h.machine.refusedLists.keys.sorted { $0.rawValue < $1.rawValue } == [.superLiked])
        // The other write of that list, already out, fails with the same reason; no second refusal.
        h.answer(2, 405)
        #expect(Self.refusals(h).isEmpty)
        #expect(h.writes.contains(.failed(id: 2, status: 405, message: reason)))
        // Another list is not touched.
        h.answer(3, 200)
        #expect(h.writes.first == .delivered(id: 3, status: 200, message: nil, added: nil, removed: nil, alreadyPresent: false))
        #expect(h.ended == nil && h.machine.counts.delivered == 1 && h.machine.counts.failed == 2)
    }

    @Test func threeNotFoundsBeforeAnySuccessRefuseThePath() {
        var h = Harness(concurrency: 4, pending: 4)
        h.claimed((1...4).map { Self.write($0, .liked) }, exhausted: false)
        h.answer(1, 404)
        h.answer(2, 404)
        #expect(Self.refusals(h).isEmpty)
        // The second title's own failure, for now (unknown media), and no refusal yet.
        guard case .failed(2, 404, _)? = h.writes.first, h.writes.count == 1 else {
            Issue.record("not a plain failure: \(h.actions)")
            return
        }
        h.answer(3, 404)
        #expect(Self.refusals(h) == [.liked])
        #expect(h.machine.refusedLists[.liked]?.contains("404 for each of the first 3 titles") == true)
        // The queue's counts after the refusal (the list's pending writes failed) replace the machine's.
        h.handle(.recounted(StateCounts(pending: 0, inFlight: 1, failed: 3)))
        #expect(h.machine.counts.failed == 3)
    }

    @Test func aNotFoundAfterASuccessIsThatTitlesOwnFailure() {
        var h = Harness(concurrency: 4, pending: 4)
        h.claimed((1...4).map { Self.write($0, .disliked) }, exhausted: false)
        h.answer(1, 200)
        for id: Int64 in 2...4 { h.answer(id, 404) }
        #expect(h.machine.refusedLists.isEmpty)
        #expect(h.machine.counts.failed == 3 && h.machine.counts.delivered == 1)
    }

    /// Plays never count towards a list path's refusal, nor lists towards a play's failure.
    @Test func notFoundPlaysDoNotRefuseAListPath() {
        var h = Harness(concurrency: 4, pending: 4)
        h.claimed([DeliveryMachineTests.item(1), DeliveryMachineTests.item(2), DeliveryMachineTests.item(3), Self.write(4, .liked)],
                  exhausted: false)
        for id: Int64 in 1...3 { h.answer(id, 404) }
        h.answer(4, 404)
        #expect(h.machine.refusedLists.isEmpty)
    }
}
