import DiscovrAPI

/// The sandbox's rate limit on `/profile/history`: a token bucket over the injected clock.
///
/// The bucket holds at most `capacity = max(1, rate)` tokens and starts full. It refills continuously at
/// `rate` tokens per second (computed from the milliseconds elapsed since the previous request, so no
/// rounding to whole seconds or windows). A request takes one token; with less than one token it is
/// refused and told to come back when one token will be there. A client that sends at exactly `rate`
/// requests per second therefore never sees a 429, and one that bursts gets `capacity` requests through.
struct SandboxRateLimiter: Sendable {
    enum Decision: Sendable, Equatable {
        /// Let the request through. `remaining` whole tokens are left; the bucket is full again in
        /// `resetSeconds` (rounded up).
        case allowed(remaining: Int, resetSeconds: Int)
        /// Refuse it; one token is there again in `retryAfterMs`.
        case limited(retryAfterMs: Int64, resetSeconds: Int)
    }

    let rate: Double
    let capacity: Double
    private(set) var tokens: Double
    private var lastMs: Int64?

    /// Floating-point slack, so that exactly-on-time requests are not refused by a rounding error.
    private static let epsilon = 1e-9

    init(rate: Double) {
        self.rate = rate
        self.capacity = max(1, rate)
        self.tokens = capacity
    }

    /// `RateLimit-Limit`: the burst the bucket allows.
    var limit: Int { Int(capacity.rounded(.down)) }

    mutating func admit(nowMs: Int64) -> Decision {
        refill(nowMs: nowMs)
        if tokens >= 1 - Self.epsilon {
            tokens = max(0, tokens - 1)
            return .allowed(remaining: Int((tokens + Self.epsilon).rounded(.down)), resetSeconds: resetSeconds())
        }
        let waitMs = Int64(((1 - tokens) / rate * 1000).rounded(.up))
        return .limited(retryAfterMs: max(1, waitMs), resetSeconds: resetSeconds())
    }

    private mutating func refill(nowMs: Int64) {
        guard let last = lastMs else {
            lastMs = nowMs
            return
        }
        // A clock that steps back refills nothing rather than draining the bucket.
        let elapsed = max(0, nowMs - last)
        tokens = min(capacity, tokens + Double(elapsed) * rate / 1000)
        lastMs = max(last, nowMs)
    }

    private func resetSeconds() -> Int {
        let missing = capacity - tokens
        guard missing > Self.epsilon else { return 0 }
        return Int((missing / rate).rounded(.up))
    }
}

/// The faults drawn for one accepted write.
struct FaultDraw: Sendable, Equatable {
    /// 500 or 503 when the request fails (nothing is stored).
    var failStatus: Int?
    var drop = false
    var slow = false
    /// Close the connection before storing anything.
    var dropBeforeStore = false
}

/// The fault knobs' seeded draws, one per accepted write, with failure bursts.
struct FaultSource: Sendable {
    /// Where the rates and `failBurst` come from.
    let configuration: SandboxConfiguration
    private var generator: SplitMix64
    /// The reads' own draws, so that the POST faults of a run do not depend on how many reads came.
    private var readGenerator: SplitMix64
    /// Requests still to fail in the burst under way.
    private var burstLeft = 0

    init(_ configuration: SandboxConfiguration, seed: UInt64) {
        self.configuration = configuration
        generator = SplitMix64(seed: seed)
        readGenerator = SplitMix64(seed: seed ^ 0x5EAD_FA11_5EAD_FA11)
    }

    /// The status a history read fails with (500 or 503), nil when it is answered. Two numbers a read.
    mutating func nextReadFailure() -> Int? {
        let fail = readGenerator.unit(), kind = readGenerator.unit()
        return fail < configuration.readFailRate ? (kind < 0.5 ? 500 : 503) : nil
    }

    /// Always takes four numbers from the generator (inside a burst too), and a fifth when
    /// `dropBeforeStoreRate` is above 0, so that the n-th request of a run gets the same numbers
    /// whatever the knobs of the earlier ones decided (and runs without that knob keep their draws).
    mutating func next() -> FaultDraw {
        let fail = generator.unit(), kind = generator.unit(), drop = generator.unit(), slow = generator.unit()
        let dropBefore = configuration.dropBeforeStoreRate > 0 ? generator.unit() : 1
        let status = kind < 0.5 ? 500 : 503
        if burstLeft > 0 {
            burstLeft -= 1
            return FaultDraw(failStatus: status)
        }
        if fail < configuration.failRate {
            burstLeft = max(1, configuration.failBurst) - 1
            return FaultDraw(failStatus: status)
        }
        if dropBefore < configuration.dropBeforeStoreRate {
            return FaultDraw(dropBeforeStore: true)
        }
        let dropped = drop < configuration.dropRate
        return FaultDraw(drop: dropped, slow: !dropped && slow < configuration.slowRate)
    }
}
