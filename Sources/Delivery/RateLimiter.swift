import DiscovrAPI
import Foundation

/// Paces requests to `/profile/history`: finds the server's pace and keeps to it. A pure value over
/// millisecond times: the driver asks `decide(nowMs:)` before each send and reports every answer with
/// `record(...)`; it does the sleeping.
///
/// **Pacing** is GCRA (a token bucket seen as "the earliest moment of the next send"): sends are spaced
/// `1000 / currentRate` ms apart, with a burst of one (or of `rate / 1000`, rounded up, when the rate is
/// above one per millisecond, since times are whole milliseconds). So over any window of `w` ms at most
/// `w * rate / 1000 + burst` sends happen, and `currentRate` never exceeds `configuredRate`, the ceiling.
///
/// **The pace** (`currentRate`) comes from one of two places:
/// - *Advertised*: once an answer carries `RateLimit-Limit` (or `X-RateLimit-Limit`), the pace is the
///   limit per window, the window being the longest `RateLimit-Reset` seen (1 s when none is sent,
///   at most an hour). With a reset at least 2 s away, it is also held to `remaining / reset`, so that a
///   window's quota is spread over what is left of it rather than spent at once. `Remaining: 0` holds
///   every send until the reset.
/// - *Probed*, while no answer has said anything: it starts at `autoStartRate` (or at the ceiling when a
///   number was given) and grows while the answers are good and the pace is what holds the sends back:
///   doubling every second until the first 429 (slow start), then `growthPerSecond` (at least
///   `minimumGrowthPerSecond` requests/s more every second).
///
/// A **429** cuts the pace at once (x`decrease`, one cut per congestion event: the requests that were
/// already on the way when it was cut say nothing new), ends the slow start, and holds every send until
/// its `Retry-After` (1 s when it has none). While following headers, a 429 means they promise more
/// than the server gives: the advertised pace is discounted the same way, and the discount heals by
/// `growthPerSecond` a second of good answers.
public struct RateLimiter: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Send now (the slot is taken).
        case send
        /// Ask again at this moment.
        case wait(untilMs: Int64)
    }

    /// Where `--rate auto` starts before any answer says anything.
    public static let autoStartRate = 5.0
    /// The ceiling of `--rate auto`: no server's pace, just a bound on the arithmetic (the
    /// concurrency limit and the server's answer time bound a run long before it).
    public static let autoCeiling = 10_000.0
    /// Factor applied to the pace on a 429.
    public static let decrease = 0.7
    /// Growth of the probed pace per second of good answers before the first 429.
    public static let slowStartGrowthPerSecond = 2.0
    /// Growth per second of good answers after it: x(1 + this)...
    public static let growthPerSecond = 0.05
    /// ...or this many requests/s more, whichever is more.
    public static let minimumGrowthPerSecond = 0.5
    /// Lowest pace a run of 429s can push us to (or the ceiling if that is lower).
    public static let minimumRate = 0.2
    /// Hold after a 429 that has no readable `Retry-After`.
    public static let defaultRetryAfterMs: Int64 = 1_000
    /// A `RateLimit-Reset` further away than this is not waited for (a broken header must not stall a run).
    public static let maximumResetHoldMs: Int64 = 60_000
    /// The longest window a `RateLimit-Reset` can describe (an hourly quota).
    public static let maximumWindowMs: Int64 = 3_600_000

    /// The ceiling (`--rate N`, or `autoCeiling`): never exceeded.
    public let configuredRate: Double
    /// `--rate auto`: the pace is found, `configuredRate` is no server's figure.
    public let finds: Bool
    /// The pace in force now.
    public private(set) var currentRate: Double
    /// No send before this moment (from `Retry-After` or `RateLimit-Reset`).
    public private(set) var holdUntilMs: Int64 = .min
    /// The pace the server's headers advertise (nil until an answer carries a limit).
    public private(set) var advertisedRate: Double?
    /// The pace found by probing (used while no header advertises one).
    public private(set) var probedRate: Double
    /// True until the first 429: the probed pace doubles every second.
    public private(set) var inSlowStart: Bool
    /// Discount on the advertised pace after 429s that the headers did not foresee (1 = none).
    private var headerTrust = 1.0
    /// The longest reset seen: the window the advertised limit is counted over.
    private var windowMs: Int64 = 1_000
    /// GCRA's theoretical arrival time: when the next send is due if the bucket is empty.
    private var nextDueMs: Double = -.infinity
    /// When the pace was last cut: a 429 for a request sent before that says nothing new.
    private var lastDecreaseAtMs: Int64 = .min
    /// The last time the pace (not a hold) made a send wait: the pace only grows while it is what
    /// limits the sends (not the concurrency, the server's answer time or a lack of work).
    private var lastPacedAtMs: Int64 = .min

    /// `rate` is the ceiling, in requests per second (not a positive number: 1). A fixed start: the pace
    /// starts there; headers and 429s lower it, good answers bring it back. `auto`: start at
    /// `autoStartRate` (or at `rate` if that is lower) and find the server's pace, never above `rate`.
    public init(rate: Double, auto: Bool = false) {
        let ceiling = rate.isFinite && rate > 0 ? rate : 1
        configuredRate = ceiling
        finds = auto
        probedRate = auto ? min(Self.autoStartRate, ceiling) : ceiling
        inSlowStart = auto
        currentRate = probedRate
    }

    private var intervalMs: Double { 1000 / currentRate }
    /// How far ahead of its due time a send may go (the burst, minus one), in ms.
    private var toleranceMs: Double { max(0, (currentRate / 1000).rounded(.up) - 1) * intervalMs }

    /// Called when the drain takes the limiter over from the existing-history check. While the pace is
    /// only the probe's starting guess (`--rate auto`, nothing advertised, no 429 yet), the check's
    /// answered reads do not hold the first send back: counting them as sends made every import wait
    /// 200 ms for its first POST (issue #21). A ceiling given with `--rate N`, an advertised pace, a
    /// 429's cut or hold keep their schedule.
    public mutating func startSending() {
        guard finds, advertisedRate == nil, inSlowStart, holdUntilMs == .min else { return }
        nextDueMs = -.infinity
    }

    public mutating func decide(nowMs: Int64) -> Decision {
        let now = Double(nowMs)
        let due = nextDueMs - toleranceMs
        let earliest = max(Double(holdUntilMs), due)
        if now >= earliest {
            // Callers wake at whole milliseconds, up to 1 ms after the (fractional) due time: that
            // lateness is rounding, not idle time, so the schedule stays on its grid.
            nextDueMs = max(nextDueMs, now - 1) + intervalMs
            return .send
        }
        if due > Double(holdUntilMs) { lastPacedAtMs = nowMs }
        return .wait(untilMs: Int64(earliest.rounded(.up)))
    }

    /// Reports an answer (its class) to a request sent at `sentAtMs`. `hints` are its rate-limit headers.
    public mutating func record(_ answer: HistoryAnswer, hints: RateLimitHints, sentAtMs: Int64, nowMs: Int64) {
        follow(hints, nowMs: nowMs)
        if answer == .rateLimited {
            let retryAt = hints.retryAt?.millisecondsSince1970 ?? nowMs + Self.defaultRetryAfterMs
            holdUntilMs = max(holdUntilMs, retryAt)
            // Requests already on the way when we slowed down were sent at the old pace: one cut per
            // congestion event, not one per request that was in flight.
            if sentAtMs >= lastDecreaseAtMs {
                probedRate = max(floorRate, min(probedRate, currentRate) * Self.decrease)
                if advertisedRate != nil { headerTrust = max(0.05, headerTrust * Self.decrease) }
                inSlowStart = false
                lastDecreaseAtMs = nowMs
            }
        } else if answer.isSuccess, Double(lastPacedAtMs) >= Double(nowMs) - max(1_000, 2 * intervalMs) {
            grow()
        }
        updateCurrentRate()
    }

    /// The lowest pace there is.
    private var floorRate: Double { min(Self.minimumRate, configuredRate) }

    /// One good answer's share of a second's growth: r answers a second grow the pace by the
    /// second's factor.
    private mutating func grow() {
        let rate = max(currentRate, floorRate)
        if inSlowStart {
            probedRate = min(configuredRate, probedRate * pow(Self.slowStartGrowthPerSecond, 1 / rate))
        } else {
            let factor = pow(1 + Self.growthPerSecond, 1 / rate)
            probedRate = min(configuredRate, max(probedRate * factor, probedRate + Self.minimumGrowthPerSecond / rate))
        }
        if headerTrust < 1 {
            headerTrust = min(1, headerTrust * pow(1 + Self.growthPerSecond, 1 / rate) + 0.01 / rate)
        }
    }

    /// Takes the advertised pace from an answer's headers, and holds sends on `Remaining: 0`.
    private mutating func follow(_ hints: RateLimitHints, nowMs: Int64) {
        let resetInMs = hints.resetAt.map { max(0, $0.millisecondsSince1970 - nowMs) }
        if let resetInMs {
            windowMs = max(windowMs, min(resetInMs, Self.maximumWindowMs))
        }
        if let limit = hints.limit, limit > 0 {
            var pace = Double(limit) * 1000 / Double(windowMs)
            // Reset times come in whole seconds: below 2 s, remaining / reset is mostly rounding.
            if let remaining = hints.remaining, let resetInMs, resetInMs >= 2_000 {
                pace = min(pace, Double(max(1, remaining)) * 1000 / Double(resetInMs))
            }
            advertisedRate = pace
        }
        if hints.remaining == 0, let resetInMs, resetInMs > 0 {
            holdUntilMs = max(holdUntilMs, nowMs + min(resetInMs, Self.maximumResetHoldMs))
        }
    }

    private mutating func updateCurrentRate() {
        let pace = advertisedRate.map { $0 * headerTrust } ?? probedRate
        currentRate = max(floorRate, min(configuredRate, pace))
    }
}
