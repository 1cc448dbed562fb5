import DiscovrAPI
import Foundation
import Testing
@testable import Delivery

/// The existing-history check's pure parts: which planned play a history entry is, and what the
/// first page decides.
@Suite(.timeLimit(.minutes(5))) struct ExistingHistoryScanTests {
    static let at = Timestamp(iso8601: "2023-01-15T20:30:00.123Z")!

    /// Entries and the play key they match (nil: they cannot be one of our plays).
    @Test(arguments: [
        (HistoryEntry(rawId: "MV_550", updatedAt: at), "MV_TMDBID550@1673814600123"),
        (HistoryEntry(rawId: "MV_TMDBID550", updatedAt: at), "MV_TMDBID550@1673814600123"),
        (HistoryEntry(rawId: "TV_1396", season: 1, episode: 5, updatedAt: at), "TV_TMDBID1396:1:5@1673814600123"),
        (HistoryEntry(rawId: "TV_TMDBID1396", season: 2, episode: 1, updatedAt: at), "TV_TMDBID1396:2:1@1673814600123"),
        (HistoryEntry(rawId: "TV_1396", season: 1, updatedAt: at), nil),         // a season default
        (HistoryEntry(rawId: "TV_1396", episode: 5, updatedAt: at), nil),
        (HistoryEntry(rawId: "TV_1396", season: 0, episode: 5, updatedAt: at), nil),
        (HistoryEntry(rawId: "TV_1396", season: 1, episode: 5), nil),           // no updatedAt
        (HistoryEntry(rawId: "550", updatedAt: at), nil),                        // neither form
        (HistoryEntry(rawId: "MV_0550", updatedAt: at), nil),
    ] as [(HistoryEntry, String?)])
    func plannedPlayKey(_ entry: HistoryEntry, _ expected: String?) {
        #expect(entry.plannedPlayKey == expected)
    }

    /// The key an entry gives is the one the planner gave the play, to the millisecond.
    @Test func theKeyIsThePlannersPlayKey() {
        let item = HistoryItem(mediaId: .show(1396), season: 1, episode: 5, updatedAt: Self.at)
        #expect(HistoryEntry(rawId: "TV_1396", season: 1, episode: 5, updatedAt: Self.at).plannedPlayKey == item.playKey)
        let oneMsLater = Timestamp(millisecondsSince1970: Self.at.millisecondsSince1970 + 1)
        #expect(HistoryEntry(rawId: "TV_1396", season: 1, episode: 5, updatedAt: oneMsLater).plannedPlayKey != item.playKey)
    }

    static func entry(_ tmdb: Int64, imported: String? = nil, ms: Int64 = 1_600_000_000_000) -> HistoryEntry {
        HistoryEntry(rawId: "MV_\(tmdb)", updatedAt: Timestamp(millisecondsSince1970: ms), imported: imported)
    }

    static func page(_ items: [HistoryEntry], next: String?) -> HistoryPage {
        HistoryPage(items: items, hasMore: next != nil, nextPageToken: next)
    }

    @Test func aFirstPageWithoutTraktImportsOrPlannedPlaysEndsTheReading() {
        var scan = ExistingHistoryScan()
        var asked: [[String]] = []
        let next = scan.take(Self.page([Self.entry(1), Self.entry(2, imported: "letterboxd")], next: "t2")) { keys in
            asked.append(keys)
            return []
        }
        #expect(next == .done)
        #expect(asked == [["MV_TMDBID1@1600000000000", "MV_TMDBID2@1600000000000"]])
        #expect(scan.playKeys.isEmpty)
        #expect(scan.progress == ExistingHistoryProgress(pages: 1, entries: 2, readingAll: false))
    }

    @Test(arguments: [
        // A trakt import on the first page: every page is read, the state is not even asked.
        ([entry(1), entry(2, imported: "trakt")], Set<String>()),
        // A planned play on the first page (sent by another tool, or by hand): every page is read.
        ([entry(1), entry(2)], Set(["MV_TMDBID2@1600000000000"])),
    ])
    func aFirstPageWithTraktImportsOrPlannedPlaysReadsEveryPage(_ first: [HistoryEntry], _ planned: Set<String>) {
        var scan = ExistingHistoryScan()
        #expect(scan.take(Self.page(first, next: "t2")) { _ in planned } == .read(token: "t2"))
        #expect(scan.take(Self.page([Self.entry(3), Self.entry(4)], next: "t3")) { _ in
            Issue.record("only the first page asks the state")
            return []
        } == .read(token: "t3"))
        #expect(scan.take(Self.page([Self.entry(5)], next: nil)) { _ in [] } == .done)
        #expect(scan.playKeys == Set((1...5).map { "MV_TMDBID\($0)@1600000000000" }))
        #expect(scan.progress == ExistingHistoryProgress(pages: 3, entries: 5, readingAll: true))
    }

    @Test func aSinglePageHistoryIsDoneAfterOnePage() {
        var scan = ExistingHistoryScan()
        #expect(scan.take(Self.page([Self.entry(1, imported: "trakt")], next: nil)) { _ in [] } == .done)
        #expect(scan.playKeys == ["MV_TMDBID1@1600000000000"])
        #expect(scan.progress.readingAll)
    }

    /// A server that hands out a token it gave before would be read forever: the check stops instead.
    @Test func aRepeatedPageTokenIsBadPaging() {
        var scan = ExistingHistoryScan()
        #expect(scan.take(Self.page([Self.entry(1, imported: "trakt")], next: "a")) { _ in [] } == .read(token: "a"))
        #expect(scan.take(Self.page([Self.entry(2)], next: "b")) { _ in [] } == .read(token: "b"))
        guard case .badPaging(let why) = scan.take(Self.page([Self.entry(3)], next: "a"), isPlanned: { _ in [] }) else {
            Issue.record("a repeated token was followed")
            return
        }
        #expect(why.contains("same page token twice"))
    }

    @Test func theRecordKeptInTheStateIsJSON() throws {
        let record = ExistingHistoryProgress(pages: 3, entries: 120, readingAll: true, requests: 4).record(found: 80)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Int])
        #expect(object == ["pages": 3, "entries": 120, "requests": 4, "found": 80])
    }
}
