import DiscovrAPI
import GRDB

/// A play the state counts as in the profile (delivered, or found there already), as `verify` holds
/// it against the history read back (importer.md section 8).
public struct SettledPlay: Sendable, Equatable {
    public var id: Int64
    public var play: HistoryItem
    public var title: String
    /// When the earliest send that may have stored it began (ms since 1970): what a play sent without
    /// `updatedAt` is matched by. Nil when never recorded (a play found by the existing-history check).
    public var sentAtMs: Int64?
    /// Found in the profile before any send, by the existing-history check (which matched the entry
    /// whatever its `imported`), rather than delivered or found on a read-back.
    public var foundBeforeSending: Bool

    public init(id: Int64, play: HistoryItem, title: String, sentAtMs: Int64?, foundBeforeSending: Bool) {
        self.id = id
        self.play = play
        self.title = title
        self.sentAtMs = sentAtMs
        self.foundBeforeSending = foundBeforeSending
    }

    public var playKey: String { play.playKey }
    public var itemKey: String { play.itemKey }
}

extension ImportQueue {
    /// The message kept with a play `verify --requeue-missing` put back to pending (`status` shows it).
    public static let missingOnVerifyMessage = "not found in the profile's history by verify: to be sent again"


    /// Every delivered play (already present included), in send order. List writes are not plays: left out.
    public func settledPlays() throws -> [SettledPlay] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, title, coalesce(sent_at, claimed_at), already_present, last_message, \(ItemColumns.outgoingNames)
                FROM item WHERE state = 'delivered' AND lane = 0 ORDER BY sort_at, id
                """)).map { row in
                let alreadyPresent: Bool = row[3]
                let message: String? = row[4]
                return SettledPlay(id: row[0], play: try ItemColumns.play(row, at: 5), title: row[1], sentAtMs: row[2],
                                   foundBeforeSending: alreadyPresent && message == Self.foundInProfileMessage)
            }
        }
    }

    /// Puts delivered plays back to pending, certain and with no attempts counted, so that `resume`
    /// sends them again, and stores the verify's result, in one transaction. Ids not delivered are left
    /// alone. Returns how many were put back.
    public func requeueMissing(ids: [Int64], verifyRecord: String) throws -> Int {
        try write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE item SET state = 'pending', already_present = 0, attempts = 0, not_before = 0, uncertain = 0,
                    sent_at = NULL, last_status = NULL, last_message = ?, added = NULL, removed = NULL
                WHERE id = ? AND state = 'delivered'
                """)
            var moved = 0
            for id in ids {
                try statement.execute(arguments: [Self.missingOnVerifyMessage, id])
                moved += db.changesCount
            }
            try Self.storeMeta(StateMeta.lastVerify, verifyRecord, in: db)
            return moved
        }
    }
}
