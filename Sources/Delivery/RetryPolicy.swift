import DiscovrAPI

/// What happened to one attempt at sending an item.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The server answered (classified where it arrived); `retryAfterMs` is the delay its `Retry-After`
    /// asked for, if any.
    case answered(DiscovrAnswer, retryAfterMs: Int64?)
    /// The request never reached the server (refused, unreachable, no connection in time).
    case connectFailed(String)
    /// No answer in time: the server may have stored the item.
    case timedOut(String)
    /// The connection broke before the answer: the server may have stored the item.
    case connectionLost(String)
}

/// What to do with an item after an attempt.
public enum RetryDecision: Sendable, Equatable {
    /// Stored (2xx), or already there (409).
    case delivered(alreadyPresent: Bool)
    /// Send again at the earliest `afterMs` from now. `countAttempt` is false when the attempt says
    /// nothing about the item (pacing, a session to refresh, a server never reached).
    case retry(afterMs: Int64, countAttempt: Bool)
    /// 401: refresh the session and send again (not counted).
    case refreshSession
    /// Permanent failure of this item, with the reason to keep.
    case giveUp(reason: String)
    /// 403: no item can be sent with these credentials; stop the run.
    case stopRun(reason: String)
}

/// Decides retries: capped exponential backoff with full jitter (a uniform delay in
/// `0...min(capMs, baseMs * 2^step)`) from a seeded generator, so runs and tests are reproducible.
///
/// It reads the answer's class (`HistoryAnswer`, the one status table), never a status number.
///
/// - 2xx and 409: delivered.
/// - 400, 404, 422 and other 4xx: give up at once, keeping the server's message.
/// - 5xx, 408, 3xx, timeouts and lost connections: retry after a backoff (at least the answer's
///   `Retry-After`), counted; after `maxAttempts` attempts give up with "gave up after N attempts: ...".
/// - 429: retry at `Retry-After` (1 s when absent), not counted: it is the server pacing us, not the
///   item failing, and the rate limiter slows every send down.
/// - connection refused or unreachable: retry, not counted (the server never saw the item); the
///   backoff grows with the run of such failures in a row, so an outage is probed ever more slowly.
///   The driver gives up on the whole run after `unreachableAfter` without an answer.
/// - 401: refresh the session and send again, not counted. 403: stop the run.
public struct RetryPolicy: Sendable {
    public static let baseDelayMs: Int64 = 500
    public static let capDelayMs: Int64 = 60_000

    /// Attempts per item, this one included, before it fails (at least 1).
    public let maxAttempts: Int
    private var generator: SplitMix64
    /// Connection failures in a row with no answer from the server in between, counted once per
    /// outage event (see `decide`).
    public private(set) var connectFailuresInARow = 0
    /// When `connectFailuresInARow` last grew: a send started before it saw the same outage.
    private var lastConnectFailureAtMs: Int64?

    public init(maxAttempts: Int, seed: UInt64) {
        self.maxAttempts = max(1, maxAttempts)
        generator = SplitMix64(seed: seed)
    }

    /// The upper bound of the jittered delay after `step` failures (0 for the first retry).
    public static func ceilingMs(step: Int) -> Int64 {
        let doublings = min(max(0, step), 30)
        return min(capDelayMs, baseDelayMs << Int64(doublings))
    }

    /// A full-jitter delay for `step`: uniform in `0...ceilingMs(step:)`.
    public mutating func backoffMs(step: Int) -> Int64 {
        Int64.random(in: 0...Self.ceilingMs(step: step), using: &generator)
    }

    /// `attemptsSoFar` counts the item's earlier counted attempts (not this one). `sentAtMs` (when
    /// this request was started) and `nowMs` let a connection failure count once per outage event:
    /// the requests in flight when a server goes away all fail together, and a failure of a request
    /// started before the last counted one is that same event, not one more failure in a row (else
    /// four requests in flight would push the first probe to the fourth backoff step). Such a
    /// failure returns a retry after 0 ms: the run's pause is already set.
    public mutating func decide(attemptsSoFar: Int, outcome: DeliveryOutcome, sentAtMs: Int64? = nil, nowMs: Int64? = nil) -> RetryDecision {
        let problem: String
        var retryAfterMs: Int64 = 0
        switch outcome {
        case .answered(let answer, let retryAfter):
            connectFailuresInARow = 0
            lastConnectFailureAtMs = nil
            switch answer.kind {
            case .delivered:
                return .delivered(alreadyPresent: false)
            case .alreadyPresent:
                return .delivered(alreadyPresent: true)
            case .rejected, .badRequest, .unknownMedia, .notAllowed, .gone:
                return .giveUp(reason: answer.message ?? "refused with status \(answer.status)")
            case .sessionExpired:
                return .refreshSession
            case .forbidden:
                return .stopRun(reason: answer.message ?? "status \(answer.status)")
            case .rateLimited:
                return .retry(afterMs: max(0, retryAfter ?? RateLimiter.defaultRetryAfterMs), countAttempt: false)
            case .serverError, .redirected:
                problem = answer.said
                retryAfterMs = max(0, retryAfter ?? 0)
            }
        case .connectFailed:
            if let sentAtMs, let last = lastConnectFailureAtMs, sentAtMs < last, connectFailuresInARow > 0 {
                return .retry(afterMs: 0, countAttempt: false)
            }
            connectFailuresInARow += 1
            lastConnectFailureAtMs = nowMs
            return .retry(afterMs: backoffMs(step: connectFailuresInARow - 1), countAttempt: false)
        case .timedOut(let text), .connectionLost(let text):
            problem = text
        }
        let attempts = max(0, attemptsSoFar) + 1
        if attempts >= maxAttempts {
            return .giveUp(reason: "gave up after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(problem)")
        }
        return .retry(afterMs: max(retryAfterMs, backoffMs(step: attempts - 1)), countAttempt: true)
    }
}

