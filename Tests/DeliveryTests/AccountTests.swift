import DiscovrAPI
import DiscovrSandbox
import Foundation
import Synchronization
import Testing
@testable import Delivery

@Suite struct CredentialsStoreTests {
    @Test func locationFollowsXDGThenHome() throws {
        #expect(try CredentialsStore.location(environment: ["XDG_CONFIG_HOME": "/x/cfg/", "HOME": "/h"]).path == "/x/cfg/trakt2discovr/credentials")
        #expect(try CredentialsStore.location(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/h"]).path == "/h/.config/trakt2discovr/credentials")
        #expect(try CredentialsStore.location(environment: ["HOME": "/h"]).path == "/h/.config/trakt2discovr/credentials")
        #expect(throws: CredentialsError.noLocation) { try CredentialsStore.location(environment: [:]) }
    }

    @Test func savesPrivatelyAndAtomicallyAndReadsBack() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = CredentialsStore(directory: temp.url.appendingPathComponent("a/b/trakt2discovr").path)
        #expect(try store.load() == nil)
        let saved = SavedCredentials(refreshToken: "rt_secret", apiURL: "https://api.discovr.media", publicId: "u1",
                                     expiresAt: Timestamp(millisecondsSince1970: 1_740_867_000_000),
                                     savedAt: Timestamp(millisecondsSince1970: 1_733_000_000_000))
        try store.save(saved)
        #expect(try store.load() == saved)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: store.directory)[.posixPermissions] as? Int == 0o700)
        var newer = saved
        newer.refreshToken = "rt_newer"
        try store.save(newer)
        #expect(try store.load()?.refreshToken == "rt_newer")
        // Nothing but the file is left in the folder (no temporary files).
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory) == ["credentials"])
        #expect(try store.delete())
        #expect(try !store.delete())
        #expect(try store.load() == nil)
    }

    @Test func aFileThatIsNotOursIsReportedNotUsed() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = CredentialsStore(directory: temp.url.path)
        try Data("rt_plain_token_file".utf8).write(to: URL(fileURLWithPath: store.path))
        #expect(throws: CredentialsError.self) { try store.load() }
    }

    @Test(arguments: [("https://api.discovr.media", "https://API.discovr.media/", true),
                      ("http://127.0.0.1:8080", "http://127.0.0.1:8080", true),
                      ("http://127.0.0.1:8080", "http://127.0.0.1:8081", false),
                      ("https://api.discovr.media", "https://evil.example", false)])
    func aTokenIsForItsOwnServerOnly(saved: String, asked: String, matches: Bool) {
        let credentials = SavedCredentials(refreshToken: "rt_x", apiURL: saved, savedAt: Timestamp(millisecondsSince1970: 0))
        #expect(credentials.isFor(apiURL: asked) == matches)
    }
}

/// Time that jumps to whatever the flow sleeps until: the whole wait runs at once, and the sleeps
/// are recorded.
final class JumpingClock: Sendable {
    private let state = Mutex<(now: Int64, sleeps: [Int64])>((1_700_000_000_000, []))
    var now: @Sendable () -> Int64 { { self.state.withLock { $0.now } } }
    var sleep: DeviceSignInFlow.Sleep {
        { until in self.state.withLock { s in s.sleeps.append(until - s.now); s.now = max(s.now, until) } }
    }
    var slept: Int64 { state.withLock { $0.sleeps.reduce(0, +) } }
}

@Suite struct DeviceSignInFlowTests {
    func withSandbox<T: Sendable>(_ configuration: SandboxConfiguration,
                                  _ body: @Sendable (DiscovrClient, RunningSandbox) async throws -> T) async throws -> T {
        let sandbox = DiscovrSandbox(configuration: configuration, logger: quietLogger)
        return try await sandbox.run { running in
            try await withDiscovrClient(baseURL: running.url, requestTimeout: 10, logger: quietLogger,
                                        now: { Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()) }) { client in
                try await body(client, running)
            }
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: [DevicePollPath.poll, .token])
    func pollsEveryFiveSecondsUntilConfirmed(path: DevicePollPath) async throws {
        var configuration = SandboxConfiguration()
        configuration.confirmAfter = 2
        configuration.devicePollPath = path
        try await withSandbox(configuration) { client, running in
            let clock = JumpingClock()
            let shown = Mutex<String?>(nil)
            let flow = DeviceSignInFlow(client: client, now: clock.now, sleep: clock.sleep, stop: StopSignal(), logger: quietLogger)
            let signedIn = try await flow.run(clientID: "test-app") { code in shown.withLock { $0 = code.userCode } }
            #expect(shown.withLock { $0 } != nil)
            #expect(signedIn.refreshToken.hasPrefix("rt_"))
            // Two pending polls then the confirmed one: three waits of 5 s (one more poll when /poll is unknown).
            #expect(clock.slept == 3 * DiscovrEndpoints.devicePollInterval)
            let profiles = try await client.profiles(refreshToken: signedIn.refreshToken)
            #expect(!profiles.isEmpty)
            #expect(try await client.revoke(refreshToken: signedIn.refreshToken))
            await #expect(throws: IdentityError.self) { try await client.profiles(refreshToken: signedIn.refreshToken) }
            _ = running
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aCodeNeverConfirmedExpires() async throws {
        var configuration = SandboxConfiguration()
        configuration.confirmAfter = 1_000_000
        try await withSandbox(configuration) { client, _ in
            let clock = JumpingClock()
            let flow = DeviceSignInFlow(client: client, now: clock.now, sleep: clock.sleep, stop: StopSignal(), logger: quietLogger)
            await #expect(throws: SignInError.self) { try await flow.run(clientID: "test-app") { _ in } }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aStopWhileWaitingEndsAtOnce() async throws {
        try await withSandbox(SandboxConfiguration()) { client, _ in
            let clock = JumpingClock()
            let stop = StopSignal()
            let flow = DeviceSignInFlow(client: client, now: clock.now, sleep: clock.sleep, stop: stop, logger: quietLogger)
            await #expect(throws: SignInError.stopped) { try await flow.run(clientID: "test-app") { _ in stop.request() } }
        }
    }
}
