import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird

/// The identity tier (`discovr-api.md`, Tokens): the refresh token's endpoints and device-code sign-in.
extension DiscovrSandbox {
    /// Documented: a refresh token lives 90 days.
    static let refreshTokenLifetimeMs: Int64 = 90 * 86_400_000

    /// Whether `token` is a refresh token this sandbox knows: the configured one or one that
    /// device-code sign-in handed out (expired or revoked ones included).
    func isKnownRefreshToken(_ token: String) -> Bool {
        token == configuration.refreshToken || store.issuedRefreshTokenExpiry(token) != nil
    }

    /// The refresh token of an identity request, or the 401 that refuses it.
    func authorizeIdentity(_ request: Request, now: Timestamp) -> Result<String, Refusal> {
        guard let token = Self.bearerToken(in: request) else {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenInvalid, "missing bearer token: send the refresh token"))
        }
        guard isKnownRefreshToken(token) else {
            if store.session(for: token) != nil || JWT.payload(of: token) != nil {
                return .failure(Refusal(.unauthorized, SandboxErrorCode.wrongTokenKind,
                                        "a session token is not accepted here: send the refresh token"))
            }
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenInvalid, "invalid refresh token"))
        }
        if store.isRevoked(refreshToken: token) || (token == configuration.refreshToken && configuration.refreshTokenRevoked) {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenInvalid, "refresh token was revoked (signed out): sign in again"))
        }
        let expired = token == configuration.refreshToken
            ? configuration.refreshTokenExpired
            : (store.issuedRefreshTokenExpiry(token) ?? 0) <= now.millisecondsSince1970
        if expired {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenExpired, "refresh token expired (they last 90 days): sign in again"))
        }
        return .success(token)
    }

    private func refuseIdentity(_ refusal: Refusal, endpoint: String, _ request: Request) -> Response {
        logger.notice("sandbox refused an identity request", metadata: [
            "endpoint": .string(endpoint), "code": .string(refusal.code), "reason": .string(refusal.message),
            "token": .string(Self.redacted(Self.bearerToken(in: request))),
        ])
        return Self.error(refusal)
    }

    /// `POST /auth/session-token`: exchanges the refresh token for a session JWT of one profile.
    func sessionToken(_ request: Request, context: SandboxRequestContext) async throws -> Response {
        let now = configuration.now()
        if case .failure(let refusal) = authorizeIdentity(request, now: now) {
            store.count { $0.tokensRefused += 1 }
            return refuseIdentity(refusal, endpoint: DiscovrEndpoints.sessionToken, request)
        }
        var request = request
        let profile: SandboxProfile
        switch await Self.readJSONObject(&request, context: context, emptyIsObject: true).flatMap(sessionProfile) {
        case .success(let value):
            profile = value
        case .failure(let refusal):
            store.count { $0.tokensRefused += 1 }
            return Self.error(refusal)
        }
        // expiresAt is whole seconds and equal to the JWT's exp; the session lives until exactly then
        // (at least tokenTTL, less than a second more).
        let ttlMs = Int64((configuration.tokenTTL * 1000).rounded())
        let expiresAtSeconds = (now.millisecondsSince1970 + ttlMs + 999) / 1000
        let sessionId = SandboxRandom.hex(32)
        let jwt = Self.makeJWT(issuedAtMs: now.millisecondsSince1970, expiresAtMs: expiresAtSeconds * 1000,
                               profileId: profile.id, sessionId: sessionId)
        store.issue(token: jwt, session: IssuedSession(expiresAtMs: expiresAtSeconds * 1000, profileId: profile.id))
        logger.debug("sandbox issued a session token", metadata: [
            "profile": .string(profile.name), "expiresAt": .stringConvertible(expiresAtSeconds),
        ])
        return Self.json(status: .ok, text: "{\"sessionToken\":" + JSONText.quote(jwt) + ",\"sessionId\":"
            + JSONText.quote(sessionId) + ",\"expiresAt\":\(expiresAtSeconds)}")
    }

    /// The profile a session request's body names (`profileId`), or the 400 that refuses it.
    private func sessionProfile(_ object: JSONObject) -> Result<SandboxProfile, Refusal> {
        switch object["profileId"] {
        case nil, .null?:
            guard !configuration.profileIdRequired, let first = store.profiles().first else {
                return .failure(.badRequest("profileId is required: pick one of GET \(DiscovrEndpoints.profiles)"))
            }
            return .success(first)
        case .string(let id)?:
            guard let found = store.profile(id: id) else {
                return .failure(Refusal(.badRequest, SandboxErrorCode.profileNotFound,
                                        "profileId \(id.prefix(60)) is not a profile of this account: "
                                            + "GET \(DiscovrEndpoints.profiles) lists them"))
            }
            return .success(found)
        default:
            return .failure(.badRequest("profileId must be a string"))
        }
    }

    /// `GET /profiles`: the account's profiles, newest first.
    func listProfiles(_ request: Request) -> Response {
        if case .failure(let refusal) = authorizeIdentity(request, now: configuration.now()) {
            return refuseIdentity(refusal, endpoint: DiscovrEndpoints.profiles, request)
        }
        let newestFirst = store.profiles().sorted { $0.createdAt > $1.createdAt }
        let items = newestFirst.map { profile in
            "{\"id\":" + JSONText.quote(profile.id) + ",\"name\":" + JSONText.quote(profile.name)
                + ",\"avatarUrl\":" + JSONText.quote(profile.avatarUrl) + ",\"createdAt\":\"" + profile.createdAt.iso8601 + "\"}"
        }
        return Self.json(status: .ok, text: "{\"profiles\":[" + items.joined(separator: ",") + "]}")
    }

    /// `DELETE /auth/session`: revokes the refresh token (sign-out). Later identity calls with it
    /// answer 401 `TOKEN_INVALID`; session JWTs issued before live out their time.
    func revokeSession(_ request: Request) -> Response {
        switch authorizeIdentity(request, now: configuration.now()) {
        case .failure(let refusal):
            return refuseIdentity(refusal, endpoint: DiscovrEndpoints.session, request)
        case .success(let token):
            store.revoke(refreshToken: token)
            logger.info("sandbox revoked a refresh token", metadata: ["token": .string(Self.redacted(token))])
            return Self.json(status: .ok, text: "{\"revoked\":true}")
        }
    }

    /// `POST /auth/device-codes[?format=json]`, no auth, `{"clientID": "..."}`.
    func startDeviceCode(_ request: Request, context: SandboxRequestContext) async throws -> Response {
        let now = configuration.now()
        var request = request
        let object: JSONObject
        switch await Self.readJSONObject(&request, context: context, emptyIsObject: true) {
        case .success(let value): object = value
        case .failure(let refusal): return Self.error(refusal)
        }
        guard let clientID = object["clientID"]?.stringValue, !clientID.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Self.error(.badRequest("clientID is required: the registered app id, a non-empty string"))
        }
        let deviceCode = "dvc_" + SandboxRandom.hex(32)
        let userCode = SandboxRandom.digits(6)
        let ttlMs = Int64((configuration.deviceCodeTTL * 1000).rounded())
        store.addDeviceCode(deviceCode, DeviceCode(userCode: userCode, expiresAtMs: now.millisecondsSince1970 + ttlMs))
        let png = PNG.qrLike(seed: userCode + deviceCode)
        logger.info("sandbox started a device-code sign-in", metadata: [
            "clientID": .string(String(clientID.prefix(60))),
        ])
        return Self.json(status: .ok, text: "{\"deviceCode\":" + JSONText.quote(deviceCode) + ",\"userCode\":"
            + JSONText.quote(userCode) + ",\"authQRCode\":\"data:image/png;base64," + Data(png).base64EncodedString()
            + "\",\"expiresIn\":\(ttlMs)}")
    }

    /// `POST /auth/device-codes/{code}/poll` (or `/token`, `SandboxConfiguration.devicePollPath`):
    /// `pending` for the first `confirmAfter` polls, then a new refresh token, once.
    func pollDeviceCode(_ code: String, path: DevicePollPath) -> Response {
        guard path == configuration.devicePollPath else {
            return Self.error(.notFound, code: SandboxErrorCode.notFound,
                              "no such endpoint: this server polls device codes at /\(configuration.devicePollPath.rawValue)")
        }
        let now = configuration.now()
        guard let state = store.poll(deviceCode: code) else {
            return Self.error(.unauthorized, code: SandboxErrorCode.tokenInvalid, "unknown device code: start the sign-in again")
        }
        if state.used {
            return Self.error(.unauthorized, code: SandboxErrorCode.tokenInvalid, "device code already used: start the sign-in again")
        }
        if now.millisecondsSince1970 >= state.expiresAtMs {
            return Self.error(.unauthorized, code: SandboxErrorCode.tokenExpired, "device code expired: start the sign-in again")
        }
        if state.polls <= configuration.confirmAfter {
            return Self.json(status: .ok, text: "{\"status\":\"pending\"}")
        }
        store.markUsed(deviceCode: code)
        let refreshToken = SandboxConfiguration.makeRefreshToken()
        let expiresAtMs = now.millisecondsSince1970 + Self.refreshTokenLifetimeMs
        store.issueRefreshToken(refreshToken, expiresAtMs: expiresAtMs)
        logger.info("sandbox confirmed a device code", metadata: ["polls": .stringConvertible(state.polls)])
        return Self.json(status: .ok, text: "{\"refreshToken\":" + JSONText.quote(refreshToken) + ",\"publicId\":"
            + JSONText.quote(store.publicId) + ",\"expiresAt\":\(expiresAtMs / 1000)}")
    }
}
