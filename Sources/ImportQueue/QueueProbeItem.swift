import DiscovrAPI
import GRDB

extension ImportQueue {
    /// The first pending play (in send order), for a read-only lookup before delivery (the media id
    /// form probe). Nil when no play is pending. (`open` has already put items a dead run left in flight
    /// back to pending.)
    public func firstUnsentPlay() throws -> HistoryItem? {
        // Staged plays all come after the rows in send order (see StagedPlan).
        try read { db in
            if let row = try Row.fetchOne(db, sql: """
                SELECT \(ItemColumns.outgoingNames) FROM item WHERE state = 'pending' AND lane = 0 ORDER BY sort_at, id LIMIT 1
                """) {
                return try ItemColumns.play(row, at: 0)
            }
            return try StagedPlan.firstEntry(db)?.outgoing.play
        }
    }
}
