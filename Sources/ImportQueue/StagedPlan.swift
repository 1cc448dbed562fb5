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

    /// Writes `entries` in the order `order` gives, as pages. The caller has checked that the state is
    /// empty and that no play key appears twice.
    static func stage(_ entries: [QueueEntry], order: [Int], into db: Database) throws {
        var pages = PlanPages()
        for index in order { pages.append(entries[index]) }
        try stage(pages, into: db)
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
        return (id, try bytes.withUnsafeBytes { try decode($0, count: row[1], page: id) })
    }

    // MARK: - Page format

    // Per play: one flag byte (1: a date follows), the date (ms since 1970, 8 bytes little-endian) if
    // any, then play key, item key, body and title, each as a 4-byte little-endian length and its UTF-8
    // (written by `PlanPages.append`).

    static func decode(_ raw: UnsafeRawBufferPointer, count: Int, page: Int64) throws -> [QueueEntry] {
        var at = 0
        func damaged() -> DatabaseError {
            DatabaseError(resultCode: .SQLITE_CORRUPT, message: "staged page \(page) of the plan cannot be read")
        }
        func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, raw.count - at >= n else { throw damaged() }
            defer { at += n }
            return UnsafeRawBufferPointer(rebasing: raw[at..<at + n])
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let bytes = try take(MemoryLayout<T>.size)
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: bytes) }
            return T(littleEndian: value)
        }
        func text() throws -> String {
            let length = Int(try integer(UInt32.self))
            return String(decoding: try take(length), as: UTF8.self)
        }
        var entries: [QueueEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard raw.count - at >= 1 else { throw damaged() }
            let flag = raw[at]
            at += 1
            var sortAt: Int64?
            switch flag {
            case 0: sortAt = nil
            case 1: sortAt = try integer(Int64.self)
            default: throw damaged()
            }
            let playKey = try text(), itemKey = try text(), body = try text(), title = try text()
            entries.append(QueueEntry(playKey: playKey, itemKey: itemKey, body: body, sortAt: sortAt, title: title))
        }
        guard at == raw.count else { throw damaged() }
        return entries
    }
}

/// A plan written as staged pages by its maker, play by play, in send order: the queue's rows as bytes,
/// without a `QueueEntry` (four strings) per play. Parts made separately (on several cores) are handed
/// to `ImportQueue.enqueue(parts:)` in order, which stages them as they are when the state is empty,
/// the plays are in send order and their play keys are distinct (checked by `Continuity` from what was
/// appended); otherwise it reads them back as entries and takes the entries path.
public struct PlanPages: Sendable {
    // Pages are filled to `StagedPlan.pageSize` plays; a part's last page may hold fewer.
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
    /// The hash value of each play key: distinct hash values mean distinct keys.
    private(set) var keyHashes: [Int] = []

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Appends one play; the byte ranges are copied. `title` is the human label (see `QueueEntry`).
    public mutating func append(sortAt: Int64?, playKey: UnsafeRawBufferPointer, itemKey: UnsafeRawBufferPointer,
                                body: UnsafeRawBufferPointer, title: UnsafeRawBufferPointer) {
        if pages.last.map({ $0.count >= StagedPlan.pageSize }) ?? true {
            var page = Page()
            page.bytes.reserveCapacity(StagedPlan.pageSize * 256)
            pages.append(page)
        }
        if let last, !Self.inOrder(last, sortAt) { inSendOrder = false }
        if first == nil { first = .some(sortAt) }
        last = .some(sortAt)
        var hasher = Hasher()
        hasher.combine(bytes: playKey)
        keyHashes.append(hasher.finalize())
        let at = pages.count - 1
        pages[at].count += 1
        Self.write(sortAt: sortAt, into: &pages[at].bytes)
        Self.write(playKey, into: &pages[at].bytes)
        Self.write(itemKey, into: &pages[at].bytes)
        Self.write(body, into: &pages[at].bytes)
        Self.write(title, into: &pages[at].bytes)
        count += 1
    }

    /// Appends an entry as its strings' UTF-8.
    public mutating func append(_ entry: QueueEntry) {
        var entry = entry
        entry.playKey.withUTF8 { playKey in
            entry.itemKey.withUTF8 { itemKey in
                entry.body.withUTF8 { body in
                    entry.title.withUTF8 { title in
                        append(sortAt: entry.sortAt, playKey: UnsafeRawBufferPointer(playKey), itemKey: UnsafeRawBufferPointer(itemKey),
                               body: UnsafeRawBufferPointer(body), title: UnsafeRawBufferPointer(title))
                    }
                }
            }
        }
    }

    /// Whether parts handed over one after the other (`ImportQueue.enqueue(parts:)`) are, together, in
    /// send order with distinct play-key hash values (so no two plays share a play key; when two hash
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

    /// The plays as entries, in the order appended.
    func entries() throws -> [QueueEntry] {
        var entries: [QueueEntry] = []
        entries.reserveCapacity(count)
        for (n, page) in pages.enumerated() {
            entries += try page.bytes.withUnsafeBytes { try StagedPlan.decode($0, count: page.count, page: Int64(n + 1)) }
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

    private static func write(sortAt: Int64?, into bytes: inout [UInt8]) {
        if let sortAt {
            bytes.append(1)
            withUnsafeBytes(of: sortAt.littleEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(0)
        }
    }

    private static func write(_ field: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(field.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: field)
    }
}
