import GRDB

// Internal hooks for ImportQueueTests (`@testable import`), so the tests need not import GRDB.
extension ImportQueue {
    /// Runs SQL outside a transaction (pragmas such as `query_only` or `max_page_count` included).
    func inspectionExecute(_ sql: String) throws {
        try withDatabase { database in
            try database.writeWithoutTransaction { db in try db.execute(sql: sql) }
        }
    }

    /// The rows of a query, each column rendered as text (NULL as nil).
    func inspectionRows(_ sql: String, arguments: [Int64] = []) throws -> [[String?]] {
        try read { db in
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
