/// What a status from Discovr means for the importer: the one status table (`shared/spec/discovr-api.md`,
/// "Status codes"; only 2xx is documented, the rest is assumed and kept here so it can be changed in
/// one place). Every answer the importer gets is classified here: history sends and read-backs, the
/// session exchange, the rate limiter's notion of success.
public enum HistoryAnswer: Sendable, Equatable {
    /// 2xx: stored (a send), or read (a read-back).
    case delivered
    /// 409: not expected (history appends), but if it comes the item is there: delivered.
    case alreadyPresent
    /// 404: unknown media. A send fails for good; a read-back means "nothing there".
    case unknownMedia
    /// 400, 422 and other 4xx: the request itself is refused; retrying will not help.
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
    /// the server itself that it did not store the item (assumed). Also 3xx: redirects are never
    /// followed (the token would go with them), so a redirect is a failed attempt, counted and retried.
    case serverError(mayHaveStored: Bool)

    public init(status: Int) {
        switch status {
        case 200..<300: self = .delivered
        case 409: self = .alreadyPresent
        case 404: self = .unknownMedia
        case 401: self = .sessionExpired
        case 403: self = .forbidden
        case 429: self = .rateLimited
        case 502, 504: self = .serverError(mayHaveStored: true)
        case 408, 500...599, 300..<400: self = .serverError(mayHaveStored: false)
        default: self = .rejected
        }
    }

    /// The request did what it asked (2xx, or 409 for a send): the session works, and the pace is fine.
    public var isSuccess: Bool { self == .delivered || self == .alreadyPresent }

}
