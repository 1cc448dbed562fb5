import DiscovrAPI
import Foundation

/// How a 429 answer says when to come back.
public enum RetryAfterForm: String, Sendable, CaseIterable, Codable {
    /// `Retry-After: 2` (whole seconds, rounded up, at least 1).
    case seconds
    /// `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, rounded up to the next whole second).
    case httpDate
}

/// Which media id forms the sandbox takes (`--media-id-form`).
public enum AcceptedMediaIDForms: String, Sendable, CaseIterable, Codable {
    /// Only `MV_TMDBID550` (the seed page's form).
    case tmdbid
    /// Only `MV_550` (the newer pages' form).
    case short
    /// Either.
    case both

    public func accepts(_ form: MediaIDForm) -> Bool {
        switch self {
        case .both: return true
        case .tmdbid: return form == .tmdbid
        case .short: return form == .short
        }
    }
}

/// Where a device code is polled (`discovr-api.md`: `/poll` documented, `/token` on one page).
public enum DevicePollPath: String, Sendable, CaseIterable, Codable {
    /// `POST /auth/device-codes/{code}/poll`; `/token` answers 404.
    case poll
    /// `POST /auth/device-codes/{code}/token`; `/poll` answers 404 (to test a client's fallback).
    case token
}

/// Which of the four list paths (`POST /profile/{liked,disliked,super_liked,watchlist}`) are served
/// (`--lists`). Only `/profile/disliked` is documented (`add-disliked-item`); the other three follow its
/// pattern, and a real server may not take them: `importer.md` section 7 stops a path that answers 405,
/// or 404 to its first three titles.
public enum ListPaths: String, Sendable, CaseIterable, Codable {
    /// All four (the default).
    case all
    /// Only the documented `/profile/disliked`; the other three answer 404 exactly as an unknown route does.
    case documented
    /// Only `/profile/disliked`; the other three answer 405 (the path is there, the POST is refused).
    case documentedWith405 = "documented-405"

    public func serves(_ list: DiscovrList) -> Bool {
        self == .all || list.isDocumented
    }
}

/// The knobs of one sandbox server. Every field has a default; tests set only what they exercise.
public struct SandboxConfiguration: Sendable {
    /// Address to listen on. `0.0.0.0` and `::` are reported as loopback in `RunningSandbox.url`.
    public var host: String
    /// 0 picks a free port; the real one is in `RunningSandbox.port`.
    public var port: Int
    /// The account's refresh token (identity endpoints accept it, and the ones device-code sign-in
    /// hands out).
    public var refreshToken: String
    /// The refresh token has expired (its 90 days are over): identity endpoints answer 401
    /// `TOKEN_EXPIRED`. Tokens from device-code sign-in are fresh all the same.
    public var refreshTokenExpired: Bool
    /// The refresh token was revoked (signed out elsewhere): identity endpoints answer 401
    /// `TOKEN_INVALID`, as after `DELETE /auth/session`.
    public var refreshTokenRevoked: Bool
    /// Seconds a session JWT lives (documented: 30 minutes).
    public var tokenTTL: Double
    /// How many profiles the account has (named `SandboxProfile.names`, in that order).
    public var profiles: Int
    /// Whether `POST /auth/session-token` without `profileId` is refused with 400, as documented (the
    /// default). False: it is served with the first profile (a lenient server, for old clients).
    public var profileIdRequired: Bool
    /// Not Discovr's behaviour (history appends): a repeat is answered 409 "already in history" and not
    /// stored, as this sandbox did before the API pages were known; kept to test a client's 409 handling.
    public var conflictOnRepeat: Bool
    /// Which media id forms history and list requests may use; the other answers 400.
    public var mediaIDForms: AcceptedMediaIDForms
    /// Which list paths are served; the others answer 404 or 405 (`ListPaths`).
    public var listPaths: ListPaths
    /// Device-code sign-in: polls answered `pending` before the code counts as confirmed (0: the
    /// first poll confirms).
    public var confirmAfter: Int
    /// Seconds a device code lives (`expiresIn` answers it in milliseconds).
    public var deviceCodeTTL: Double
    /// The path a device code is polled on; the other answers 404.
    public var devicePollPath: DevicePollPath
    /// Requests per second allowed on `/profile/history` and the list POSTs (one token bucket); nil = unlimited.
    public var rateLimit: Double?
    /// Form of `Retry-After` on 429 answers.
    public var retryAfterForm: RetryAfterForm
    /// Whether history and list answers carry `RateLimit-Limit/Remaining/Reset`. False: a 429 says only
    /// `Retry-After`, and nothing warns a client before it is refused (so a test sees real 429s).
    public var rateLimitHeaders: Bool
    /// Share of accepted writes answered 500 or 503 (not stored). "Writes", here and below, are the
    /// history POSTs and, drawn from a generator of their own (seeded from `seed`), the list POSTs:
    /// every fault knob applies to both, and the history draws of a run do not depend on its list writes.
    public var failRate: Double
    /// Length of a run of failures: when the fail draw hits, that request and the next
    /// `failBurst - 1` accepted writes of the same kind fail too (1: each failure stands alone).
    public var failBurst: Int
    /// Share of accepted writes whose answer is lost: the play (or the list change) is stored, then the
    /// connection is closed without an answer.
    public var dropRate: Double
    /// Share of accepted writes whose connection is closed before anything is stored (a proxy gave up):
    /// the same lost connection as `dropRate`, nothing stored. Drawn only when above 0 (runs keep their draws).
    public var dropBeforeStoreRate: Double = 0
    /// Share of accepted writes answered only after `slowDelay` seconds (stored first).
    public var slowRate: Double
    /// Seconds a slow answer is held back (real time, not the injected clock: it is network behaviour).
    public var slowDelay: Double
    /// Share of history reads (`GET /profile/history`, `GET /profile/history/{mediaId}`) answered 500 or
    /// 503 after authentication. Drawn from a generator of its own (seeded from `seed`), so the POST
    /// faults of a run stay the same whatever the reads draw.
    public var readFailRate: Double
    /// Seed of the generator the fault knobs draw from, so that a run is reproducible.
    public var seed: UInt64
    /// An outage, once, at the `outageAfter`-th write of this instance: `serve` stops listening for
    /// `outageFor` seconds, then listens again with the same store (docs/sandbox.md). `run` ignores it.
    public var outageAfter: Int?
    /// Seconds the server stays away during the outage (real time, like `slowDelay`).
    public var outageFor: Double
    /// The sandbox's idea of "now": session expiry, the rate limiter and `expiresAt` use it.
    /// Tests inject a manual clock instead of sleeping.
    public var now: @Sendable () -> Timestamp
    /// Behaviour no sane server has (huge Retry-After, trickling bodies...): see `HostileKnobs`.
    public var hostile = HostileKnobs()

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        refreshToken: String = SandboxConfiguration.makeRefreshToken(),
        refreshTokenExpired: Bool = false,
        refreshTokenRevoked: Bool = false,
        tokenTTL: Double = 1800,
        profiles: Int = 1,
        profileIdRequired: Bool = true,
        mediaIDForms: AcceptedMediaIDForms = .both,
        listPaths: ListPaths = .all,
        conflictOnRepeat: Bool = false,
        confirmAfter: Int = 1,
        deviceCodeTTL: Double = 600,
        devicePollPath: DevicePollPath = .poll,
        rateLimit: Double? = nil,
        retryAfterForm: RetryAfterForm = .seconds,
        rateLimitHeaders: Bool = true,
        failRate: Double = 0,
        readFailRate: Double = 0,
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
        self.refreshTokenExpired = refreshTokenExpired
        self.refreshTokenRevoked = refreshTokenRevoked
        self.tokenTTL = tokenTTL
        self.profiles = profiles
        self.profileIdRequired = profileIdRequired
        self.mediaIDForms = mediaIDForms
        self.listPaths = listPaths
        self.conflictOnRepeat = conflictOnRepeat
        self.confirmAfter = confirmAfter
        self.deviceCodeTTL = deviceCodeTTL
        self.devicePollPath = devicePollPath
        self.rateLimit = rateLimit
        self.retryAfterForm = retryAfterForm
        self.rateLimitHeaders = rateLimitHeaders
        self.failRate = failRate
        self.readFailRate = readFailRate
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
        "rt_" + SandboxRandom.hex(32)
    }

    /// The system time, in milliseconds.
    @Sendable public static func systemNow() -> Timestamp {
        Timestamp(millisecondsSince1970: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Nil when usable, else what is wrong (checked by `DiscovrSandbox.run` before it binds).
    func problem() -> String? {
        if let problem = hostile.problem() { return problem }
        if host.isEmpty { return "host is empty" }
        if !(0...65_535).contains(port) { return "port \(port) is not in 0...65535" }
        if refreshToken.isEmpty { return "refresh token is empty" }
        if !(tokenTTL.isFinite && tokenTTL > 0) { return "token ttl must be a positive number of seconds" }
        if !(1...1000).contains(profiles) { return "profiles must be 1...1000" }
        if confirmAfter < 0 { return "confirm-after must be zero or more polls" }
        if !(deviceCodeTTL.isFinite && deviceCodeTTL > 0) { return "device code ttl must be a positive number of seconds" }
        if let rateLimit, !(rateLimit.isFinite && rateLimit > 0) { return "rate limit must be a positive number of requests per second" }
        for (name, value) in [("fail rate", failRate), ("drop rate", dropRate), ("drop before store rate", dropBeforeStoreRate),
                              ("slow rate", slowRate),
                              ("read fail rate", readFailRate)]
        where !(value.isFinite && (0...1).contains(value)) {
            return "\(name) must be between 0 and 1"
        }
        if !(slowDelay.isFinite && slowDelay >= 0) { return "slow delay must be zero or more seconds" }
        if failBurst < 1 { return "fail burst must be at least 1 request" }
        if let outageAfter, outageAfter < 1 { return "outage-after must be at least 1 write request" }
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
