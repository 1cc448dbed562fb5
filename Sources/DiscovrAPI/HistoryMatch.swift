/// A play the importer sent (or may have sent), looked for in history read back from
/// `GET /profile/history/{mediaId}` (`importer.md` section 5): the same media id (in either form),
/// season and episode, `imported: "trakt"`, and the same `updatedAt` to the millisecond. A play sent
/// without `updatedAt` gets the server's "now" as its date, so it can only be recognised by when it
/// was created: an entry created while the send was under way.
extension HistoryItem {
    /// Whether `entry` is this play. `createdWithinMs` (ms since 1970, both ends included) is when the
    /// send may have been stored: it is what a play without `updatedAt` is matched by, and such a play
    /// never matches without it. `anyImport` leaves `imported` out of the match: for a play the
    /// existing-history check found (it matched the entry whatever its `imported`).
    public func isMatched(by entry: HistoryEntry, createdWithinMs: ClosedRange<Int64>?, anyImport: Bool = false) -> Bool {
        guard entry.mediaId == mediaId, entry.season == season, entry.episode == episode,
              anyImport || entry.imported == imported else { return false }
        if let updatedAt {
            return entry.updatedAt?.millisecondsSince1970 == updatedAt.millisecondsSince1970
        }
        guard let window = createdWithinMs, let created = entry.createdAt?.millisecondsSince1970 else { return false }
        return window.contains(created)
    }
}

extension HistoryItem {
    /// Reads a POST body as state files before schema v4 kept it (`jsonBody`, the media id in either
    /// form): `status` reads such a file without migrating it. Nil when it is not such a body.
    public init?(queuedBody body: String) {
        guard let object = (try? JSONParser.parse(Array(body.utf8)))?.objectValue,
              let id = object["mediaId"]?.stringValue, let parsed = MediaID.parse(id) else { return nil }
        var updatedAt: Timestamp?
        if let text = object["updatedAt"]?.stringValue {
            guard let date = Timestamp(iso8601: text) else { return nil }
            updatedAt = date
        }
        self.init(mediaId: parsed.id, season: object.int32("season"), episode: object.int32("episode"),
                  progress: object["progress"]?.doubleValue ?? 100, updatedAt: updatedAt,
                  imported: object["imported"]?.stringValue ?? HistoryItem.importSource)
    }
}
