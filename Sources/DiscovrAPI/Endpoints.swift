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
    /// Documented: a session lives 30 minutes. Assumed when neither `expiresAt` nor the JWT's `exp` says.
    public static let assumedSessionLifetime: Int64 = 1_800_000
    /// Accepted names of the token field in the session-token response: the documented `sessionToken`
    /// first, then the names older pages and the early sandbox used.
    public static let tokenFields = ["sessionToken", "token", "accessToken", "jwt"]
    /// Documented: a refresh token lives 90 days (said in messages about an expired one).
    public static let refreshTokenLifetimeDays = 90
    /// Assumed: an `expiresAt` number at or past this is milliseconds, not the documented seconds
    /// (10^11 s is the year 5138; 10^11 ms is 1973).
    public static let millisecondExpiryThreshold: Double = 100_000_000_000
}

/// The body of `POST /auth/session-token`: `{"profileId": "..."}`, documented as required.
public struct SessionTokenRequest: Sendable, Equatable {
    public var profileId: String
    public init(profileId: String) { self.profileId = profileId }

    public var jsonBody: String { "{\"profileId\":" + JSONText.quote(profileId) + "}" }
}

/// A session JWT, scoped to one profile, and when it stops being valid.
public struct SessionToken: Sendable, Equatable {
    public var token: String
    public var expiresAt: Timestamp
    /// The documented `sessionId` (kept for logs; not a secret on its own), when the server sent one.
    public var sessionId: String?

    public init(token: String, expiresAt: Timestamp, sessionId: String? = nil) {
        self.token = token
        self.expiresAt = expiresAt
        self.sessionId = sessionId
    }

    /// Whether the token should be refreshed at `now` (ahead of expiry by `DiscovrEndpoints.refreshAhead`).
    public func needsRefresh(at now: Timestamp) -> Bool {
        now.millisecondsSince1970 >= expiresAt.millisecondsSince1970 - DiscovrEndpoints.refreshAhead
    }

    /// Longest session token accepted (it goes in a header of every request).
    public static let maximumTokenLength = 16_384

    /// Reads the answer of `POST /auth/session-token` with the strict `JSONParser`: documented
    /// `{"sessionToken", "sessionId", "expiresAt": <unix seconds>}`; also the older field names
    /// (`DiscovrEndpoints.tokenFields`) and an ISO 8601 `expiresAt`. The expiry comes from `expiresAt`,
    /// else the JWT's `exp`, else `now` plus the documented 30 minutes, and is clamped to at most
    /// `ServerNumbers.maximumSessionLifetimeMs` after `now` (an `exp` of `1e300` is a broken claim, not
    /// a session for ever). Nil when the body holds no token.
    public static func parse(responseBody: [UInt8], now: Timestamp) -> SessionToken? {
        guard let object = (try? JSONParser.parse(responseBody))?.objectValue else { return nil }
        guard let token = DiscovrEndpoints.tokenFields.lazy.compactMap({ object[$0]?.stringValue })
            .first(where: { !$0.isEmpty && $0.utf8.count <= maximumTokenLength }) else { return nil }
        let latest = ServerNumbers.adding(ServerNumbers.maximumSessionLifetimeMs, to: now)
        let expiresAt = (object["expiresAt"].flatMap(expiry(of:)) ?? JWT.expiry(of: token)).map { min($0, latest) }
            ?? ServerNumbers.adding(DiscovrEndpoints.assumedSessionLifetime, to: now)
        return SessionToken(token: token, expiresAt: expiresAt, sessionId: object.text("sessionId", limit: 200))
    }

    /// An `expiresAt` value: unix seconds (documented; a fraction is allowed), milliseconds when it is
    /// that large (`DiscovrEndpoints.millisecondExpiryThreshold`), a number in a string, or an ISO 8601
    /// string. Nil for anything else and for a number not above 0 (then the JWT's `exp` or the
    /// documented lifetime is used instead). Clamped to the years 1970...9999 by `ServerNumbers`.
    public static func expiry(of value: JSONValue) -> Timestamp? {
        if let text = value.stringValue {
            if let ts = Timestamp(iso8601: text) { return ts }
            guard let number = ServerNumbers.headerNumber(text) else { return nil }
            return expiry(seconds: number)
        }
        return value.doubleValue.flatMap(expiry(seconds:))
    }

    static func expiry(seconds number: Double) -> Timestamp? {
        guard number.isFinite, number > 0 else { return nil }
        let seconds = number >= DiscovrEndpoints.millisecondExpiryThreshold ? number / 1000 : number
        return ServerNumbers.instant(unixSeconds: seconds)
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
