import DiscovrAPI
import ImportQueue
import Synchronization

/// How a delivery run talks to Discovr (the delivery flags of `import` and `resume`).
public struct DeliverySettings: Sendable {
    public var baseURL: String
    /// The identity-tier token (`rt_...`). Never logged, never in an error message.
    public var refreshToken: String
    public var profileId: String?
    /// Requests a second at most: the ceiling of the pace.
    public var rate: Double
    /// `--rate auto`: start at `RateLimiter.autoStartRate` and find the server's pace (below `rate`).
    /// False: start at `rate` (lowered by headers and 429s, never raised above it).
    public var autoRate = false
    /// Requests in flight at most.
    public var concurrency: Int
    /// Counted attempts per item before it fails.
    public var maxAttempts: Int
    /// Settle at most this many items this run (delivered + failed), then stop.
    public var limit: Int?
    /// Seconds one request may take, answer included.
    public var requestTimeout: Double
    /// Seconds without any answer from the server, while requests fail, before the run gives up (exit 75).
    public var unreachableAfter: Double
    /// Seed of the backoff jitter; nil picks one at random.
    public var jitterSeed: UInt64?
    /// `--existing`: look for plays already in the profile before the first send (ExistingHistory.swift).
    public var existingHistory: ExistingHistoryMode = .check
    /// The media id form bodies are sent in (rewritten at send time, `MediaIDFormState`); nil sends
    /// them as the queue keeps them.
    public var mediaIdForm: MediaIDFormState?

    public init(baseURL: String, refreshToken: String, profileId: String? = nil, rate: Double = 5,
                concurrency: Int = 4, maxAttempts: Int = 8, limit: Int? = nil, requestTimeout: Double = 30,
                unreachableAfter: Double = 120, jitterSeed: UInt64? = nil) {
        self.baseURL = baseURL
        self.refreshToken = refreshToken
        self.profileId = profileId
        self.rate = rate
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.limit = limit
        self.requestTimeout = requestTimeout
        self.unreachableAfter = unreachableAfter
        self.jitterSeed = jitterSeed
    }
}

extension DeliverySettings: CustomStringConvertible {
    /// Everything but the refresh token, so that settings can be logged or printed safely.
    public var description: String {
        "DeliverySettings(baseURL: \(baseURL), profileId: \(profileId ?? "-"), rate: \(autoRate ? "auto, at most " : "")\(rate), "
            + "concurrency: \(concurrency), maxAttempts: \(maxAttempts), limit: \(limit.map(String.init) ?? "-"), "
            + "requestTimeout: \(requestTimeout), unreachableAfter: \(unreachableAfter))"
    }
}

/// A snapshot for the progress display.
public struct DeliveryProgress: Sendable {
    public var delivered = 0
    /// Delivered items the server already had (409), a subset of `delivered`.
    public var alreadyPresent = 0
    public var failed = 0
    public var pending = 0
    public var inFlight = 0
    /// Sends that will be tried again (this run).
    public var retries = 0
    /// 429 answers (this run).
    public var rateLimited = 0
    public var total = 0
    public var startedAt: Timestamp
    public var now: Timestamp
    /// Requests a second the rate limiter allows now.
    public var currentRate: Double
    /// Set while the existing-history check reads the profile's history (and on its last update, with `found`).
    public var existingHistory: ExistingHistoryProgress?
    /// Uncertain sends of this run (no answer after the request went out) waiting out their grace
    /// before they are read back.
    public var awaitingReadBack = 0
    /// Read-backs begun this run, and how many of them found the play already stored.
    public var readBacks = 0
    public var foundOnReadBack = 0
    /// Items this run delivered or failed (not those an earlier run or the existing-history check settled).
    public var settledThisRun = 0
    /// When the last read-back of those waiting out their grace is due (nil when none waits).
    public var readBackDueAt: Timestamp?

    /// The queue's `counts`, this run's other figures zero.
    init(counts: StateCounts, startedAtMs: Int64, nowMs: Int64, currentRate: Double) {
        startedAt = Timestamp(millisecondsSince1970: startedAtMs)
        now = Timestamp(millisecondsSince1970: nowMs)
        self.currentRate = currentRate
        show(counts)
    }

    /// Takes the queue's counts.
    mutating func show(_ counts: StateCounts) {
        delivered = counts.delivered
        alreadyPresent = counts.alreadyPresent
        failed = counts.failed
        pending = counts.pending
        inFlight = counts.inFlight
        total = counts.total
    }

    /// Items settled per second of wall time since the run began (section 5: not per second of sending).
    public var pace: Double {
        let elapsedMs = now.millisecondsSince1970 - startedAt.millisecondsSince1970
        return elapsedMs > 0 ? Double(settledThisRun) * 1000 / Double(elapsedMs) : 0
    }

    /// Seconds until every item is settled, nil when nothing tells (nothing settled yet and no pace).
    /// The items not waiting for a read-back go at the slower of the wall-time pace and the limiter's;
    /// those that wait are done no sooner than their read-back is due (section 5: the ETA counts the
    /// wait), so the ETA is the later of the two.
    public var etaSeconds: Double? {
        let left = pending + inFlight
        guard left > 0 else { return nil }
        let waitMs = readBackDueAt.map { max(0, $0.millisecondsSince1970 - now.millisecondsSince1970) } ?? 0
        let others = max(0, left - awaitingReadBack)
        let rate = pace > 0 && currentRate > 0 ? min(pace, currentRate) : max(pace, currentRate)
        var seconds = Double(waitMs) / 1000
        if others > 0 {
            guard rate > 0 else { return waitMs > 0 ? seconds : nil }
            seconds = max(seconds, Double(others) / rate)
        }
        return seconds
    }
}

/// Why a run ended; also thrown by what a run waits on (the session, the server) when it cannot go on.
public enum DeliveryStop: Error, Equatable {
    /// Nothing left to send (some may have failed permanently).
    case finished
    /// `--limit` reached with work left.
    case limitReached
    /// A graceful stop was requested (SIGINT/SIGTERM).
    case stopped
    /// The server could not be reached for `unreachableAfter`.
    case unreachable(String)
    /// The refresh token or the profile was refused (the refusal, as the identity call read it).
    case credentialsRefused(IdentityRefusal)
    /// The session-token endpoint answered 2xx without a token that can be read.
    case unreadableSession(String)
    /// 403, or the session was refused right after a refresh (exit 77).
    case forbidden(String)
    /// The state file could not be written (disk full...): the queue's own error, which names the file
    /// and says what to do.
    case storage(QueueError)
    /// `--give-up-after` ran out (`importer.md` section 5): the server asked for a longer wait
    /// (Retry-After, a rate-limit reset), or no item settled for that long whatever it answered (exit 75).
    case gaveUp(String)
    /// The existing-history check could not read the profile's history (a refusal, a bad answer); nothing was sent.
    case historyUnreadable(String)
}

public struct DeliveryResult: Sendable {
    public var stop: DeliveryStop
    /// The queue's counts when the run ended.
    public var counts: StateCounts
    /// History requests sent this run (answered or not).
    public var sent: Int
    /// Sends put back to be tried again this run.
    public var retries: Int
    /// 429 answers this run.
    public var rateLimited: Int
    /// Read-back requests (`GET /profile/history/{mediaId}`, one per page) this run.
    public var readBacks: Int
    /// Uncertain items a read-back found in the profile (delivered, `alreadyPresent`, not sent again).
    public var foundOnReadBack: Int
    /// List paths this server did not take this run (405, or 404 for the first titles), with why.
    public var refusedLists: [DiscovrList: String]

    /// The end of a run: `counts` the queue's, the rest `machine`'s.
    init(stop: DeliveryStop, counts: StateCounts, machine: DeliveryMachine) {
        self.stop = stop
        self.counts = counts
        sent = machine.sent
        retries = machine.retries
        rateLimited = machine.rateLimited
        readBacks = machine.readBacks
        foundOnReadBack = machine.foundOnReadBack
        refusedLists = machine.refusedLists
    }
}

/// A flag the executable sets on SIGINT/SIGTERM: the driver stops claiming, settles what is in flight,
/// and returns `.stopped`.
public final class StopSignal: Sendable {
    private struct State {
        var requested = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func request() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.requested = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Returns once a stop is requested, or when the calling task is cancelled (so the driver wakes on
    /// a stop at once instead of polling for it).
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.requested || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Errors of the Delivery module. Messages never contain a token.
public enum DeliveryError: Error, Equatable, CustomStringConvertible {
    /// The API URL cannot be used.
    case invalidURL(String)
    /// The API URL is plain http to a host that is not loopback: the token would travel in clear.
    case insecureURL(String)

    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "the API URL \(url) is not an http(s) URL; fix --api-url or DISCOVR_API_URL"
        case .insecureURL(let url):
            return "the API URL \(url) is plain http to a host that is not this machine: the refresh token would travel "
                + "unencrypted, so nothing was sent; use https:// (plain http is allowed only to 127.0.0.1, ::1 or localhost)"
        }
    }
}

/// Removes anything shaped like a refresh token or a JWT from text that came from outside (server
/// messages, error descriptions) before it is logged or stored.
enum Redaction {
    static func redact(_ text: String) -> String {
        guard text.contains("rt_") || text.contains("eyJ") else { return text }
        var out = ""
        var word = ""
        func flush() {
            if word.hasPrefix("rt_") && word.count > 8 {
                out += "rt_[redacted]"
            } else if word.hasPrefix("eyJ") && word.contains(".") {
                out += "[redacted jwt]"
            } else {
                out += word
            }
            word = ""
        }
        for ch in text {
            if ch.isLetter || ch.isNumber || ch == "_" || ch == "-" || ch == "." || ch == "=" {
                word.append(ch)
            } else {
                flush()
                out.append(ch)
            }
        }
        flush()
        return out
    }
}
