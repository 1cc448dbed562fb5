import Foundation

/// Everything the importer assumes about Discovr beyond the one documented endpoint lives here,
/// so that it can be changed in one place when the real answer is known (see docs/delivery.md).
public enum DiscovrEndpoints {
    /// Documented.
    public static let defaultBaseURL = "https://api.discovr.media"
    /// Documented: session tier. `POST` adds a play (appends); `GET` lists them, newest created first.
    public static let history = "/profile/history"
    /// Documented: session tier. `GET` the entries of one media id (`?season=&episode=`), newest `updatedAt` first.
    public static func history(of mediaId: String) -> String { history + "/" + mediaId }
    /// Documented: identity tier, exchanges the refresh token for a session JWT (`{"profileId"}` required).
    public static let sessionToken = "/auth/session-token"
    /// Documented: identity tier, lists the account's profiles (newest first).
    public static let profiles = "/profiles"
    /// Documented: identity tier, `DELETE` revokes the refresh token (sign-out).
    public static let session = "/auth/session"
    /// Documented: no auth, starts a device-code sign-in (`{"clientID"}`).
    public static let deviceCodes = "/auth/device-codes"
    /// Documented: polled every 5 s until the code is confirmed.
    public static func devicePoll(_ deviceCode: String) -> String { deviceCodes + "/" + deviceCode + "/poll" }
    /// Assumed fallback: one page names the poll path `/token`; used when `/poll` answers 404.
    public static func deviceToken(_ deviceCode: String) -> String { deviceCodes + "/" + deviceCode + "/token" }
    /// Documented: the poll interval of device-code sign-in, in ms.
    public static let devicePollInterval: Int64 = 5_000
    /// Documented: `GET /profile/history` pages hold 1 to 50 entries.
    public static let historyPageLimit = 50
    /// Refresh the session this long before it expires.
    public static let refreshAhead: Int64 = 60_000
    /// Lifetime assumed when neither `expiresAt` nor the JWT's `exp` says.
    public static let assumedSessionLifetime: Int64 = 600_000
    /// Accepted names of the token field in the session-token response.
    public static let tokenFields = ["token", "sessionToken", "accessToken", "jwt"]
}

/// The body of `POST /auth/session-token` (assumed).
public struct SessionTokenRequest: Sendable, Equatable {
    public var profileId: String?
    public init(profileId: String? = nil) { self.profileId = profileId }

    public var jsonBody: String {
        guard let profileId else { return "{}" }
        return "{\"profileId\":" + JSONText.quote(profileId) + "}"
    }
}

/// A session JWT and when it stops being valid.
public struct SessionToken: Sendable, Equatable {
    public var token: String
    public var expiresAt: Timestamp

    public init(token: String, expiresAt: Timestamp) {
        self.token = token
        self.expiresAt = expiresAt
    }

    /// Whether the token should be refreshed at `now` (ahead of expiry by `DiscovrEndpoints.refreshAhead`).
    public func needsRefresh(at now: Timestamp) -> Bool {
        now.millisecondsSince1970 >= expiresAt.millisecondsSince1970 - DiscovrEndpoints.refreshAhead
    }

    /// Longest session token accepted (it goes in a header of every request).
    public static let maximumTokenLength = 16_384

    /// Reads the response of `POST /auth/session-token` with the strict `JSONParser`: the token under
    /// any of `DiscovrEndpoints.tokenFields`, the expiry from `expiresAt` (unix seconds, as documented,
    /// or an ISO 8601 date-time), else from the JWT's `exp` claim, else `now` plus the assumed
    /// lifetime. The expiry is clamped to at most `ServerNumbers.maximumSessionLifetimeMs` after `now`
    /// (an `exp` of `1e300` is a broken claim, not a session for ever). Nil when no token is found.
    public static func parse(responseBody: [UInt8], now: Timestamp) -> SessionToken? {
        guard let object = (try? JSONParser.parse(responseBody))?.objectValue else { return nil }
        var token: String?
        for field in DiscovrEndpoints.tokenFields {
            if let value = object[field]?.stringValue, !value.isEmpty, value.utf8.count <= maximumTokenLength {
                token = value
                break
            }
        }
        guard let token else { return nil }
        let latest = ServerNumbers.adding(ServerNumbers.maximumSessionLifetimeMs, to: now)
        let stated: Timestamp?
        switch object["expiresAt"] {
        case .string(let text)?: stated = Timestamp(iso8601: text)
        case let value?: stated = value.doubleValue.flatMap(ServerNumbers.instant(unixSeconds:))
        case nil: stated = nil
        }
        if let expiry = stated ?? JWT.expiry(of: token) {
            return SessionToken(token: token, expiresAt: min(expiry, latest))
        }
        return SessionToken(token: token, expiresAt: ServerNumbers.adding(DiscovrEndpoints.assumedSessionLifetime, to: now))
    }
}

/// Reading the standard claims of a JWT without verifying it (the server verifies).
public enum JWT {
    /// The `exp` claim (unix seconds) of a compact JWT, if it has a numeric one; clamped to the years
    /// 1970...9999 (`exp: 1e300` reads as the year 9999, never a trap).
    public static func expiry(of token: String) -> Timestamp? {
        guard let exp = payload(of: token)?["exp"]?.doubleValue else { return nil }
        return ServerNumbers.instant(unixSeconds: exp)
    }

    /// The payload of a compact JWT (three base64url parts, at most `SessionToken.maximumTokenLength`
    /// long) as a JSON object read by the strict `JSONParser`; nil for anything else.
    public static func payload(of token: String) -> JSONObject? {
        guard token.utf8.count <= SessionToken.maximumTokenLength else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = base64URLDecode(String(parts[1])) else { return nil }
        return (try? JSONParser.parse([UInt8](data)))?.objectValue
    }

    public static func base64URLDecode(_ s: String) -> Data? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b)
    }

    public static func base64URLEncode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
