/// Why an identity-tier call (`/profiles`, `/auth/session-token`, `/auth/session`) was refused, read
/// from its status and error body (`{"code", "message"}`, assumed shape; codes documented by the SDK).
/// Pure: the transport hands over the answer, this says what it means and what the user should do.
public struct IdentityRefusal: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `TOKEN_EXPIRED` (or a 401 whose message says expired): the refresh token's 90 days are over.
        case refreshTokenExpired
        /// `TOKEN_INVALID`, or a 401 without a code: malformed, unknown or revoked.
        case refreshTokenInvalid
        /// `WRONG_TOKEN_KIND`: a session token where the refresh token belongs.
        case wrongTokenKind
        /// The session exchange refused the profile (400, or 404: bad or foreign `profileId`).
        case badProfile
        /// Anything else that is not transient (403, other 4xx).
        case refused
    }

    /// The identity call that was refused.
    public enum Call: Sendable, Equatable {
        case profiles
        case sessionExchange(profileId: String?)
        case signOut
        /// `POST /auth/device-codes` (no token: a refusal is about the client id).
        case signIn
    }

    public var kind: Kind
    public var status: Int
    public var body: ErrorBody
    public var call: Call?

    public init(kind: Kind, status: Int, body: ErrorBody, call: Call? = nil) {
        self.kind = kind
        self.status = status
        self.body = body
        self.call = call
    }

    /// Sorts a non-2xx, non-transient answer (not 429, 408, 3xx or 5xx) of `call`. The error code
    /// decides when there is one; then the answer's class.
    public static func classify(_ answer: DiscovrAnswer, body: ErrorBody, call: Call) -> IdentityRefusal {
        IdentityRefusal(kind: kind(of: answer, body: body, call: call), status: answer.status, body: body, call: call)
    }

    static func kind(of answer: DiscovrAnswer, body: ErrorBody, call: Call) -> Kind {
        if call == .signIn { return .refused }
        switch body.code?.uppercased() {
        case ErrorBody.tokenExpired?, ErrorBody.sessionExpired?: return .refreshTokenExpired
        case ErrorBody.tokenInvalid?: return .refreshTokenInvalid
        case ErrorBody.wrongTokenKind?: return .wrongTokenKind
        default: break
        }
        switch answer.kind {
        case .sessionExpired:
            return (body.message?.lowercased().contains("expired") ?? false) ? .refreshTokenExpired : .refreshTokenInvalid
        case .badRequest, .unknownMedia:
            if case .sessionExchange = call { return .badProfile }
            return .refused
        default:
            return .refused
        }
    }

    /// Whether signing in again (`trakt2discovr login`) is the fix.
    public var needsNewSignIn: Bool {
        switch kind {
        case .refreshTokenExpired, .refreshTokenInvalid, .wrongTokenKind: return true
        case .badProfile, .refused: return false
        }
    }

    /// What the server said, for the message: `status 401, TOKEN_EXPIRED: refresh token expired`.
    public var serverSaid: String {
        var text = "status \(status)"
        if let code = body.code { text += ", " + code }
        if let message = body.message { text += ": " + message }
        return text
    }

    /// The whole message for a person: what happened, and what to do. Never contains a token (the
    /// caller redacts the server's message before it is kept in `body`).
    public var description: String {
        let signIn = "run `trakt2discovr login` to sign in again (or pass a new token with --token-file or DISCOVR_REFRESH_TOKEN)"
        switch kind {
        case .refreshTokenExpired:
            return "the Discovr refresh token has expired (they last \(DiscovrEndpoints.refreshTokenLifetimeDays) days; \(serverSaid)): " + signIn
        case .refreshTokenInvalid:
            return "the Discovr refresh token is not valid: malformed, unknown or revoked (\(serverSaid)): " + signIn
        case .wrongTokenKind:
            return "the token given is not a refresh token (a session token?) (\(serverSaid)): " + signIn
        case .badProfile:
            return "Discovr refused the profile (\(serverSaid)); the token is fine: see the account's profiles with "
                + "`trakt2discovr profiles` and pass one with --profile <name or id>"
        case .refused where call == .signIn:
            return "Discovr refused to start a sign-in (\(serverSaid)); check --client-id (or DISCOVR_CLIENT_ID) and --api-url"
        case .refused:
            return "Discovr refused the request (\(serverSaid)); check --api-url and the account"
        }
    }
}
