import DiscovrAPI
import Foundation
import ImportQueue
import Logging
import Synchronization

/// Delivers the queue to Discovr. The decisions are `DeliveryMachine`'s (a value: which items to
/// claim, when to send, when to read an uncertain send back, what to write, when to stop); this driver
/// runs its actions: claims and writes in the `ImportQueue`, `POST /profile/history` and
/// `GET /profile/history/{mediaId}` requests in a task group (authorised by `SessionTokens`), and it
/// sleeps until the next event or the next deadline the machine names (no polling).
///
/// It stops for one of the reasons `DeliveryStop` names: on a stop request requests out are finished
/// and settled; on refused credentials or a 403 they are cancelled (what may have reached the server is
/// kept as uncertain). An item is marked delivered only after the server said so, or a read-back found
/// it, so a run ended in any way loses nothing and stores nothing twice.
public struct DeliveryDriver: Sendable {
    let queue: ImportQueue
    let settings: DeliverySettings
    let logger: Logger
    let clock: any Clock<Duration>
    let wallClock: @Sendable () -> Int64

    /// Progress is reported at most this often (ms), and once at the end.
    static let progressEveryMs: Int64 = 100

    /// `clock` is what the driver sleeps on; `wallClock` (ms since 1970) is read once at the start of a
    /// run, and the run's times are that instant plus the time `clock` says has passed.
    public init(queue: ImportQueue, settings: DeliverySettings, logger: Logger,
                clock: any Clock<Duration> = ContinuousClock(),
                wallClock: @escaping @Sendable () -> Int64 = DeliveryDriver.systemWallClock) {
        self.queue = queue
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
    }

    @Sendable public static func systemWallClock() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    public func run(stop: StopSignal, progress: @escaping @Sendable (DeliveryProgress) -> Void) async -> DeliveryResult {
        let time = runTime()
        let startedAtMs = time.nowMs()
        let seed = settings.jitterSeed ?? UInt64.random(in: .min ... .max)
        var machine = DeliveryMachine(configuration: DeliveryMachine.Configuration(settings: settings, seed: seed),
                                      nowMs: startedAtMs, limiter: RateLimiter(rate: settings.rate, auto: settings.autoRate))
        let counts: StateCounts
        do {
            counts = try queue.counts()
        } catch {
            return DeliveryResult(stop: .storage(Self.queueError(error, queue: queue)), counts: StateCounts(), machine: machine)
        }
        logger.info("delivery started", metadata: [
            "pending": .stringConvertible(counts.pending), "rate": .stringConvertible(settings.rate),
            "concurrency": .stringConvertible(settings.concurrency),
        ])
        _ = machine.handle(.start(counts), nowMs: startedAtMs) // a first snapshot for the result
        let stopReason: DeliveryStop
        do {
            stopReason = try await withContext(time: time, seed: seed, stop: stop) { context throws(DeliveryStop) in
                try await checkExistingHistory(context: context, progress: progress)
                let counts = (try? queue.counts()) ?? counts
                // The machine's clocks (give-up-after) start when draining does; its pace goes on from
                // the check's reads.
                var limiter = context.limiter.withLock { $0 }
                limiter.startSending()
                machine = DeliveryMachine(configuration: machine.configuration, nowMs: time.nowMs(), limiter: limiter)
                return await drain(context: context, machine: &machine, counts: counts, startedAtMs: startedAtMs,
                                   progress: progress)
            }
        } catch {
            stopReason = error
        }
        let final = (try? queue.counts()) ?? machine.counts
        var snapshot = machine.progress(startedAtMs: startedAtMs, nowMs: time.nowMs())
        snapshot.show(final)
        progress(snapshot)
        logger.info("delivery ended", metadata: [
            "stop": .string(String(describing: stopReason)), "delivered": .stringConvertible(final.delivered),
            "failed": .stringConvertible(final.failed), "pending": .stringConvertible(final.pending),
            "sent": .stringConvertible(machine.sent), "retries": .stringConvertible(machine.retries),
            "rate-limited": .stringConvertible(machine.rateLimited), "read-backs": .stringConvertible(machine.readBacks),
            "found-on-read-back": .stringConvertible(machine.foundOnReadBack),
        ])
        return DeliveryResult(stop: stopReason, counts: final, machine: machine)
    }

    /// The run's clock: the wall clock read once, then the time `clock` says has passed.
    func runTime() -> RunTime {
        let runClock: any Clock<Duration> = clock // a local: Swift 6.3 does not open the stored property here
        return RunTime.make(clock: runClock, startMs: wallClock())
    }

    /// Runs `body` with the transport and the run's context, once the first session is there: refused
    /// credentials send nothing. Throws what ended the run before `body` was done.
    func withContext<T>(time: RunTime, seed: UInt64, stop: StopSignal,
                        _ body: (SendContext) async throws(DeliveryStop) -> T) async throws(DeliveryStop) -> T {
        do {
            return try await withDiscovrClient(
                baseURL: settings.baseURL, requestTimeout: settings.requestTimeout,
                maxConnections: settings.concurrency, logger: logger,
                now: { Timestamp(millisecondsSince1970: time.nowMs()) }
            ) { client in
                let context = SendContext(client: client, settings: settings, time: time, stop: stop, seed: seed, logger: logger)
                _ = try await context.tokens.token()
                return try await body(context)
            }
        } catch {
            // Also a bad URL or a failed client shutdown (`withDiscovrClient`'s own errors).
            throw Self.stop(for: error)
        }
    }

    private enum GroupEvent: Sendable {
        /// A request's answer is in the inbox (perhaps already taken with an earlier one's).
        case answered
        case timer(Int64)
        case stop
    }

    /// The answers of finished requests, put here by their tasks as they finish: one wake-up of the
    /// drain takes every answer that is in, not only the one `group.next()` returned, so that the
    /// answers that came back together are settled in one transaction.
    private final class Inbox: Sendable {
        private let answers = Mutex<[DeliveryMachine.Event]>([])

        func put(_ answer: DeliveryMachine.Event) {
            answers.withLock { $0.append(answer) }
        }

        func take() -> [DeliveryMachine.Event] {
            answers.withLock { answers in
                defer { answers.removeAll(keepingCapacity: true) }
                return answers
            }
        }
    }

    /// Runs the machine's actions until it ends. Claims and writes happen here, in this one task; requests
    /// run in child tasks and come back as events.
    ///
    /// Writes are collected and committed together (one transaction for all the answers of one
    /// wake-up) before anything that depends on them or is seen outside: before a request is sent (a
    /// send's start, `sendStarted`, is on disk before the request goes out), before a claim (which must
    /// see the plays settled before it), before the run ends and before the drain waits. A claim the
    /// machine asks for is made once the answers in hand are handled (it asks for one at a time and
    /// waits for its answer), so that their writes go in the same transaction. A kill before a
    /// commit leaves those plays in flight, as a kill before each single write did: the next run reads
    /// them back before sending anything again.
    private func drain(context: SendContext, machine: inout DeliveryMachine, counts: StateCounts, startedAtMs: Int64,
                       progress: @escaping @Sendable (DeliveryProgress) -> Void) async -> DeliveryStop {
        await withTaskGroup(of: GroupEvent.self, returning: DeliveryStop.self) { group in
            let stop = context.stop
            group.addTask {
                await stop.wait()
                return .stop
            }
            let inbox = Inbox()
            var events: [DeliveryMachine.Event] = []
            do {
                events.append(.start(counts, uncertainDueAtMs: try queue.latestUncertainDueAt()))
            } catch {
                events.append(.start(counts))
                events.append(.storageFailed(Self.queueError(error, queue: queue)))
            }
            var writes = SettleBatch()
            // A write changed rows the machine does not hold: it hears the queue's counts after the commit.
            var recount = false
            var timerAtMs: Int64?
            var lastProgressMs: Int64?
            while true {
                var deadline: Int64?
                var finish: DeliveryStop?
                var claim: Int?
                while true {
                    // The claim asked for is made after the answers in hand, before anything else: the
                    // machine hears what it claimed before any other event, as when it was made at once.
                    if let max = claim, finish == nil, !(events.first.map(Self.isAnswer) ?? false) {
                        claim = nil
                        commit(&writes, failures: &events)
                        let now = context.time.nowMs()
                        do {
                            let items = try queue.claim(max: max, nowMs: now)
                            let exhausted = items.count < max
                            let next = exhausted ? try queue.nextReadyAt() : nil
                            events.insert(.claimed(items, exhausted: exhausted, nextReadyAtMs: next), at: 0)
                        } catch {
                            events.insert(.storageFailed(Self.queueError(error, queue: queue)), at: 0)
                        }
                    }
                    guard !events.isEmpty else { break }
                    let event = events.removeFirst()
                    let now = context.time.nowMs()
                    for action in machine.handle(event, nowMs: now) {
                        switch action {
                        case .claim(let max):
                            claim = max // one at a time: the machine waits for `.claimed` before another
                        case .send(let item):
                            commit(&writes, failures: &events)
                            group.addTask {
                                inbox.put(.sent(id: item.id, await context.send(item)))
                                return .answered
                            }
                        case .lookUp(let item, let token):
                            commit(&writes, failures: &events)
                            group.addTask {
                                inbox.put(.lookedUp(id: item.id, await context.lookUp(item, pageToken: token)))
                                return .answered
                            }
                        case .write(let write):
                            if case .refuseList = write { recount = true }
                            add(write, to: &writes)
                        case .cancelRequests:
                            group.cancelAll()
                        case .wait(let until):
                            deadline = until
                        case .end(let stop):
                            finish = stop
                        }
                    }
                }
                commit(&writes, failures: &events)
                if recount, finish == nil {
                    recount = false
                    do {
                        events.append(.recounted(try queue.counts()))
                    } catch {
                        events.append(.storageFailed(Self.queueError(error, queue: queue)))
                    }
                }
                let now = context.time.nowMs()
                if let finish {
                    group.cancelAll() // the stop watcher and any timer
                    return finish
                }
                // A write that failed just now: the machine hears of it before anything else happens.
                if !events.isEmpty { continue }
                if lastProgressMs.map({ now - $0 >= Self.progressEveryMs }) ?? true {
                    lastProgressMs = now
                    progress(machine.progress(startedAtMs: startedAtMs, nowMs: now))
                }
                // One timer at a time, for the earliest deadline named; a later one fires as a plain tick.
                if let deadline, timerAtMs.map({ deadline < $0 }) ?? true {
                    timerAtMs = deadline
                    let time = context.time
                    group.addTask {
                        try? await time.sleepUntilMs(deadline)
                        return .timer(deadline)
                    }
                }
                guard let next = await group.next() else { return .finished }
                events += inbox.take()
                switch next {
                case .answered: break
                case .timer(let at):
                    if timerAtMs == at { timerAtMs = nil }
                    events.append(.tick)
                case .stop:
                    events.append(.stopRequested)
                }
            }
        }
    }

    private static func isAnswer(_ event: DeliveryMachine.Event) -> Bool {
        switch event {
        case .sent, .lookedUp: return true
        default: return false
        }
    }

    /// Commits the writes collected so far in one transaction; a failure becomes the machine's next event.
    private func commit(_ writes: inout SettleBatch, failures events: inout [DeliveryMachine.Event]) {
        guard !writes.isEmpty else { return }
        defer { writes = SettleBatch() }
        do {
            try queue.settle(writes)
        } catch {
            events.append(.storageFailed(Self.queueError(error, queue: queue)))
        }
    }

    /// Adds one of the machine's decisions to the writes to commit.
    private func add(_ write: DeliveryMachine.QueueWrite, to writes: inout SettleBatch) {
        switch write {
        case .delivered(let id, let status, let message, let added, let removed, let alreadyPresent):
            writes.markDelivered(id: id, status: status, message: message, added: added, removed: removed,
                                 alreadyPresent: alreadyPresent)
        case .retry(let id, let status, let message, let notBeforeMs, let countAttempt, let clearUncertain):
            writes.markRetry(id: id, status: status, message: message, notBeforeMs: notBeforeMs,
                             countAttempt: countAttempt, clearUncertain: clearUncertain)
        case .uncertain(let id, let sentAtMs, let notBeforeMs, let countAttempt, let status, let message):
            logger.debug("send outcome unknown: read back before sending again", metadata: [
                "id": .stringConvertible(id), "problem": .string(message ?? "-"),
            ])
            writes.markUncertain(id: id, sentAtMs: sentAtMs, notBeforeMs: notBeforeMs, countAttempt: countAttempt,
                                 status: status, message: message)
        case .failed(let id, let status, let message):
            writes.markFailed(id: id, status: status, message: message)
            logger.warning("item failed", metadata: [
                "id": .stringConvertible(id), "status": .string(status.map(String.init) ?? "-"), "reason": .string(message),
            ])
        case .release(let ids):
            writes.release(ids: ids)
        case .sendStarted(let id, let atMs):
            writes.noteSend(id: id, atMs: atMs)
        case .refuseList(let list, let status, let message):
            writes.refuseList(list, status: status, message: message)
            logger.warning("list path refused by the server", metadata: ["list": .string(list.rawValue), "reason": .string(message)])
        }
    }

    static func queueError(_ error: any Error, queue: ImportQueue) -> QueueError {
        (error as? QueueError) ?? .storage(path: queue.path, reason: "unexpected error (\(error))")
    }

    static func stop(for error: any Error) -> DeliveryStop {
        switch error {
        case let stop as DeliveryStop:
            return stop
        case is CancellationError:
            return .stopped
        case let error as DeliveryError:
            return .unreachable(error.description)
        default:
            return .unreachable(Redaction.redact(String(describing: error)))
        }
    }
}

/// Everything a request task needs, shared by all of them: the transport, the session and the record
/// of server contact (for the session exchange). It decides nothing: it sends and says what happened.
final class SendContext: Sendable {
    let client: DiscovrClient
    let settings: DeliverySettings
    let tokens: SessionTokens
    let time: RunTime
    let stop: StopSignal
    let logger: Logger
    let contact: ContactLog
    /// The pace of the requests made before draining (the existing-history check); the machine takes
    /// it over when draining starts.
    let limiter: Mutex<RateLimiter>

    init(client: DiscovrClient, settings: DeliverySettings, time: RunTime, stop: StopSignal, seed: UInt64, logger: Logger) {
        self.client = client
        self.settings = settings
        self.time = time
        self.stop = stop
        self.logger = logger
        limiter = Mutex(RateLimiter(rate: settings.rate, auto: settings.autoRate))
        let contact = ContactLog(startMs: time.nowMs())
        self.contact = contact
        let exchange = SessionExchange(client: client, settings: settings, time: time, stop: stop, contact: contact,
                                       seed: seed &+ 0x5E55_10A5, logger: logger)
        tokens = SessionTokens(now: time.nowMs, refresh: { try await exchange.obtain() })
    }

    var currentRate: Double { limiter.withLock { $0.currentRate } }

    /// Waits until the pre-drain rate limiter lets a request go. False when a stop was requested meanwhile.
    func waitForSlot() async -> Bool {
        while true {
            if stop.isRequested || Task.isCancelled { return false }
            let now = time.nowMs()
            guard case .wait(let until) = limiter.withLock({ $0.decide(nowMs: now) }) else { return true }
            guard await time.sleep(untilMs: until, stop: stop) else { return false }
        }
    }

    /// One request (`call` with the session JWT), every request of a run goes through here: the answer
    /// is classified where it arrives (with `page`, a 2xx body is a history page), the server's contact
    /// noted, and what the answer says about the session heard (a 401 invalidates it). The body is that
    /// of an answer (empty otherwise).
    func exchange(page: Bool, _ call: (String) async throws(TransportFailure) -> HTTPAnswer) async
        -> (result: DeliveryMachine.SendResult, body: [UInt8]) {
        if Task.isCancelled { return (.notSent, []) }
        let jwt: String
        do {
            jwt = try await tokens.token()
        } catch {
            let stop = Task.isCancelled ? .stopped : DeliveryDriver.stop(for: error)
            return (stop == .stopped ? .notSent : .runEnds(stop), [])
        }
        let sentAt = time.nowMs()
        let http: HTTPAnswer
        do {
            http = try await call(jwt)
        } catch {
            if Task.isCancelled {
                if case .connectFailed = error { return (.notSent, []) }
                return (.cancelledInFlight(sentAtMs: sentAt), [])
            }
            contact.failed(error.description)
            logger.debug("request failed", metadata: ["problem": .string(error.description)])
            return (.noAnswer(error, sentAtMs: sentAt), [])
        }
        let now = time.nowMs()
        contact.answered(atMs: now)
        let answer = http.classified(atMs: now, page: page)
        if let stop = await sessionAnswer(answer.kind, jwt: jwt) { return (.runEnds(stop), []) }
        return (.answered(answer, sentAtMs: sentAt), http.body)
    }

    /// Sends one item once. On a 401 the session is invalidated (the next request refreshes it) and the
    /// answer reported: the machine decides whether to send again.
    func send(_ item: QueuedItem) async -> DeliveryMachine.SendResult {
        var form = MediaIDForm.seed
        let (result, _) = await exchange(page: false) { jwt throws(TransportFailure) in
            // The body is written here, once, in the form the run sends in now.
            form = settings.mediaIdForm?.current ?? .seed
            return try await client.post(item.outgoing, form: form, jwt: jwt)
        }
        // Only plays tell the form: a list path this server does not take answers 404 or 405 whatever the id.
        if case .answered(let answer, _) = result, item.outgoing.play != nil {
            settings.mediaIdForm?.record(answer.kind, sentIn: form)
        }
        return result
    }

    /// Reads one page of the play's history (`GET /profile/history/{mediaId}?season=&episode=`), the
    /// id in the form the run sends in. (A list write is never read back: the machine sends it again.)
    func lookUp(_ item: QueuedItem, pageToken: String?) async -> DeliveryMachine.LookupResult {
        guard let play = item.outgoing.play else {
            return .page(HistoryPage(items: [], hasMore: false, nextPageToken: nil), sentAtMs: time.nowMs())
        }
        let answered = await exchange(page: true) { jwt throws(TransportFailure) in
            // The id in the form the sends go in (the server answered that form for them).
            try await client.getHistory(of: play.mediaId.rawValue(in: settings.mediaIdForm?.current ?? .seed),
                                        season: play.season, episode: play.episode,
                                        limit: DeliveryMachine.readBackPageSize, pageToken: pageToken, jwt: jwt)
        }
        switch answered.result {
        case .answered(var answer, let sentAt):
            if answer.kind == .delivered {
                if let page = HistoryPage.parse(body: answered.body) { return .page(page, sentAtMs: sentAt) }
                answer.response.message = "the history answer is not a page of items"
            }
            return .answered(answer, sentAtMs: sentAt)
        case .noAnswer(let failure, let sentAt): return .noAnswer(failure, sentAtMs: sentAt)
        case .notSent, .cancelledInFlight: return .notSent // a read changes nothing at the server
        case .runEnds(let stop): return .runEnds(stop)
        }
    }

    /// What an answer says about the session: a success proves it, a 401 invalidates it (a second 401
    /// right after a refresh means the account may not write: the run ends).
    private func sessionAnswer(_ answer: HistoryAnswer, jwt: String) async -> DeliveryStop? {
        switch answer {
        case .sessionExpired:
            do {
                try await tokens.invalidate(jwt)
            } catch {
                return error
            }
        case let answer where answer.isSuccess:
            await tokens.accepted(jwt)
        default:
            break
        }
        return nil
    }
}

/// The run's clock: wall time in ms (the start instant plus what the injected clock says has passed,
/// so that a clock step during the run changes nothing), and sleeping on the injected clock. Every
/// wait outside the delivery machine (backoffs, pacing, the probe's pauses, the sign-in's polls)
/// goes through `sleep(untilMs:stop:)`.
struct RunTime: Sendable {
    let nowMs: @Sendable () -> Int64
    let sleepUntilMs: @Sendable (Int64) async throws -> Void

    /// Sleeps until `untilMs`, or until a stop is requested or the task is cancelled, whichever comes
    /// first: the clock's sleep races the stop's wait (no polling). False when a stop or a cancellation
    /// ended it (or came before).
    func sleep(untilMs: Int64, stop: StopSignal) async -> Bool {
        while !stop.isRequested && !Task.isCancelled && nowMs() < untilMs {
            let sleepUntilMs = self.sleepUntilMs
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await sleepUntilMs(untilMs) }
                group.addTask { await stop.wait() }
                _ = await group.next()
                group.cancelAll()
            }
        }
        return !stop.isRequested && !Task.isCancelled
    }

    static func make<C: Clock<Duration>>(clock: C, startMs: Int64) -> RunTime {
        let origin = clock.now
        return RunTime(
            nowMs: { startMs + origin.duration(to: clock.now).wholeMilliseconds },
            sleepUntilMs: { ms in
                try await clock.sleep(until: origin.advanced(by: .milliseconds(ms - startMs)), tolerance: nil)
            })
    }
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Server contact shared by the send tasks, the session exchange and the loop: when the server last
/// answered, and whether requests have been failing since.
final class ContactLog: Sendable {
    private let state: Mutex<(lastAnswerMs: Int64, failingProblem: String?)>

    init(startMs: Int64) { state = Mutex((startMs, nil)) }

    func answered(atMs ms: Int64) {
        state.withLock { $0 = (max($0.lastAnswerMs, ms), nil) }
    }

    func failed(_ problem: String) {
        state.withLock { $0.failingProblem = problem }
    }

    /// Waits `afterMs` before a request is tried again, but not past `silenceLimitMs` without an answer.
    /// Throws `unreachable` once the server has been silent that long, `stopped` on a stop or a cancellation.
    func waitToRetry(afterMs: Int64, silenceLimitMs: Int64, time: RunTime, stop: StopSignal) async throws(DeliveryStop) {
        let now = time.nowMs()
        // How long the server has been silent while requests failed; nil while it answers.
        let silence = state.withLock { contact in
            contact.failingProblem.map { (ms: now - contact.lastAnswerMs, problem: $0) }
        }
        if let silence, silence.ms >= silenceLimitMs {
            throw .unreachable("no answer for \(silence.ms / 1000) s; last problem: \(silence.problem)")
        }
        let deadline = silence.map { now - $0.ms + silenceLimitMs } ?? .max
        guard await time.sleep(untilMs: min(now &+ afterMs, deadline), stop: stop) else { throw .stopped }
    }
}

/// Gets a session: `POST /auth/session-token`, tried again with backoff while the server cannot be
/// reached (until `unreachableAfter` without an answer) or answers 5xx/429 (up to `maxAttempts`).
struct SessionExchange: Sendable {
    let client: DiscovrClient
    let settings: DeliverySettings
    let time: RunTime
    let stop: StopSignal
    let contact: ContactLog
    let seed: UInt64
    let logger: Logger

    func obtain() async throws -> SessionToken {
        var policy = RetryPolicy(maxAttempts: settings.maxAttempts, seed: seed)
        var failures = 0
        var serverErrors = 0
        let unreachableAfterMs = DeliveryMachine.Configuration.ms(settings.unreachableAfter)
        while true {
            if stop.isRequested { throw DeliveryStop.stopped }
            do {
                let session = try await client.session(refreshToken: settings.refreshToken, profileId: settings.profileId)
                contact.answered(atMs: time.nowMs())
                logger.debug("session obtained", metadata: ["expires-at": .string(session.expiresAt.iso8601)])
                return session
            } catch .transport(let failure) {
                if Task.isCancelled { throw CancellationError() }
                contact.failed(failure.description)
            } catch .unavailable(let why) {
                contact.answered(atMs: time.nowMs())
                serverErrors += 1
                if serverErrors >= policy.maxAttempts {
                    throw DeliveryStop.unreachable("the session endpoint kept failing: \(why)")
                }
            } catch .refused(let refusal) {
                contact.answered(atMs: time.nowMs())
                throw DeliveryStop.credentialsRefused(refusal)
            } catch .unreadable(let why) {
                throw DeliveryStop.unreadableSession("the session-token answer could not be read (\(why)); check --api-url")
            }
            let delay = policy.backoffMs(step: failures)
            failures += 1
            logger.debug("session request failed, trying again", metadata: ["delay-ms": .stringConvertible(delay)])
            try await contact.waitToRetry(afterMs: delay, silenceLimitMs: unreachableAfterMs, time: time, stop: stop)
        }
    }
}
