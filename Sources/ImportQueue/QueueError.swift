import GRDB

/// Everything that can go wrong with the state file. Messages are for a person: they say what to do.
public enum QueueError: Error, CustomStringConvertible, Equatable {
    /// Another process (or another `ImportQueue` in this process) holds the state file's lock.
    case inUse(path: String)
    /// The path cannot be opened as a file: a directory, a missing folder, a path through a file.
    case cannotOpen(path: String, reason: String)
    /// The file is not a trakt2discovr state database (not SQLite, another program's database,
    /// or a schema written by a newer trakt2discovr).
    case notAQueue(path: String)
    /// Reading or writing the database failed: disk full, read-only (file, folder or file system),
    /// no permission, I/O error. The transaction that failed was rolled back whole.
    case storage(path: String, reason: String)
    /// A settle call named an item that is not in flight (already settled or released): a bug in the caller.
    case notInFlight(id: Int64)
    /// The queue was used after `close()`: a bug in the caller.
    case closed(path: String)

    public var description: String {
        switch self {
        case .inUse(let path):
            return "another trakt2discovr is using the state file \(path): wait for it to finish, or pass another --state"
        case .cannotOpen(let path, let reason):
            return "cannot open the state file \(path): \(reason)"
        case .notAQueue(let path):
            return "\(path) is not a trakt2discovr state file (or was written by a newer trakt2discovr): "
                + "pass another --state, or upgrade trakt2discovr"
        case .storage(let path, let reason):
            return "the state file \(path) could not be used: \(reason)"
        case .notInFlight(let id):
            return "queue item \(id) is not in flight (already settled or released): this is a bug, please report it"
        case .closed(let path):
            return "the state file \(path) was used after it was closed: this is a bug, please report it"
        }
    }

    /// Turns any error from GRDB/SQLite into a `QueueError`. Reasons say how to fix the file, not which
    /// command to run next: that depends on what failed (a lost plan is imported again, a lost
    /// settle is resumed), which only the caller knows. SQLite only sees a path that the lock
    /// has already opened read-write, so a SQLITE_CANTOPEN (its -wal/-shm files cannot be created,
    /// say in a read-only folder) is a file that cannot be written: storage.
    static func from(_ error: any Error, path: String) -> QueueError {
        if let error = error as? QueueError { return error }
        guard let error = error as? DatabaseError else {
            return .storage(path: path, reason: "unexpected error (\(error))")
        }
        let detail = error.message.map { " (\($0))" } ?? ""
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return .notAQueue(path: path)
        case .SQLITE_FULL:
            return .storage(path: path, reason: "the disk is full\(detail): free some disk space")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return .storage(path: path, reason: "it cannot be written\(detail): check the permissions of the file, "
                + "its -wal/-shm files and its folder, and that the disk is not mounted read-only")
        case .SQLITE_IOERR where error.extendedResultCode == .SQLITE_IOERR_WRITE:
            // A write past a file-size limit (EFBIG) ends here too, not as SQLITE_FULL.
            return .storage(path: path, reason: "a write failed\(detail): check that the disk has free space "
                + "and that no file-size limit (ulimit -f) stops the file growing")
        case .SQLITE_IOERR:
            return .storage(path: path, reason: "an i/o error occurred\(detail): check the disk")
        case .SQLITE_CANTOPEN:
            return .storage(path: path, reason: "sqlite cannot open it or its -wal/-shm files\(detail): "
                + "check the permissions of the file and its folder, and that the disk is not mounted read-only")
        case .SQLITE_CORRUPT:
            return .storage(path: path, reason: "the database is damaged\(detail): keep a copy for a bug report and pass another --state")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .storage(path: path, reason: "another program (an sqlite3 shell?) holds a lock on it: close that program")
        case .SQLITE_NOMEM:
            return .storage(path: path, reason: "out of memory: close other programs")
        default:
            return .storage(path: path, reason: "unexpected database error \(error.extendedResultCode.rawValue)\(detail): please report it")
        }
    }
}
