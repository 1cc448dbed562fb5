import DiscovrAPI
import Foundation
import Testing
@testable import TraktExport

/// The compact record store gives back exactly the records put in, whatever they hold.
@Suite struct TraktRecordsTests {
    static let heat = TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 949, trakt: 1, tvdb: nil, imdb: "tt0113277")
    static let show = TraktTitle(title: "Breaking Bad \u{2014} \"the\" show", year: 2008, slug: "breaking-bad", tmdb: 1396, trakt: 2, tvdb: 81189)

    static let odd: [TraktRecord] = [
        TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: heat, timestamp: "2020-01-01T00:00:00Z"), fileIndex: 0),
        TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: 1, number: 5),
                                                    timestamp: "2021-02-03T04:05:06.789+02:00"), fileIndex: 3),
        // The same show again, and a movie title that is equal but for one id.
        TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: 1, number: 6),
                                                    timestamp: "2021-02-03T04:05:06Z"), fileIndex: 3),
        TraktRecord(kind: .watchedMovie, play: TraktPlay(type: .movie, movie: TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 950),
                                                         timestamp: nil), fileIndex: 1),
        // An invalid date is kept as text; numbers beyond 32 bits; episode with no numbers; no media at all.
        TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: heat, timestamp: "yesterday"), fileIndex: 2),
        TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: Int(Int32.max) + 1, number: -5),
                                                    timestamp: "2020-01-01T00:00:00Z"), fileIndex: 2),
        TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: nil, number: nil),
                                                    timestamp: "2020-01-01T00:00:00Z"), fileIndex: 2),
        TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: nil, episode: nil, timestamp: "1970-01-01T00:00:00Z"), fileIndex: 2),
        TraktRecord(kind: .watchedShowWithoutEpisodes, play: TraktPlay(type: .episode, show: show, timestamp: "2019-01-01T00:00:00Z"), fileIndex: 4),
        // Playback with a progress, also 0 and a fraction; both a movie and a show on one play.
        TraktRecord(kind: .playback, play: TraktPlay(type: .movie, movie: heat, timestamp: "2022-01-01T00:00:00Z", progress: 57.123456), fileIndex: 5),
        TraktRecord(kind: .playback, play: TraktPlay(type: .episode, movie: heat, show: show, episode: TraktEpisode(season: 0, number: 0),
                                                     timestamp: "2022-01-01T00:00:00Z", progress: 0), fileIndex: 5),
        TraktRecord(kind: .watchedEpisode, play: TraktPlay(type: .episode, show: TraktTitle(), episode: TraktEpisode(season: 2, number: nil),
                                                           timestamp: "2018-05-05T05:05:05.5Z"), fileIndex: 6),
    ]

    @Test func everyRecordComesBackAsPutIn() {
        let store = TraktRecords(Self.odd)
        #expect(store.count == Self.odd.count)
        #expect(Array(store) == Self.odd)
        for (k, record) in Self.odd.enumerated() {
            #expect(store[k] == record)
            #expect(store.kind(at: k) == record.kind)
        }
        #expect(store == TraktRecords(Self.odd))
        #expect(store != TraktRecords(Self.odd.reversed()))
    }

    @Test func eachDistinctTitleIsStoredOnce() {
        let store = TraktRecords(Self.odd)
        // heat, show, the other "Heat", the empty title (kept-whole rows hold their own).
        #expect(store.titles.count == 4)
    }

    @Test func factsAgreeWithTheRecord() throws {
        let store = TraktRecords(Self.odd)
        for (k, record) in Self.odd.enumerated() {
            // Kept whole: only records that do not fit a row.
            #expect(store.rows[k].isWhole == (k == 4 || k == 5))
            if case .invalid = record.play.date { #expect(store.rows[k].isWhole, "an invalid date must be kept whole") }
            let facts = store.facts(at: k)
            let media = record.play.media
            #expect(facts.kind == record.kind)
            #expect(facts.type == record.play.type)
            #expect(facts.hasMedia == (media != nil))
            #expect(facts.tmdb == media?.tmdb)
            #expect(store.media(at: k) == media)
            #expect(facts.episode == record.play.episode)
            #expect(facts.progress == record.play.progress)
            #expect(facts.date == record.play.date)
        }
    }

    @Test func aReadScanSharesTitlesAcrossFiles() throws {
        let dir = try TempDir()
        func page(_ first: Int) -> String {
            let rows = (first..<first + 50).map { n in
                "{\"id\": \(n), \"watched_at\": \"2020-01-01T00:00:\(String(format: "%02d", n % 60)).000Z\", \"type\": \"episode\", \"episode\": {\"season\": 1, \"number\": \(n + 1)}, \"show\": {\"title\": \"A Long Show Title\", \"year\": 2001, \"ids\": {\"trakt\": 7, \"slug\": \"a-long-show-title\", \"tmdb\": 77}}}"
            }
            return "[" + rows.joined(separator: ",") + "]"
        }
        for k in 1...4 { _ = try dir.write("watched-history-\(k).json", page(k * 50)) }
        let scan = try ExportReader.read(paths: [dir.url.path])
        #expect(scan.records.count == 200)
        #expect(scan.records.titles.count == 1)
        #expect(scan.records.map(\.fileIndex) == (0..<4).flatMap { Array(repeating: $0, count: 50) })
        #expect(scan.records[199].play.show?.title == "A Long Show Title")
        #expect(scan.records[199].play.episode == TraktEpisode(season: 1, number: 250))
    }
}

extension TraktRecordsTests {
    /// "é" precomposed and decomposed are equal Strings, but the skipped list must give back the bytes read.
    @Test func titlesEqualOnlyAsUnicodeAreNotMerged() {
        let composed = TraktTitle(title: "Am\u{E9}lie", year: 2001, slug: "amelie-2001", tmdb: 194)
        let decomposed = TraktTitle(title: "Ame\u{301}lie", year: 2001, slug: "amelie-2001", tmdb: 194)
        #expect(composed == decomposed)
        let records = [composed, decomposed, composed].map {
            TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: $0, timestamp: "2020-01-01T00:00:00Z"), fileIndex: 0)
        }
        let store = TraktRecords(records)
        #expect(store.titles.count == 2)
        #expect(store.map { Array($0.play.movie!.title!.utf8) } == records.map { Array($0.play.movie!.title!.utf8) })
    }
}
