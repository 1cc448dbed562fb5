import DiscovrAPI
import GRDB

/// What `status` shows of a state file that another process is delivering from: read through a
/// read-only SQLite connection (no lock taken, no migration, no in-flight recovery, nothing written to
/// the database), in one read transaction, so the numbers are one consistent moment. SQLite's WAL mode
/// lets it read while the writer goes on. Works on a file of any schema this version knows, older ones
/// included (it reads only what the first schema already had).
public struct StateSnapshot: Sendable, Equatable {
    /// The counts of the states this version names.
    public var counts = StateCounts()
    /// Items in states this version's `StateCounts` does not name (for example `uncertain`), by state.
    public var otherStates: [String: Int] = [:]
    /// Failed items in send order (at most the limit asked for).
    public var failures: [FailureRecord] = []
    /// Items not settled whose last send may have been stored (read back before any resend); 0 in a
    /// file older than the `v2-uncertain` migration.
    public var uncertain: Int = 0
    /// List writes by list and state (none in a file older than the `v4-typed-items` migration).
    public var lists = ListWriteCounts()
    /// The last `verify`'s result as the state keeps it (`StateMeta.lastVerify`); nil if none ran.
    public var lastVerify: String?
    /// The migrations applied to the file, oldest first (`v1`, ...).
    public var migrations: [String] = []

    /// Every item in the file, in any state.
    public var total: Int { counts.total + otherStates.values.reduce(0, +) }
}

extension ImportQueue {
    /// Reads a snapshot of the state file at `path` without the lock and without writing to it.
    /// Throws `QueueError` (`notAQueue` for another program's file or a newer schema).
    public static func readSnapshot(path: String, failureLimit: Int?) throws -> StateSnapshot {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "trakt2discovr.state.read-only"
            // The writer's transactions are short; a checkpoint may hold SQLite's lock for a moment.
            configuration.busyMode = .timeout(5)
            let database = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? database.close() }
            return try database.read { db in
                try QueueSchema.checkIdentity(db, path: path)
                var snapshot = StateSnapshot()
                guard try db.tableExists("state_count") else { return snapshot }
                snapshot.counts = try ImportQueue.readCounts(db) { state, items in
                    if items > 0 { snapshot.otherStates[state] = items }
                }
                // A file not migrated yet (status reads without migrating) keeps v1's bodies.
                let typed = try db.columns(in: "item").contains(where: { $0.name == "lane" })
                if failureLimit.map({ $0 > 0 }) ?? true {
                    snapshot.failures = try Self.failures(db, typed: typed, limit: failureLimit)
                }
                if typed {
                    snapshot.lists = try ImportQueue.listCounts(db)
                }
                if try db.columns(in: "item").contains(where: { $0.name == "uncertain" }) {
                    snapshot.uncertain = try Int.fetchOne(db, sql: "SELECT count(*) FROM item WHERE uncertain = 1") ?? 0
                }
                snapshot.lastVerify = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                                          arguments: [StateMeta.lastVerify])
                if try db.tableExists("grdb_migrations") {
                    snapshot.migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
                }
                return snapshot
            }
        } catch {
            throw QueueError.from(error, path: path)
        }
    }

    /// Failed items in send order, from typed rows or from v1's bodies.
    private static func failures(_ db: Database, typed: Bool, limit: Int?) throws -> [FailureRecord] {
        if typed { return try ImportQueue.failures(db, limit: limit) }
        return try Row.fetchAll(db, sql: """
            SELECT title, attempts, last_status, last_message, body FROM item
            WHERE state = 'failed' ORDER BY sort_at, id LIMIT ?
            """, arguments: [limit ?? -1]).compactMap { row in
            guard let play = HistoryItem(queuedBody: row[4]) else { return nil }
            return FailureRecord(outgoing: .play(play), title: row[0], attempts: row[1], lastStatus: row[2], lastMessage: row[3])
        }
    }
}
