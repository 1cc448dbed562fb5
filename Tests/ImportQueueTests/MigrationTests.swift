import DiscovrAPI
import Foundation
import Testing
@testable import ImportQueue

/// A state file written before typed items (schema v3: POST bodies in rows and in staged pages) opens
/// with every play as it was: the same facts, states, attempts and send order, nothing lost, nothing
/// sent twice (`v4-typed-items`).
@Suite struct MigrationTests {
    static let episode = HistoryItem(mediaId: .show(1396), season: 1, episode: 5, progress: 100,
                                     updatedAt: Timestamp(iso8601: "2023-01-15T00:00:00.000Z"))
    static let paused = HistoryItem(mediaId: .movie(550), progress: 57.6, updatedAt: Timestamp(iso8601: "2023-01-16T00:00:00.000Z"))
    static let dateless = HistoryItem(mediaId: .show(1399), season: 2, episode: 3, updatedAt: nil)
    static let staged = HistoryItem(mediaId: .movie(603), updatedAt: Timestamp(iso8601: "2023-02-01T00:00:00.000Z"))

    /// A page of v3's format: flag, date, then play key, item key, body and title with 4-byte lengths.
    static func legacyPage(_ items: [(HistoryItem, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        func text(_ s: String) {
            withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: Array(s.utf8))
        }
        for (item, title) in items {
            if let at = item.updatedAt?.millisecondsSince1970 {
                bytes.append(1)
                withUnsafeBytes(of: at.littleEndian) { bytes.append(contentsOf: $0) }
            } else {
                bytes.append(0)
            }
            text(item.playKey)
            text(item.itemKey)
            text(item.jsonBody(form: .tmdbid))
            text(title)
        }
        return bytes
    }

    static func row(_ item: HistoryItem, _ title: String, state: String, attempts: Int, message: String? = nil) -> String {
        let sortAt = item.updatedAt.map { String($0.millisecondsSince1970) } ?? "NULL"
        return """
            INSERT INTO item (play_key, item_key, body, title, sort_at, state, attempts, last_message, uncertain, sent_at)
            VALUES ('\(item.playKey)', '\(item.itemKey)', '\(item.jsonBody(form: .tmdbid))', '\(title)', \(sortAt), '\(state)', \(attempts),
                    \(message.map { "'\($0)'" } ?? "NULL"), \(state == "in-flight" ? 1 : 0), \(state == "in-flight" ? "1000" : "NULL"))
            """
    }

    @Test func aV3StateOpensWithEveryPlayAsItWas() throws {
        try withTemporaryFolder { folder throws in
            let path = folder + "/state.sqlite"
            try ImportQueue.makeOlderStateForTests(path: path, upTo: "v3-staged-plan", sql: [
                Self.row(Self.episode, "Breaking Bad S01E05", state: "delivered", attempts: 1, message: "Item added"),
                Self.row(Self.paused, "Fight Club", state: "failed", attempts: 8, message: "gave up"),
                Self.row(Self.dateless, "Game of Thrones S02E03", state: "in-flight", attempts: 2),
                "INSERT INTO staged_page (items, rows) VALUES (1, ?)",
                // The counts v3 kept: the staged play is pending, the rows count by their states.
                "UPDATE state_count SET items = 1",
            ], blob: Self.legacyPage([(Self.staged, "The Matrix")]))

            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            #expect(queue.recoveredInFlight == 1)
            #expect(try queue.inspectionRows("SELECT identifier FROM grdb_migrations", unpacking: false).last == ["v4-typed-items"])
            #expect(try queue.inspectionRows("SELECT count(*) FROM staged_page", unpacking: false) == [["0"]])
            #expect(try queue.counts() == StateCounts(pending: 2, delivered: 1, failed: 1))
            #expect(try queue.failures(limit: nil) == [FailureRecord(outgoing: .play(Self.paused), title: "Fight Club", attempts: 8,
                                                                    lastStatus: nil, lastMessage: "gave up")])
            #expect(try queue.settledPlays().map(\.play) == [Self.episode])
            // The dead run's play (uncertain: read back first, its send window kept), then the staged one.
            let claimed = try queue.claim(max: 5, nowMs: 5_000)
            #expect(claimed.map(\.outgoing) == [.play(Self.dateless), .play(Self.staged)])
            #expect(claimed.map(\.title) == ["Game of Thrones S02E03", "The Matrix"])
            #expect(claimed.map(\.uncertain) == [true, false])
            #expect(claimed.first?.sentAtMs == 1_000)
            #expect(claimed.first?.attempts == 2)
        }
    }
}
