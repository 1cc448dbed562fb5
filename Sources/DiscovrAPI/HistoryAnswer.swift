/// What a status from Discovr means for the importer: the one status table (`shared/spec/discovr-api.md`,
/// "Status codes"; only 2xx is documented, the rest is assumed and kept here so it can be changed in
/// one place). `init(status:)` is the only place a status number is read: every answer is classified
/// once where it arrives (as a `DiscovrAnswer`), and every decision reads the class.
public enum HistoryAnswer: Sendable, Equatable {
    /// 2xx: stored (a send), or read (a read-back).
    case delivered
    /// 409: not expected (history appends), but if it comes the item is there: delivered.
    case alreadyPresent
    /// 404: unknown media. A send fails for good; a read-back means "nothing there"; the form probe
    /// takes it as the id understood.
    case unknownMedia
    /// 400 and 422: the request's body (its media id, so perhaps its form) is refused; retrying will not help.
    case badRequest
    /// 405: the path does not take the method (a list path this server does not have).
    case notAllowed
    /// 410: gone (a sign-in code expired or refused).
    case gone
    /// Any other 4xx: the request itself is refused; retrying will not help.
    case rejected
    /// 401: the session expired; refresh the JWT and send again (not counted as an attempt).
    case sessionExpired
    /// 403: the token may not write this profile; stop the run.
    case forbidden
    /// 429: slow down, wait `Retry-After`, send again.
    case rateLimited
    /// 5xx and 408: the server had a problem; retry with backoff. `mayHaveStored` for the gateway
    /// answers 502 and 504: a proxy lost track of a request that may have reached Discovr, so the
    /// send's outcome is unknown (read back before sending again). 500, 503 and 408 are answers from
    /// the server itself that it did not store the item (assumed).
    case serverError(mayHaveStored: Bool)
    /// 3xx: redirects are never followed (the token would go with them), so a redirect is a failed
    /// attempt, counted and retried like a 5xx.
    case redirected

    public init(status: Int) {
        switch status {
        case 200..<300: self = .delivered
        case 409: self = .alreadyPresent
        case 404: self = .unknownMedia
        case 400, 422: self = .badRequest
        case 405: self = .notAllowed
        case 410: self = .gone
        case 401: self = .sessionExpired
        case 403: self = .forbidden
        case 429: self = .rateLimited
        case 502, 504: self = .serverError(mayHaveStored: true)
        case 408, 500...599: self = .serverError(mayHaveStored: false)
        case 300..<400: self = .redirected
        default: self = .rejected
        }
    }

    /// The request did what it asked (2xx, or 409 for a send): the session works, and the pace is fine.
    public var isSuccess: Bool { self == .delivered || self == .alreadyPresent }
}

/// One answer from Discovr, classified once where it arrives (`HTTPAnswer.classified` in Delivery):
/// what it means, its rate-limit hints, and what its body says. Every consumer (the retry policy, the
/// rate limiter, the media id form switch, the session, the delivery machine) reads `kind`; `status`
/// is kept only to be shown to a person and stored as the item's `last_status`.
public struct DiscovrAnswer: Sendable, Equatable {
    public var kind: HistoryAnswer
    public var status: Int
    public var hints: RateLimitHints
    /// The body's `message` (redacted; for a redirect, where it pointed), `added` and `removed`.
    public var response: HistoryResponse

    public init(status: Int, hints: RateLimitHints = RateLimitHints(), response: HistoryResponse = HistoryResponse()) {
        kind = HistoryAnswer(status: status)
        self.status = status
        self.hints = hints
        self.response = response
    }

    public var message: String? { response.message }

    /// For a person: `status 503: try later`, or `status 503`.
    public var said: String { "status \(status)" + (message.map { ": " + $0 } ?? "") }

    /// How long from `nowMs` its `Retry-After` asks to wait (nil when it has none).
    public func retryAfterMs(nowMs: Int64) -> Int64? {
        hints.retryAt.map { max(0, $0.millisecondsSince1970 - nowMs) }
    }
}
