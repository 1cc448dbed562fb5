import Delivery
import ImportQueue

/// What `status` shows. When no other process holds the state, it is opened as every command opens it
/// (the lock, migrations, rows a dead run left in flight put back to pending). When another process
/// holds it (an import or resume is running), status is not refused: it reads a snapshot through a
/// read-only connection instead, without the lock and without writing anything (importer.md section 2).
struct StatusView {
    /// The plays' (list writes are in `lists`).
    var counts: StateCounts
    /// Items in states this version's counts do not name (`uncertain`, ...), by state.
    var otherStates: [String: Int]
    var failures: [FailureRecord]
    var recoveredInFlight: Int
    /// Items not settled whose last send may have been stored: each is read back before it is sent again.
    var uncertain: Int
    /// Another process is delivering from the state: the counts are a read-only snapshot.
    var running: Bool
    /// The last `verify`'s result, nil when none ran on this state.
    var lastVerify: VerifyRecord?
    /// List writes (ratings, favorites, watchlist) by list and state.
    var lists: ListWriteCounts

    var total: Int { counts.total + otherStates.values.reduce(0, +) }

    static func read(_ path: String, failureLimit: Int?) throws -> StatusView {
        let queue: ImportQueue
        do {
            queue = try StateAccess.open(path, allowInUse: true)
        } catch StatusView.InUse.inUse {
            let snapshot = try ImportQueue.readSnapshot(path: path, failureLimit: failureLimit)
            return StatusView(counts: snapshot.counts.playsOnly(snapshot.lists), otherStates: snapshot.otherStates, failures: snapshot.failures,
                              recoveredInFlight: 0, uncertain: snapshot.uncertain, running: true,
                              lastVerify: VerifyRecord(json: snapshot.lastVerify), lists: snapshot.lists)
        }
        defer { queue.close() }
        return StatusView(counts: try queue.playCounts(), otherStates: [:],
                          failures: try queue.failures(limit: failureLimit),
                          recoveredInFlight: queue.recoveredInFlight, uncertain: try queue.uncertainCount(),
                          running: false, lastVerify: VerifyRecord(json: try queue.meta(StateMeta.lastVerify)),
                          lists: try queue.listCounts())
    }

    enum InUse: Error { case inUse }
}
