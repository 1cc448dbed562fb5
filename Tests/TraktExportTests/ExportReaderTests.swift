import Foundation
import Testing
@testable import TraktExport
import ZIPFoundation

/// Paths of the repository, found from this file so tests run from any directory.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func sample(_ path: String) -> String { root.appendingPathComponent("samples").appendingPathComponent(path).path }
    static let realworld = root.appendingPathComponent("Tests/Fixtures/realworld").path
}

/// A temporary folder removed at the end of the test.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("t2d-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }
}

@Suite struct ExportReaderTests {
    func kinds(_ scan: ExportScan) -> [String: FileKind] {
        Dictionary(scan.sections.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func officialZipIsReadInPageOrderWithPrivateFilesUnopened() throws {
        let scan = try ExportReader.read(paths: [Repo.sample("official/trakt-export-sample.zip")])
        let names = scan.sections.map(\.name)
        let pages = names.filter { $0.hasPrefix("watched-history") }
        #expect(pages == (1...10).map { "watched-history-\($0).json" })
        #expect(!names.contains { $0.contains("__MACOSX") || $0.hasPrefix(".") })
        let k = kinds(scan)
        #expect(k["watched-history-4.json"] == .history) // an empty page still named as history
        #expect(k["watched-playback.json"] == .playback)
        #expect(k["watched-movies.json"] == .watchedMovies)
        #expect(k["watched-shows.json"] == .watchedShows)
        #expect(k["user-stats.json"] == .stats)
        #expect(k["_errors.json"] == .errors)
        #expect(k["ratings-movies.json"] == .ratings)
        #expect(k["ratings-shows.json"] == .ratings) // an empty page, by its name
        #expect(k["lists-watchlist.json"] == .watchlist)
        #expect(k["collection-movies.json"] == .ignored)
        #expect(k["user-settings.json"] == .ignored)
        #expect(scan.sections.first { $0.name == "user-settings.json" }?.note?.contains("never opened") == true)
        #expect(scan.stats?.totalPlays == 27)
        #expect(scan.warnings.contains { $0.contains("_errors.json") })
        #expect(scan.records.filter { $0.kind == .history }.count == 22)
    }

    @Test func privateFilesAreNeverParsed() throws {
        let dir = try TempDir()
        _ = try dir.write("export/user-settings.json", "{ this is not json, and must never be read")
        _ = try dir.write("export/user-profile.json", "{ nor this")
        _ = try dir.write("export/watched-history.json", "[]")
        let scan = try ExportReader.read(paths: [dir.url.appendingPathComponent("export").path])
        #expect(scan.sections.filter { $0.kind == .ignored }.count == 2)
    }

    @Test func legacyFolderUnderAUsernameRoot() throws {
        let scan = try ExportReader.read(paths: [Repo.sample("legacy")])
        let k = kinds(scan)
        #expect(k["sampleuser/watched/history-1.json"] == .history)
        #expect(k["sampleuser/watched/watched-shows.json"] == .watchedShows)
        #expect(k["sampleuser/watched/playback.json"] == .playback)
        #expect(k["sampleuser/ratings/ratings-movies.json"] == .ratings)
        #expect(k["sampleuser/lists/watchlist.json"] == .watchlist)
        #expect(k["sampleuser/user/stats.json"] == .stats)
        #expect(scan.records.filter { $0.kind == .watchedEpisode }.count == 5)
    }

    @Test func traktexportDocumentSectionsAreListedSeparately() throws {
        let scan = try ExportReader.read(paths: [Repo.sample("traktexport/traktexport-sample.json")])
        let k = kinds(scan)
        #expect(k["traktexport-sample.json#history"] == .history)
        #expect(k["traktexport-sample.json#watched"] == .watchedMovies)
        #expect(k["traktexport-sample.json#ratings"] == .ratings)
        #expect(k["traktexport-sample.json#watchlist"] == .watchlist)
        #expect(k["traktexport-sample.json#collection"] == .ignored)
        #expect(k["traktexport-sample.json#stats"] == .stats)
        #expect(scan.records.filter { $0.kind == .watchedMovie }.count == 2)
        #expect(scan.records.filter { $0.kind == .watchedEpisode }.count == 2)
    }

    @Test func rawFilesWrappedWithBOMAndFlattenedEpisodes() throws {
        let scan = try ExportReader.read(paths: [Repo.sample("raw")])
        let k = kinds(scan)
        #expect(k["sampleuser-history_shows.json"] == .history)
        #expect(k["playback.json"] == .playback)
        #expect(k["watched_episodes.json"] == .ignored)
        #expect(scan.warnings.contains { $0.contains("watched_episodes.json") && $0.contains("no show") })
        #expect(scan.records.filter { $0.kind == .history }.count == 3)
    }

    @Test func severalPathsAtOnce() throws {
        let scan = try ExportReader.read(paths: [Repo.sample("raw/history_movies.json"), Repo.sample("raw/sampleuser-history_shows.json")])
        #expect(scan.inputs.count == 2)
        #expect(scan.records.count == 3)
    }

    @Test func missingPathIsNotFound() {
        #expect(throws: TraktExportError.notFound(path: "/nonexistent/trakt.zip")) {
            try ExportReader.read(paths: ["/nonexistent/trakt.zip"])
        }
        #expect(TraktExportError.notFound(path: "x").isMissingInput)
    }

    @Test func malformedFileNamesFileLineAndColumn() throws {
        let dir = try TempDir()
        let path = try dir.write("watched-history-1.json", "[\n  {\"watched_at\": \"2020-01-01T00:00:00Z\",\n   \"type\": movie}\n]")
        do {
            _ = try ExportReader.read(paths: [path])
            Issue.record("accepted malformed JSON")
        } catch {
            guard case .malformedJSON(let file, let line, let column, _) = error else { Issue.record("\(error)"); return }
            #expect(file == path)
            #expect(line == 3)
            #expect(column == 12)
            #expect(!error.isMissingInput)
            #expect(error.description.hasPrefix("\(path):3:12: malformed JSON"))
        }
    }

    @Test func corruptZipIsAClearError() throws {
        let dir = try TempDir()
        let good = try Data(contentsOf: URL(fileURLWithPath: Repo.sample("official/trakt-export-sample.zip")))
        // Cut the archive in half: the central directory is gone.
        let path = try dir.write("trakt-export-broken.zip", bytes: Array(good.prefix(good.count / 2)))
        #expect {
            try ExportReader.read(paths: [path])
        } throws: { error in
            guard let e = error as? TraktExportError, case .corruptArchive = e else { return false }
            return !e.isMissingInput
        }
    }

    @Test func damagedEntryFailsItsChecksum() throws {
        let dir = try TempDir()
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Repo.sample("official/trakt-export-sample.zip"))))
        // Flip bytes inside the first entry's compressed data (after its 30-byte local header and name).
        let nameLength = Int(bytes[26]) | Int(bytes[27]) << 8
        let start = 30 + nameLength + 2
        for k in start..<(start + 4) { bytes[k] ^= 0x5A }
        let path = try dir.write("trakt-export-damaged.zip", bytes: bytes)
        #expect(throws: TraktExportError.self) { try ExportReader.read(paths: [path]) }
    }

    @Test func folderWithoutTraktDataIsRefused() throws {
        let dir = try TempDir()
        _ = try dir.write("notes.txt", "hello")
        _ = try dir.write("ratings.json", "[{\"rated_at\": \"2020-01-01T00:00:00Z\", \"rating\": 5}]")
        #expect {
            try ExportReader.read(paths: [dir.url.path])
        } throws: { error in
            guard let e = error as? TraktExportError, case .noTraktData = e else { return false }
            return !e.isMissingInput
        }
    }

    @Test func wrongTypesInRecordsAreToleratedNotFatal() throws {
        let dir = try TempDir()
        let path = try dir.write("history.json", """
            [{"watched_at": 12, "type": "movie", "movie": {"ids": {"tmdb": "abc"}}},
             {"watched_at": "2020-01-01T00:00:00Z", "type": "episode", "show": "x", "episode": []},
             42, null, "text",
             {"watched_at": "2020-01-01T00:00:00Z", "type": "episode", "show": {"ids": {"tmdb": 1e400}}, "episode": {"season": -3, "number": 99999999999999999999}}]
            """)
        let scan = try ExportReader.read(paths: [path])
        #expect(scan.records.count == 6)
        #expect(scan.records.allSatisfy { $0.kind == .history })
    }

    /// The ids a skipped-records row shows: trakt, imdb, tvdb and tmdb as the record had them (digit
    /// strings accepted as ids; zero, negative, fractional or non-numeric ids read as missing).
    @Test func titleIdsAreReadForTheSkippedList() throws {
        let dir = try TempDir()
        let path = try dir.write("history.json", """
            [{"watched_at": "2020-01-01T00:00:00Z", "type": "movie",
              "movie": {"title": "Heat", "year": 1995, "ids": {"trakt": 1000, "slug": "heat-1995", "imdb": "tt0113277", "tmdb": 949, "tvdb": null}}},
             {"watched_at": "2020-01-01T00:00:00Z", "type": "episode", "episode": {"season": 1, "number": 1},
              "show": {"title": "Dark", "ids": {"trakt": "2001", "slug": "dark", "imdb": 5, "tvdb": 335, "tmdb": 0}}},
             {"watched_at": "2020-01-01T00:00:00Z", "type": "movie", "movie": {"title": "No ids"}},
             {"watched_at": "2020-01-01T00:00:00Z", "type": "movie", "movie": {"ids": {"trakt": -4, "tvdb": 2.5, "tmdb": "12a"}}}]
            """)
        let titles = try ExportReader.read(paths: [path]).records.map { $0.play.type == .movie ? $0.play.movie : $0.play.show }
        #expect(titles == [
            TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 949, trakt: 1000, tvdb: nil, imdb: "tt0113277"),
            TraktTitle(title: "Dark", slug: "dark", tmdb: nil, trakt: 2001, tvdb: 335, imdb: nil),
            TraktTitle(title: "No ids"),
            TraktTitle(),
        ])
    }

    @Test func oversizedFilesAreRefusedBeforeReading() throws {
        let dir = try TempDir()
        let path = try dir.write("watched-history.json", "[" + String(repeating: "1,", count: 600) + "1]")
        var limits = ReadLimits()
        limits.maxFileBytes = 1000
        #expect {
            try ExportReader.read(paths: [path], limits: limits)
        } throws: { error in
            guard let e = error as? TraktExportError, case .tooLarge = e else { return false }
            return true
        }
    }

    @Test func zipBombIsRefusedBeforeItIsInflated() throws {
        // 40 MiB of one byte compresses about 1000:1: far past the 100:1 allowed over 16 MiB.
        let dir = try TempDir()
        let zip = dir.url.appendingPathComponent("trakt-export-bomb.zip").path
        let script = "import zipfile\nwith zipfile.ZipFile('\(zip)', 'w', zipfile.ZIP_DEFLATED) as z:\n    z.writestr('watched-history-1.json', '[' + ' ' * (40 << 20) + ']')\n"
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script]
        try python.run()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0)
        #expect {
            try ExportReader.read(paths: [zip])
        } throws: { error in
            guard let e = error as? TraktExportError, case .tooLarge(_, let reason) = e else { return false }
            return reason.contains("compression ratio") && !e.isMissingInput
        }
    }

    @Test func everyRealWorldFileIsClassified() throws {
        let scan = try ExportReader.read(paths: [Repo.realworld])
        let k = kinds(scan)
        #expect(k["sourpatchdad-history-merged.json"] == .history)
        #expect(k["josh-trakt-data/watched/watched-movies.json"] == .watchedMovies)
        #expect(k["josh-trakt-data/watched/watched-shows.json"] == .watchedShows)
        #expect(k["josh-trakt-data/watched/playback.json"] == .playback)
        #expect(k["josh-trakt-data/user/stats.json"] == .stats)
        #expect(k["josh-trakt-data/lists/watchlist.json"] == .watchlist)
        #expect(k["josh-trakt-data/ratings/ratings-episodes.json"] == .ratings)
        #expect(k["iacoviola-trakt-backup/watched_episodes.json"] == .ignored)
        #expect(k["iacoviola-trakt-backup/watched_shows.json"] == .watchedShows)
        #expect(scan.warnings.contains { $0.contains("watched_episodes.json") })
        #expect(scan.records.filter { $0.kind == .history }.count == 140)
        #expect(scan.records.filter { $0.kind == .watchedMovie }.count == 4274 + 1150)
        #expect(scan.records.filter { $0.kind == .watchedShowWithoutEpisodes }.count == 534)
    }
}

/// The bounded ZIP entry reader (ZipEntryReader) finds each entry's local header through
/// ZIPFoundation's parsed central directory (pinned exactly in Package.swift); if an update moved those
/// fields, every entry would be refused with a message naming the archive (it never falls back to
/// ZIPFoundation's own loop, which hangs on a cut-short deflate stream): this test says so first.
@Suite(.timeLimit(.minutes(5))) struct ZipEntryReaderTests {
    @Test func everyEntryOfTheSampleIsReadThroughTheBoundedPath() throws {
        let archive = try ZIPFoundation.Archive(url: URL(fileURLWithPath: Repo.sample("official/trakt-export-sample.zip")), accessMode: .read)
        var count = 0
        for entry in archive where entry.type == .file {
            #expect(ZipEntryReader.localHeaderOffset(of: entry) != nil, "\(entry.path)")
            let (data, checksum) = try ZipEntryReader.read(entry, of: archive, path: Repo.sample("official/trakt-export-sample.zip"),
                                                           cap: 1 << 20, reserve: 0)
            #expect(checksum == entry.checksum)
            #expect(UInt64(data.count) == entry.uncompressedSize)
            count += 1
        }
        #expect(count >= 10)
    }

    /// Found by the fuzzer: a deflate stream cut short at the end of the file made ZIPFoundation's
    /// extract loop forever. Now it is a corrupt archive, at once.
    @Test func aDeflateStreamCutShortIsACorruptArchive() throws {
        let path = Repo.root.appendingPathComponent("fuzz/regressions/truncated-deflate-hangs.zip").path
        #expect {
            _ = try ExportReader.read(paths: [path])
        } throws: { error in
            guard case TraktExportError.corruptArchive(_, let reason) = error else { return false }
            return reason.contains("ends before the deflate stream does")
        }
    }
}
