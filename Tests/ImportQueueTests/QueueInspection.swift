import Foundation
import GRDB
@testable import ImportQueue

// Hooks for the tests that look inside the state file (through the queue's own connection).
extension ImportQueue {
    /// Runs SQL outside a transaction (pragmas such as `query_only` or `max_page_count` included),
    /// after unpacking a staged plan unless `unpacking` is false (see `inspectionRows`).
    func inspectionExecute(_ sql: String, unpacking: Bool = true) throws {
        try withDatabase { database in
            try database.writeWithoutTransaction { db in
                if unpacking { try Self.unpackForInspection(db) }
                try db.execute(sql: sql)
            }
        }
    }

    /// Unpacks a staged plan in its own transaction; begins none when nothing is staged (so that
    /// pragmas such as `query_only = 1` set by a test do not make it fail).
    private static func unpackForInspection(_ db: Database) throws {
        if try StagedPlan.hasPages(db) {
            try db.inTransaction { try StagedPlan.unpackAll(db); return .commit }
        }
    }

    /// The rows of a query, each column rendered as text (NULL as nil). By default a staged plan is
    /// unpacked first (a write), so that `item` holds every planned play, as the tests written before
    /// staging expect; `unpacking: false` looks at the file as it is.
    func inspectionRows(_ sql: String, arguments: [Int64] = [], unpacking: Bool = true) throws -> [[String?]] {
        if unpacking {
            try withDatabase { database in try database.writeWithoutTransaction(Self.unpackForInspection) }
        }
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                row.databaseValues.map { value in
                    switch value.storage {
                    case .null: return nil
                    case .int64(let n): return String(n)
                    case .double(let d): return String(d)
                    case .string(let s): return s
                    case .blob(let b): return "blob(\(b.count))"
                    }
                }
            }
        }
    }
}

extension ImportQueue {
    /// A state file as an older version left it, for the migration tests: the migrations up to and
    /// including `migration`, then `sql` (with `blob` bound to each `?`), with no lock and no recovery.
    static func makeOlderStateForTests(path: String, upTo migration: String, sql: [String], blob: [UInt8] = []) throws {
        let database = try DatabaseQueue(path: path)
        try QueueSchema.migrator.migrate(database, upTo: migration)
        try database.write { db in
            for statement in sql {
                try db.execute(sql: statement, arguments: statement.contains("?") ? [Data(blob)] : [])
            }
        }
        try database.close()
    }
}
