import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportQueue
import Testing
@testable import Delivery

/// A state file written by the first schema (`Tests/Fixtures/state-v1.sqlite`, made by the release
/// before the uncertain-send migration) is opened by today's code, migrated, and delivered from.
@Suite struct MigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/state-v1.sqlite").path

    @Test(.timeLimit(.minutes(5)))
    func anOldSchemaStateFileMigratesAndDelivers() async throws {
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: directory.statePath)
        let before = try ImportQueue.readSnapshot(path: directory.statePath, failureLimit: nil)
        #expect(before.migrations == ["v1"])
        #expect(before.counts == StateCounts(pending: 5, inFlight: 1, delivered: 2, alreadyPresent: 1, failed: 1))

        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await sandbox.run { running in
            let queue = try ImportQueue.open(path: directory.statePath)
            defer { queue.close() }
            #expect(try queue.meta("fixture") == "made by trakt2discovr e6717af (schema v1)")
            let result = await DeliveryDriverTests.deliver(queue, DeliveryDriverTests.settings(running))
            #expect(result.stop == .finished)
            // The 5 pending plays and the one a kill left in flight arrive; settled ones are not sent again.
            #expect(result.counts.delivered == 8 && result.counts.alreadyPresent == 1 && result.counts.failed == 1)
            #expect(result.counts.pending == 0 && result.counts.inFlight == 0)
            let stored = running.store.storedItems()
            #expect(stored.count == 6)
            #expect(Set(stored.map { "\($0.mediaId) \($0.season ?? 0) \($0.episode ?? 0) \($0.updatedAt ?? "-")" }) == [
                "MV_TMDBID13 0 0 -",
                "TV_TMDBID1396 1 2 2021-03-02T21:00:00.000Z", "TV_TMDBID1396 1 3 2021-03-03T21:00:00.000Z",
                "TV_TMDBID1399 1 1 2019-05-01T20:00:00.000Z", "TV_TMDBID1399 1 1 2022-05-01T20:00:00.000Z",
                "TV_TMDBID1399 1 2 2022-05-02T20:00:00.000Z",
            ])
            #expect(running.store.stats().repeats == 0)
        }
        let after = try ImportQueue.readSnapshot(path: directory.statePath, failureLimit: nil)
        #expect(after.migrations.first == "v1")
        #expect(after.failures.map(\.title) == ["Breaking Bad S01E01"])
    }
}
