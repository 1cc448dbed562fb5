#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The device and inode of a file: what identifies it whatever path (or symlink) names it.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(truncatingIfNeeded: info.st_dev)
        inode = UInt64(truncatingIfNeeded: info.st_ino)
    }
}

/// The exclusive advisory lock on the state file: `flock(LOCK_EX|LOCK_NB)` on a descriptor of the
/// database file itself, kept open until the queue is closed.
///
/// Why the database file and not a sibling `.lock` file: the lock then follows the file through
/// symlinks and hard links, and no extra file is left behind. The price is a POSIX rule: closing
/// *any* descriptor of a file drops every fcntl lock this process holds on it, SQLite's included.
/// Hence (1) the descriptor is closed only after SQLite has closed its connection, and (2) a second
/// opener in this process is refused from a registry of open files before it opens a descriptor of
/// its own (it would have to close that descriptor after failing to lock).
struct StateFileLock: Sendable {
    let descriptor: Int32
    let identity: FileIdentity

    /// Files that an `ImportQueue` of this process holds.
    private static let heldInProcess = Mutex<Set<FileIdentity>>([])

    /// Opens (creating it with mode 0600 if needed) and locks the file at `path`.
    static func acquire(path: String) throws(QueueError) -> StateFileLock {
        try heldInProcess.withLock { (held: inout Set<FileIdentity>) throws(QueueError) -> StateFileLock in
            var info = stat()
            if stat(path, &info) == 0, held.contains(FileIdentity(info)) {
                throw .inUse(path: path)
            }
            // O_CREAT with 0600 so the file never exists with wider permissions, even for a moment.
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0o600)
            guard descriptor >= 0 else {
                throw Self.openFailure(path: path, errno)
            }
            guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                close(descriptor)
                throw .cannotOpen(path: path, reason: "it is not a regular file: pass a file path with --state")
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(descriptor)
                if code == EWOULDBLOCK || code == EAGAIN {
                    throw .inUse(path: path)
                }
                throw .cannotOpen(path: path, reason: "it cannot be locked (\(Self.message(code))): "
                    + "put the state file on a local disk")
            }
            // An older file (or one made by another tool) may be readable by others: tighten it.
            Self.restrictToOwner(descriptor: descriptor, info: info)
            let identity = FileIdentity(info)
            held.insert(identity)
            return StateFileLock(descriptor: descriptor, identity: identity)
        }
    }

    /// Releases the lock. Call only after SQLite has closed the database (see the type's comment).
    func release() {
        Self.heldInProcess.withLock { held in
            // Unlock explicitly: a child process forked (not yet exec'd) at this moment shares the
            // open file description, and close() alone would leave the lock held until its exec.
            flock(descriptor, LOCK_UN)
            close(descriptor)
            held.remove(identity)
        }
    }

    /// Gives the -wal and -shm files next to the database mode 0600 too, when they exist.
    static func restrictSidecars(of path: String) {
        for suffix in ["-wal", "-shm", "-journal"] {
            var info = stat()
            let sidecar = path + suffix
            guard stat(sidecar, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if info.st_uid == geteuid(), info.st_mode & 0o777 != 0o600 {
                _ = chmod(sidecar, 0o600)
            }
        }
    }

    private static func restrictToOwner(descriptor: Int32, info: stat) {
        if info.st_uid == geteuid(), info.st_mode & 0o777 != 0o600 {
            _ = fchmod(descriptor, 0o600)
        }
    }

    /// A path that names no usable file is `cannotOpen` (exit 66 in the CLI); a file that exists, or
    /// could exist, but cannot be written is `storage` (exit 74), like a write that fails later.
    private static func openFailure(path: String, _ code: Int32) -> QueueError {
        switch code {
        case EISDIR:
            return .cannotOpen(path: path, reason: "it is a directory: pass a file path with --state")
        case ENOENT:
            return .cannotOpen(path: path, reason: "its folder does not exist: create the folder or pass another --state")
        case ENOTDIR:
            return .cannotOpen(path: path, reason: "a part of the path is not a folder: pass another --state")
        case EACCES, EPERM:
            return .storage(path: path, reason: "it cannot be written (permission denied): check the permissions "
                + "of the file and its folder, or pass another --state")
        case EROFS:
            return .storage(path: path, reason: "it cannot be written (the file system is read-only): "
                + "copy it to a writable disk and pass that --state")
        case ENOSPC, EDQUOT:
            return .storage(path: path, reason: "the disk is full: free some disk space")
        default:
            return .cannotOpen(path: path, reason: message(code) + ": pass another --state")
        }
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
