import HTTPTypes

/// The `code` of the sandbox's error bodies. The first four are documented (`discovr-api.md`, the
/// SDK's error-handling guide); the others are the sandbox's own (Discovr documents no code for them).
public enum SandboxErrorCode {
    /// Documented: malformed, missing, unknown or revoked token.
    public static let tokenInvalid = "TOKEN_INVALID"
    /// Documented: the refresh token (or the device code) expired.
    public static let tokenExpired = "TOKEN_EXPIRED"
    /// Documented: the session JWT expired (401).
    public static let sessionExpired = "SESSION_EXPIRED"
    /// Documented: a session JWT on an identity endpoint, or a refresh token on a session endpoint.
    public static let wrongTokenKind = "WRONG_TOKEN_KIND"
    /// Sandbox: the body or the query was refused (400, 413, 422).
    public static let badRequest = "BAD_REQUEST"
    /// Sandbox: the profileId is not a profile of the account.
    public static let profileNotFound = "PROFILE_NOT_FOUND"
    /// Sandbox: 429.
    public static let rateLimited = "RATE_LIMITED"
    /// Sandbox: 500 or 503 drawn by the fail-rate knob.
    public static let serverError = "SERVER_ERROR"
    /// Sandbox: a path this sandbox does not serve (the device poll path it was told not to serve).
    public static let notFound = "NOT_FOUND"
    /// Sandbox: 405, a list path `SandboxConfiguration.listPaths` takes away with `documented-405`.
    public static let methodNotAllowed = "METHOD_NOT_ALLOWED"
}

/// An error answer before it is written: status, code and message.
struct Refusal: Error, Equatable {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// 400 `BAD_REQUEST`: the body or the query was refused.
    static func badRequest(_ message: String) -> Refusal {
        Refusal(.badRequest, SandboxErrorCode.badRequest, message)
    }
}
