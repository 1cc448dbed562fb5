import AsyncHTTPClient
import DiscovrAPI
import DiscovrSandbox
import Foundation
import NIOCore
import Testing
@testable import Delivery

@Suite(.timeLimit(.minutes(5))) struct DiscovrClientTests {
    struct ErrorCase: @unchecked Sendable, CustomTestStringConvertible {
        var error: any Error
        var expected: String
        var testDescription: String { String(describing: error) }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(error: HTTPClientError.deadlineExceeded, expected: "timedOut"),
        ErrorCase(error: HTTPClientError.readTimeout, expected: "timedOut"),
        ErrorCase(error: HTTPClientError.remoteConnectionClosed, expected: "connectionLost"),
        ErrorCase(error: HTTPClientError.connectTimeout, expected: "connectFailed"),
        ErrorCase(error: HTTPClientError.getConnectionFromPoolTimeout, expected: "connectFailed"),
        ErrorCase(error: IOError(errnoCode: ECONNREFUSED, reason: "connect"), expected: "connectFailed"),
        ErrorCase(error: IOError(errnoCode: EHOSTUNREACH, reason: "connect"), expected: "connectFailed"),
        ErrorCase(error: IOError(errnoCode: ECONNRESET, reason: "read"), expected: "connectionLost"),
        ErrorCase(error: ChannelError.connectTimeout(.seconds(10)), expected: "connectFailed"),
        ErrorCase(error: ChannelError.eof, expected: "connectionLost"),
        ErrorCase(error: ChannelError.ioOnClosedChannel, expected: "connectionLost"),
        ErrorCase(error: CocoaError(.fileNoSuchFile), expected: "connectionLost"),
    ]

    @Test(arguments: errorCases)
    func failuresAreSortedByWhetherTheServerMayHaveSeenTheRequest(_ c: ErrorCase) {
        let kind: String
        switch TransportFailure.classify(c.error, timeoutSeconds: 30) {
        case .connectFailed: kind = "connectFailed"
        case .timedOut: kind = "timedOut"
        case .connectionLost: kind = "connectionLost"
        }
        #expect(kind == c.expected)
    }

    @Test(arguments: [
        ("invalid refresh token rt_0123456789abcdef0123456789abcdef", "invalid refresh token rt_[redacted]"),
        ("bad eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln here", "bad [redacted jwt] here"),
        ("season is required for TV shows", "season is required for TV shows"),
        ("rt_ is a prefix", "rt_ is a prefix"),
    ])
    func secretsAreRedactedFromOutsideText(_ text: String, expected: String) {
        #expect(Redaction.redact(text) == expected)
    }

    @Test func settingsDescriptionHidesTheRefreshToken() {
        let settings = DeliverySettings(baseURL: "http://127.0.0.1:1", refreshToken: "rt_secretsecretsecret")
        #expect(!String(describing: settings).contains("rt_secret"))
    }

    @Test(arguments: ["ftp://example.com", "not a url", "", "http://"])
    func anUnusableBaseURLIsRefused(_ url: String) async {
        await #expect(throws: DeliveryError.self) {
            try await withDiscovrClient(baseURL: url, requestTimeout: 1, logger: quietLogger, now: { Timestamp(millisecondsSince1970: 0) }) { _ in }
        }
    }

    @Test func exchangesTheRefreshTokenAndRefusesAWrongOne() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(tokenTTL: 600), logger: quietLogger)
        try await sandbox.run { running in
            try await withDiscovrClient(baseURL: running.url + "/", requestTimeout: 5, logger: quietLogger,
                                        now: SandboxConfiguration.systemNow) { client in
                let session = try await client.session(refreshToken: running.refreshToken, profileId: running.profiles[0].id)
                let remaining = session.expiresAt.millisecondsSince1970 - SandboxConfiguration.systemNow().millisecondsSince1970
                // expiresAt is whole unix seconds (documented), rounded up: up to a second past the TTL.
                #expect(remaining > 590_000 && remaining <= 601_000)
                let answer = try await client.send(method: .POST, path: DiscovrEndpoints.history, body: makeEntries(1)[0].body,
                                                   bearer: session.token)
                #expect(answer.status == 200)
                #expect(HistoryResponse.parse(body: answer.body).message == "Item added to history list successfully")
                #expect(answer.headers.contains { $0.0.lowercased() == "content-type" })

                let wrong = "rt_" + String(repeating: "0", count: 32)
                do {
                    _ = try await client.session(refreshToken: wrong, profileId: nil)
                    Issue.record("a wrong refresh token was accepted")
                } catch let error as IdentityError {
                    guard case .refused(let refusal) = error else {
                        Issue.record("expected refused, got \(error)")
                        return
                    }
                    #expect(refusal.status == 401 && refusal.description.contains("401"))
                    #expect(!error.description.contains(wrong))
                }
            }
        }
    }

    @Test func aStoppedServerIsAConnectFailure() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        let url = try await sandbox.run { $0.url } // the port is closed once run returns
        try await withDiscovrClient(baseURL: url, requestTimeout: 5, logger: quietLogger, now: SandboxConfiguration.systemNow) { client in
            do {
                _ = try await client.send(method: .POST, path: DiscovrEndpoints.history, body: "{}", bearer: "x.y.z")
                Issue.record("a closed port answered")
            } catch let error as TransportFailure {
                guard case .connectFailed = error else {
                    Issue.record("expected connectFailed, got \(error)")
                    return
                }
            }
        }
    }

    @Test func aSlowAnswerIsATimeout() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(slowRate: 1, slowDelay: 1), logger: quietLogger)
        try await sandbox.run { running in
            // The session (GET /profiles, then the exchange) with an ordinary timeout: on a loaded
            // machine those two round trips alone can take longer than the 0.2 s under test.
            let session = try await withDiscovrClient(baseURL: running.url, requestTimeout: 10, logger: quietLogger,
                                                      now: SandboxConfiguration.systemNow) { client in
                try await client.session(refreshToken: running.refreshToken, profileId: nil)
            }
            try await withDiscovrClient(baseURL: running.url, requestTimeout: 0.2, logger: quietLogger,
                                        now: SandboxConfiguration.systemNow) { client in
                do {
                    _ = try await client.send(method: .POST, path: DiscovrEndpoints.history, body: makeEntries(1)[0].body,
                                              bearer: session.token)
                    Issue.record("the slow answer came within the timeout")
                } catch let error as TransportFailure {
                    #expect(error == .timedOut("no answer within 0.2 s"))
                }
            }
        }
    }
}
