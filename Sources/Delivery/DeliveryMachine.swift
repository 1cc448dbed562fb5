import DiscovrAPI
import ImportQueue

/// The delivery loop's decisions, as a value: events go in (a claim's result, a send's answer or
/// non-answer, a read-back page, a tick of time, a stop request, a storage failure), actions come out
/// (claim, send, look up, write this to the queue, cancel the requests, wait until, end). It sleeps,
/// sends and writes nothing itself: `DeliveryDriver` does what it says and reports back, and tests
/// drive it with a manual clock (`nowMs` of each call) and no network.
///
/// Every item the machine holds is in flight in the queue, in one of four phases: waiting for a slot
/// to be sent or read back, or with its request out. Uncertain items (an earlier send may have been
/// stored) are read back with `GET /profile/history/{mediaId}` before they are sent again, once the
/// grace period after that send has passed (`graceMs(after:)`); found means delivered
/// (`alreadyPresent`), not found means sent. A failed read-back is retried like a send, and never
/// fails the item.
///
/// It also keeps the clocks of `importer.md` section 5: a wait longer than `giveUpAfterMs` that the
/// server asks for (Retry-After, a rate-limit reset) ends the run at once (`gaveUp`, exit 75) instead
/// of sleeping; no item settled for `giveUpAfterMs`, whatever the server answers, ends it too; and no
/// answer at all for that long while requests fail ends it as `unreachable`.
struct DeliveryMachine: Sendable {
    struct Configuration: Sendable, Equatable {
        var concurrency: Int
        var limit: Int?
        var maxAttempts: Int
        var requestTimeoutMs: Int64
        /// `--give-up-after` in ms: the longest wait, and the longest time without a settled item.
        var giveUpAfterMs: Int64
        var seed: UInt64

        init(concurrency: Int, limit: Int?, maxAttempts: Int, requestTimeoutMs: Int64, giveUpAfterMs: Int64, seed: UInt64) {
            self.concurrency = max(1, concurrency)
            self.limit = limit.map { max(0, $0) }
            self.maxAttempts = max(1, maxAttempts)
            self.requestTimeoutMs = max(0, requestTimeoutMs)
            self.giveUpAfterMs = max(0, giveUpAfterMs)
            self.seed = seed
        }

        init(settings: DeliverySettings, seed: UInt64) {
            self.init(concurrency: settings.concurrency, limit: settings.limit, maxAttempts: settings.maxAttempts,
                      requestTimeoutMs: Self.ms(settings.requestTimeout), giveUpAfterMs: Self.ms(settings.unreachableAfter),
                      seed: seed)
        }

        /// Seconds as whole ms, saturating: NaN and values <= 0 are 0, anything past 10^9 s (infinity
        /// included) is 10^9 s, so no flag value can trap the conversion.
        static func ms(_ seconds: Double) -> Int64 {
            guard !seconds.isNaN, seconds > 0 else { return 0 }
            return Int64(min(seconds, 1e9) * 1000)
        }

        /// How long after a send began its read-back waits (section 5): at least twice the request timeout
        /// and 10 s after our own timeout (`ownTimeout`), 10 s after `connectionClosed`.
        func graceMs(after cause: UncertainCause) -> Int64 {
            switch cause {
            case .ownTimeout: return timeoutGraceMs
            case .connectionClosed: return DeliveryMachine.minimumGraceMs
            }
        }

        /// The longer grace: after our own timeout, and whenever the cause is not known.
        var timeoutGraceMs: Int64 { max(DeliveryMachine.minimumGraceMs, 2 * requestTimeoutMs) }
    }

    /// Why a send's outcome is unknown: it decides how long its read-back waits.
    enum UncertainCause: Sendable, Equatable {
        /// We stopped waiting (`--timeout`, a cancellation), or a dead run left it: the server may still
        /// be working on it.
        case ownTimeout
        /// The connection broke or was closed before the answer, or a gateway answered 502/504: whoever
        /// closed it gave up on the request.
        case connectionClosed
    }

    static let minimumGraceMs: Int64 = 10_000
    /// Entries asked for per read-back page (the documented maximum).
    static let readBackPageSize = 50
    /// 401s one item may meet in a row (each refreshing the session) before the answer counts.
    static let unauthorizedRetries = 2

    enum Event: Sendable {
        /// The run begins; `counts` are the queue's, `uncertainDueAtMs` when the last read-back an earlier
        /// run scheduled is due (`ImportQueue.latestUncertainDueAt`): the stall clock waits for it.
        case start(StateCounts, uncertainDueAtMs: Int64? = nil)
        /// What `claim(max:)` gave. `exhausted` when fewer items came than were asked for; then
        /// `nextReadyAtMs` is the queue's `nextReadyAt()` (nil: nothing becomes ready by waiting).
        case claimed([QueuedItem], exhausted: Bool, nextReadyAtMs: Int64?)
        case sent(id: Int64, SendResult)
        case lookedUp(id: Int64, LookupResult)
        /// Time passed (a deadline the machine named has come).
        case tick
        case stopRequested
        /// The queue's counts after a write that changed rows the machine does not hold (`refuseList`).
        case recounted(StateCounts)
        /// A claim or a write failed; the run ends with it.
        case storageFailed(QueueError)
    }

    /// What became of one `POST /profile/history` (or a list's POST), or of any request of the run
    /// (`SendContext.exchange`).
    enum SendResult: Sendable, Equatable {
        case answered(DiscovrAnswer, sentAtMs: Int64)
        case noAnswer(TransportFailure, sentAtMs: Int64)
        /// Not sent: a stop or a cancellation came before the request went out.
        case notSent
        /// Cancelled after the request went out: it may have been stored.
        case cancelledInFlight(sentAtMs: Int64)
        /// The run cannot go on (credentials refused, a fresh session refused again, unreachable while refreshing).
        case runEnds(DeliveryStop)
    }

    /// What became of one page of `GET /profile/history/{mediaId}`.
    enum LookupResult: Sendable, Equatable {
        case page(HistoryPage, sentAtMs: Int64)
        /// Answered, but not with a readable page (a 2xx without one counts here, as a failed read).
        case answered(DiscovrAnswer, sentAtMs: Int64)
        case noAnswer(TransportFailure, sentAtMs: Int64)
        case notSent
        case runEnds(DeliveryStop)
    }

    /// A change to one queue row (or a few), in the terms of `ImportQueue`.
    enum QueueWrite: Sendable, Equatable {
        case delivered(id: Int64, status: Int, message: String?, added: String?, removed: String?, alreadyPresent: Bool)
        case retry(id: Int64, status: Int?, message: String?, notBeforeMs: Int64, countAttempt: Bool, clearUncertain: Bool)
        case uncertain(id: Int64, sentAtMs: Int64, notBeforeMs: Int64, countAttempt: Bool, status: Int?, message: String?)
        case failed(id: Int64, status: Int?, message: String)
        case release([Int64])
        case sendStarted(id: Int64, atMs: Int64)
        /// This server does not take `list`'s path: its writes still to be sent fail with `message`.
        case refuseList(DiscovrList, status: Int, message: String)
    }

    enum Action: Sendable, Equatable {
        case claim(max: Int)
        case send(QueuedItem)
        case lookUp(QueuedItem, pageToken: String?)
        case write(QueueWrite)
        /// Cancel every request out (the run ends without waiting for their answers).
        case cancelRequests
        /// Nothing to do before this moment (nil: before the next event).
        case wait(untilMs: Int64?)
        case end(DeliveryStop)
    }

    private enum Phase: Equatable {
        /// Waiting for a slot; `noteSend` when the queue must be told the send time (not just claimed).
        case awaitingSend(noteSend: Bool)
        case awaitingLookup(pageToken: String?)
        case sending
        case lookingUp(pageToken: String?)
    }

    private struct Active {
        var item: QueuedItem
        var phase: Phase
        var unauthorized = 0
        var hasRequestOut: Bool {
            switch phase {
            case .sending, .lookingUp: return true
            default: return false
            }
        }
    }

    let configuration: Configuration
    private(set) var counts = StateCounts()
    private(set) var limiter: RateLimiter
    private var policy: RetryPolicy
    /// Items held, in the order they were claimed (slots go to the oldest first).
    private var active: [Int64: Active] = [:]
    private var order: [Int64] = []
    /// When `claim` may give something: now or a known moment; nil until a settle changes the queue.
    private var claimableAtMs: Int64? = .min
    /// A claim was asked for and its answer (`.claimed`) has not come: no second one until it has
    /// (its size was worked out without the items it will bring, so a second would count that room twice).
    private var claimOutstanding = false
    /// During an outage: no request before this moment, then one at a time.
    private var outagePauseUntilMs: Int64?
    private var lastAnswerMs: Int64
    private var failingProblem: String?
    /// The last settle: the stall clock's start.
    private var progressMarkMs: Int64
    /// The end of the latest grace period this run began: waiting for our own read-back is not the
    /// server stalling, so the stall clock starts again from there.
    private var graceUntilMs: Int64 = .min
    /// Uncertain items waiting out their grace: when each one's read-back is due (set when this run
    /// made it uncertain, with the grace of its cause, or when it put back one an earlier run left).
    private var readBackDueMs: [Int64: Int64] = [:]
    /// Those items (for the progress line).
    var awaitingReadBack: Set<Int64> { Set(readBackDueMs.keys) }
    private var lastProblem: String?
    private var ending: DeliveryStop?
    private var lookupFailures: [Int64: Int] = [:]
    private var started = false
    /// What this run has heard of each list path (importer.md section 7).
    private var listPaths: [DiscovrList: ListPath] = [:]
    /// List paths this server does not take, with why (for the summary).
    private(set) var refusedLists: [DiscovrList: String] = [:]

    struct ListPath {
        var succeeded = false
        /// 404 answers before any success, one per title.
        var notFound = 0
    }

    /// A list path whose first this many sends (different titles) all answer 404 is not taken.
    static let refusedAfterNotFound = 3

    // Counters for the result and the progress display.
    private(set) var sent = 0
    private(set) var readBacks = 0
    private(set) var foundOnReadBack = 0
    private(set) var retries = 0
    private(set) var rateLimited = 0
    /// Items delivered or failed this run (what `limit` counts).
    private(set) var settled = 0

    /// `limiter`: the pace so far (of requests made before draining), or a fresh one.
    init(configuration: Configuration, nowMs: Int64, limiter: RateLimiter) {
        self.configuration = configuration
        self.limiter = limiter
        policy = RetryPolicy(maxAttempts: configuration.maxAttempts, seed: configuration.seed)
        lastAnswerMs = nowMs
        progressMarkMs = nowMs
    }

    var isEnding: Bool { ending != nil }
    var requestsOut: Int { active.values.filter(\.hasRequestOut).count }

    // MARK: - Events

    mutating func handle(_ event: Event, nowMs now: Int64) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start(let queueCounts, let uncertainDueAtMs):
            counts = queueCounts
            graceUntilMs = max(graceUntilMs, uncertainDueAtMs ?? .min)
            started = true
        case .claimed(let items, let exhausted, let nextReadyAtMs):
            claimOutstanding = false
            claimableAtMs = exhausted ? nextReadyAtMs : .min
            claimed(items, now: now, into: &actions)
        case .sent(let id, let result):
            if let entry = active[id] {
                sent(entry, result, now: now, into: &actions)
            }
        case .lookedUp(let id, let result):
            if let entry = active[id] {
                lookedUp(entry, result, now: now, into: &actions)
            }
        case .tick:
            break
        case .recounted(let queueCounts):
            counts = queueCounts
        case .stopRequested:
            end(.stopped, cancel: false, into: &actions)
        case .storageFailed(let error):
            end(.storage(error), cancel: true, into: &actions)
        }
        pump(now: now, into: &actions)
        return actions
    }

    private mutating func claimed(_ items: [QueuedItem], now: Int64, into actions: inout [Action]) {
        counts.pending -= items.count
        counts.inFlight += items.count
        for item in items {
            if ending != nil {
                // A stop came between the claim and its result: nothing of it is sent.
                release(item.id, into: &actions)
                continue
            }
            guard item.uncertain else {
                hold(Active(item: item, phase: .sending))
                sent += 1
                actions.append(.send(item))
                continue
            }
            // A claim records its time as the row's last send (`claimed_at`), also when the item is
            // only put back to wait out its grace: so the due time of an item already deferred in this
            // run is the one set then, or every re-claim would push it one grace further, for ever.
            // An item an earlier run left says nothing of why: the longer grace.
            let due = readBackDueMs[item.id]
                ?? (max(item.sentAtMs ?? .min, item.lastSendMs ?? .min) &+ configuration.timeoutGraceMs)
            if now < due {
                readBackDueMs[item.id] = due
                // Left by a run that died: its last send may still be under way at the server.
                counts.inFlight -= 1
                counts.pending += 1
                actions.append(.write(.retry(id: item.id, status: nil, message: nil, notBeforeMs: due,
                                             countAttempt: false, clearUncertain: false)))
                claimableAtMs = min(claimableAtMs ?? .max, due)
                continue
            }
            readBackDueMs[item.id] = nil
            hold(Active(item: item, phase: .lookingUp(pageToken: nil)))
            readBacks += 1
            actions.append(.lookUp(item, pageToken: nil))
        }
    }

    private mutating func sent(_ entry: Active, _ result: SendResult, now: Int64, into actions: inout [Action]) {
        let item = entry.item
        switch result {
        case .notSent:
            release(item.id, into: &actions)
        case .cancelledInFlight where !item.outgoing.appends:
            release(item.id, into: &actions) // a list is a set: sent again, never read back
        case .cancelledInFlight(let sentAt):
            uncertain(item, sentAt: sentAt, cause: .ownTimeout, delayMs: 0, countAttempt: false,
                      status: nil, message: "cancelled while the request was out", now: now, into: &actions)
        case .runEnds(let stop):
            release(item.id, into: &actions)
            end(stop, cancel: true, into: &actions)
        case .noAnswer(let failure, let sentAt):
            failingProblem = failure.description
            lastProblem = failure.description
            switch failure {
            case .connectFailed(let why):
                connectFailed(item, why: why, sentAt: sentAt, now: now, into: &actions)
            case .timedOut where !item.outgoing.appends, .connectionLost where !item.outgoing.appends:
                // A list write is a set's add: sending it again is safe, no read-back needed.
                let outcome: DeliveryOutcome = .timedOut(failure.description)
                decided(item, policy.decide(attemptsSoFar: item.attempts, outcome: outcome, sentAtMs: sentAt, nowMs: now),
                        answer: nil, message: failure.description, now: now, into: &actions)
            case .timedOut, .connectionLost:
                // The request went out: the server may have stored it. Read back, never re-send blind.
                let cause: UncertainCause
                if case .timedOut = failure { cause = .ownTimeout } else { cause = .connectionClosed }
                uncertain(item, sentAt: sentAt, cause: cause, delayMs: policy.backoffMs(step: item.attempts),
                          countAttempt: true, status: nil, message: failure.description, now: now, into: &actions)
            }
        case .answered(let answer, let sentAt):
            answered(answer.kind, hints: answer.hints, sentAt: sentAt, now: now)
            if answer.kind == .sessionExpired && entry.unauthorized < Self.unauthorizedRetries {
                // The send refreshed the session: send again at once, not an attempt.
                var again = entry
                again.unauthorized += 1
                again.phase = .awaitingSend(noteSend: true)
                active[item.id] = again
                return
            }
            let problem = answer.message ?? "status \(answer.status)"
            if !answer.kind.isSuccess { lastProblem = answer.said }
            if let list = item.outgoing.list, let refusal = pathRefusal(list, answer, into: &actions) {
                settle(item.id, now: now)
                counts.failed += 1
                actions.append(.write(.failed(id: item.id, status: answer.status, message: refusal)))
                return
            }
            if let list = item.outgoing.list, answer.kind.isSuccess { listPaths[list, default: ListPath()].succeeded = true }
            let retryAfterMs = answer.retryAfterMs(nowMs: now)
            if case .serverError(mayHaveStored: true) = answer.kind, item.outgoing.appends {
                // A gateway lost the request after it may have reached Discovr: read back.
                let delay = max(policy.backoffMs(step: item.attempts), retryAfterMs ?? 0)
                uncertain(item, sentAt: sentAt, cause: .connectionClosed, delayMs: delay, countAttempt: true,
                          status: answer.status, message: "status \(answer.status): " + problem, now: now, into: &actions)
                return
            }
            let outcome = DeliveryOutcome.answered(answer, retryAfterMs: retryAfterMs)
            decided(item, policy.decide(attemptsSoFar: item.attempts, outcome: outcome, sentAtMs: sentAt, nowMs: now),
                    answer: answer, message: answer.message, now: now, into: &actions)
        }
    }

    /// Why the server does not take `list`'s path, when this answer to one of its writes shows it (or
    /// an earlier one did): a 405, or a 404 for each of the first `refusedAfterNotFound` titles (a 404
    /// after a success is that title's own). Nil otherwise. The first time, the list's other writes
    /// fail with the reason, once.
    private mutating func pathRefusal(_ list: DiscovrList, _ answer: DiscovrAnswer, into actions: inout [Action]) -> String? {
        if let refused = refusedLists[list] {
            return answer.kind == .unknownMedia || answer.kind == .notAllowed ? refused : nil
        }
        var path = listPaths[list, default: ListPath()]
        defer { listPaths[list] = path }
        let why: String
        switch answer.kind {
        case .notAllowed:
            why = "405 Method Not Allowed"
        case .unknownMedia where !path.succeeded:
            path.notFound += 1
            guard path.notFound >= Self.refusedAfterNotFound else { return nil }
            why = "404 for each of the first \(path.notFound) titles sent"
        default:
            return nil
        }
        let reason = "this server does not take POST \(list.path) (\(why)); its list writes are kept as failed: "
            + "`trakt2discovr retry-failed` then `trakt2discovr resume` try them again later"
        refusedLists[list] = reason
        actions.append(.write(.refuseList(list, status: answer.status, message: reason)))
        return reason
    }

    /// Carries out the retry policy's decision about a send's outcome.
    private mutating func decided(_ item: QueuedItem, _ decision: RetryDecision, answer: DiscovrAnswer?, message: String?,
                                  now: Int64, into actions: inout [Action]) {
        let status = answer?.status
        let problem = message ?? status.map { "status \($0)" } ?? "no answer"
        switch decision {
        case .delivered(let alreadyPresent):
            settle(item.id, now: now)
            counts.delivered += 1
            if alreadyPresent { counts.alreadyPresent += 1 }
            actions.append(.write(.delivered(id: item.id, status: status ?? 200, message: message, added: answer?.response.added,
                                             removed: answer?.response.removed, alreadyPresent: alreadyPresent)))
        case .retry(let afterMs, let countAttempt):
            if answer?.kind == .rateLimited && afterMs > configuration.giveUpAfterMs {
                // Section 5: a wait longer than --give-up-after stops the run instead of sleeping.
                release(item.id, into: &actions)
                end(.gaveUp("the server asked to wait \((afterMs + 999) / 1000) s (Retry-After), longer than "
                    + "--give-up-after (\(configuration.giveUpAfterMs / 1000) s)"), cancel: false, into: &actions)
                return
            }
            // The server answered that it did not store this send; a read-back before it (if the
            // item was uncertain) found nothing: the item is certain again.
            retry(item.id, status: status, message: problem, notBefore: now &+ afterMs, countAttempt: countAttempt,
                  clearUncertain: item.uncertain, into: &actions)
        case .refreshSession:
            retry(item.id, status: status, message: problem, notBefore: now &+ policy.backoffMs(step: item.attempts),
                  countAttempt: true, clearUncertain: item.uncertain, into: &actions)
        case .giveUp(let reason):
            settle(item.id, now: now)
            counts.failed += 1
            actions.append(.write(.failed(id: item.id, status: status, message: reason)))
        case .stopRun(let reason):
            release(item.id, into: &actions)
            end(.forbidden("status 403: \(reason)"), cancel: true, into: &actions)
        }
    }

    private mutating func lookedUp(_ entry: Active, _ result: LookupResult, now: Int64, into actions: inout [Action]) {
        let item = entry.item
        switch result {
        case .notSent:
            release(item.id, into: &actions)
        case .runEnds(let stop):
            release(item.id, into: &actions)
            end(stop, cancel: true, into: &actions)
        case .noAnswer(let failure, let sentAt):
            failingProblem = failure.description
            lastProblem = "read-back: " + failure.description
            if case .connectFailed(let why) = failure {
                connectFailed(item, why: why, sentAt: sentAt, now: now, into: &actions)
            } else {
                lookupFailed(item, status: nil, message: "read-back: " + failure.description, afterMs: nil, now: now, into: &actions)
            }
        case .page(let page, let sentAt):
            answered(.delivered, hints: RateLimitHints(), sentAt: sentAt, now: now)
            guard case .lookingUp(let token) = entry.phase else { return }
            let window = (item.sentAtMs ?? item.lastSendMs).map { $0...(now &+ configuration.timeoutGraceMs) }
            if let play = item.outgoing.play, page.items.contains(where: { play.isMatched(by: $0, createdWithinMs: window) }) {
                settle(item.id, now: now)
                counts.delivered += 1
                counts.alreadyPresent += 1
                foundOnReadBack += 1
                actions.append(.write(.delivered(id: item.id, status: 200, message: DeliveryMachine.foundMessage,
                                                 added: nil, removed: nil, alreadyPresent: true)))
            } else if page.hasMore, let next = page.nextPageToken, next != token {
                update(item.id) { $0.phase = .awaitingLookup(pageToken: next) }
            } else {
                notFound(item, now: now, into: &actions)
            }
        case .answered(let answer, let sentAt):
            answered(answer.kind, hints: answer.hints, sentAt: sentAt, now: now)
            let problem = "read-back: " + answer.said
            switch answer.kind {
            case .unknownMedia:
                notFound(item, now: now, into: &actions) // "nothing there"
            case .sessionExpired where entry.unauthorized < Self.unauthorizedRetries:
                guard case .lookingUp(let token) = entry.phase else { return }
                update(item.id) { $0.unauthorized += 1; $0.phase = .awaitingLookup(pageToken: token) }
            case .forbidden:
                release(item.id, into: &actions)
                end(.forbidden(problem), cancel: true, into: &actions)
            case .rateLimited:
                lookupFailed(item, status: answer.status, message: problem,
                             afterMs: answer.retryAfterMs(nowMs: now) ?? RateLimiter.defaultRetryAfterMs, now: now, into: &actions)
            default:
                lastProblem = problem
                lookupFailed(item, status: answer.status, message: problem, afterMs: answer.retryAfterMs(nowMs: now), now: now,
                             into: &actions)
            }
        }
    }

    static let foundMessage = "already in the profile (found by a read-back)"

    /// A read-back found nothing: send, unless the item's attempts are used up (then it fails: it is
    /// not in the profile, so retry-failed can send it again safely).
    private mutating func notFound(_ item: QueuedItem, now: Int64, into actions: inout [Action]) {
        if item.attempts >= configuration.maxAttempts {
            settle(item.id, now: now)
            counts.failed += 1
            actions.append(.write(.failed(id: item.id, status: nil, message: "gave up after \(item.attempts) attempts: "
                + "no answer that says it was stored, and a read-back did not find it")))
            return
        }
        update(item.id) { $0.phase = .awaitingSend(noteSend: true); $0.unauthorized = 0 }
    }

    /// A read-back that did not work: try again later, like a send, but never counted against the item.
    private mutating func lookupFailed(_ item: QueuedItem, status: Int?, message: String, afterMs: Int64?, now: Int64,
                                       into actions: inout [Action]) {
        let failures = lookupFailures[item.id, default: 0]
        lookupFailures[item.id] = failures + 1
        let delay = max(afterMs ?? 0, policy.backoffMs(step: failures))
        retry(item.id, status: status, message: message, notBefore: now &+ delay, countAttempt: false,
              clearUncertain: false, into: &actions)
    }

    private mutating func connectFailed(_ item: QueuedItem, why: String, sentAt: Int64, now: Int64, into actions: inout [Action]) {
        // The server is down, not the item: the run pauses, then probes one request at a time, and the
        // item keeps no backoff of its own (it would also delay the next `resume` for nothing).
        if case .retry(let afterMs, _) = policy.decide(attemptsSoFar: item.attempts, outcome: .connectFailed(why),
                                                       sentAtMs: sentAt, nowMs: now) {
            outagePauseUntilMs = max(outagePauseUntilMs ?? .min, now &+ afterMs)
        }
        retry(item.id, status: nil, message: TransportFailure.connectFailed(why).description, notBefore: now,
              countAttempt: false, clearUncertain: false, into: &actions)
    }

    private mutating func answered(_ answer: HistoryAnswer, hints: RateLimitHints, sentAt: Int64, now: Int64) {
        lastAnswerMs = max(lastAnswerMs, now)
        failingProblem = nil
        outagePauseUntilMs = nil
        limiter.record(answer, hints: hints, sentAtMs: sentAt, nowMs: now)
        if answer == .rateLimited { rateLimited += 1 }
    }

    // MARK: - Bookkeeping

    private mutating func hold(_ entry: Active) {
        active[entry.item.id] = entry
        order.append(entry.item.id)
    }

    private mutating func update(_ id: Int64, _ change: (inout Active) -> Void) {
        guard var entry = active[id] else { return }
        change(&entry)
        active[id] = entry
    }

    private mutating func drop(_ id: Int64) {
        active[id] = nil
        order.removeAll { $0 == id }
        lookupFailures[id] = nil
        // Something changed in the queue: a key may be free, a play ready.
        claimableAtMs = .min
    }

    /// Delivered or failed: the item leaves, the stall clock restarts, `limit` counts it.
    private mutating func settle(_ id: Int64, now: Int64) {
        drop(id)
        counts.inFlight -= 1
        settled += 1
        progressMarkMs = max(progressMarkMs, now)
    }

    private mutating func retry(_ id: Int64, status: Int?, message: String?, notBefore: Int64, countAttempt: Bool,
                                clearUncertain: Bool, into actions: inout [Action]) {
        drop(id)
        counts.inFlight -= 1
        counts.pending += 1
        retries += 1
        actions.append(.write(.retry(id: id, status: status, message: message, notBeforeMs: notBefore,
                                     countAttempt: countAttempt, clearUncertain: clearUncertain)))
    }

    /// No answer that says what became of the send: back to pending, read back once the grace of
    /// `cause` after the send's start has passed (and not before `delayMs` from now).
    private mutating func uncertain(_ item: QueuedItem, sentAt: Int64, cause: UncertainCause, delayMs: Int64,
                                    countAttempt: Bool, status: Int?, message: String?, now: Int64,
                                    into actions: inout [Action]) {
        let due = sentAt &+ configuration.graceMs(after: cause)
        let notBefore = max(now &+ delayMs, due)
        drop(item.id)
        counts.inFlight -= 1
        counts.pending += 1
        retries += 1
        graceUntilMs = max(graceUntilMs, due)
        readBackDueMs[item.id] = notBefore
        actions.append(.write(.uncertain(id: item.id, sentAtMs: sentAt, notBeforeMs: notBefore, countAttempt: countAttempt,
                                         status: status, message: message)))
    }

    private mutating func release(_ id: Int64, into actions: inout [Action]) {
        drop(id)
        counts.inFlight -= 1
        counts.pending += 1
        actions.append(.write(.release([id])))
    }

    private mutating func end(_ stop: DeliveryStop, cancel: Bool, into actions: inout [Action]) {
        guard ending == nil else { return }
        ending = stop
        releaseWaiting(into: &actions)
        if cancel && !active.isEmpty { actions.append(.cancelRequests) }
    }

    /// Items waiting for a slot go back to pending unsent; requests out finish (or are cancelled).
    private mutating func releaseWaiting(into actions: inout [Action]) {
        let waiting = order.filter { !(active[$0]?.hasRequestOut ?? true) }
        if !waiting.isEmpty {
            for id in waiting {
                active[id] = nil
                lookupFailures[id] = nil
            }
            order.removeAll { waiting.contains($0) }
            counts.inFlight -= waiting.count
            counts.pending += waiting.count
            actions.append(.write(.release(waiting)))
        }
    }

    // MARK: - What next

    /// After each event: end if a clock ran out, give slots to held items, claim more, name the next deadline.
    private mutating func pump(now: Int64, into actions: inout [Action]) {
        guard started else { return }
        if ending == nil {
            if let problem = failingProblem, now - max(lastAnswerMs, graceUntilMs) >= configuration.giveUpAfterMs {
                // Waiting out the grace of our own read-back is not the server being away: that clock
                // starts again at its end, like the stall clock.
                end(.unreachable("no answer for \((now - lastAnswerMs) / 1000) s; last problem: \(problem)"), cancel: true, into: &actions)
            } else if now - max(progressMarkMs, graceUntilMs) >= configuration.giveUpAfterMs {
                end(.gaveUp("no item settled for \((now - progressMarkMs) / 1000) s"
                    + (lastProblem.map { "; last problem: \($0)" } ?? "")), cancel: true, into: &actions)
            }
        }
        if let ending {
            // An answer that came in meanwhile may have put an item back in line (a 401): it stays unsent.
            releaseWaiting(into: &actions)
            actions.append(active.isEmpty ? .end(ending) : .wait(untilMs: nil))
            return
        }
        var deadline = min(max(progressMarkMs, graceUntilMs) &+ configuration.giveUpAfterMs,
                           failingProblem == nil ? .max : max(lastAnswerMs, graceUntilMs) &+ configuration.giveUpAfterMs)
        var probeOnly = false
        if let pause = outagePauseUntilMs {
            if now < pause {
                deadline = min(deadline, pause)
                actions.append(.wait(untilMs: deadline))
                return
            }
            probeOnly = true
        }
        var out = requestsOut
        // Held items first, oldest first: each needs a slot from the rate limiter.
        for id in order {
            guard let entry = active[id], !entry.hasRequestOut else { continue }
            if probeOnly && out >= 1 { break }
            switch limiter.decide(nowMs: now) {
            case .wait(let until):
                if serverWaitTooLong(until: until, now: now, into: &actions) { return }
                deadline = min(deadline, until)
                actions.append(.wait(untilMs: deadline))
                return
            case .send:
                break
            }
            out += 1
            switch entry.phase {
            case .awaitingSend(let noteSend):
                if noteSend { actions.append(.write(.sendStarted(id: id, atMs: now))) }
                update(id) { $0.phase = .sending }
                sent += 1
                actions.append(.send(entry.item))
            case .awaitingLookup(let token):
                update(id) { $0.phase = .lookingUp(pageToken: token) }
                readBacks += 1
                actions.append(.lookUp(entry.item, pageToken: token))
            case .sending, .lookingUp:
                break
            }
        }
        // Then claim, as many as there is room for and the limiter lets go now (the claimed ones are
        // sent at once, so a claim's time is its send's time).
        let limitRoom = configuration.limit.map { $0 - settled - active.count } ?? Int.max
        var room = min(configuration.concurrency - active.count, limitRoom)
        if probeOnly { room = min(room, 1 - out) }
        if let limit = configuration.limit, settled >= limit, active.isEmpty {
            let stop: DeliveryStop = counts.pending + counts.inFlight > 0 ? .limitReached : .finished
            ending = stop
            actions.append(.end(stop))
            return
        }
        if claimOutstanding {
            // Its answer comes next; what it brings is sent then.
        } else if room > 0, let claimable = claimableAtMs {
            if claimable <= now {
                var slots = 0
                while slots < room {
                    if case .wait(let until) = limiter.decide(nowMs: now) {
                        if slots == 0 {
                            if serverWaitTooLong(until: until, now: now, into: &actions) { return }
                            deadline = min(deadline, until)
                        }
                        break
                    }
                    slots += 1
                }
                if slots > 0 {
                    // Assume nothing else is ready until the claim's answer says otherwise.
                    claimableAtMs = nil
                    claimOutstanding = true
                    actions.append(.claim(max: slots))
                    return
                }
            } else {
                deadline = min(deadline, claimable)
            }
        } else if active.isEmpty && claimableAtMs == nil && room > 0 {
            // Nothing held, nothing claimable, nothing can become ready by waiting: done.
            ending = .finished
            actions.append(.end(.finished))
            return
        }
        actions.append(.wait(untilMs: deadline == .max ? nil : deadline))
    }

    /// A wait the server asked for (Retry-After, a rate-limit reset) longer than --give-up-after ends
    /// the run now instead of sleeping through it.
    private mutating func serverWaitTooLong(until: Int64, now: Int64, into actions: inout [Action]) -> Bool {
        guard until - now > configuration.giveUpAfterMs else { return false }
        end(.gaveUp("the server asked to wait \((until - now + 999) / 1000) s, longer than --give-up-after "
            + "(\(configuration.giveUpAfterMs / 1000) s)"), cancel: false, into: &actions)
        actions.append(active.isEmpty ? .end(ending!) : .wait(untilMs: nil))
        return true
    }

    // MARK: - Reading

    func progress(startedAtMs: Int64, nowMs: Int64) -> DeliveryProgress {
        var progress = DeliveryProgress(counts: counts, startedAtMs: startedAtMs, nowMs: nowMs,
                                        currentRate: limiter.currentRate)
        progress.retries = retries
        progress.rateLimited = rateLimited
        progress.awaitingReadBack = ending == nil ? readBackDueMs.count : 0
        progress.readBackDueAt = ending == nil
            ? readBackDueMs.values.max().map(Timestamp.init(millisecondsSince1970:)) : nil
        progress.settledThisRun = settled
        progress.readBacks = readBacks
        progress.foundOnReadBack = foundOnReadBack
        return progress
    }
}
