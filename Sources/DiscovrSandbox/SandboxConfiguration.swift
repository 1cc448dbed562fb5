import DiscovrAPI
import Foundation

/// How a 429 answer says when to come back.
public enum RetryAfterForm: String, Sendable, CaseIterable, Codable {
    /// `Retry-After: 2` (whole seconds, rounded up, at least 1).
    case seconds
    /// `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, rounded up to the next whole second).
    case httpDate
}

/// The knobs of one sandbox server. Every field has a default; tests set only what they exercise.
public struct SandboxConfiguration: Sendable {
    /// Address to listen on. `0.0.0.0` and `::` are reported as loopback in `RunningSandbox.url`.
    public var host: String
    /// 0 picks a free port; the real one is in `RunningSandbox.port`.
    public var port: Int
    /// The only refresh token `POST /auth/session-token` accepts.
    public var refreshToken: String
    /// Seconds a session JWT lives.
    public var tokenTTL: Double
    /// Requests per second allowed on `/profile/history` (token bucket); nil = unlimited.
    public var rateLimit: Double?
    /// Form of `Retry-After` on 429 answers.
    public var retryAfterForm: RetryAfterForm
    /// Whether history answers carry `RateLimit-Limit/Remaining/Reset`. False: a 429 says only
    /// `Retry-After`, and nothing warns a client before it is refused (so a test sees real 429s).
    public var rateLimitHeaders: Bool
    /// Share of accepted history requests answered 500 or 503 (not stored).
    public var failRate: Double
    /// Length of a run of failures: when the fail draw hits, that request and the next
    /// `failBurst - 1` accepted history requests fail too (1: each failure stands alone).
    public var failBurst: Int
    /// Share of accepted history requests whose answer is lost: the play is stored (or found to be a
    /// duplicate), then the connection is closed without an answer.
    public var dropRate: Double
    /// Share of accepted history requests answered only after `slowDelay` seconds (the play is stored first).
    public var slowRate: Double
    /// Seconds a slow answer is held back (real time, not the injected clock: it is network behaviour).
    public var slowDelay: Double
    /// Seed of the generator the fault knobs draw from, so that a run is reproducible.
    public var seed: UInt64
    /// An outage, once: when the `outageAfter`-th history request arrives (counted by this
    /// `DiscovrSandbox` instance), `serve` stops the server (the listener closes, connections are
    /// refused), waits `outageFor` seconds and listens again on the same port with the same store.
    /// Nil: no outage. Only `serve` acts on it; `run` serves one server and ignores it.
    public var outageAfter: Int?
    /// Seconds the server stays away during the outage (real time, like `slowDelay`).
    public var outageFor: Double
    /// The sandbox's idea of "now": session expiry, the rate limiter and `expiresAt` use it.
    /// Tests inject a manual clock instead of sleeping.
    public var now: @Sendable () -> Timestamp

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        refreshToken: String = SandboxConfiguration.makeRefreshToken(),
        tokenTTL: Double = 600,
        rateLimit: Double? = nil,
        retryAfterForm: RetryAfterForm = .seconds,
        rateLimitHeaders: Bool = true,
        failRate: Double = 0,
        failBurst: Int = 1,
        dropRate: Double = 0,
        slowRate: Double = 0,
        slowDelay: Double = 0,
        seed: UInt64 = 1,
        outageAfter: Int? = nil,
        outageFor: Double = 0,
        now: @escaping @Sendable () -> Timestamp = SandboxConfiguration.systemNow
    ) {
        self.host = host
        self.port = port
        self.refreshToken = refreshToken
        self.tokenTTL = tokenTTL
        self.rateLimit = rateLimit
        self.retryAfterForm = retryAfterForm
        self.rateLimitHeaders = rateLimitHeaders
        self.failRate = failRate
        self.failBurst = failBurst
        self.dropRate = dropRate
        self.slowRate = slowRate
        self.slowDelay = slowDelay
        self.seed = seed
        self.outageAfter = outageAfter
        self.outageFor = outageFor
        self.now = now
    }

    /// `rt_` followed by 32 random lower-case hex digits, the shape of a Discovr refresh token.
    public static func makeRefreshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var out = "rt_"
        for _ in 0..<32 {
            out += String(Int.random(in: 0..<16, using: &generator), radix: 16)
        }
        return out
    }

    /// The system time, in milliseconds.
    @Sendable public static func systemNow() -> Timestamp {
        Timestamp(millisecondsSince1970: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Nil when usable, else what is wrong (checked by `DiscovrSandbox.run` before it binds).
    func problem() -> String? {
        if host.isEmpty { return "host is empty" }
        if !(0...65_535).contains(port) { return "port \(port) is not in 0...65535" }
        if refreshToken.isEmpty { return "refresh token is empty" }
        if !(tokenTTL.isFinite && tokenTTL > 0) { return "token ttl must be a positive number of seconds" }
        if let rateLimit, !(rateLimit.isFinite && rateLimit > 0) { return "rate limit must be a positive number of requests per second" }
        for (name, value) in [("fail rate", failRate), ("drop rate", dropRate), ("slow rate", slowRate)]
        where !(value.isFinite && (0...1).contains(value)) {
            return "\(name) must be between 0 and 1"
        }
        if !(slowDelay.isFinite && slowDelay >= 0) { return "slow delay must be zero or more seconds" }
        if failBurst < 1 { return "fail burst must be at least 1 request" }
        if let outageAfter, outageAfter < 1 { return "outage-after must be at least 1 history request" }
        if !(outageFor.isFinite && outageFor >= 0) { return "outage duration must be zero or more seconds" }
        return nil
    }
}

/// Why the sandbox could not run.
public enum SandboxError: Error, CustomStringConvertible, Equatable {
    /// A knob has a value the sandbox cannot use.
    case invalidConfiguration(String)
    /// The server could not listen on host:port (port in use, address not available...).
    case cannotStart(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problem):
            return "sandbox configuration: \(problem); fix the option and start again"
        case .cannotStart(let host, let port, let reason):
            return "sandbox could not listen on \(host):\(port) (\(reason)); pick another port or use 0 for a free one"
        }
    }
}
