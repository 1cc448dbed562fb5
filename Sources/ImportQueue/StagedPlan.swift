import DiscovrAPI
import Foundation
import GRDB

/// A plan saved in one go: when `enqueue` finds the state empty, the plan's rows are written packed,
/// `pageSize` to a row of `staged_page`, in send order, instead of one `item` row (and four B-tree
/// entries) each. `claim` unpacks the next page into `item` when the rows unpacked so far hold fewer
/// claimable plays than it was asked for, in its own transaction; so does every call that needs all
/// the plays as rows (a second enqueue, the existing-history check).
///
/// Why this gives the same answers as rows: pages are unpacked in send order and only into a state whose
/// rows all came from earlier pages, so the rows always hold a prefix of the send order. Whether a play
/// is the head of its key (no earlier pending play of the key, nothing of it in flight) depends only on
/// earlier plays, all of them rows; and every play still packed comes after every row. So the first
/// `max` claimable rows are the first `max` claimable plays of the whole plan, and when there are fewer,
/// unpacking more pages is all that can change the answer. The pending count includes packed plays
/// (`state_count` is raised when a plan is staged; unpacking inserts pending rows, which no trigger counts).
enum StagedPlan {
    /// Plays per page: a page is about 100 KB, unpacked in a few milliseconds.
    static let pageSize = 512

    /// True when `item` and `staged_page` are both empty: a plan enqueued now can be staged.
    static func stateIsEmpty(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT NOT EXISTS (SELECT 1 FROM item) AND NOT EXISTS (SELECT 1 FROM staged_page)
            """) ?? false
    }

    static func hasPages(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM staged_page)")) ?? false
    }

    /// Writes pages made by `PlanPages`. The caller has checked that the state is empty, that the plays
    /// are in send order and that no play key appears twice.
    static func stage(_ pages: PlanPages, into db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO staged_page (items, rows) VALUES (?, ?)")
        for page in pages.pages {
            try insert.execute(arguments: [page.count, page.bytes.withUnsafeBytes { Data($0) }])
        }
    }

    /// Moves the first page's plays into `item` as pending rows (same columns, same order) and deletes
    /// the page. Returns how many rows it added: 0 when nothing is staged.
    @discardableResult
    static func unpackNextPage(_ db: Database) throws -> Int {
        guard let (id, entries) = try firstPage(db) else { return 0 }
        _ = try ImportQueue.insertRows(entries, order: entries.indices, into: db, skipPresent: false)
        try db.cachedStatement(sql: "DELETE FROM staged_page WHERE id = ?").execute(arguments: [id])
        return entries.count
    }

    /// Unpacks every page: afterwards `item` holds the whole plan.
    static func unpackAll(_ db: Database) throws {
        while try unpackNextPage(db) > 0 {}
    }

    /// The first packed play, without unpacking it.
    static func firstEntry(_ db: Database) throws -> QueueEntry? {
        try firstPage(db)?.entries.first
    }

    /// The first page (in send order), decoded; nil when nothing is staged.
    private static func firstPage(_ db: Database) throws -> (id: Int64, entries: [QueueEntry])? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, items, rows FROM staged_page ORDER BY id LIMIT 1")) else {
            return nil
        }
        let id: Int64 = row[0]
        let bytes: Data = row[2]
        return (id, try decode([UInt8](bytes), count: row[1], page: id))
    }

    // MARK: - Page format

    // Per play: a flag byte (`Flag`), the date (ms since 1970, 8 bytes little-endian) if any, the tmdb
    // id (8 bytes), the season and episode (8 bytes each) if any, the progress (a Double's 8 bytes),
    // then the title as a 4-byte little-endian length and its UTF-8 (written by `PlanPages.append`).
    // Keys are not stored: they are made from these facts when a page is unpacked. Only plays are
    // staged: list writes (a few thousand) are rows from the start.

    enum Flag {
        static let dated: UInt8 = 1
        static let episode: UInt8 = 2
        static let show: UInt8 = 4
        static let all: UInt8 = 7
    }

    static func decode(_ bytes: [UInt8], count: Int, page: Int64) throws -> [QueueEntry] {
        var reader = PageReader(bytes: bytes, page: page)
        var entries: [QueueEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let flags = try reader.byte()
            guard flags & ~Flag.all == 0 else { throw reader.damaged() }
            let sortAt = flags & Flag.dated != 0 ? try reader.int64() : nil
            let tmdb = try reader.int64()
            guard tmdb > 0 else { throw reader.damaged() }
            let id = MediaID(kind: flags & Flag.show != 0 ? .show : .movie, tmdb: tmdb)
            var season: Int?, episode: Int?
            if flags & Flag.episode != 0 {
                season = Int(truncatingIfNeeded: try reader.int64())
                episode = Int(truncatingIfNeeded: try reader.int64())
            }
            let progress = Double(bitPattern: UInt64(bitPattern: try reader.int64()))
            let play = HistoryItem(mediaId: id, season: season, episode: episode, progress: progress,
                                   updatedAt: sortAt.map(Timestamp.init(millisecondsSince1970:)))
            entries.append(QueueEntry(play: play, title: try reader.text()))
        }
        try reader.end()
        return entries
    }
}

/// A plan's plays written as staged pages by its maker, play by play, in send order: the queue's rows
/// as bytes, without a `QueueEntry` per play. Parts made separately (on several cores) are handed to
/// `ImportQueue.enqueue(parts:)` in order, which stages them as they are when the state is empty, the
/// plays are in send order and their play keys are distinct (checked by `Continuity` from what was
/// appended); otherwise it reads them back as entries and takes the entries path.
public struct PlanPages: Sendable {
    // Pages are filled to `StagedPlan.pageSize` writes; a part's last page may hold fewer.
    struct Page: Sendable {
        var bytes: [UInt8] = []
        var count = 0
    }

    var pages: [Page] = []
    /// Plays appended so far.
    public private(set) var count = 0
    /// Every play's date is at or after the one before it (no date first): the send order.
    private(set) var inSendOrder = true
    /// The first and last play's dates, to check the order where parts meet (nil: no date).
    private var first: Int64??
    private var last: Int64??
    /// The hash value of each play key's facts: distinct hash values mean distinct keys.
    private(set) var keyHashes: [Int] = []

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Appends one play; `title` (the human label, see `QueueEntry`) is copied.
    public mutating func append(_ play: HistoryItem, title: UnsafeRawBufferPointer) {
        if pages.last.map({ $0.count >= StagedPlan.pageSize }) ?? true {
            var page = Page()
            page.bytes.reserveCapacity(StagedPlan.pageSize * 64)
            pages.append(page)
        }
        let sortAt = play.updatedAt?.millisecondsSince1970
        if let last, !Self.inOrder(last, sortAt) { inSendOrder = false }
        if first == nil { first = .some(sortAt) }
        last = .some(sortAt)
        keyHashes.append(Self.keyHash(play))
        let at = pages.count - 1
        pages[at].count += 1
        Self.write(play, title: title, into: &pages[at].bytes)
        count += 1
    }

    /// Appends a play's entry (a list write is never staged: `enqueue` keeps those as rows).
    mutating func append(play: HistoryItem, title: String) {
        var title = title
        title.withUTF8 { append(play, title: UnsafeRawBufferPointer($0)) }
    }

    /// Whether parts handed over one after the other (`ImportQueue.enqueue(parts:)`) are, together, in
    /// send order with distinct play-key hash values (so no two writes share a play key; when two hash
    /// values are equal the keys may still differ, and `enqueue` compares the keys themselves).
    struct Continuity {
        private var last: Int64??
        private var hashes = Set<Int>()

        mutating func accepts(_ part: PlanPages) -> Bool {
            guard part.inSendOrder else { return false }
            if let last, let first = part.first, !PlanPages.inOrder(last, first) { return false }
            for hash in part.keyHashes where !hashes.insert(hash).inserted { return false }
            if let end = part.last { last = end }
            return true
        }
    }

    /// The writes as entries, in the order appended.
    func entries() throws -> [QueueEntry] {
        var entries: [QueueEntry] = []
        entries.reserveCapacity(count)
        for (n, page) in pages.enumerated() {
            entries += try StagedPlan.decode(page.bytes, count: page.count, page: Int64(n + 1))
        }
        return entries
    }

    /// Send order: plays without a date first, then by date; equal dates keep the order given.
    private static func inOrder(_ earlier: Int64?, _ later: Int64?) -> Bool {
        switch (earlier, later) {
        case (nil, _): return true
        case (_?, nil): return false
        case let (a?, b?): return a <= b
        }
    }

    /// A hash of exactly what makes the play key (`HistoryItem.playKey`: media id, season, episode and
    /// date), without making the key's string.
    static func keyHash(_ play: HistoryItem) -> Int {
        var hasher = Hasher()
        hasher.combine(play.mediaId)
        hasher.combine(play.season)
        hasher.combine(play.episode)
        hasher.combine(play.updatedAt?.millisecondsSince1970)
        return hasher.finalize()
    }

    private static func write(_ play: HistoryItem, title: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        var flags: UInt8 = play.mediaId.kind == .show ? StagedPlan.Flag.show : 0
        if play.updatedAt != nil { flags |= StagedPlan.Flag.dated }
        if play.season != nil && play.episode != nil { flags |= StagedPlan.Flag.episode }
        bytes.append(flags)
        if let updatedAt = play.updatedAt { write(updatedAt.millisecondsSince1970, into: &bytes) }
        write(play.mediaId.tmdb, into: &bytes)
        if let season = play.season, let episode = play.episode {
            write(Int64(season), into: &bytes)
            write(Int64(episode), into: &bytes)
        }
        write(Int64(bitPattern: play.progress.bitPattern), into: &bytes)
        withUnsafeBytes(of: UInt32(title.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: title)
    }

    private static func write(_ value: Int64, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
