import DiscovrAPI
import Foundation
import Testing
@testable import ImportQueue

@Suite struct SchemaTests {
    @Test func migrationsCreateTheSchemaInWALMode() throws {
        try withNewQueue { queue, _ throws in
            let objects = try queue.inspectionRows("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
                .map { "\($0[0]!) \($0[1]!)" }
            #expect(objects == [
                "index item_backoff_by_not_before", "index item_failed_send_order", "index item_in_flight_by_key", "index item_list_state", "index item_pending_by_key",
                "index item_pending_send_order", "index item_uncertain",
                "table grdb_migrations", "table item", "table meta", "table staged_page", "table state_count",
                "trigger item_counted_delete", "trigger item_counted_update",
            ])
            #expect(try queue.inspectionRows("SELECT identifier FROM grdb_migrations") == [["v1"], ["v2-uncertain"], ["v3-staged-plan"], ["v4-typed-items"]])
            #expect(try queue.inspectionRows("PRAGMA journal_mode") == [["wal"]])
            #expect(try queue.inspectionRows("PRAGMA synchronous") == [["1"]])  // NORMAL
            #expect(try queue.inspectionRows("PRAGMA application_id") == [[String(QueueSchema.applicationID)]])
            #expect(try queue.counts() == StateCounts())
            // enqueue syncs its own commit (FULL) and puts the connection back to NORMAL afterwards.
            _ = try queue.enqueue([entry("a", 1)])
            #expect(try queue.inspectionRows("PRAGMA synchronous") == [["1"]])
            try queue.inspectionExecute("PRAGMA query_only = 1")
            #expect(throws: QueueError.self) { try queue.enqueue([entry("b", 2)]) }
            try queue.inspectionExecute("PRAGMA query_only = 0")
            #expect(try queue.inspectionRows("PRAGMA synchronous") == [["1"]])
            #expect(try queue.counts() == StateCounts(pending: 1))
        }
    }

    /// Claim and nextReadyAt must walk indexes, never scan or sort the whole table (a 1,000,000-row
    /// queue stays fast only then; figures in the benchmark).
    @Test func claimAndNextReadyAtUseTheirIndexes() throws {
        try withNewQueue { queue, _ throws in
            let claim = try queue.inspectionRows("EXPLAIN QUERY PLAN " + ImportQueue.claimSQL, arguments: [0, 4]).map { $0.last.flatMap { $0 } ?? "" }
            #expect(claim.contains("SCAN p USING INDEX item_pending_send_order"), "\(claim)")
            #expect(claim.contains("SEARCH q USING INDEX item_pending_by_key (item_key=?)"), "\(claim)")
            #expect(claim.contains("SEARCH f USING INDEX item_in_flight_by_key (item_key=?)"), "\(claim)")
            let next = try queue.inspectionRows("EXPLAIN QUERY PLAN " + ImportQueue.nextReadySQL).map { $0.last.flatMap { $0 } ?? "" }
            #expect(next.contains("SEARCH p USING INDEX item_backoff_by_not_before (not_before>?)"), "\(next)")
            for step in claim + next {
                #expect(!step.contains("TEMP B-TREE") && step != "SCAN p", "\(step)")
            }
        }
    }

    /// Each statement breaks one constraint of the schema and must be refused by SQLite itself.
    @Test(arguments: [
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES (NULL, 'k', 0, NULL, 'MV', 2, NULL, NULL, 100, 't')",
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('MV_TMDBID1@1', 'k', 0, NULL, 'MV', 2, NULL, NULL, 100, 't')",  // duplicate
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, state) VALUES ('x', 'k', 0, NULL, 'MV', 2, NULL, NULL, 100, 't', 'sent')",
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, attempts) VALUES ('x', 'k', 0, NULL, 'MV', 2, NULL, NULL, 100, 't', -1)",
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, already_present) VALUES ('x', 'k', 0, NULL, 'MV', 2, NULL, NULL, 100, 't', 1)",
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'XX', 2, NULL, NULL, 100, 't')",  // no such media kind
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'MV', 0, NULL, NULL, 100, 't')",  // tmdb 0
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'TV', 2, 1, NULL, 100, 't')",  // season without episode
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'MV', 2, NULL, NULL, 100.5, 't')",  // progress over 100
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'MV', 2, NULL, NULL, NULL, 't')",  // a play without progress
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, 'liked', 'MV', 2, NULL, NULL, NULL, 't')",  // a list write in the plays' lane
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 1, NULL, 'MV', 2, NULL, NULL, 100, 't')",  // a play in the lists' lane
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 1, 'loved', 'MV', 2, NULL, NULL, NULL, 't')",  // no such list
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 1, 'liked', 'TV', 2, 1, 1, NULL, 't')",  // lists hold titles
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, uncertain) VALUES ('x', 'k', 1, 'liked', 'MV', 2, NULL, NULL, NULL, 't', 1)",  // a list write is never read back
        "UPDATE item SET state = 'inflight'",
        "UPDATE item SET attempts = attempts - 1",
        "UPDATE item SET not_before = -1",
        "INSERT INTO meta (key, value) VALUES ('a', NULL)",
    ])
    func schemaConstraintsRefuse(_ sql: String) throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([Self.onePlay])
            #expect(throws: QueueError.self) { try queue.inspectionExecute(sql) }
            #expect(try queue.inspectionRows("SELECT play_key, state, attempts FROM item") == [["MV_TMDBID1@1", "pending", "0"]])
        }
    }

    static let onePlay = QueueEntry(play: HistoryItem(mediaId: .movie(1), updatedAt: Timestamp(millisecondsSince1970: 1)), title: "t")

    /// The rows the refusals above start from are valid but for the one thing each changes.
    @Test(arguments: [
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 0, NULL, 'TV', 2, 1, 1, 100, 't')",
        "INSERT INTO item (play_key, item_key, lane, list, media, tmdb, season, episode, progress, title) VALUES ('x', 'k', 1, 'liked', 'MV', 2, NULL, NULL, NULL, 't')",
    ])
    func theBaseRowsAreAccepted(_ sql: String) throws {
        try withNewQueue { queue, _ throws in
            _ = try queue.enqueue([Self.onePlay])
            try queue.inspectionExecute(sql)
            #expect(try queue.inspectionRows("SELECT count(*) FROM item") == [["2"]])
        }
    }

    @Test func reopeningKeepsEverythingAndRunsNoMigrationTwice() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let first = try ImportQueue.open(path: path)
            _ = try first.enqueue([entry("a", 1), entry("b", 2)])
            let claimed = try first.claim(max: 1, nowMs: 0)
            try first.markDelivered(id: claimed[0].id, status: 200, message: "ok", added: nil, removed: nil)
            first.close()

            let second = try ImportQueue.open(path: path)
            defer { second.close() }
            #expect(second.recoveredInFlight == 0)
            #expect(try second.counts() == StateCounts(pending: 1, delivered: 1))
            #expect(try second.inspectionRows("SELECT identifier FROM grdb_migrations") == [["v1"], ["v2-uncertain"], ["v3-staged-plan"], ["v4-typed-items"]])
        }
    }
}

@Suite struct OpeningTests {
    @Test func stateFileAndItsJournalFilesAreOwnerOnly() throws {
        try withNewQueue { queue, path throws in
            _ = try queue.enqueue([entry("a", 1)])  // staged with the rollback journal: no -wal file yet
            #expect(permissions(of: path + "-journal") == nil)
            _ = try queue.claim(max: 1, nowMs: 0)  // back in WAL mode: makes sure the -wal file has content
            #expect(permissions(of: path) == 0o600)
            #expect(permissions(of: path + "-wal") == 0o600)
            #expect(permissions(of: path + "-shm") == 0o600)
        }
    }

    @Test func anExistingStateFileIsTightenedToOwnerOnly() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            try ImportQueue.open(path: path).close()
            #expect(chmod(path, 0o644) == 0)
            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            #expect(permissions(of: path) == 0o600)
        }
    }

    @Test func secondOpenInTheSameProcessIsRefusedUntilClosed() throws {
        try withNewQueue { queue, path throws in
            _ = try queue.enqueue([entry("a", 1)])
            _ = try queue.claim(max: 1, nowMs: 0)
            #expect(throws: QueueError.inUse(path: path)) { try ImportQueue.open(path: path) }
            // The refused opener must not have disturbed the first one's SQLite locks or data.
            #expect(try queue.counts() == StateCounts(inFlight: 1))
            let description = QueueError.inUse(path: path).description
            #expect(description.contains("another trakt2discovr is using the state file"))
            #expect(description.contains("--state"))
        }
    }

    @Test func aSymlinkToAnOpenStateFileIsRefusedToo() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            try FileManager.default.createSymbolicLink(atPath: folder + "/link.sqlite", withDestinationPath: path)
            #expect(throws: QueueError.inUse(path: folder + "/link.sqlite")) {
                try ImportQueue.open(path: folder + "/link.sqlite")
            }
        }
    }

    @Test func closingReleasesTheLock() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            let first = try ImportQueue.open(path: path)
            first.close()
            first.close()  // twice is harmless
            let second = try ImportQueue.open(path: path)
            second.close()
            #expect(throws: QueueError.closed(path: path)) { try first.counts() }
        }
    }

    @Test func aLockHeldByAnotherProcessIsRefused() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            try ImportQueue.open(path: path).close()
            // util-linux flock(1) takes the same kind of lock (flock LOCK_EX) in a child process.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            child.arguments = ["--exclusive", path, "sh", "-c", "echo locked; exec cat"]
            let output = Pipe(), input = Pipe()
            child.standardOutput = output
            child.standardInput = input
            try child.run()
            defer {
                try? input.fileHandleForWriting.close()
                child.waitUntilExit()
            }
            // Blocks until the child holds the lock and says so: no sleeping.
            let said = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            #expect(said == "locked\n")
            #expect(throws: QueueError.inUse(path: path)) { try ImportQueue.open(path: path) }
            try input.fileHandleForWriting.close()
            child.waitUntilExit()
            try ImportQueue.open(path: path).close()
        }
    }

    @Test func aFileThatIsNotSQLiteIsNotAQueue() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/notes.sqlite"
            let text = Data(String(repeating: "these are not the rows you are looking for\n", count: 200).utf8)
            try text.write(to: URL(fileURLWithPath: path))
            #expect(throws: QueueError.notAQueue(path: path)) { try ImportQueue.open(path: path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == text)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            #expect(QueueError.notAQueue(path: path).description.contains("is not a trakt2discovr state file"))
        }
    }

    /// Another program's SQLite database (rollback journal, own tables) is refused and left byte for byte as it was.
    @Test(arguments: [
        "PRAGMA application_id = 0",          // our tables, but no mark: could be anyone's
        "PRAGMA application_id = 1095910753", // another application's mark
        "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')",  // a newer trakt2discovr
    ])
    func aForeignOrNewerDatabaseIsNotAQueueAndIsLeftUntouched(_ change: String) throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/other.sqlite"
            let queue = try ImportQueue.open(path: path)
            try queue.inspectionExecute(change)
            try queue.inspectionExecute("PRAGMA journal_mode = DELETE")
            queue.close()
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(throws: QueueError.notAQueue(path: path)) { try ImportQueue.open(path: path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        }
    }

    @Test func aDirectoryCannotBeOpened() throws {
        try withTemporaryFolder { folder throws in
            let error = try #require(throws: QueueError.self) { try ImportQueue.open(path: folder) }
            guard case .cannotOpen(let path, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == folder)
            #expect(reason.contains("directory"))
        }
    }

    @Test(arguments: [
        ("/missing-folder", "folder does not exist"),
        ("/a-file/state.sqlite", "not a folder"),
    ])
    func aPathThatCannotExistCannotBeOpened(_ suffix: String, _ expected: String) throws {
        try withTemporaryFolder { folder throws in
            try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/a-file"))
            let path = folder + suffix + (suffix.hasSuffix(".sqlite") ? "" : "/state.sqlite")
            let error = try #require(throws: QueueError.self) { try ImportQueue.open(path: path) }
            #expect(error.description.contains(expected), "\(error)")
            guard case .cannotOpen = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    /// File permissions do not stop root (tests run as root in CI), so this runs for other users only;
    /// the write-time read-only case is covered for everyone by `readOnlyDatabaseGivesAStorageError`.
    @Test(.disabled(if: geteuid() == 0, "root ignores file permissions"))
    func aReadOnlyFolderCannotBeOpened() throws {
        try withTemporaryFolder { folder throws in
            #expect(chmod(folder, 0o500) == 0)
            defer { chmod(folder, 0o700) }
            let error = try #require(throws: QueueError.self) { try ImportQueue.open(path: folder + "/state.sqlite") }
            #expect(error.description.contains("permission"), "\(error)")
            // A file that cannot be written is an i/o problem (exit 74), not a path that names nothing (66).
            guard case .storage = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    /// An existing state that cannot be written (a read-only mount: root ignores permissions; else
    /// no write permission) is `storage` for every opener, and the file is left as it was. It was
    /// `cannotOpen` before, which the CLI turned into 66 for open but 74 for a write a moment later.
    @Test func anExistingStateThatCannotBeWrittenIsAStorageErrorAndIsLeftUntouched() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            try withQueue(at: path) { queue in
                _ = try queue.enqueue([entry("a", 1), entry("b", 2)])
                _ = try queue.claim(max: 1, nowMs: 0)  // left in flight: open would write to recover it
            }
            try withReadOnlyView(of: folder) { view in
                let viewPath = view + "/state.sqlite"
                let before = try Data(contentsOf: URL(fileURLWithPath: viewPath))
                let error = try #require(throws: QueueError.self) { try ImportQueue.open(path: viewPath) }
                guard case .storage(let errorPath, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(errorPath == viewPath)
                #expect(reason.contains("cannot be written"), "\(reason)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: viewPath)) == before)
            }
            let reopened = try ImportQueue.open(path: path)
            defer { reopened.close() }
            #expect(reopened.recoveredInFlight == 1)
            #expect(try reopened.counts() == StateCounts(pending: 2))
        }
    }
}
