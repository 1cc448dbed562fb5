import Foundation
import Testing
@testable import ImportPlanner
@testable import TraktExport

/// `appendLabel` writes the queue's label from a record's row; it must give exactly `label(play)`.
@Suite struct LabelBytesTests {
    static func labels(of records: TraktRecords) -> [(bytes: [UInt8], label: String)] {
        records.indices.map { k in
            var bytes: [UInt8] = [0x2A]  // what was there before is kept
            ImportPlanner.appendLabel(of: k, in: records, to: &bytes)
            return (Array(bytes.dropFirst()), ImportPlanner.label(records[k].play))
        }
    }

    @Test func oddRecordsGiveTheirLabels() {
        let heat = TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 949)
        let show = TraktTitle(title: "Breaking Bad \u{2014} \"the\" show \u{1F37F}", year: -12, tmdb: 1396)
        let odd: [TraktRecord] = [
            TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: heat, timestamp: "2020-01-01T00:00:00Z"), fileIndex: 0),
            TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: 1, number: 5),
                                                        timestamp: "2021-02-03T04:05:06Z"), fileIndex: 0),
            TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: 10, number: 123),
                                                        timestamp: nil), fileIndex: 0),
            // Kept whole: an invalid date, a number beyond 32 bits.
            TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: heat, timestamp: "yesterday"), fileIndex: 1),
            TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: Int(Int32.max) + 1, number: -5),
                                                        timestamp: "2020-01-01T00:00:00Z"), fileIndex: 1),
            TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: show, episode: TraktEpisode(season: nil, number: nil),
                                                        timestamp: "2020-01-01T00:00:00Z"), fileIndex: 2),
            TraktRecord(kind: .history, play: TraktPlay(type: .episode, show: nil, episode: TraktEpisode(season: 0, number: 9),
                                                        timestamp: "1970-01-01T00:00:00Z"), fileIndex: 2),
            TraktRecord(kind: .watchedShowWithoutEpisodes, play: TraktPlay(type: .episode, show: show, timestamp: "2019-01-01T00:00:00Z"), fileIndex: 4),
            // A movie play that also names a show; a title without a name but with a year; an empty title.
            TraktRecord(kind: .playback, play: TraktPlay(type: .movie, movie: heat, show: show, episode: TraktEpisode(season: 2, number: 3),
                                                         timestamp: "2022-01-01T00:00:00Z", progress: 5), fileIndex: 5),
            TraktRecord(kind: .watchedMovie, play: TraktPlay(type: .movie, movie: TraktTitle(year: 2001), timestamp: nil), fileIndex: 6),
            TraktRecord(kind: .watchedEpisode, play: TraktPlay(type: .episode, show: TraktTitle(), episode: TraktEpisode(season: 2, number: nil),
                                                               timestamp: "2018-05-05T05:05:05.5Z"), fileIndex: 6),
            TraktRecord(kind: .history, play: TraktPlay(type: .movie, movie: nil, timestamp: "2018-05-05T05:05:05Z"), fileIndex: 6),
        ]
        let records = TraktRecords(odd)
        for (k, pair) in Self.labels(of: records).enumerated() {
            #expect(String(decoding: pair.bytes, as: UTF8.self) == pair.label, "record \(k)")
            #expect(pair.bytes == Array(pair.label.utf8), "record \(k)")
        }
        #expect(ImportPlanner.label(records[1].play) == "Breaking Bad \u{2014} \"the\" show \u{1F37F} (-12) S01E05")
        #expect(ImportPlanner.label(records[6].play) == "(unknown title) S00E09")
    }

    @Test(arguments: ["official/trakt-export-sample.zip", "legacy", "traktexport/traktexport-sample.json", "raw"])
    func sampleRecordsGiveTheirLabels(path: String) throws {
        let scan = try ExportReader.read(paths: [Repo.sample(path)])
        for (k, pair) in Self.labels(of: scan.records).enumerated() {
            #expect(pair.bytes == Array(pair.label.utf8), "record \(k) of \(path)")
        }
    }

    @Test(arguments: ["sourpatchdad-history-merged.json", "josh-trakt-data", "iacoviola-trakt-backup"])
    func realWorldRecordsGiveTheirLabels(path: String) throws {
        let scan = try ExportReader.read(paths: [Repo.realworld + "/" + path])
        #expect(!scan.records.isEmpty)
        for (k, pair) in Self.labels(of: scan.records).enumerated() {
            #expect(pair.bytes == Array(pair.label.utf8), "record \(k) of \(path)")
        }
    }
}
