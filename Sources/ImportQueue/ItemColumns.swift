import DiscovrAPI
import GRDB

/// How an `Outgoing` is kept in an `item` row (schema v4): typed columns, no body. Every write of
/// rows and every read of them goes through here.
enum ItemColumns {
    /// The columns `insert` fills, in the order `append` gives their values.
    static let insertNames = "play_key, item_key, lane, list, media, tmdb, season, episode, progress, title, sort_at"
    static let insertCount = 11

    /// The values of `insertNames` for `entry`.
    static func append(_ entry: QueueEntry, to values: inout [(any DatabaseValueConvertible)?]) {
        let keys: (item: String, play: String)
        switch entry.outgoing {
        case .play(let play): keys = play.keys
        case .list(let list): keys = (list.itemKey, list.playKey)
        }
        values.append(keys.play)
        values.append(keys.item)
        values.append(entry.lane)
        let id = entry.outgoing.mediaId
        switch entry.outgoing {
        case .play(let play):
            values.append(nil as String?)
            values.append(id.kind.head)
            values.append(id.tmdb)
            values.append(play.season)
            values.append(play.episode)
            values.append(play.progress)
        case .list(let list):
            values.append(list.list.rawValue)
            values.append(id.kind.head)
            values.append(id.tmdb)
            values.append(nil as Int?)
            values.append(nil as Int?)
            values.append(nil as Double?)
        }
        values.append(entry.title)
        values.append(entry.sortAt)
    }

    /// The columns `outgoing(_:at:)` reads, from `at` on, in this order.
    static let outgoingNames = "list, media, tmdb, season, episode, progress, sort_at"

    /// The `Outgoing` of a row whose `outgoingNames` start at column `at`. The schema's checks make
    /// every stored row readable; a row that is not is reported as a damaged file.
    static func outgoing(_ row: Row, at start: Int) throws -> Outgoing {
        let list: String? = row[start]
        let head: String = row[start + 1]
        let tmdb: Int64 = row[start + 2]
        guard let kind = MediaID.Kind(head: head), tmdb > 0 else { throw damaged(row) }
        let id = MediaID(kind: kind, tmdb: tmdb)
        if let list {
            guard let list = DiscovrList(rawValue: list) else { throw damaged(row) }
            return .list(ListItem(list: list, mediaId: id))
        }
        let sortAt: Int64? = row[start + 6]
        let progress: Double? = row[start + 5]
        guard let progress else { throw damaged(row) }
        return .play(HistoryItem(mediaId: id, season: row[start + 3], episode: row[start + 4], progress: progress,
                                 updatedAt: sortAt.map(Timestamp.init(millisecondsSince1970:))))
    }

    /// `outgoing(_:at:)` of a row the query chose from lane 0 (plays).
    static func play(_ row: Row, at start: Int) throws -> HistoryItem {
        guard let play = try outgoing(row, at: start).play else { throw damaged(row) }
        return play
    }

    private static func damaged(_ row: Row) -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_CORRUPT, message: "a queued item cannot be read: \(row.description.prefix(200))")
    }
}
