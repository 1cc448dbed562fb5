import DiscovrAPI
import Foundation
import ImportQueue
import Logging
import Synchronization

/// Delivers the queue to Discovr: claims items from the `ImportQueue`, sends each one with
/// `POST /profile/history` (paced by `RateLimiter`, authorised by `SessionTokens`, at most
/// `concurrency` at a time in a task group), and settles every answer in the queue as
/// `RetryPolicy` decides. The decisions live in those pure types; this driver only sleeps, sends
/// and writes down.
///
/// It stops when nothing is left, at `limit`, on a stop request (in-flight requests are finished and
/// settled), when the server gives no answer for `unreachableAfter`, on refused credentials or a 403
/// (in-flight items are put back to pending), or when the state file cannot be written. An item is
/// marked delivered only after the server said so, so a run ended in any way loses nothing.
public struct DeliveryDriver: Sendable {
    let queue: ImportQueue
    let settings: DeliverySettings
    let logger: Logger
    let clock: any Clock<Duration>
    let wallClock: @Sendable () -> Int64

    /// How often the driver wakes while it waits: to notice a stop request, report progress, and see
    /// whether the server has been silent too long.
    static let tickMs: Int64 = 100

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
        let runClock: any Clock<Duration> = clock // a local: Swift 6.3 does not open the stored property here
        let time = RunTime.make(clock: runClock, startMs: wallClock())
        let seed = settings.jitterSeed ?? UInt64.random(in: .min ... .max)
        var run = RunState(startedAtMs: time.nowMs(), settings: settings, seed: seed)
        do {
            run.counts = try queue.counts()
        } catch {
            return run.result(.storage(String(describing: error)))
        }
        logger.info("delivery started", metadata: [
            "pending": .stringConvertible(run.counts.pending), "rate": .stringConvertible(settings.rate),
            "concurrency": .stringConvertible(settings.concurrency),
        ])
        let stopReason: DeliveryStop
        do {
            stopReason = try await withDiscovrClient(
                baseURL: settings.baseURL, requestTimeout: settings.requestTimeout,
                maxConnections: settings.concurrency, logger: logger,
                now: { Timestamp(millisecondsSince1970: time.nowMs()) }
            ) { client in
                let context = SendContext(client: client, settings: settings, time: time, stop: stop, seed: seed, logger: logger)
                return await drain(context: context, run: &run, progress: progress)
            }
        } catch {
            // Only `withDiscovrClient` itself throws here: a bad URL or a failed client shutdown.
            stopReason = (error as? DeliveryError).map(Self.stop(for:)) ?? .unreachable(Redaction.redact(String(describing: error)))
        }
        if let counts = try? queue.counts() { run.counts = counts }
        progress(run.progress(nowMs: time.nowMs(), currentRate: run.lastRate))
        logger.info("delivery ended", metadata: [
            "stop": .string(String(describing: stopReason)), "delivered": .stringConvertible(run.counts.delivered),
            "failed": .stringConvertible(run.counts.failed), "pending": .stringConvertible(run.counts.pending),
            "sent": .stringConvertible(run.sent), "retries": .stringConvertible(run.retries),
            "rate-limited": .stringConvertible(run.rateLimited),
        ])
        return run.result(stopReason)
    }

    /// The claim/send/settle loop. Returns why it ended; `run` holds the counters.
    private func drain(context: SendContext, run: inout RunState,
                       progress: @escaping @Sendable (DeliveryProgress) -> Void) async -> DeliveryStop {
        // The first session before any item is claimed: refused credentials send nothing.
        do {
            _ = try await context.tokens.token()
        } catch {
            return Self.stop(for: error)
        }
        if let stop = await ExistingHistoryCheck(queue: queue, settings: settings, context: context, logger: logger).run(progress: progress) {
            return stop
        }
        if let counts = try? queue.counts() { run.counts = counts }
        let limit = settings.limit.map { max(0, $0) }
        let concurrency = max(1, settings.concurrency)
        let unreachableAfterMs = Int64(max(0, settings.unreachableAfter) * 1000)

        return await withTaskGroup(of: GroupEvent.self, returning: DeliveryStop.self) { group in
            var inFlight = Set<Int64>()
            var ending: DeliveryStop?
            var tickScheduled = false
            var lastProgressMs: Int64?

            func endRun(_ stop: DeliveryStop, cancelInFlight: Bool) {
                guard ending == nil else { return }
                ending = stop
                if cancelInFlight { group.cancelAll() }
            }

            while true {
                let now = context.time.nowMs()
                if ending == nil {
                    if context.stop.isRequested || Task.isCancelled {
                        endRun(.stopped, cancelInFlight: false)
                    } else if let silence = context.contact.silence(nowMs: now), silence.ms >= unreachableAfterMs {
                        endRun(.unreachable("no answer for \(silence.ms / 1000) s; last problem: \(silence.problem)"),
                               cancelInFlight: true)
                    }
                }
                var waitUntil: Int64?
                if ending == nil {
                    let limitRoom = limit.map { $0 - run.settled - inFlight.count } ?? Int.max
                    var room = min(concurrency - inFlight.count, limitRoom)
                    if let pause = run.outagePauseUntilMs {
                        // During an outage: nothing until the pause is over, then one probe at a time.
                        room = now < pause ? 0 : min(room, 1 - inFlight.count)
                    }
                    do {
                        if room > 0 {
                            let items = try queue.claim(max: room, nowMs: now)
                            for item in items {
                                inFlight.insert(item.id)
                                group.addTask { GroupEvent.sent(await context.send(item)) }
                            }
                            run.counts.pending -= items.count
                            run.counts.inFlight += items.count
                            if items.count < room {
                                // Whatever is left waits for its backoff, or for a play of its key in flight.
                                waitUntil = try queue.nextReadyAt()
                                if waitUntil == nil && inFlight.isEmpty {
                                    endRun(.finished, cancelInFlight: false)
                                }
                            }
                        } else if limitRoom <= 0 && inFlight.isEmpty {
                            endRun(try queue.counts().pending > 0 ? .limitReached : .finished, cancelInFlight: false)
                        }
                    } catch {
                        endRun(.storage(String(describing: error)), cancelInFlight: true)
                    }
                }
                if ending != nil && inFlight.isEmpty { break }
                if lastProgressMs.map({ now - $0 >= Self.tickMs }) ?? true {
                    lastProgressMs = now
                    run.lastRate = context.currentRate
                    progress(run.progress(nowMs: now, currentRate: run.lastRate))
                }
                // Wake for the next finished send, or at the next tick (stop requests, silence, backoffs
                // coming due). Once the run is ending only the sends in flight matter.
                if ending == nil && !tickScheduled {
                    let wake = min(waitUntil ?? .max, now + Self.tickMs)
                    let time = context.time
                    group.addTask {
                        try? await time.sleepUntilMs(wake)
                        return .tick
                    }
                    tickScheduled = true
                }
                guard let event = await group.next() else { break }
                switch event {
                case .tick:
                    tickScheduled = false
                case .sent(let report):
                    inFlight.remove(report.item.id)
                    run.counts.inFlight -= 1
                    run.sent += report.sends
                    do {
                        if let stop = try settle(report, run: &run, context: context) {
                            endRun(stop, cancelInFlight: true)
                        }
                    } catch {
                        endRun(.storage(String(describing: error)), cancelInFlight: true)
                    }
                }
            }
            group.cancelAll() // a tick may still be sleeping
            return ending ?? .finished
        }
    }

    /// Writes one send's result to the queue. Returns a reason to end the run, if the result is one.
    private func settle(_ report: SendReport, run: inout RunState, context: SendContext) throws -> DeliveryStop? {
        let item = report.item
        let outcome: DeliveryOutcome
        let response: HistoryResponse?
        switch report.result {
        case .notSent:
            try queue.release(ids: [item.id])
            run.counts.pending += 1
            return nil
        case .runEnds(let stop):
            try queue.release(ids: [item.id])
            run.counts.pending += 1
            return stop
        case .attempted(let attempted, let answer):
            outcome = attempted
            response = answer
        }
        let now = context.time.nowMs()
        var status: Int?
        if case .answered(let code, _, _) = outcome {
            run.outagePauseUntilMs = nil
            status = code
            if code == 429 { run.rateLimited += 1 }
        }
        let message = response?.message ?? Self.problem(of: outcome)
        switch run.policy.decide(attemptsSoFar: item.attempts, outcome: outcome, sentAtMs: report.sentAtMs, nowMs: now) {
        case .delivered(let alreadyPresent):
            try queue.markDelivered(id: item.id, status: status ?? 200, message: message,
                                    added: response?.added, removed: response?.removed)
            run.settled += 1
            run.counts.delivered += 1
            if alreadyPresent { run.counts.alreadyPresent += 1 }
        case .retry(let afterMs, let countAttempt):
            if case .connectFailed = outcome {
                // The server is down, not the item: the whole run pauses and then probes with one
                // request at a time, and the item itself stays ready (a backoff stored with it would
                // also delay the next `resume` for nothing).
                try queue.markRetry(id: item.id, status: nil, message: message, notBeforeMs: now, countAttempt: false)
                run.outagePauseUntilMs = max(run.outagePauseUntilMs ?? .min, now + afterMs)
            } else {
                try queue.markRetry(id: item.id, status: status, message: message, notBeforeMs: now + afterMs,
                                    countAttempt: countAttempt)
            }
            run.retries += 1
            run.counts.pending += 1
        case .refreshSession:
            // The send already refreshed the session and tried again; a 401 that outlives refreshes
            // counts, so that it cannot go round forever.
            try queue.markRetry(id: item.id, status: status, message: message,
                                notBeforeMs: now + run.policy.backoffMs(step: item.attempts), countAttempt: true)
            run.retries += 1
            run.counts.pending += 1
        case .giveUp(let reason):
            try queue.markFailed(id: item.id, status: status, message: reason)
            run.settled += 1
            run.counts.failed += 1
            logger.warning("item failed", metadata: [
                "item": .string(item.title), "status": .string(status.map(String.init) ?? "-"), "reason": .string(reason),
            ])
        case .stopRun(let reason):
            try queue.release(ids: [item.id])
            run.counts.pending += 1
            return .forbidden("status 403: \(reason)")
        }
        return nil
    }

    static func problem(of outcome: DeliveryOutcome) -> String? {
        switch outcome {
        case .answered(let status, let message, _): return message ?? "status \(status)"
        case .connectFailed(let why): return TransportFailure.connectFailed(why).description
        case .timedOut(let why): return TransportFailure.timedOut(why).description
        case .connectionLost(let why): return TransportFailure.connectionLost(why).description
        }
    }

    static func stop(for error: any Error) -> DeliveryStop {
        switch error {
        case DeliveryError.credentialsRefused(let why):
            return .credentialsRefused(why)
        case DeliveryError.unreadableSession:
            return .credentialsRefused(String(describing: error))
        case DeliveryError.forbidden(let why):
            return .forbidden(why)
        case DeliveryError.unreachable(let why):
            return .unreachable(why)
        case DeliveryError.stopped, is CancellationError:
            return .stopped
        case let error as DeliveryError:
            return .unreachable(error.description)
        default:
            return .unreachable(Redaction.redact(String(describing: error)))
        }
    }
}

// MARK: - Run state

/// What the driver's loop owns: counters, the retry policy (with its jitter generator), a mirror of
/// the queue's counts kept up to date without a query per item.
private struct RunState {
    let startedAtMs: Int64
    var counts = StateCounts()
    var policy: RetryPolicy
    var sent = 0
    var retries = 0
    var rateLimited = 0
    /// Items delivered or failed this run (what `limit` counts).
    var settled = 0
    /// Set while the server cannot be reached: no claims before this moment, then one at a time.
    var outagePauseUntilMs: Int64?
    var lastRate: Double

    init(startedAtMs: Int64, settings: DeliverySettings, seed: UInt64) {
        self.startedAtMs = startedAtMs
        policy = RetryPolicy(maxAttempts: settings.maxAttempts, seed: seed)
        lastRate = RateLimiter(rate: settings.rate, auto: settings.autoRate).currentRate
    }

    func progress(nowMs: Int64, currentRate: Double) -> DeliveryProgress {
        DeliveryProgress(delivered: counts.delivered, alreadyPresent: counts.alreadyPresent, failed: counts.failed,
                         pending: counts.pending, inFlight: counts.inFlight, retries: retries, rateLimited: rateLimited,
                         total: counts.total, startedAt: Timestamp(millisecondsSince1970: startedAtMs),
                         now: Timestamp(millisecondsSince1970: nowMs), currentRate: currentRate)
    }

    func result(_ stop: DeliveryStop) -> DeliveryResult {
        DeliveryResult(stop: stop, counts: counts, sent: sent, retries: retries, rateLimited: rateLimited)
    }
}

private enum GroupEvent: Sendable {
    case sent(SendReport)
    case tick
}

/// What one send task hands back to the loop, which alone writes to the queue.
struct SendReport: Sendable {
    enum Result: Sendable {
        /// Sent (once, or more when a 401 made it refresh the session): what finally happened.
        case attempted(DeliveryOutcome, HistoryResponse?)
        /// Not sent: a stop was requested while it waited for its turn, or the run was cancelled.
        case notSent
        /// The run cannot go on (credentials refused, 403 after refresh, unreachable while refreshing).
        case runEnds(DeliveryStop)
    }

    var item: QueuedItem
    var result: Result
    /// Requests sent for this item in this task.
    var sends: Int
    /// When the last request of this report was started (nil if none was).
    var sentAtMs: Int64? = nil
}

/// The run's clock: wall time in ms (the start instant plus what the injected clock says has passed,
/// so that a clock step during the run changes nothing), and sleeping on the injected clock.
struct RunTime: Sendable {
    let nowMs: @Sendable () -> Int64
    let sleepUntilMs: @Sendable (Int64) async throws -> Void

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

/// When the server last answered, and whether requests have been failing since.
struct ServerContact: Sendable {
    var lastAnswerMs: Int64
    var failingProblem: String?
}

/// Everything a send task needs, shared by all of them: the transport, the session, the rate limiter
/// and the record of server contact.
final class SendContext: Sendable {
    let client: DiscovrClient
    let tokens: SessionTokens
    let time: RunTime
    let stop: StopSignal
    let logger: Logger
    let mediaIdForm: MediaIDFormState?
    let limiter: Mutex<RateLimiter>
    let contact: ContactLog

    /// How many times one send refreshes the session on 401 before giving the answer to the policy.
    static let unauthorizedRetries = 2

    init(client: DiscovrClient, settings: DeliverySettings, time: RunTime, stop: StopSignal, seed: UInt64, logger: Logger) {
        self.client = client
        self.time = time
        self.stop = stop
        self.logger = logger
        mediaIdForm = settings.mediaIdForm
        limiter = Mutex(RateLimiter(rate: settings.rate, auto: settings.autoRate))
        let contact = ContactLog(startMs: time.nowMs())
        self.contact = contact
        let exchange = SessionExchange(client: client, settings: settings, time: time, stop: stop, contact: contact,
                                       seed: seed &+ 0x5E55_10A5, logger: logger)
        tokens = SessionTokens(now: time.nowMs, refresh: { try await exchange.obtain() })
    }

    var currentRate: Double { limiter.withLock { $0.currentRate } }

    /// Sends one item: waits for a slot from the rate limiter, gets a session, posts, and on a 401
    /// refreshes the session and sends again. Never throws: everything that happened is in the report.
    func send(_ item: QueuedItem) async -> SendReport {
        var sends = 0
        var unauthorized = 0
        while true {
            guard await waitForSlot() else { return SendReport(item: item, result: .notSent, sends: sends) }
            let jwt: String
            do {
                jwt = try await tokens.token()
            } catch {
                if Task.isCancelled { return SendReport(item: item, result: .notSent, sends: sends) }
                let stop = DeliveryDriver.stop(for: error)
                return SendReport(item: item, result: stop == .stopped ? .notSent : .runEnds(stop), sends: sends)
            }
            let sentAt = time.nowMs()
            sends += 1
            let sending = mediaIdForm?.body(for: item.body) ?? (body: item.body, form: MediaIDForm.seed)
            let answer: HTTPAnswer
            do {
                answer = try await client.postHistory(body: sending.body, jwt: jwt)
            } catch {
                if Task.isCancelled { return SendReport(item: item, result: .notSent, sends: sends) }
                contact.failed(error.description)
                logger.debug("history request failed", metadata: ["item": .string(item.title), "problem": .string(error.description)])
                let outcome: DeliveryOutcome
                switch error {
                case .connectFailed(let why): outcome = .connectFailed(why)
                case .timedOut(let why): outcome = .timedOut(why)
                case .connectionLost(let why): outcome = .connectionLost(why)
                }
                return SendReport(item: item, result: .attempted(outcome, nil), sends: sends, sentAtMs: sentAt)
            }
            let now = time.nowMs()
            contact.answered(atMs: now)
            mediaIdForm?.record(status: answer.status, sentIn: sending.form)
            let hints = RateLimitHints(headers: answer.headers, now: Timestamp(millisecondsSince1970: now))
            limiter.withLock { $0.record(status: answer.status, hints: hints, sentAtMs: sentAt, nowMs: now) }
            var response = HistoryResponse.parse(body: answer.body)
            response.message = answer.redirectNote ?? response.message.map(Redaction.redact)
            if answer.status == 401 && unauthorized < Self.unauthorizedRetries {
                unauthorized += 1
                do {
                    try await tokens.invalidate(jwt)
                } catch {
                    return SendReport(item: item, result: .runEnds(DeliveryDriver.stop(for: error)), sends: sends)
                }
                continue
            }
            if (200..<300).contains(answer.status) || answer.status == 409 { await tokens.accepted(jwt) }
            let retryAfterMs = hints.retryAt.map { max(0, $0.millisecondsSince1970 - now) }
            let outcome = DeliveryOutcome.answered(status: answer.status, message: response.message, retryAfterMs: retryAfterMs)
            return SendReport(item: item, result: .attempted(outcome, response), sends: sends, sentAtMs: sentAt)
        }
    }

    /// Waits until the rate limiter lets a request go. False when a stop was requested meanwhile.
    func waitForSlot() async -> Bool {
        while true {
            if stop.isRequested || Task.isCancelled { return false }
            let now = time.nowMs()
            switch limiter.withLock({ $0.decide(nowMs: now) }) {
            case .send:
                return true
            case .wait(let until):
                do {
                    try await time.sleepUntilMs(min(until, now + DeliveryDriver.tickMs))
                } catch {
                    return false
                }
            }
        }
    }
}

/// Server contact shared by the send tasks, the session exchange and the loop.
final class ContactLog: Sendable {
    private let state: Mutex<ServerContact>

    init(startMs: Int64) { state = Mutex(ServerContact(lastAnswerMs: startMs, failingProblem: nil)) }

    func answered(atMs ms: Int64) {
        state.withLock { $0 = ServerContact(lastAnswerMs: max($0.lastAnswerMs, ms), failingProblem: nil) }
    }

    func failed(_ problem: String) {
        state.withLock { $0.failingProblem = problem }
    }

    /// How long the server has been silent while requests failed; nil while it answers.
    func silence(nowMs: Int64) -> (ms: Int64, problem: String)? {
        state.withLock { contact in
            contact.failingProblem.map { (nowMs - contact.lastAnswerMs, $0) }
        }
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
        let unreachableAfterMs = Int64(max(0, settings.unreachableAfter) * 1000)
        while true {
            if stop.isRequested { throw DeliveryError.stopped }
            do {
                let session = try await client.exchange(refreshToken: settings.refreshToken, profileId: settings.profileId)
                contact.answered(atMs: time.nowMs())
                logger.debug("session obtained", metadata: ["expires-at": .string(session.expiresAt.iso8601)])
                return session
            } catch DeliveryError.transport(let failure) {
                if Task.isCancelled { throw CancellationError() }
                contact.failed(failure.description)
            } catch DeliveryError.sessionUnavailable(let why) {
                contact.answered(atMs: time.nowMs())
                serverErrors += 1
                if serverErrors >= policy.maxAttempts {
                    throw DeliveryError.unreachable("the session endpoint kept failing: \(why)")
                }
            } catch {
                if case DeliveryError.credentialsRefused = error { contact.answered(atMs: time.nowMs()) }
                throw error
            }
            let now = time.nowMs()
            if let silence = contact.silence(nowMs: now), silence.ms >= unreachableAfterMs {
                throw DeliveryError.unreachable("no answer for \(silence.ms / 1000) s; last problem: \(silence.problem)")
            }
            let delay = policy.backoffMs(step: failures)
            failures += 1
            logger.debug("session request failed, trying again", metadata: ["delay-ms": .stringConvertible(delay)])
            // Sleep in ticks so that a stop request is seen promptly.
            let deadline = contact.silence(nowMs: now).map { now - $0.ms + unreachableAfterMs } ?? .max
            let until = min(now + delay, deadline)
            while time.nowMs() < until {
                if stop.isRequested { throw DeliveryError.stopped }
                try await time.sleepUntilMs(min(until, time.nowMs() + DeliveryDriver.tickMs))
            }
        }
    }
}
