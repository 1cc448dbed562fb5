import GRDB

extension ImportQueue {
    /// The body of the first pending item (in send order), for a read-only lookup before delivery
    /// (the media id form probe). Nil when nothing is pending. (`open` has already put items a dead
    /// run left in flight back to pending.)
    public func firstUnsentBody() throws -> String? {
        // Staged plays all come after the rows in send order (see StagedPlan).
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT body FROM item WHERE state = 'pending' ORDER BY sort_at, id LIMIT 1
                """) ?? StagedPlan.firstEntry(db)?.body
        }
    }
}
