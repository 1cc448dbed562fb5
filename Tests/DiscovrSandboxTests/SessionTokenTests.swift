import DiscovrAPI
import DiscovrSandbox
import Foundation
import Logging
import Testing

@Suite("session tokens")
struct SessionTokenTests {
    @Test("the refresh token is exchanged for a compact JWT that expires after tokenTTL")
    func goodRefreshToken() async throws {
        let clock = ManualClock()
        let configuration = SandboxConfiguration(tokenTTL: 90, now: clock.closure)
        try await withSandbox(configuration) { running, client in
            #expect(running.refreshToken.hasPrefix("rt_"))
            #expect(running.refreshToken.count == 35)
            let answer = try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken, body: "{}")
            #expect(answer.status == 200)
            let session = try #require(SessionToken.parse(responseBody: Array(answer.body.utf8), now: clock.now))
            #expect(session.expiresAt.millisecondsSince1970 == ManualClock.start + 90_000)
            #expect(JWT.expiry(of: session.token)?.millisecondsSince1970 == ManualClock.start + 90_000)
            let parts = session.token.split(separator: ".", omittingEmptySubsequences: false)
            #expect(parts.count == 3)
            #expect(JWT.base64URLDecode(String(parts[2]))?.count == 32)
            let payload = try #require(JWT.payload(of: session.token))
            #expect(payload["sub"] as? String == "sandbox-user")
            #expect((payload["iat"] as? NSNumber)?.int64Value == ManualClock.start / 1000)
            #expect(payload["profileId"] == nil)
            #expect(running.store.stats().tokensIssued == 1)
        }
    }

    @Test("a profileId in the body ends up in the JWT payload")
    func profileId() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken,
                                                                   body: #"{"profileId":"p-42"}"#))
            #expect(JWT.payload(of: token)?["profileId"] as? String == "p-42")
            let bad = try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken,
                                            body: #"{"profileId":42}"#)
            #expect(bad.status == 400)
        }
    }

    @Test("an empty body counts as {}")
    func emptyBody() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let answer = try await client.send(.POST, DiscovrEndpoints.sessionToken, bearer: running.refreshToken)
            #expect(answer.status == 200)
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
            let token = try #require(try await client.sessionToken(refreshToken: refreshToken))
            _ = try await client.post(DiscovrEndpoints.sessionToken, bearer: token, body: "{}")
            _ = try await client.history(movieBody(), bearer: token)
            _ = try await client.history(movieBody(), bearer: refreshToken)
            return token
        }
        let lines = RecordingLogHandler.lines(of: label)
        #expect(lines.contains { $0.contains("sandbox refused a token exchange") })
        for line in lines {
            #expect(!line.contains(refreshToken))
            #expect(!line.contains(wrong))
            #expect(!line.contains(String(refreshToken.dropFirst(3).prefix(8))))
            #expect(!line.contains(token))
            #expect(!line.contains(String(token.prefix(10))))
        }
    }
}
