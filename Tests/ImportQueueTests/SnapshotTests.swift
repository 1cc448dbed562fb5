import Foundation
import Testing
@testable import ImportQueue

/// The read-only snapshot `status` uses while another process delivers from the state.
@Suite struct SnapshotTests {
    /// `Tests/Fixtures/state-v1.sqlite`: a state file written by the first schema (see its README).
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/state-v1.sqlite").path

    @Test func aSnapshotOfAnOldSchemaFileReadsItsCountsAndWritesNothing() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/old.sqlite"
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let snapshot = try ImportQueue.readSnapshot(path: path, failureLimit: nil)
            #expect(snapshot.counts == StateCounts(pending: 5, inFlight: 1, delivered: 2, alreadyPresent: 1, failed: 1))
            #expect(snapshot.otherStates.isEmpty)
            #expect(snapshot.total == 9)
            #expect(snapshot.migrations == ["v1"])
            #expect(snapshot.failures.map(\.title) == ["Breaking Bad S01E01"])
            #expect(snapshot.failures.first?.lastStatus == 422)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes, "the snapshot changed the file")
        }
    }

    /// The lock a delivering queue holds does not stop a snapshot, and the snapshot sees its commits.
    @Test func aSnapshotIsTakenWhileAQueueHoldsTheLock() throws {
        try withNewQueue { queue, path throws in
            _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
            let claimed = try queue.claim(max: 2, nowMs: 0)
            try queue.markFailed(id: claimed[0].id, status: 400, message: "bad")
            #expect(throws: QueueError.inUse(path: path)) { try ImportQueue.open(path: path) }
            let snapshot = try ImportQueue.readSnapshot(path: path, failureLimit: 0)
            #expect(snapshot.counts == StateCounts(pending: 1, inFlight: 1, failed: 1))
            #expect(snapshot.failures.isEmpty)
            // Still ours afterwards: the writer goes on.
            try queue.markDelivered(id: claimed[1].id, status: 200, message: nil, added: nil, removed: nil)
            #expect(try ImportQueue.readSnapshot(path: path, failureLimit: 5).counts == StateCounts(pending: 1, delivered: 1, failed: 1))
        }
    }

    @Test func aSnapshotOfAnotherProgramsDatabaseIsRefused() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/other.sqlite"
            #expect(shell("sqlite3 '\(path)' 'CREATE TABLE t (x)'") == 0)
            #expect(throws: QueueError.notAQueue(path: path)) { try ImportQueue.readSnapshot(path: path, failureLimit: nil) }
        }
    }
}
