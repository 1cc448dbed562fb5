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
        let insert = try db.cachedStatement(sql: "INSERT INTO staged_page (items, rows) VALUES (?, ?)")
        var page = [UInt8]()
        var start = 0
        while start < order.count {
            let end = min(order.count, start + pageSize)
            page.removeAll(keepingCapacity: true)
            for index in order[start..<end] {
                encode(entries[index], into: &page)
            }
            try insert.execute(arguments: [end - start, Data(page)])
            start = end
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
        return (id, try decode(bytes, count: row[1], page: id))
    }

    // MARK: - Page format

    // Per play: one flag byte (1: a date follows), the date (ms since 1970, 8 bytes little-endian) if
    // any, then play key, item key, body and title, each as a 4-byte little-endian length and its UTF-8.

    static func encode(_ entry: QueueEntry, into page: inout [UInt8]) {
        if let sortAt = entry.sortAt {
            page.append(1)
            withUnsafeBytes(of: sortAt.littleEndian) { page.append(contentsOf: $0) }
        } else {
            page.append(0)
        }
        func append(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { page.append(contentsOf: $0) }
                page.append(contentsOf: utf8)
            }
        }
        append(entry.playKey)
        append(entry.itemKey)
        append(entry.body)
        append(entry.title)
    }

    static func decode(_ bytes: Data, count: Int, page: Int64) throws -> [QueueEntry] {
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [QueueEntry] in
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
}
