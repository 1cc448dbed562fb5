import DiscovrAPI
import Foundation
import Synchronization
@testable import ImportQueue

/// A unique temporary folder for one test, removed by `withTemporaryFolder` when the test ends.
func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array((NSTemporaryDirectory() + "t2d-queue-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
    let folder = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try body(folder)
}

/// Opens a queue at a new file in a temporary folder, closes it and removes the folder afterwards.
func withNewQueue<T>(_ body: (ImportQueue, String) throws -> T) throws -> T {
    try withTemporaryFolder { folder throws in
        let path = folder + "/state.sqlite"
        let queue = try ImportQueue.open(path: path)
        defer { queue.close() }
        return try body(queue, path)
    }
}

/// Test names for media ids: `entry("a", 1)` is a movie whose tmdb id stands for "a", so that tests
/// can name plays `a@1` (`playKeys`, `realKey`) while the queue keeps real typed plays.
enum TestNames {
    private static let table = Mutex<(ids: [String: Int64], names: [Int64: String])>(([:], [:]))

    static func id(_ name: String) -> Int64 {
        table.withLock { table in
            if let id = table.ids[name] { return id }
            let id = Int64(table.ids.count + 1)
            table.ids[name] = id
            table.names[id] = name
            return id
        }
    }

    static func name(_ id: Int64) -> String {
        table.withLock { $0.names[id] } ?? "MV_TMDBID\(id)"
    }
}

/// A play of `key` at `at` (nil: unknown date), with a title derived from both.
func entry(_ key: String, _ at: Int64?) -> QueueEntry {
    QueueEntry(play: HistoryItem(mediaId: .movie(TestNames.id(key)), updatedAt: at.map(Timestamp.init(millisecondsSince1970:))),
               title: "title " + key + "@" + (at.map { String($0) } ?? "-"))
}

/// The test's name of a write: `a@1` for `entry("a", 1)`.
func testKey(_ outgoing: Outgoing) -> String {
    let date = outgoing.play?.updatedAt.map { String($0.millisecondsSince1970) } ?? "-"
    return TestNames.name(outgoing.mediaId.tmdb) + "@" + date
}

/// The queue's play key of the test name `a@1`.
func realKey(_ name: String) -> String {
    let parts = name.split(separator: "@", maxSplits: 1).map(String.init)
    let at = parts.count > 1 && parts[1] != "-" ? Int64(parts[1]) : nil
    return entry(parts[0], at).playKey
}

extension Array where Element == QueuedItem {
    var playKeys: [String] { map { testKey($0.outgoing) } }
}

/// The unix permission bits of a file, or nil if it does not exist.
func permissions(of path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int(info.st_mode & 0o777)
}

/// Runs `body` with a path through which `folder` cannot be written: a read-only bind mount when
/// root (file permissions do not stop root), else the folder and its files made read-only.
func withReadOnlyView<T>(of folder: String, _ body: (String) throws -> T) throws -> T {
    if geteuid() != 0 {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in files { chmod(folder + "/" + name, 0o400) }
        chmod(folder, 0o500)
        defer {
            chmod(folder, 0o700)
            for name in files { chmod(folder + "/" + name, 0o600) }
        }
        return try body(folder)
    }
    let view = folder + "-read-only"
    try FileManager.default.createDirectory(atPath: view, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: view) }
    guard shell("mount --bind '\(folder)' '\(view)'") == 0 else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSLocalizedDescriptionKey: "root, but mount --bind failed"])
    }
    defer { _ = shell("umount '\(view)'") }
    guard shell("mount -o remount,bind,ro '\(view)'") == 0 else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSLocalizedDescriptionKey: "root, but the read-only remount failed"])
    }
    return try body(view)
}

/// Runs a shell command quietly; returns its exit status.
func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command + " >/dev/null 2>&1"]
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// One change settled on its own: a `SettleBatch` of one (delivery settles whole batches).
extension ImportQueue {
    func markDelivered(id: Int64, status: Int, message: String?, added: String?, removed: String?,
                       alreadyPresent: Bool = false) throws {
        try settleOne { $0.markDelivered(id: id, status: status, message: message, added: added, removed: removed,
                                         alreadyPresent: alreadyPresent) }
    }

    func markRetry(id: Int64, status: Int?, message: String?, notBeforeMs: Int64, countAttempt: Bool,
                   clearUncertain: Bool = false) throws {
        try settleOne { $0.markRetry(id: id, status: status, message: message, notBeforeMs: notBeforeMs,
                                     countAttempt: countAttempt, clearUncertain: clearUncertain) }
    }

    func markUncertain(id: Int64, sentAtMs: Int64, notBeforeMs: Int64, countAttempt: Bool, status: Int? = nil,
                       message: String?) throws {
        try settleOne { $0.markUncertain(id: id, sentAtMs: sentAtMs, notBeforeMs: notBeforeMs, countAttempt: countAttempt,
                                         status: status, message: message) }
    }

    func noteSend(id: Int64, atMs: Int64) throws {
        try settleOne { $0.noteSend(id: id, atMs: atMs) }
    }

    func markFailed(id: Int64, status: Int?, message: String?) throws {
        try settleOne { $0.markFailed(id: id, status: status, message: message) }
    }

    func release(ids: [Int64]) throws {
        try settleOne { $0.release(ids: ids) }
    }

    private func settleOne(_ change: (inout SettleBatch) -> Void) throws {
        var batch = SettleBatch()
        change(&batch)
        try settle(batch)
    }
}

extension ImportQueue {
    /// `enqueue(parts:)` of one part, made before the call.
    func enqueue(_ pages: PlanPages, lists: [QueueEntry] = []) throws -> EnqueueSummary {
        try enqueue(parts: { save in try save(pages) }, lists: lists)
    }
}
