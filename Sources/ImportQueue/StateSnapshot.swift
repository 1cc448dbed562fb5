import GRDB

/// What `status` shows of a state file that another process is delivering from: read through a
/// read-only SQLite connection (no lock taken, no migration, no in-flight recovery, nothing written to
/// the database), in one read transaction, so the numbers are one consistent moment. SQLite's WAL mode
/// lets it read while the writer goes on. Works on a file of any schema this version knows, older ones
/// included (it reads only what the first schema already had).
public struct StateSnapshot: Sendable, Equatable {
    /// The counts of the states this version names.
    public var counts: StateCounts
    /// Items in states this version's `StateCounts` does not name (for example `uncertain`), by state.
    public var otherStates: [String: Int]
    /// Failed items in send order (at most the limit asked for).
    public var failures: [FailureRecord]
    /// Items not settled whose last send may have been stored (read back before any resend); 0 in a
    /// file older than the `v2-uncertain` migration.
    public var uncertain: Int = 0
    /// The last `verify`'s result as the state keeps it (`ImportQueue.lastVerifyKey`); nil if none ran.
    public var lastVerify: String?
    /// The migrations applied to the file, oldest first (`v1`, ...).
    public var migrations: [String]

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
                guard try db.tableExists("state_count") else {
                    return StateSnapshot(counts: StateCounts(), otherStates: [:], failures: [], migrations: [])
                }
                var snapshot = StateSnapshot(counts: StateCounts(), otherStates: [:], failures: [], migrations: [])
                for row in try Row.fetchAll(db, sql: "SELECT state, items, already_present FROM state_count") {
                    let state: String = row[0]
                    let items: Int = row[1]
                    switch ItemState(rawValue: state) {
                    case .pending: snapshot.counts.pending = items
                    case .inFlight: snapshot.counts.inFlight = items
                    case .delivered: snapshot.counts.delivered = items; snapshot.counts.alreadyPresent = row[2]
                    case .failed: snapshot.counts.failed = items
                    case nil: if items > 0 { snapshot.otherStates[state] = items }
                    }
                }
                if let limit = failureLimit, limit <= 0 {
                    snapshot.failures = []
                } else {
                    snapshot.failures = try Row.fetchAll(db, sql: """
                        SELECT play_key, title, body, attempts, last_status, last_message FROM item
                        WHERE state = 'failed' ORDER BY sort_at, id LIMIT ?
                        """, arguments: [failureLimit ?? -1]).map { row in
                        FailureRecord(playKey: row[0], title: row[1], body: row[2], attempts: row[3],
                                      lastStatus: row[4], lastMessage: row[5])
                    }
                }
                if try db.columns(in: "item").contains(where: { $0.name == "uncertain" }) {
                    snapshot.uncertain = try Int.fetchOne(db, sql: "SELECT count(*) FROM item WHERE uncertain = 1") ?? 0
                }
                snapshot.lastVerify = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                                          arguments: [ImportQueue.lastVerifyKey])
                if try db.tableExists("grdb_migrations") {
                    snapshot.migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
                }
                return snapshot
            }
        } catch {
            throw QueueError.from(error, path: path)
        }
    }
}
