import DiscovrAPI
import Foundation
import ImportQueue
import Testing
@testable import Delivery

/// `verify`'s matching as a pure value: which entries count for which settled play.
@Suite struct VerifyTallyTests {
    static let t1 = Timestamp(iso8601: "2023-01-15T20:30:00.123Z")!
    static let t2 = Timestamp(iso8601: "2023-01-16T20:30:00.000Z")!

    static func settled(_ item: HistoryItem, id: Int64, sentAtMs: Int64? = nil, foundBeforeSending: Bool = false) -> SettledPlay {
        SettledPlay(id: id, play: item, title: "play \(id)", sentAtMs: sentAtMs, foundBeforeSending: foundBeforeSending)
    }

    static let movie = HistoryItem(mediaId: MediaID(kind: .movie, tmdb: 550), updatedAt: t1)
    static let episode = HistoryItem(mediaId: MediaID(kind: .show, tmdb: 1396), season: 1, episode: 5, updatedAt: t1)
    static let rewatch = HistoryItem(mediaId: MediaID(kind: .show, tmdb: 1396), season: 1, episode: 5, updatedAt: t2)
    static let undated = HistoryItem(mediaId: MediaID(kind: .movie, tmdb: 603), updatedAt: nil)

    static func entry(_ id: String, season: Int? = nil, episode: Int? = nil, at: Timestamp?, createdMs: Int64 = 5_000,
                      imported: String? = "trakt") -> HistoryEntry {
        HistoryEntry(rawId: id, season: season, episode: episode, updatedAt: at,
                     createdAt: Timestamp(millisecondsSince1970: createdMs), imported: imported)
    }

    @Test func eachPlayIsCountedByItsOwnEntriesInEitherIdForm() {
        var tally = VerifyTally(plays: [Self.settled(Self.movie, id: 1), Self.settled(Self.episode, id: 2),
                                        Self.settled(Self.rewatch, id: 3)])
        tally.take([Self.entry("MV_550", at: Self.t1), Self.entry("TV_TMDBID1396", season: 1, episode: 5, at: Self.t1)])
        tally.take([Self.entry("TV_1396", season: 1, episode: 5, at: Self.t2), Self.entry("TV_1396", season: 1, episode: 5, at: Self.t2)])
        #expect(tally.found == [1, 1, 2])
        let result = tally.result(form: .short)
        #expect(result.checked == 3 && result.present == 2 && result.missing.isEmpty)
        #expect(result.duplicated == [VerifyFinding(mediaId: "TV_1396", season: 1, episode: 5, updatedAt: "2023-01-16T20:30:00.000Z",
                                                    title: "play 3", found: 2, id: 3)])
        #expect(result.entries == 4 && result.unexpected == 0)
    }

    @Test func aPlayNotThereIsMissingAndTraktEntriesOfNoPlayAreUnexpected() {
        var tally = VerifyTally(plays: [Self.settled(Self.movie, id: 1), Self.settled(Self.episode, id: 2)])
        tally.take([
            Self.entry("MV_550", at: Self.t1),
            Self.entry("MV_550", at: Self.t2),                                    // another date: not ours
            Self.entry("TV_1396", season: 1, episode: 5, at: Self.t1, imported: nil), // watched in the app
            Self.entry("TV_1396", season: 1, at: Self.t1),                        // a season default
            Self.entry("TV_1396", season: 1, episode: 6, at: Self.t1, imported: "letterboxd"),
        ])
        let result = tally.result(form: .tmdbid)
        #expect(result.present == 1)
        #expect(result.missing.map(\.id) == [2])
        #expect(result.missing.first?.mediaId == "TV_TMDBID1396" && result.missing.first?.found == 0)
        #expect(result.unexpected == 2) // the other date and the season default are imported from trakt
    }

    @Test func aPlayWithoutADateIsMatchedByAnEntryOfItsItemCreatedFromItsFirstSendOn() {
        let play = Self.settled(Self.undated, id: 1, sentAtMs: 10_000)
        var early = VerifyTally(plays: [play])
        early.take([Self.entry("MV_603", at: Timestamp(millisecondsSince1970: 9_000), createdMs: 9_999)])
        #expect(early.found == [0])
        #expect(early.unexpected == 1)
        var later = VerifyTally(plays: [play])
        later.take([Self.entry("MV_603", at: Timestamp(millisecondsSince1970: 10_000), createdMs: 10_000),
                    Self.entry("MV_TMDBID603", at: nil, createdMs: 20_000)])
        #expect(later.found == [2])
        #expect(later.result(form: .tmdbid).duplicated.first?.updatedAt == nil)
        var unsent = VerifyTally(plays: [Self.settled(Self.undated, id: 1, sentAtMs: nil)])
        unsent.take([Self.entry("MV_603", at: nil, createdMs: 20_000)])
        #expect(unsent.found == [0]) // no send time known: nothing can be said to be it
    }

    @Test func aPlayTheExistingHistoryCheckFoundCountsItsEntryWhateverItsImport() {
        var tally = VerifyTally(plays: [Self.settled(Self.movie, id: 1, foundBeforeSending: true),
                                        Self.settled(Self.episode, id: 2)])
        tally.take([Self.entry("MV_550", at: Self.t1, imported: nil),
                    Self.entry("TV_1396", season: 1, episode: 5, at: Self.t1, imported: nil)])
        #expect(tally.found == [1, 0])
    }

    @Test func theRecordStatusKeepsHasTheCountsAndTheTime() {
        var result = VerifyResult()
        result.checked = 3
        result.present = 1
        result.missing = [VerifyFinding(mediaId: "MV_1", title: "a", found: 0, id: 1)]
        result.duplicated = [VerifyFinding(mediaId: "MV_2", title: "b", found: 3, id: 2)]
        let record = result.record(at: Timestamp(millisecondsSince1970: 0), requeued: 1)
        #expect(record.json
            == "{\"at\":\"1970-01-01T00:00:00.000Z\",\"checked\":3,\"duplicated\":1,\"missing\":1,\"present\":1,\"requeued\":1,\"unexpected\":0}")
        #expect(VerifyRecord(json: record.json) == record)
        #expect(VerifyRecord(json: "{\"checked\": 3}") == nil && VerifyRecord(json: nil) == nil)
        #expect(!result.isExact)
    }
}
