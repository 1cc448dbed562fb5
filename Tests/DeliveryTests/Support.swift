import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportQueue
import Logging
import Synchronization

/// Time that moves only when a test says so, in ms since 1970.
final class ManualClock: Sendable {
    private let ms: Mutex<Int64>

    init(startMs: Int64 = 1_700_000_000_000) { ms = Mutex(startMs) }

    var nowMs: Int64 { ms.withLock { $0 } }

    func advance(byMs delta: Int64) { ms.withLock { $0 += delta } }

    /// A `now` closure for the types that take one.
    var now: @Sendable () -> Int64 { { self.nowMs } }
}

/// A logger that keeps tests quiet unless something is badly wrong.
let quietLogger: Logger = {
    var logger = Logger(label: "delivery-tests")
    logger.logLevel = .critical
    return logger
}()

/// A fresh temp directory for one test, removed by `cleanup()`.
struct TempDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("t2d-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var statePath: String { url.appendingPathComponent("state.sqlite").path }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// `count` distinct episode plays, oldest first, as the planner would hand them to the queue.
func makeEntries(_ count: Int, firstShow: Int64 = 1000) -> [QueueEntry] {
    (0..<count).map { i in
        let item = HistoryItem(mediaId: .show(firstShow + Int64(i / 20)), season: 1, episode: i % 20 + 1,
                               updatedAt: Timestamp(millisecondsSince1970: 1_600_000_000_000 + Int64(i) * 60_000))
        return QueueEntry(play: item, title: "Show \(firstShow + Int64(i / 20)) S01E\(i % 20 + 1)")
    }
}

extension QueueEntry {
    /// The POST body in the seed's form.
    var body: String { outgoing.jsonBody(form: .tmdbid) }
}

/// The identity of a play as the sandbox stores it, to compare what arrived with what was queued.
struct PlayIdentity: Hashable {
    var mediaId: String
    var season: Int?
    var episode: Int?
    var updatedAt: String?
}

func identities(of entries: [QueueEntry]) -> [PlayIdentity] {
    entries.map { entry in
        let object = try! JSONSerialization.jsonObject(with: Data(entry.body.utf8)) as! [String: Any]
        return PlayIdentity(mediaId: object["mediaId"] as! String, season: object["season"] as? Int,
                            episode: object["episode"] as? Int, updatedAt: object["updatedAt"] as? String)
    }
}

func identities(of stored: [StoredHistoryItem]) -> [PlayIdentity] {
    stored.map { PlayIdentity(mediaId: $0.mediaId, season: $0.season, episode: $0.episode, updatedAt: $0.updatedAt) }
}

/// A value shared between tasks of a test.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ initial: Value) { value = Mutex(initial) }

    func get() -> Value { value.withLock { $0 } }

    func set(_ newValue: Value) { value.withLock { $0 = newValue } }

    func update(_ change: (inout Value) -> Void) { value.withLock { change(&$0) } }
}
