import DiscovrAPI
import DiscovrSandbox
import Foundation
import Logging
import Testing

@Suite("session tokens")
struct SessionTokenTests {
    @Test("the refresh token is exchanged for a session as documented: sessionToken, sessionId, expiresAt in unix seconds = exp")
    func goodRefreshToken() async throws {
        let clock = ManualClock()
        let configuration = SandboxConfiguration(tokenTTL: 90, now: clock.closure)
        try await withSandbox(configuration) { running, client in
            #expect(running.refreshToken.hasPrefix("rt_"))
            #expect(running.refreshToken.count == 35)
            let profile = try #require(running.profiles.first)
            let answer = try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken,
                                               body: #"{"profileId":"# + JSONText.quote(profile.id) + "}")
            #expect(answer.status == 200)
            let object = try #require(answer.object)
            #expect(Set(object.keys) == ["sessionToken", "sessionId", "expiresAt"])
            let token = try #require(object["sessionToken"] as? String)
            #expect((object["sessionId"] as? String)?.count == 32)
            #expect((object["expiresAt"] as? NSNumber)?.int64Value == (ManualClock.start + 90_000) / 1000)
            #expect(JWT.expiry(of: token)?.millisecondsSince1970 == ManualClock.start + 90_000)
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            #expect(parts.count == 3)
            #expect(JWT.base64URLDecode(String(parts[2]))?.count == 32)
            let payload = try #require(JWT.payload(of: token))
            #expect(payload["sub"]?.stringValue == "sandbox-user")
            #expect(payload["iat"]?.intValue == ManualClock.start / 1000)
            #expect(payload["profileId"]?.stringValue == profile.id)
            #expect(payload["sid"]?.stringValue == object["sessionId"] as? String)
            #expect(running.store.stats().tokensIssued == 1)
        }
    }

    @Test("the default session lasts 30 minutes, as documented")
    func defaultTTL() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(JWT.expiry(of: token)?.millisecondsSince1970 == ManualClock.start + 1_800_000)
            clock.advance(milliseconds: 1_799_999)
            #expect(try await client.history(movieBody(), bearer: token).status == 200)
            clock.advance(milliseconds: 1)
            let expired = try await client.history(movieBody(), bearer: token)
            #expect(expired.status == 401 && expired.code == "SESSION_EXPIRED")
        }
    }

    @Test("an unknown profileId, or one that is not a string, answers 400 with an error body",
          arguments: [#"{"profileId":"profile_notmine000"}"#, #"{"profileId":42}"#, #"{"profileId":"p-42"}"#])
    func badProfileId(_ body: String) async throws {
        try await withSandbox(SandboxConfiguration(profiles: 3)) { running, client in
            let answer = try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken, body: body)
            #expect(answer.status == 400)
            #expect(answer.code == (body.contains("42}") ? "BAD_REQUEST" : "PROFILE_NOT_FOUND"))
            #expect(answer.message?.isEmpty == false)
            #expect(running.store.stats().tokensIssued == 0 && running.store.stats().tokensRefused == 1)
        }
    }

    @Test("without profileId: the first profile while profileIdRequired is off, else 400", arguments: [false, true])
    func missingProfileId(required: Bool) async throws {
        try await withSandbox(SandboxConfiguration(profiles: 2, profileIdRequired: required)) { running, client in
            for body in ["{}", #"{"profileId":null}"#, ""] {
                let answer = try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken, body: body)
                if required {
                    #expect(answer.status == 400)
                    #expect(answer.code == "BAD_REQUEST")
                    #expect(answer.message?.contains("profileId is required") == true)
                } else {
                    #expect(answer.status == 200)
                    let token = try #require(answer.object?["sessionToken"] as? String)
                    #expect(JWT.payload(of: token)?["profileId"]?.stringValue == running.profiles.first?.id)
                }
            }
        }
    }

    @Test("tokens are refused at the exchange: wrong, missing, or a session JWT",
          arguments: ["wrong", "missing", "session"])
    func refusedExchange(kind: String) async throws {
        try await withSandbox(SandboxConfiguration(refreshToken: "rt_0123456789abcdef0123456789abcdef")) { running, client in
            let bearer: String?
            switch kind {
            case "wrong": bearer = "rt_ffffffffffffffffffffffffffffffff"
            case "missing": bearer = nil
            default:
                let token = try await client.sessionToken(refreshToken: running.refreshToken)
                let unwrapped: String = try #require(token)
                bearer = unwrapped
            }
            let answer = try await client.post(DiscovrEndpoints.sessionToken, bearer: bearer, body: "{}")
            #expect(answer.status == 401)
            #expect(answer.message?.isEmpty == false)
            #expect(answer.code == (kind == "session" ? "WRONG_TOKEN_KIND" : "TOKEN_INVALID"))
            if kind == "session" {
                #expect(answer.message?.contains("session token is not accepted") == true)
            }
            let stats = running.store.stats()
            #expect(stats.tokensRefused == 1)
            #expect(stats.tokensIssued == (kind == "session" ? 1 : 0))
        }
    }

    @Test("history refuses a missing token, an unknown token and the refresh token",
          arguments: ["missing", "unknown", "refresh"])
    func refusedSession(kind: String) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let bearer: String? = switch kind {
            case "missing": nil
            case "unknown": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
            default: running.refreshToken
            }
            let answer = try await client.history(movieBody(), bearer: bearer)
            #expect(answer.status == 401)
            #expect(answer.code == (kind == "refresh" ? "WRONG_TOKEN_KIND" : "TOKEN_INVALID"))
            #expect(running.store.storedItems().isEmpty)
            #expect(running.store.stats().unauthorized == 1)
        }
    }

    @Test("a session JWT expires after tokenTTL on the sandbox clock")
    func expiry() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(tokenTTL: 1, now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(movieBody(tmdb: 1), bearer: token).status == 200)
            clock.advance(milliseconds: 999)
            #expect(try await client.history(movieBody(tmdb: 2), bearer: token).status == 200)
            clock.advance(milliseconds: 1)
            let expired = try await client.history(movieBody(tmdb: 3), bearer: token)
            #expect(expired.status == 401)
            #expect(expired.message == "session expired")
            #expect(expired.code == "SESSION_EXPIRED")
            // A fresh token works again.
            let fresh = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(fresh != token)
            #expect(try await client.history(movieBody(tmdb: 3), bearer: fresh).status == 200)
            #expect(running.store.storedItems().map(\.mediaId) == ["MV_TMDBID1", "MV_TMDBID2", "MV_TMDBID3"])
        }
    }

    @Test("no refresh token or session JWT reaches the log")
    func noSecretsInLogs() async throws {
        let label = "sandbox-secrets-\(UUID().uuidString)"
        let logger = Logger(label: label, factory: { RecordingLogHandler(label: $0) })
        let refreshToken = "rt_0123456789abcdef0123456789abcdef"
        let wrong = "rt_99999999999999999999999999999999"
        let token = try await withSandbox(SandboxConfiguration(refreshToken: refreshToken), logger: logger) { running, client in
            _ = try await client.post(DiscovrEndpoints.sessionToken, bearer: wrong, body: "{}")
            _ = try await client.get(DiscovrEndpoints.profiles, bearer: wrong)
            let token = try #require(try await client.sessionToken(refreshToken: refreshToken))
            _ = try await client.post(DiscovrEndpoints.sessionToken, bearer: token, body: "{}")
            _ = try await client.history(movieBody(), bearer: token)
            _ = try await client.history(movieBody(), bearer: refreshToken)
            return token
        }
        let lines = RecordingLogHandler.lines(of: label)
        #expect(lines.contains { $0.contains("sandbox refused an identity request") })
        for line in lines {
            #expect(!line.contains(refreshToken))
            #expect(!line.contains(wrong))
            #expect(!line.contains(String(refreshToken.dropFirst(3).prefix(8))))
            #expect(!line.contains(token))
            #expect(!line.contains(String(token.prefix(10))))
        }
    }
}
