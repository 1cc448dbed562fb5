import DiscovrAPI
import DiscovrSandbox
import Synchronization
import Testing
@testable import Delivery

/// The media id form probe against the real sandbox on a real port (the pause between tries is
/// counted, not slept).
@Suite(.timeLimit(.minutes(5))) struct MediaIDFormProbeTests {
    static let sample = HistoryItem(mediaId: .movie(550), updatedAt: Timestamp(iso8601: "2020-01-01T20:00:00.000Z"))

    static func probe(_ configuration: SandboxConfiguration) async throws -> (decision: MediaIDFormDecision, stats: SandboxStats, pauses: [Int]) {
        let sandbox = DiscovrSandbox(configuration: configuration, logger: quietLogger)
        return try await sandbox.run { running in
            try await withDiscovrClient(baseURL: running.url, requestTimeout: 10, logger: quietLogger,
                                        now: { Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()) }) { client in
                let profile = try #require(try await client.profiles(refreshToken: running.refreshToken).first)
                let pauses = Mutex<[Int]>([])
                let decision = try await probeMediaIDForm(client: client, refreshToken: running.refreshToken, profileId: profile.id,
                                                          sample: sample, logger: quietLogger,
                                                          pause: { asked in pauses.withLock { $0.append(asked) } })
                return (decision, running.store.stats(), pauses.withLock { $0 })
            }
        }
    }

    @Test func aPassing503IsAskedAgainAndDoesNotDecideTheForm() async throws {
        // Seed 19: the first read (the seed's form) fails, the next ones are answered.
        let (decision, stats, pauses) = try await Self.probe(SandboxConfiguration(readFailRate: 0.3, seed: 19))
        #expect(stats.readsFailed >= 1, "the knob did not hit the probe: \(stats)")
        #expect(pauses.first == 1)
        #expect(decision.form == .tmdbid, "\(decision.reason)")
        #expect(decision.reason.contains("MV_TMDBID550 accepted"), "\(decision.reason)")
    }

    @Test func readsThatAlwaysFailLeaveBothFormsWithoutAVerdictAfterTheTries() async throws {
        let (decision, stats, pauses) = try await Self.probe(SandboxConfiguration(readFailRate: 1, seed: 3))
        #expect(stats.reads == 2 * probeTries && stats.readsFailed == 2 * probeTries, "\(stats)")
        #expect(pauses == Array(1..<probeTries) + Array(1..<probeTries))
        // Neither form accepted nor refused: the seed's form, and the other one may still be switched to.
        #expect(decision.form == .seed && !decision.otherRefused, "\(decision.reason)")
    }

    @Test func aRefusedFormIsAVerdictAndIsNotAskedAgain() async throws {
        let (decision, stats, pauses) = try await Self.probe(SandboxConfiguration(mediaIDForms: .short))
        #expect(stats.reads == 2 && pauses.isEmpty, "\(stats)")
        #expect(decision.form == .short && decision.otherRefused, "\(decision.reason)")
    }
}
