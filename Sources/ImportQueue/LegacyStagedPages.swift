import Foundation
import GRDB

/// Staged pages of schema v3's format, read only by the `v4-typed-items` migration: it moves their plays
/// into v3's `item` table (with their bodies) before the table is rebuilt with typed columns.
///
/// Per play: one flag byte (1: a date follows), the date (ms since 1970, 8 bytes little-endian) if
/// any, then play key, item key, body and title, each as a 4-byte little-endian length and its UTF-8.
enum LegacyStagedPages {
    static func unpackAll(_ db: Database) throws {
        let insert = try db.makeStatement(sql: "INSERT INTO item (play_key, item_key, body, title, sort_at) VALUES (?, ?, ?, ?, ?)")
        for row in try Row.fetchAll(db, sql: "SELECT id, items, rows FROM staged_page ORDER BY id") {
            let id: Int64 = row[0]
            let bytes: Data = row[2]
            var reader = PageReader(bytes: [UInt8](bytes), page: id)
            for _ in 0..<(row[1] as Int) {
                let sortAt: Int64? = try reader.flag() ? reader.int64() : nil
                let playKey = try reader.text(), itemKey = try reader.text(), body = try reader.text(), title = try reader.text()
                try insert.execute(arguments: [playKey, itemKey, body, title, sortAt])
            }
            try reader.end()
        }
        try db.execute(sql: "DELETE FROM staged_page")
    }
}

/// Reads a staged page's bytes; any read past the end, or a byte that is not what was written, is a
/// damaged file.
struct PageReader {
    let bytes: [UInt8]
    let page: Int64
    var at = 0

    init(bytes: [UInt8], page: Int64) {
        self.bytes = bytes
        self.page = page
    }

    func damaged() -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_CORRUPT, message: "staged page \(page) of the plan cannot be read")
    }

    mutating func byte() throws -> UInt8 {
        guard at < bytes.count else { throw damaged() }
        defer { at += 1 }
        return bytes[at]
    }

    /// A byte that must be 0 or 1.
    mutating func flag() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw damaged()
        }
    }

    mutating func int64() throws -> Int64 {
        guard bytes.count - at >= 8 else { throw damaged() }
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[at + k]) << (8 * k) }
        at += 8
        return Int64(bitPattern: value)
    }

    mutating func text() throws -> String {
        guard bytes.count - at >= 4 else { throw damaged() }
        var length = 0
        for k in 0..<4 { length |= Int(bytes[at + k]) << (8 * k) }
        at += 4
        guard bytes.count - at >= length else { throw damaged() }
        defer { at += length }
        return String(decoding: bytes[at..<at + length], as: UTF8.self)
    }

    func end() throws {
        guard at == bytes.count else { throw damaged() }
    }
}
