import Testing
@testable import DiscovrAPI

/// `jsonBody` writes bytes directly; it must give exactly what the plain concatenation it replaced gave.
@Suite struct HistoryItemBodyTests {
    /// The body as it was built before (string concatenation), kept as the reference.
    static func reference(_ item: HistoryItem, form: MediaIDForm) -> String {
        var out = "{\"mediaId\":\""
        out += item.mediaId.rawValue(in: form)
        out += "\""
        if let season = item.season { out += ",\"season\":" + String(season) }
        if let episode = item.episode { out += ",\"episode\":" + String(episode) }
        out += ",\"progress\":" + HistoryItem.formatProgress(item.progress)
        if let updatedAt = item.updatedAt { out += ",\"updatedAt\":\"" + updatedAt.iso8601 + "\"" }
        out += ",\"imported\":\"" + JSONText.escape(item.imported) + "\"}"
        return out
    }

    static let items: [HistoryItem] = {
        var items: [HistoryItem] = [
            HistoryItem(mediaId: .movie(550), updatedAt: Timestamp(iso8601: "2023-01-15T00:00:00Z")),
            HistoryItem(mediaId: .show(1396), season: 1, episode: 5, updatedAt: nil),
            HistoryItem(mediaId: .show(Int64.max), season: Int.max, episode: Int.min, progress: 33.33, updatedAt: Timestamp(millisecondsSince1970: 0)),
            HistoryItem(mediaId: .movie(1), progress: 0.01, updatedAt: Timestamp(iso8601: "0001-01-01T00:00:00Z")),
            HistoryItem(mediaId: .movie(9), progress: 57.6, updatedAt: Timestamp(iso8601: "9999-12-31T23:59:59.999Z")),
            HistoryItem(mediaId: .movie(9), progress: 1e16, updatedAt: Timestamp(millisecondsSince1970: -1)),
            HistoryItem(mediaId: .movie(9), progress: .nan, updatedAt: Timestamp(millisecondsSince1970: 400_000_000_000_000)),
            HistoryItem(mediaId: .movie(9), progress: -3, updatedAt: Timestamp(millisecondsSince1970: -70_000_000_000_000), imported: "a \"quoted\"\n\u{1}source"),
            HistoryItem(mediaId: .movie(-12), updatedAt: Timestamp(millisecondsSince1970: Int64.min / 2)),
        ]
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            let ms = Int64(bitPattern: rng.next() % 400_000_000_000_000) - 62_000_000_000_000
            let show = rng.next() % 2 == 0
            items.append(HistoryItem(mediaId: show ? .show(Int64(rng.next() % 2_000_000) + 1) : .movie(Int64(rng.next() % 2_000_000) + 1),
                                     season: show ? Int(rng.next() % 60) : nil, episode: show ? Int(rng.next() % 3_000) : nil,
                                     progress: rng.next() % 3 == 0 ? Double(rng.next() % 10_001) / 100 : 100,
                                     updatedAt: rng.next() % 10 == 0 ? nil : Timestamp(millisecondsSince1970: ms)))
        }
        return items
    }()

    @Test func keysAreExactlyTheInterpolatedOnes() {
        for item in Self.items {
            let itemKey = item.season != nil && item.episode != nil
                ? "\(item.mediaId.rawValue):\(item.season!):\(item.episode!)" : item.mediaId.rawValue
            #expect(item.itemKey == itemKey)
            #expect(item.playKey == itemKey + "@" + (item.updatedAt.map { String($0.millisecondsSince1970) } ?? "-"))
            #expect(item.keys.item == itemKey && item.keys.play == item.playKey)
        }
    }

    @Test func bodiesAreExactlyTheConcatenatedOnes() {
        for item in Self.items {
            for form in MediaIDForm.allCases {
                #expect(item.jsonBody(form: form) == Self.reference(item, form: form))
            }
        }
    }
}
