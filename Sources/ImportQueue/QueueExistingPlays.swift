import GRDB

// The queue's side of the existing-history check (`--existing check`, importer.md section 5): which
// plays the state holds, and marking the plays a profile already has as delivered `alreadyPresent`,
// by play key, all of them in one transaction.
extension ImportQueue {
    /// The message kept with a play the existing-history check found (`status` shows it).
    public static let foundInProfileMessage = "already in the profile's history (existing-history check): not sent"

    /// Which of `playKeys` the state holds, in any state. One read; meant for a page of history (50).
    public func heldPlays(_ playKeys: [String]) throws -> Set<String> {
        guard !playKeys.isEmpty else { return [] }
        // The check needs every play as a row: a staged plan is unpacked once, the first time.
        if try read({ db in try StagedPlan.hasPages(db) }) {
            try write { db in try StagedPlan.unpackAll(db) }
        }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM item WHERE play_key = ?")
            var held = Set<String>()
            for key in playKeys where !held.contains(key) {
                if try Int.fetchOne(statement, arguments: [key]) != nil { held.insert(key) }
            }
            return held
        }
    }

    /// Marks every play of `playKeys` that is still to be sent (pending; delivered and failed plays are
    /// settled and left as they are) as delivered and
    /// `alreadyPresent`, without counting an attempt, and stores `meta` (the record that the check
    /// was done; its value is made from the number marked), all in one transaction: a run killed meanwhile leaves either none of it or all of
    /// it. Keys the state does not hold, or holds settled, are ignored. Returns how many were marked.
    ///
    /// One indexed update per key (the play key is unique), in one transaction: a 20,000-play
    /// profile costs one commit, not 20,000.
    public func markAlreadyPresent(playKeys: some Sequence<String>, meta: (key: String, value: @Sendable (Int) -> String)?) throws -> Int {
        let playKeys = Array(playKeys)
        return try write { db in
            if !playKeys.isEmpty {
                try StagedPlan.unpackAll(db)  // the plays to mark may be staged
            }
            let statement = try db.cachedStatement(sql: """
                UPDATE item SET state = 'delivered', already_present = 1, last_status = NULL, last_message = ?,
                    not_before = 0
                WHERE play_key = ? AND state = 'pending'
                """)
            var marked = 0
            for key in playKeys {
                try statement.execute(arguments: [Self.foundInProfileMessage, key])
                marked += db.changesCount
            }
            if let meta {
                try Self.storeMeta(meta.key, meta.value(marked), in: db)
            }
            return marked
        }
    }
}
