import DiscovrAPI

/// Paces requests to `/profile/history`. A pure value over millisecond times: the driver asks
/// `decide(nowMs:)` before each send and reports every answer with `record(...)`; it does the sleeping.
///
/// Pacing is GCRA (a token bucket seen as "the earliest moment of the next send"): sends are spaced
/// `1000 / currentRate` ms apart, with a burst of one (or of `rate / 1000`, rounded up, when the rate is above one per
/// millisecond, since times are whole milliseconds). So over any window of `w` ms at most
/// `w * rate / 1000 + burst` sends happen, and `currentRate` never exceeds the configured `rate`.
///
/// A 429 lowers `currentRate` (x`decrease`, not below `minimumRate`) and holds every send until the
/// answer's `Retry-After` (1 s when absent). Answers that say `RateLimit-Remaining: 0` hold sends until
/// `RateLimit-Reset`. After `recoveryRun` successes in a row the rate rises again by x`increase`, up to
/// the configured rate.
public struct RateLimiter: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Send now (the slot is taken).
        case send
        /// Ask again at this moment.
        case wait(untilMs: Int64)
    }

    /// Factor applied to the rate on a 429.
    public static let decrease = 0.7
    /// Factor applied after `recoveryRun` successes in a row.
    public static let increase = 1.2
    public static let recoveryRun = 10
    /// Lowest rate a run of 429s can push us to (or the configured rate if that is lower).
    public static let minimumRate = 0.2
    /// Hold after a 429 that has no readable `Retry-After`.
    public static let defaultRetryAfterMs: Int64 = 1_000
    /// A `RateLimit-Reset` further away than this is not trusted (a broken header must not stall a run).
    public static let maximumResetHoldMs: Int64 = 60_000

    /// The rate asked for (`--rate`): never exceeded.
    public let configuredRate: Double
    /// The rate in force now: the configured rate, or less after 429s.
    public private(set) var currentRate: Double
    /// No send before this moment (from `Retry-After` or `RateLimit-Reset`).
    public private(set) var holdUntilMs: Int64 = .min
    /// GCRA's theoretical arrival time: when the next send is due if the bucket is empty.
    private var nextDueMs: Double = -.infinity
    /// When the rate was last lowered: a 429 for a request sent before that says nothing new.
    private var lastDecreaseAtMs: Int64 = .min
    private var successesInARow = 0

    /// `rate` in requests per second; values that are not positive numbers are treated as 1.
    public init(rate: Double) {
        let rate = rate.isFinite && rate > 0 ? rate : 1
        configuredRate = rate
        currentRate = rate
    }

    private var intervalMs: Double { 1000 / currentRate }
    /// How far ahead of its due time a send may go (the burst, minus one), in ms.
    private var toleranceMs: Double { max(0, (currentRate / 1000).rounded(.up) - 1) * intervalMs }

    public mutating func decide(nowMs: Int64) -> Decision {
        let now = Double(nowMs)
        let earliest = max(Double(holdUntilMs), nextDueMs - toleranceMs)
        if now >= earliest {
            // Callers wake at whole milliseconds, up to 1 ms after the (fractional) due time: that
            // lateness is rounding, not idle time, so the schedule stays on its grid.
            nextDueMs = max(nextDueMs, now - 1) + intervalMs
            return .send
        }
        return .wait(untilMs: Int64(earliest.rounded(.up)))
    }

    /// Reports an answer to a request sent at `sentAtMs`. `hints` are the answer's rate-limit headers.
    public mutating func record(status: Int, hints: RateLimitHints, sentAtMs: Int64, nowMs: Int64) {
        if status == 429 {
            let retryAt = hints.retryAt?.millisecondsSince1970 ?? nowMs + Self.defaultRetryAfterMs
            holdUntilMs = max(holdUntilMs, retryAt)
            successesInARow = 0
            // Requests already on the way when we slowed down were sent at the old rate: one decrease
            // per congestion event, not one per request that was in flight.
            if sentAtMs >= lastDecreaseAtMs {
                currentRate = max(min(Self.minimumRate, configuredRate), currentRate * Self.decrease)
                lastDecreaseAtMs = nowMs
            }
            return
        }
        if hints.remaining == 0, let reset = hints.resetAt?.millisecondsSince1970, reset > nowMs {
            holdUntilMs = max(holdUntilMs, min(reset, nowMs + Self.maximumResetHoldMs))
        }
        guard (200..<300).contains(status) || status == 409 else { return }
        successesInARow += 1
        if successesInARow >= Self.recoveryRun, currentRate < configuredRate {
            currentRate = min(configuredRate, currentRate * Self.increase)
            successesInARow = 0
        }
    }
}
