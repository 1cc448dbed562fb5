import GRDB
import Synchronization

/// The resumable delivery queue of trakt2discovr: one SQLite file (WAL) that holds every planned
/// play and where it stands (pending, in flight, delivered, failed), so that a run stopped at any
/// moment (Ctrl-C, `kill -9`, power loss) can be resumed without losing or reordering a play.
///
/// Append-only migrations, constraints in the schema, one transaction per state change. The file is
/// created with mode 0600 and never holds a token. An exclusive `flock` taken in `open` and held
/// until `close()` keeps a second trakt2discovr off the same file.
public final class ImportQueue: Sendable {
    /// The path the queue was opened with.
    public let path: String
    /// How many items a previous run left in flight (it crashed or was killed) and `open` put back
    /// to pending as uncertain (to be read back before they are sent again), without counting an attempt.
    public let recoveredInFlight: Int

    private struct Connection: Sendable {
        let database: DatabaseQueue
        let lock: StateFileLock
    }

    /// Nil once closed. Held during each operation so that `close()` waits for the one running.
    private let connection: Mutex<Connection?>

    private init(path: String, connection: Connection, recoveredInFlight: Int) {
        self.path = path
        self.connection = Mutex(connection)
        self.recoveredInFlight = recoveredInFlight
    }

    deinit {
        close()
    }

    // MARK: - Opening and closing

    /// Opens or creates the state file (created with mode 0600), runs migrations, takes an exclusive
    /// advisory lock (flock) held until close(); a second process gets QueueError.inUse. Any row left
    /// `in-flight` by a crashed run is put back to pending here (the lock proves no one else is sending),
    /// marked uncertain: its send may have reached the server, so it is read back before it is sent again.
    public static func open(path: String) throws -> ImportQueue {
        let lock = try StateFileLock.acquire(path: path)
        var database: DatabaseQueue?
        do {
            var configuration = Configuration()
            configuration.label = "trakt2discovr.state"
            // Only an outside program (an sqlite3 shell) can hold SQLite's lock: we hold the flock.
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // With WAL, NORMAL syncs at checkpoints only. A kill -9 loses nothing (committed WAL
                // frames are in the OS cache); a power loss may roll back the last few settles,
                // which means a resend (answered 409), never a lost play.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // One big enqueue grows the WAL; give the space back after the checkpoint.
                try db.execute(sql: "PRAGMA journal_size_limit = 33554432")
                // Up to 64 MiB of page cache (allocated only as used): a large enqueue updates
                // several indexes at random places, and the default 2 MiB cache made it ~1.5x slower.
                try db.execute(sql: "PRAGMA cache_size = -65536")
            }
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            database = opened
            // Look before writing: journal_mode=WAL and migrations would modify a foreign database.
            try opened.read { db in try QueueSchema.checkIdentity(db, path: path) }
            // Migrations first: a new file then gets its schema through a rollback journal, written once
            // into the file (in WAL mode every migration's pages would go to the WAL as well, and the
            // rebuild of `v4-typed-items` doubles them). A file in WAL mode already migrates in WAL mode.
            try QueueSchema.migrator.migrate(opened)
            try opened.writeWithoutTransaction { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode?.lowercased() == "wal" else {
                    throw QueueError.cannotOpen(path: path, reason: "sqlite could not switch it to WAL mode "
                        + "(\(mode ?? "no answer")): put the state file on a local disk")
                }
            }
            let recovered = try opened.write { db in
                try db.execute(sql: Self.recoverSQL)
                let plays = db.changesCount
                try db.execute(sql: Self.recoverListsSQL)
                return plays + db.changesCount
            }
            StateFileLock.restrictSidecars(of: path)
            return ImportQueue(
                path: path, connection: Connection(database: opened, lock: lock), recoveredInFlight: recovered)
        } catch {
            if Self.closeDatabase(database) {
                lock.release()
            }
            throw QueueError.from(error, path: path)
        }
    }

    /// Rows a dead run left in flight: pending, uncertain, the send window starting at the earliest send
    /// that may have been stored (the last claim, or an earlier uncertain send). A row of a v1 file
    /// has no claim time: its window is unknown (a play with a date is still matched by its date).
    static let recoverSQL = """
        UPDATE item SET state = 'pending', uncertain = 1,
            sent_at = CASE WHEN uncertain = 1 AND sent_at IS NOT NULL THEN min(sent_at, coalesce(claimed_at, sent_at))
                           ELSE claimed_at END
        WHERE state = 'in-flight' AND lane = 0
        """

    /// List writes a dead run left in flight: pending and certain (a list is a set: sent again, never read back).
    static let recoverListsSQL = "UPDATE item SET state = 'pending' WHERE state = 'in-flight' AND lane = 1"

    /// Closes the database, then releases the lock. Further calls throw `QueueError.closed`. Safe to
    /// call more than once; also done when the queue is deinitialised.
    public func close() {
        connection.withLock { connection in
            guard let open = connection else { return }
            if Self.closeDatabase(open.database) {
                open.lock.release()
            }
            connection = nil
        }
    }

    /// Closes SQLite's connection; false if it stays open. Then the lock descriptor must stay open
    /// too, since closing it would drop SQLite's POSIX locks (see `StateFileLock`).
    private static func closeDatabase(_ database: DatabaseQueue?) -> Bool {
        guard let database else { return true }
        do {
            try database.close()
            return true
        } catch {
            return false
        }
    }

    // MARK: - Enqueue

    /// One transaction. Idempotent on playKey: rows already present (any state) are not touched.
    ///
    /// Unlike the settles, this commit is synced to disk before it returns (`synchronous = FULL` for
    /// this one transaction): once `import` starts sending, a power loss cannot take the plays away.
    ///
    /// Into an empty state (the first `import`), the plays are staged: written packed, a page of plays
    /// to a row (`StagedPlan`), which `claim` unpacks as delivery needs them. A 200,000-play plan costs a
    /// few hundred page writes instead of 200,000 rows in four B-trees. Otherwise (a second import
    /// into the same state, or a plan that names a play twice) every play is written as a row here,
    /// compared by play key with the rows and pages already held. List writes are always rows.
    public func enqueue(_ entries: [QueueEntry]) throws -> EnqueueSummary {
        let distinct = !entries.isEmpty && Self.playKeysAreDistinct(entries)
        return try writeDurably(freshPages: { db in try distinct && StagedPlan.stateIsEmpty(db) }) { db in
            let added: Int
            // Checked again inside the transaction; only this connection writes (the flock), so it holds.
            if distinct, try StagedPlan.stateIsEmpty(db) {
                let plays = entries.filter { $0.lane == 0 }
                var pages = PlanPages()
                for index in Self.sendOrder(plays) { pages.append(play: plays[index].outgoing.play!, title: plays[index].title) }
                try StagedPlan.stage(pages, into: db)
                let lists = entries.filter { $0.lane == 1 }
                added = plays.count + (try Self.insertRows(lists, order: Self.sendOrder(lists), into: db, skipPresent: false))
            } else {
                try StagedPlan.unpackAll(db)
                added = try Self.insertRows(entries, order: Self.sendOrder(entries), into: db, skipPresent: true)
            }
            try Self.countPending(added, in: db)
            return EnqueueSummary(added: added, alreadyQueued: entries.count - added)
        }
    }

    /// Plays per staged page: a maker of `PlanPages` that splits a plan into parts (one per core) cuts
    /// it at multiples of this, so that every page but the last is full.
    public static var stagedPageSize: Int { StagedPlan.pageSize }

    /// `enqueue` of a plan its maker writes part by part while it is saved: `write` hands each part (plays
    /// in send order, after those of the parts before) to the function it is given, as soon as it is
    /// made, so that a large plan is never in memory as pages all at once; `lists` are the plan's list
    /// writes (rows). Into an empty state the parts are staged as they come, in the one durable
    /// transaction. Otherwise (a state that holds a plan already, plays out of send order, two play
    /// keys with one hash value) nothing is kept of them and `write` is called again: its plays, read
    /// back as entries, are enqueued with `lists` as any other list (sorted, keys compared, rows when
    /// the state already holds a plan).
    public func enqueue(parts write: (_ save: (PlanPages) throws -> Void) throws -> Void,
                        lists: [QueueEntry] = []) throws -> EnqueueSummary {
        let listsDistinct = Self.playKeysAreDistinct(lists)
        let staged = try writeDurably(freshPages: { db in try StagedPlan.stateIsEmpty(db) }) { db -> Int? in
            guard listsDistinct, try StagedPlan.stateIsEmpty(db) else { return nil }
            var continuity = PlanPages.Continuity()
            var count = 0
            var stageable = true
            try write { part in
                guard stageable, continuity.accepts(part) else {
                    stageable = false
                    return
                }
                try StagedPlan.stage(part, into: db)
                count += part.count
            }
            guard stageable, count + lists.count > 0 else {
                // Committed as nothing: the pages written so far go with the same transaction.
                try db.execute(sql: "DELETE FROM staged_page")
                return nil
            }
            count += try Self.insertRows(lists, order: Self.sendOrder(lists), into: db, skipPresent: false)
            try Self.countPending(count, in: db)
            return count
        }
        if let staged { return EnqueueSummary(added: staged, alreadyQueued: 0) }
        var parts: [PlanPages] = []
        try write { parts.append($0) }
        return try enqueue(parts.flatMap { try $0.entries() } + lists)
    }

    /// Plays added as pending (rows or staged): no trigger counts an insert, so the enqueue does.
    private static func countPending(_ added: Int, in db: Database) throws {
        try db.execute(sql: "UPDATE state_count SET items = items + ? WHERE state = 'pending'", arguments: [added])
    }

    static func playKeysAreDistinct(_ entries: [QueueEntry]) -> Bool {
        // Hash values first (a set of integers is a fraction of the cost of a set of strings); only
        // when two collide are the keys themselves compared.
        var hashes = Set<Int>(minimumCapacity: entries.count)
        if entries.allSatisfy({ hashes.insert($0.playKey.hashValue).inserted }) {
            return true
        }
        var seen = Set<String>(minimumCapacity: entries.count)
        return entries.allSatisfy { seen.insert($0.playKey).inserted }
    }

    /// Inserts `entries` in the order `order` gives, as pending rows; returns how many were added. With
    /// `skipPresent`, a play key already held is left alone (not counted); without, it is an error.
    /// The caller counts the added rows in `state_count`.
    static func insertRows(_ entries: [QueueEntry], order: some Collection<Int>, into db: Database,
                           skipPresent: Bool) throws -> Int {
        // Rows go in `insertBatch` at a time: one statement per batch instead of per row saves
        // SQLite's per-statement work (cursors opened and closed, the statement's end), about a
        // fifth of the enqueue. The same rows, the same order, the same one transaction.
        let batch = try db.cachedStatement(sql: Self.insertSQL(rows: Self.insertBatch, skipPresent: skipPresent))
        let single = try db.cachedStatement(sql: Self.insertSQL(rows: 1, skipPresent: skipPresent))
        var added = 0
        var values: [(any DatabaseValueConvertible)?] = []
        values.reserveCapacity(Self.insertBatch * ItemColumns.insertCount)
        var rest = order[...]
        // Inserting in send order turns the send-order index's inserts into appends. A stable sort
        // keeps entries with the same sortAt in their given order, so the rowid tie-break is unchanged.
        while !rest.isEmpty {
            let rows = rest.count >= Self.insertBatch ? Self.insertBatch : 1
            values.removeAll(keepingCapacity: true)
            for index in rest.prefix(rows) {
                ItemColumns.append(entries[index], to: &values)
            }
            let statement = rows == Self.insertBatch ? batch : single
            statement.setUncheckedArguments(StatementArguments(values))
            try statement.execute()
            added += db.changesCount
            rest = rest.dropFirst(rows)
        }
        return added
    }

    /// Rows per INSERT statement in `enqueue` (11 values each, well under SQLite's 32,766 variables).
    static let insertBatch = 64

    static func insertSQL(rows: Int, skipPresent: Bool) -> String {
        "INSERT INTO item (\(ItemColumns.insertNames)) VALUES "
            + Array(repeating: "(" + Array(repeating: "?", count: ItemColumns.insertCount).joined(separator: ", ") + ")",
                    count: rows).joined(separator: ", ")
            + (skipPresent ? " ON CONFLICT (play_key) DO NOTHING" : "")
    }

    /// Indices of `entries` in send order: plays before list writes, then nil dates first, then by
    /// date, equal dates in given order.
    static func sendOrder(_ entries: [QueueEntry]) -> [Int] {
        // Sorting plain integers keeps this cheap even in debug builds (no struct copies).
        let dates = entries.map { $0.sortAt }
        let lanes = entries.map { $0.lane }
        func before(_ a: Int, _ b: Int) -> Bool {
            if lanes[a] != lanes[b] { return lanes[a] < lanes[b] }
            switch (dates[a], dates[b]) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return true
            case (_?, nil): return false
            default: return a < b
            }
        }
        // The planner hands its items over in send order already: then there is nothing to sort.
        if dates.indices.dropFirst().allSatisfy({ !before($0, $0 - 1) }) {
            return Array(dates.indices)
        }
        return dates.indices.sorted(by: before)
    }

    // MARK: - Claim

    /// A pending play is the head of its key when no pending play of the same key comes before it
    /// in send order; only heads whose key has nothing in flight may be sent.
    static let sendableHead = """
        p.id = (SELECT q.id FROM item AS q WHERE q.item_key = p.item_key AND q.state = 'pending'
                ORDER BY q.sort_at, q.id LIMIT 1)
        AND NOT EXISTS (SELECT 1 FROM item AS f WHERE f.item_key = p.item_key AND f.state = 'in-flight')
        """

    /// SQLite sorts NULL before any number, which is the order we want for unknown dates.
    /// The unary + keeps the planner on the send-order index (the not_before one would need a sort).
    static let claimSQL = """
        SELECT p.id, p.title, p.attempts, p.uncertain, p.sent_at, p.claimed_at, \(ItemColumns.outgoingNames) FROM item AS p
        WHERE p.state = 'pending' AND +p.not_before <= ? AND \(ImportQueue.sendableHead)
        ORDER BY p.lane, p.sort_at, p.id
        LIMIT ?
        """

    /// Where `claimSQL`'s `ItemColumns.outgoingNames` start (the first is `list`).
    static let claimOutgoingColumn = 6

    /// One transaction: picks up to `max` pending items whose notBefore <= nowMs, in send order
    /// (sortAt NULLs first, then sortAt, then insertion order), skipping any item whose itemKey has an
    /// earlier unsettled (pending or in-flight) play or any in-flight play; marks them in-flight and
    /// records `nowMs` as their claim time (the caller sends right after claiming: a kill then leaves a
    /// row whose send began at about that moment).
    public func claim(max: Int, nowMs: Int64) throws -> [QueuedItem] {
        guard max > 0 else { return [] }
        return try write { db in
            let claimable = try db.cachedStatement(sql: Self.claimSQL)
            var rows = try Row.fetchAll(claimable, arguments: [nowMs, max])
            // Too few among the rows, or a list write among them (every play, staged ones included, comes
            // before it): the next staged page may hold plays that come first (see StagedPlan).
            while rows.count < max || rows.contains(where: { ($0[Self.claimOutgoingColumn] as String?) != nil }),
                  try StagedPlan.unpackNextPage(db) > 0 {
                rows = try Row.fetchAll(claimable, arguments: [nowMs, max])
            }
            let markInFlight = try db.cachedStatement(sql: "UPDATE item SET state = 'in-flight', claimed_at = ? WHERE id = ?")
            return try rows.map { row in
                let uncertain: Int = row[3]
                let item = QueuedItem(
                    id: row[0], outgoing: try ItemColumns.outgoing(row, at: Self.claimOutgoingColumn), title: row[1], attempts: row[2],
                    uncertain: uncertain == 1, sentAtMs: row[4], lastSendMs: row[5])
                try markInFlight.execute(arguments: [nowMs, item.id])
                return item
            }
        }
    }

    /// Two cheap probes instead of one scan: a fresh head ready now (0), else the earliest backoff.
    static let nextReadySQL = """
        SELECT min(ready) FROM (
            SELECT * FROM (
                SELECT p.not_before AS ready FROM item AS p
                WHERE p.state = 'pending' AND p.not_before = 0 AND \(ImportQueue.sendableHead)
                ORDER BY p.lane, p.sort_at, p.id LIMIT 1)
            UNION ALL
            SELECT * FROM (
                SELECT p.not_before AS ready FROM item AS p
                WHERE p.state = 'pending' AND p.not_before > 0 AND \(ImportQueue.sendableHead)
                ORDER BY p.not_before LIMIT 1))
        """

    /// Earliest notBefore among pending items that are blocked only by backoff (nil if none pending).
    ///
    /// Precisely: the smallest notBefore among pending plays that `claim` would hand out once that
    /// time has come (the first pending play of a key with nothing in flight). It may lie in the
    /// past: then something is claimable now. Nil when nothing pending can become ready by waiting
    /// alone (nothing pending, or every pending key waits for a play in flight to settle).
    public func nextReadyAt() throws -> Int64? {
        // One read when nothing is staged (the usual case) or something is ready now: nothing is
        // sooner than "now" (0). Anything else may be beaten by a play still staged.
        let (next, staged) = try read { db in
            try (Int64.fetchOne(db.cachedStatement(sql: Self.nextReadySQL)), StagedPlan.hasPages(db))
        }
        guard staged, next != 0 else { return next }
        return try write { db in
            var next = try Int64.fetchOne(db.cachedStatement(sql: Self.nextReadySQL))
            while next != 0, try StagedPlan.unpackNextPage(db) > 0 {
                next = try Int64.fetchOne(db.cachedStatement(sql: Self.nextReadySQL))
            }
            return next
        }
    }

    // MARK: - Settle

    /// Applies `batch`'s changes in order, in one transaction: all of them or, on any error (an item
    /// that is not in flight: `QueueError.notInFlight`), none. The delivery driver settles the answers
    /// that came back together this way, one commit instead of one each.
    public func settle(_ batch: SettleBatch) throws {
        guard !batch.changes.isEmpty else { return }
        try write { db in
            for change in batch.changes {
                try db.cachedStatement(sql: change.sql).execute(arguments: change.arguments)
                if change.mustBeInFlight && db.changesCount == 0 {
                    throw QueueError.notInFlight(id: change.id)
                }
            }
        }
    }

    /// Failed -> pending, attempts reset to 0, no backoff; returns how many.
    public func retryFailed() throws -> Int {
        try write { db in
            try db.execute(sql: "UPDATE item SET state = 'pending', attempts = 0, not_before = 0 WHERE state = 'failed'")
            return db.changesCount
        }
    }

    // MARK: - Reading

    /// Every item's: plays and list writes.
    public func counts() throws -> StateCounts {
        try read { db in try Self.readCounts(db) }
    }

    /// The counts of `state_count`; `other` gets the items of states this version does not name.
    static func readCounts(_ db: Database, other: ((String, Int) -> Void)? = nil) throws -> StateCounts {
        var counts = StateCounts()
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT state, items, already_present FROM state_count")) {
            let items: Int = row[1]
            switch ItemState(rawValue: row[0]) {
            case .pending: counts.pending = items
            case .inFlight: counts.inFlight = items
            case .delivered: counts.delivered = items; counts.alreadyPresent = row[2]
            case .failed: counts.failed = items
            case nil: other?(row[0], items)
            }
        }
        return counts
    }

    /// The plays' counts, list writes left out (`listCounts` has those).
    public func playCounts() throws -> StateCounts {
        try read { db in try Self.readCounts(db).playsOnly(Self.listCounts(db)) }
    }

    /// List writes by list and state (all of them are rows: list writes are never staged).
    public func listCounts() throws -> ListWriteCounts {
        try read { db in try Self.listCounts(db) }
    }

    static func listCounts(_ db: Database) throws -> ListWriteCounts {
        var counts = ListWriteCounts()
        for row in try Row.fetchAll(db.cachedStatement(sql: ListWriteCounts.sql)) {
            counts.add(list: row[0], state: row[1], count: row[2], moved: row[3], alreadyPresent: row[4])
        }
        return counts
    }

    /// Items whose last send may have been stored and that are not settled yet (pending or in flight):
    /// each is read back before it is sent again.
    public func uncertainCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM item WHERE uncertain = 1")) ?? 0
        }
    }

    /// The latest backoff of a pending uncertain item (ms since 1970): when the last read-back an
    /// earlier run scheduled becomes due. Nil when none waits.
    public func latestUncertainDueAt() throws -> Int64? {
        try read { db in
            try Int64.fetchOne(db.cachedStatement(sql: """
                SELECT max(not_before) FROM item WHERE uncertain = 1 AND state = 'pending'
                """))
        }
    }

    /// Failed items in send order; `limit` nil for all of them.
    public func failures(limit: Int?) throws -> [FailureRecord] {
        if let limit, limit <= 0 { return [] }
        return try read { db in try Self.failures(db, limit: limit) }
    }

    static func failures(_ db: Database, limit: Int?) throws -> [FailureRecord] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT title, attempts, last_status, last_message, \(ItemColumns.outgoingNames) FROM item
            WHERE state = 'failed' ORDER BY lane, sort_at, id LIMIT ?
            """), arguments: [limit ?? -1]).map { row in
            FailureRecord(outgoing: try ItemColumns.outgoing(row, at: 4), title: row[0], attempts: row[1],
                          lastStatus: row[2], lastMessage: row[3])
        }
    }

    // MARK: - Meta

    /// Stores a small value (for example the export's identity) under `key`; replaces an older value.
    public func setMeta(_ key: String, _ value: String) throws {
        try write { db in try Self.storeMeta(key, value, in: db) }
    }

    /// `setMeta` inside a transaction of the caller's.
    static func storeMeta(_ key: String, _ value: String, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, arguments: [key, value])
    }

    public func meta(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    // MARK: - Access

    /// Runs `body` in one write transaction: committed whole, or rolled back whole on any error.
    func write<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try withDatabase { database in try database.write(body) }
    }

    /// `write` with the commit synced to disk (WAL + `synchronous = FULL` fsyncs the WAL at commit).
    ///
    /// `freshPages`: the transaction writes mostly new pages (a plan staged into an empty state). It
    /// then runs in rollback-journal mode, back to WAL after the commit: the journal keeps a copy of
    /// the pages that existed before (a handful), new pages are written once, into the file, where WAL
    /// would write them twice (into the WAL, then into the file at the checkpoint), about 70 MB each
    /// for 200,000 plays. The commit is as atomic and as durable (FULL: the journal is synced before
    /// the file is written, the file before the journal is deleted); a kill leaves a hot journal that
    /// SQLite rolls back when the file is next opened. If the switch is refused (a reader of another
    /// process has the WAL open), the transaction runs in WAL mode as usual.
    func writeDurably<T: Sendable>(freshPages: (Database) throws -> Bool = { _ in false },
                                   _ body: (Database) throws -> T) throws -> T {
        try withDatabase { database in
            try database.writeWithoutTransaction { db in
                var rollbackJournal = false
                if try freshPages(db) {
                    rollbackJournal = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")?.lowercased() == "delete"
                }
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                do {
                    try db.inTransaction {
                        result = try body(db)
                        return .commit
                    }
                } catch {
                    if rollbackJournal { _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
                    throw error
                }
                if rollbackJournal {
                    let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                    guard mode?.lowercased() == "wal" else {
                        throw QueueError.storage(path: path, reason: "the plan is saved, but sqlite could not switch the file "
                            + "back to WAL mode (\(mode ?? "no answer")): close any other program that has it open")
                    }
                }
                return result!
            }
        }
    }

    func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try withDatabase { database in try database.read(body) }
    }

    func withDatabase<T: Sendable>(_ body: (DatabaseQueue) throws -> T) throws -> T {
        try connection.withLock { connection in
            guard let open = connection else { throw QueueError.closed(path: path) }
            do {
                return try body(open.database)
            } catch {
                throw QueueError.from(error, path: path)
            }
        }
    }
}

/// Opens the queue at `path`, runs `body`, and closes the queue whatever happens.
public func withQueue<T>(at path: String, _ body: (ImportQueue) throws -> T) throws -> T {
    let queue = try ImportQueue.open(path: path)
    defer { queue.close() }
    return try body(queue)
}

/// Opens the queue at `path`, runs `body`, and closes the queue whatever happens.
public func withQueue<T>(at path: String, _ body: (ImportQueue) async throws -> T) async throws -> T {
    let queue = try ImportQueue.open(path: path)
    defer { queue.close() }
    return try await body(queue)
}
