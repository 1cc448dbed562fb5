import DiscovrAPI
import Foundation
import ImportQueue
import Logging

/// `--existing check|ignore` (importer.md section 5): whether to look for plays the profile already
/// holds before the first send to it from a state.
public enum ExistingHistoryMode: String, Sendable, CaseIterable, Codable {
    /// Read the profile's history first; planned plays found there are `alreadyPresent`, not sent.
    case check
    /// Send everything (plays already in the profile are added again).
    case ignore
}

/// Where the existing-history check stands, for the progress display and the summary.
public struct ExistingHistoryProgress: Sendable, Equatable {
    /// History pages read so far (one request each, retries not counted).
    public var pages = 0
    /// Entries on those pages.
    public var entries = 0
    /// Every page is being read (the first held trakt imports or planned plays); false while only the
    /// first page decides, and when it decided that the rest need not be read.
    public var readingAll = false
    /// Planned plays found in the profile and marked `alreadyPresent`; nil until the check is done.
    public var found: Int?
    /// History requests sent, retries included.
    public var requests = 0

    public var finished: Bool { found != nil }

    /// What the meta table keeps: `{"pages":3,"entries":150,"requests":3,"found":120}`.
    func record(found: Int) -> String {
        "{\"pages\":\(pages),\"entries\":\(entries),\"requests\":\(requests),\"found\":\(found)}"
    }
}

extension HistoryEntry {
    /// The play key (`HistoryItem.playKey`, the queue's key) of the planned play this entry would be:
    /// its id in either form, season and episode (both, for a show), and `updatedAt` to the
    /// millisecond. Nil when it cannot be one of ours: an id in neither form, an episode without both
    /// numbers (a season default), no `updatedAt`.
    var plannedPlayKey: String? {
        guard updatedAt != nil else { return nil }
        return asPlannedItem?.playKey
    }

    /// The item this entry would be if the importer had sent it (its `updatedAt` too, nil or not); nil
    /// for an id in neither form, and for an episode without both numbers (a season default).
    var asPlannedItem: HistoryItem? {
        guard let mediaId else { return nil }
        switch mediaId.kind {
        case .movie:
            return HistoryItem(mediaId: mediaId, updatedAt: updatedAt)
        case .show:
            guard let season, let episode, season >= 1, episode >= 1 else { return nil }
            return HistoryItem(mediaId: mediaId, season: season, episode: episode, updatedAt: updatedAt)
        }
    }
}

/// The reading of the profile's history as a pure value: fed one page at a time, it says what to read
/// next and collects the play keys found. The first page decides whether the rest is read: only when it
/// holds an `imported: "trakt"` entry or a planned play (`isPlanned`).
struct ExistingHistoryScan: Sendable {
    enum Next: Sendable, Equatable {
        /// Read the page after `token`.
        case read(token: String)
        /// Done; `playKeys` holds what to mark.
        case done
        /// The server's paging cannot be followed (a token given twice: it would go round forever).
        case badPaging(String)
    }

    /// Its `requests` are counted by the reader.
    var progress = ExistingHistoryProgress()
    /// Play keys of every entry read (when every page is read), whether planned or not.
    private(set) var playKeys = Set<String>()
    private var tokensSeen = Set<String>()

    /// Takes the next page. `isPlanned` answers, for the first page only, which of its play keys the
    /// state holds.
    mutating func take(_ page: HistoryPage, isPlanned: ([String]) throws -> Set<String>) rethrows -> Next {
        progress.pages += 1
        progress.entries += page.items.count
        let keys = page.items.compactMap(\.plannedPlayKey)
        if progress.pages == 1 {
            let imported = page.items.contains { $0.imported == HistoryItem.importSource }
            guard try imported || !isPlanned(keys).isEmpty else { return .done }
            progress.readingAll = true
        }
        playKeys.formUnion(keys)
        return Self.next(after: page, pages: progress.pages, tokensSeen: &tokensSeen)
    }

    /// Where paging goes after `page`, the `pages`-th read: on, done, or round in circles.
    static func next(after page: HistoryPage, pages: Int, tokensSeen: inout Set<String>) -> Next {
        guard page.hasMore, let token = page.nextPageToken else { return .done }
        guard tokensSeen.insert(token).inserted else {
            return .badPaging("the server gave the same page token twice (after \(pages) pages)")
        }
        return .read(token: token)
    }
}

extension DeliveryDriver {
    /// The existing-history check, with the run's transport, session and rate limiter, before the first
    /// item is claimed. Once done for a profile, the state's meta table says so and it is not repeated
    /// (on `resume`, or a later `import` into the same state). Returns when the run may go on (checked
    /// now, checked before, or `--existing ignore`); else throws why the run ends (stopped, credentials,
    /// forbidden, the history could not be read, the state file).
    func checkExistingHistory(context: SendContext, progress report: @escaping @Sendable (DeliveryProgress) -> Void)
        async throws(DeliveryStop) {
        guard settings.existingHistory == .check else { return }
        let key = StateMeta.existingHistoryChecked(profileId: settings.profileId)
        do {
            if let done = try queue.meta(key) {
                logger.debug("existing history already checked", metadata: ["record": .string(done)])
                return
            }
            if try queue.counts().pending == 0 { return } // nothing to send, nothing to look for
        } catch {
            throw .storage(Self.queueError(error, queue: queue))
        }
        let startedAtMs = context.time.nowMs()
        var scan = ExistingHistoryScan()
        func show(_ state: ExistingHistoryProgress) {
            var snapshot = DeliveryProgress(counts: (try? queue.counts()) ?? StateCounts(), startedAtMs: startedAtMs,
                                            nowMs: context.time.nowMs(), currentRate: context.currentRate)
            snapshot.existingHistory = state
            report(snapshot)
        }
        logger.info("existing history check started")
        show(scan.progress)
        var token: String?
        reading: while true {
            let page = try await context.historyPage(after: token, number: scan.progress.pages + 1,
                                                     requests: &scan.progress.requests)
            let next: ExistingHistoryScan.Next
            do {
                next = try scan.take(page) { keys in try queue.heldPlays(keys) }
            } catch {
                throw .storage(Self.queueError(error, queue: queue))
            }
            show(scan.progress)
            switch next {
            case .read(let nextToken): token = nextToken
            case .done: break reading
            case .badPaging(let why): throw .historyUnreadable(why)
            }
        }
        let found: Int
        var record = scan.progress
        do {
            let done = record
            found = try queue.markAlreadyPresent(playKeys: scan.playKeys, meta: (key, { done.record(found: $0) }))
        } catch {
            throw .storage(Self.queueError(error, queue: queue))
        }
        record.found = found
        show(record)
        logger.info("existing history check done", metadata: [
            "pages": .stringConvertible(record.pages), "entries": .stringConvertible(record.entries),
            "requests": .stringConvertible(record.requests), "found": .stringConvertible(found),
            "ms": .stringConvertible(context.time.nowMs() - startedAtMs),
        ])
    }
}

/// Reads the profile's whole history a page at a time (`GET /profile/history?limit=50`), for the
/// existing-history check and for `verify`: one reader, so both page at the run's pace with the same
/// retries, session refresh and `--give-up-after`.
extension SendContext {
    /// `GET /profile/history?limit=50[&nextPageToken=]`, paced by the run's rate limiter and tried again
    /// as a send would be (`RetryPolicy`; a server that cannot be reached until `--give-up-after`). A 403
    /// stops the run as for a send; any other refusal, or an answer that is not a history page, ends it
    /// with `historyUnreadable`.
    func historyPage(after token: String?, number page: Int,
                     requests: inout Int) async throws(DeliveryStop) -> HistoryPage {
        var policy = RetryPolicy(maxAttempts: settings.maxAttempts, seed: (settings.jitterSeed ?? 0) &+ 0xE815_7123)
        var attempts = 0
        var unauthorized = 0
        let unreachableAfterMs = DeliveryMachine.Configuration.ms(settings.unreachableAfter)
        let what = "page \(page) of the profile's history"
        while true {
            guard await waitForSlot() else { throw .stopped }
            requests += 1
            let outcome: DeliveryOutcome
            let sentAt: Int64
            var said = ""
            let answered = await exchange(page: true) { jwt throws(TransportFailure) in
                try await client.getHistory(limit: DiscovrEndpoints.historyPageLimit, pageToken: token, jwt: jwt)
            }
            switch answered.result {
            case .answered(let answer, let at):
                (sentAt, said) = (at, "status \(answer.status): ")
                let now = time.nowMs()
                limiter.withLock { $0.record(answer.kind, hints: answer.hints, sentAtMs: at, nowMs: now) }
                outcome = .answered(answer, retryAfterMs: answer.retryAfterMs(nowMs: now))
            case .noAnswer(let failure, let at):
                sentAt = at
                switch failure {
                case .connectFailed(let why): outcome = .connectFailed(why)
                case .timedOut(let why): outcome = .timedOut(why)
                case .connectionLost(let why): outcome = .connectionLost(why)
                }
            case .notSent, .cancelledInFlight: throw .stopped
            case .runEnds(let stop): throw stop
            }
            let now = time.nowMs()
            let delayMs: Int64
            switch policy.decide(attemptsSoFar: attempts, outcome: outcome, sentAtMs: sentAt, nowMs: now) {
            case .delivered(alreadyPresent: false):
                guard let page = HistoryPage.parse(body: answered.body) else {
                    throw .historyUnreadable("the answer to \(what) is not a history page")
                }
                return page
            case .delivered(alreadyPresent: true):
                throw .historyUnreadable("\(what) was answered with status 409")
            case .refreshSession:
                unauthorized += 1
                if unauthorized > DeliveryMachine.unauthorizedRetries {
                    throw .forbidden("status 401 reading the profile's history, even with a fresh session")
                }
                continue
            case .stopRun(let reason):
                throw .forbidden("status 403 reading the profile's history: \(reason)")
            case .giveUp(let reason):
                throw .historyUnreadable("\(what): \(said)\(reason)")
            case .retry(let afterMs, let countAttempt):
                if countAttempt { attempts += 1 }
                delayMs = afterMs
            }
            logger.debug("history page request failed, trying again", metadata: ["delay-ms": .stringConvertible(delayMs)])
            try await contact.waitToRetry(afterMs: delayMs, silenceLimitMs: unreachableAfterMs, time: time, stop: stop)
        }
    }
}
