import DiscovrAPI
import NIOHTTP1

/// Why an identity-tier request (profiles, session exchange, sign-in, sign-out) did not give what
/// was asked. Messages never contain a token.
public enum IdentityError: Error, Equatable, CustomStringConvertible {
    /// The server refused: the refresh token (expired, invalid) or the profile. Not transient.
    case refused(IdentityRefusal)
    /// 5xx, 429 or 408: try again later.
    case unavailable(String)
    /// A 2xx whose body is not what the docs show.
    case unreadable(String)
    /// No answer.
    case transport(TransportFailure)

    public var description: String {
        switch self {
        case .refused(let refusal): return refusal.description
        case .unavailable(let why): return "Discovr could not answer (\(why)); try again later"
        case .unreadable(let why): return "Discovr's answer could not be read (\(why)); check --api-url"
        case .transport(let failure): return "no answer from Discovr (\(failure.description)); check the network or --api-url"
        }
    }
}

extension DiscovrClient {
    /// `GET /profiles` with the refresh token: the account's profiles, newest first.
    public func profiles(refreshToken: String) async throws(IdentityError) -> [Profile] {
        let answer = try await identity(.GET, DiscovrEndpoints.profiles, body: nil, bearer: refreshToken, call: .profiles)
        guard let profiles = Profile.parseList(body: answer.body) else {
            throw .unreadable("GET \(DiscovrEndpoints.profiles) answered status \(answer.status) without a profiles list")
        }
        return profiles
    }

    /// `POST /auth/session-token` with `{"profileId"}`: a session JWT for that profile. With no
    /// profile given, the account's only profile (listed first); several make it a refusal that names them.
    public func session(refreshToken: String, profileId: String?) async throws(IdentityError) -> SessionToken {
        var chosen = profileId
        if chosen == nil {
            let profiles = try await self.profiles(refreshToken: refreshToken)
            switch ProfileChoice.choose(from: profiles, requested: nil) {
            case .chosen(let profile):
                chosen = profile.id
            case let other:
                throw .refused(IdentityRefusal(kind: .badProfile, status: 400, body: ErrorBody(message: other.problem)))
            }
        }
        let request = SessionTokenRequest(profileId: chosen ?? "")
        let answer = try await identity(.POST, DiscovrEndpoints.sessionToken, body: request.jsonBody, bearer: refreshToken,
                                        call: .sessionExchange(profileId: chosen))
        guard let session = SessionToken.parse(responseBody: answer.body, now: now()) else {
            throw .unreadable("no session token in the answer of \(DiscovrEndpoints.sessionToken)")
        }
        return session
    }

    /// `DELETE /auth/session` with the refresh token: signs out (revokes it). True when the server
    /// revoked it now, false when it already did not accept it (expired, revoked, unknown).
    public func revoke(refreshToken: String) async throws(IdentityError) -> Bool {
        do {
            _ = try await identity(.DELETE, DiscovrEndpoints.session, body: nil, bearer: refreshToken, call: .signOut)
            return true
        } catch .refused(let refusal) where refusal.needsNewSignIn {
            return false
        }
    }

    /// `POST /auth/device-codes` (no auth): starts a device-code sign-in.
    public func startDeviceSignIn(clientID: String) async throws(IdentityError) -> DeviceCode {
        let answer = try await identity(.POST, DiscovrEndpoints.deviceCodes, body: DeviceCodeRequest(clientID: clientID).jsonBody,
                                        bearer: nil, call: .signIn)
        guard let code = DeviceCode.parse(body: answer.body) else {
            throw .unreadable("POST \(DiscovrEndpoints.deviceCodes) answered without a deviceCode and userCode")
        }
        return code
    }

    /// One poll of a device code at `path` (`/poll`, or `/token` as a fallback). The raw answer: the
    /// sign-in flow decides what 401, 404 and the rest mean.
    public func pollDeviceCode(path: String) async throws(TransportFailure) -> HTTPAnswer {
        try await send(method: .POST, path: path, body: "{}", bearer: nil)
    }

    /// Sends one identity request and sorts its answer: 2xx is returned, the rest thrown.
    private func identity(_ method: HTTPMethod, _ path: String, body: String?, bearer: String?,
                          call: IdentityRefusal.Call) async throws(IdentityError) -> HTTPAnswer {
        let answer: HTTPAnswer
        do {
            answer = try await send(method: method, path: path, body: body, bearer: bearer)
        } catch {
            throw .transport(error)
        }
        let classified = DiscovrAnswer(status: answer.status)
        if classified.kind == .delivered { return answer }
        var error = ErrorBody.parse(body: answer.body)
        error.message = classified.kind == .redirected ? answer.redirectNote : error.message.map(Redaction.redact)
        error.code = error.code.map(Redaction.redact)
        switch classified.kind {
        case .redirected, .serverError, .rateLimited:
            let said = IdentityRefusal(kind: .refused, status: answer.status, body: error).serverSaid
            throw .unavailable("\(method.rawValue) \(path.split(separator: "?").first ?? ""): \(said)")
        default:
            throw .refused(IdentityRefusal.classify(classified, body: error, call: call))
        }
    }
}
