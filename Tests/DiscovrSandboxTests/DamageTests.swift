import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("test-only damage: dropping and duplicating history entries")
struct DamageTests {
    /// The `mediaId` of each entry a damage route answered, in its order.
    static func mediaIds(_ body: String) -> [String] {
        let list = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []
        return list.compactMap { $0["mediaId"] as? String }
    }

    /// How many entries of each movie a history page holds, ids in the tmdbid form.
    static func countsByMovie(_ page: String) -> [String: Int] {
        let object = (try? JSONSerialization.jsonObject(with: Data(page.utf8))) as? [String: Any]
        var counts: [String: Int] = [:]
        for entry in object?["items"] as? [[String: Any]] ?? [] {
            if let id = entry["id"] as? String { counts[id.replacingOccurrences(of: "MV_", with: "MV_TMDBID"), default: 0] += 1 }
        }
        return counts
    }

    @Test("drop removes exactly the entries it answers, duplicate copies the ones it answers, and the listing shows both")
    func dropAndDuplicate() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for tmdb: Int64 in 1...10 {
                #expect(try await client.history(movieBody(tmdb: tmdb), bearer: token).status == 200)
            }
            let dropped = try await client.send(.POST, "/_sandbox/history/drop?count=2&seed=5")
            #expect(dropped.status == 200)
            let gone = Set(Self.mediaIds(dropped.body))
            #expect(gone.count == 2)
            let copied = try await client.send(.POST, "/_sandbox/history/duplicate?count=3&seed=6")
            let doubled = Set(Self.mediaIds(copied.body))
            #expect(doubled.count == 3 && gone.isDisjoint(with: doubled))
            let page = try await client.get(DiscovrEndpoints.history + "?limit=50", bearer: token)
            let counts = Self.countsByMovie(page.body)
            #expect(counts.values.reduce(0, +) == 11)
            for tmdb in 1...10 {
                let id = "MV_TMDBID\(tmdb)"
                #expect(counts[id, default: 0] == (gone.contains(id) ? 0 : doubled.contains(id) ? 2 : 1), "\(id)")
            }
            // Not what clients sent: the counts stay as they were.
            #expect(running.store.stats().stored == 10 && running.store.stats().repeats == 0)
            // Nothing asked, nothing done.
            #expect(try await client.send(.POST, "/_sandbox/history/drop?count=0").body == "[]")
        }
    }
}
