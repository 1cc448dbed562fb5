import Foundation
import Testing
@testable import TraktExport
import ZIPFoundation

/// Ratings, favorites and watchlist files in every layout (issue #19, importer.md section 7), over the
/// fixtures of Tests/Fixtures/lists (made by its make-fixtures.py; Tests/Fixtures/README.md says what
/// each holds).
@Suite struct ListReadingTests {
    static let fixtures = Repo.root.appendingPathComponent("Tests/Fixtures/lists")
    static func fixture(_ path: String) -> String { fixtures.appendingPathComponent(path).path }

    /// The official fixture's files zipped flat, as Trakt's ZIP holds them, in a temporary folder.
    static func officialZip(in dir: TempDir) throws -> String {
        let folder = fixtures.appendingPathComponent("official")
        let zip = dir.url.appendingPathComponent("trakt-export-someuser.zip")
        let archive = try Archive(url: zip, accessMode: .create)
        // Written in a scrambled order: the reader must sort them (page 10 after page 2).
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().reversed() {
            try archive.addEntry(with: name, relativeTo: folder, compressionMethod: .deflate)
        }
        return zip.path
    }

    func kinds(_ scan: ExportScan) -> [String: FileKind] {
        Dictionary(scan.sections.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
    }

    func counts(_ scan: ExportScan) -> [ListRecordKind: Int] {
        Dictionary(grouping: scan.listRecords, by: \.kind).mapValues(\.count)
    }

    @Test func officialZipWithPagedFiles() throws {
        let dir = try TempDir()
        let scan = try ExportReader.read(paths: [try Self.officialZip(in: dir)])
        let k = kinds(scan)
        #expect(k["ratings-movies-1.json"] == .ratings)
        #expect(k["ratings-movies-2.json"] == .ratings)
        #expect(k["ratings-movies-10.json"] == .ratings)
        #expect(k["ratings-shows.json"] == .ratings)
        #expect(k["ratings-seasons.json"] == .ratings)
        #expect(k["ratings-episodes.json"] == .ratings)
        #expect(k["lists-favorites.json"] == .favorites)
        #expect(k["lists-watchlist-1.json"] == .watchlist)
        #expect(k["lists-watchlist-2.json"] == .watchlist)
        #expect(k["lists-movie-night.json"] == .ignored) // a custom list: same record shape, other name
        #expect(k["lists-lists.json"] == .ignored)
        #expect(k["collection-movies.json"] == .ignored)
        #expect(k["user-hidden-progress-watched.json"] == .ignored)
        #expect(k["watched-history.json"] == .history)
        #expect(counts(scan) == [.rating: 17, .favorite: 4, .watchlist: 7])
        // History records are not list records, and the other way round.
        #expect(scan.records.count == 2)
        #expect(scan.sections.first { $0.name == "ratings-movies-1.json" }?.recordCount == 9)

        // Pages in numeric order: the Inception rating of page 10 is read after the one of page 2.
        let inception = scan.listRecords.filter { $0.media?.tmdb == 27205 }
        #expect(inception.map(\.rating) == [9, 2])
        #expect(inception.map { scan.sections[$0.fileIndex].name } == ["ratings-movies-2.json", "ratings-movies-10.json"])
        // Only an integer as written is a rating: 7.5, 7.0, "7" and null read as none, 11 as 11 (the planner checks the range).
        let matrix = scan.listRecords.filter { $0.media?.tmdb == 603 }
        #expect(matrix.map(\.rating) == [nil, nil, nil, 11, nil])
        // Seasons and episodes are rated and listed with their show.
        let seasonRating = scan.listRecords.first { $0.kind == .rating && $0.type == .season }
        #expect(seasonRating?.media?.title == "Breaking Bad")
        let watchedDark = scan.listRecords.filter { $0.kind == .watchlist && $0.media?.tmdb == 70523 }
        #expect(watchedDark.map(\.type) == [.season, .episode])
        // The record deleted from Trakt, the one without a TMDB id, the rating without rated_at.
        #expect(scan.listRecords.contains { $0.kind == .watchlist && $0.type == .show && $0.media == nil })
        #expect(scan.listRecords.contains { $0.media?.title == "Alien" && $0.media?.tmdb == nil })
        #expect(scan.listRecords.first { $0.media?.tmdb == 70523 && $0.kind == .rating && $0.type == .show }?.date == .missing)
    }

    @Test func officialFolderGivesTheSameRecordsAsItsZip() throws {
        let dir = try TempDir()
        let zipped = try ExportReader.read(paths: [try Self.officialZip(in: dir)])
        let folder = try ExportReader.read(paths: [Self.fixture("official")])
        #expect(zipped.listRecords == folder.listRecords)
        #expect(zipped.sections == folder.sections)
    }

    @Test func legacyFolders() throws {
        let scan = try ExportReader.read(paths: [Self.fixture("legacy")])
        let k = kinds(scan)
        #expect(k["someuser/ratings/ratings-movies.json"] == .ratings)
        #expect(k["someuser/ratings/ratings-shows.json"] == .ratings)
        #expect(k["someuser/ratings/ratings-episodes.json"] == .ratings) // empty, known by its name
        #expect(k["someuser/lists/watchlist.json"] == .watchlist)
        #expect(k["someuser/lists/favorites.json"] == .favorites)
        #expect(k["someuser/lists/my-custom-list.json"] == .ignored)
        #expect(counts(scan) == [.rating: 2, .favorite: 1, .watchlist: 2])
    }

    @Test func backupScriptFiles() throws {
        let scan = try ExportReader.read(paths: [Self.fixture("backup")])
        let k = kinds(scan)
        #expect(k["ratings_movies.json"] == .ratings)
        #expect(k["ratings_shows.json"] == .ratings)
        #expect(k["watchlist_movies.json"] == .watchlist)
        #expect(k["watchlist_shows.json"] == .watchlist)
        #expect(k["collection_movies.json"] == .ignored)
        #expect(counts(scan) == [.rating: 3, .watchlist: 2])
        // An offset timestamp is read as its instant.
        let dark = scan.listRecords.filter { $0.media?.tmdb == 70523 }
        #expect(dark.last?.date.timestamp?.iso8601 == "2020-02-01T09:00:00.000Z")
    }

    @Test func traktexportDocumentKeys() throws {
        let scan = try ExportReader.read(paths: [Self.fixture("traktexport/traktexport-lists.json")])
        let k = kinds(scan)
        #expect(k["traktexport-lists.json#ratings"] == .ratings)
        #expect(k["traktexport-lists.json#watchlist"] == .watchlist)
        #expect(k["traktexport-lists.json#lists"] == .ignored)
        #expect(k["traktexport-lists.json#collection"] == .ignored)
        #expect(counts(scan) == [.rating: 4, .watchlist: 2])
        #expect(scan.listRecords.map(\.type) == [.movie, .show, .season, .episode, .movie, .episode])
        #expect(scan.listRecords.last?.media?.title == "The Wire")
    }

    @Test func apiDumpsWrappedInMetadata() throws {
        let scan = try ExportReader.read(paths: [Self.fixture("api")])
        let k = kinds(scan)
        #expect(k["ratings.json"] == .ratings)
        #expect(k["watchlist.json"] == .watchlist)
        #expect(k["history.json"] == .history)
        #expect(counts(scan) == [.rating: 2, .watchlist: 1])
    }

    /// `--no-ratings` and `--no-watchlist`: their files are listed as ignored and give no records.
    @Test(arguments: [(true, false), (false, true), (false, false)])
    func leftOutKindsAreIgnored(verdicts: Bool, watchlist: Bool) throws {
        let scan = try ExportReader.read(paths: [Self.fixture("official")], lists: ListSelection(verdicts: verdicts, watchlist: watchlist))
        let k = kinds(scan)
        #expect(k["ratings-movies-1.json"] == (verdicts ? .ratings : .ignored))
        #expect(k["lists-favorites.json"] == (verdicts ? .favorites : .ignored))
        #expect(k["lists-watchlist-1.json"] == (watchlist ? .watchlist : .ignored))
        if !verdicts {
            #expect(scan.sections.first { $0.name == "ratings-movies-1.json" }?.note == "ratings, left out by --no-ratings")
            #expect(scan.sections.first { $0.name == "lists-favorites.json" }?.note == "favorites, left out by --no-ratings")
        }
        if !watchlist {
            #expect(scan.sections.first { $0.name == "lists-watchlist-2.json" }?.note == "watchlist, left out by --no-watchlist")
        }
        #expect(scan.listRecords.filter { $0.kind != .watchlist }.count == (verdicts ? 21 : 0))
        #expect(scan.listRecords.filter { $0.kind == .watchlist }.count == (watchlist ? 7 : 0))
        #expect(scan.sections.filter { !$0.kind.isList }.map(\.recordCount).reduce(0, +) == 2)
        #expect(scan.records.count == 2) // history is read the same
    }

    @Test(arguments: [
        ("lists-watchlist.json", FileKind.watchlist), ("lists-watchlist-3.json", .watchlist), ("lists-favorites-12.json", .favorites),
        ("watchlist.json", .watchlist), ("favorites.json", .favorites), ("watchlist_movies.json", .watchlist),
        ("favorites_shows.json", .favorites), ("someuser-watchlist_shows.json", .watchlist), ("someuser-watchlist.json", .watchlist),
        ("LISTS-WATCHLIST-2.JSON", .watchlist), ("watchlist-2.json", .watchlist),
    ])
    func listFileNames(name: String, kind: FileKind) {
        #expect(Classifier.listFileKind(name) == kind)
    }

    /// Custom lists and other list-shaped files stay ignored, even when their slug holds the word.
    @Test(arguments: ["lists-my-watchlist.json", "lists-favorites-of-2020.json", "lists-lists.json", "lists-likes.json",
                      "lists-collaborations.json", "user-lists.json", "watchlists.json", "mywatchlist.json", "lists-watchlist-x.json"])
    func otherListNamesAreNotTheWatchlistOrFavorites(name: String) {
        #expect(Classifier.listFileKind(name) == nil)
    }

    /// Records of the wrong shape are read as records with what they lack missing: the planner skips them.
    @Test func oddRatingRecordsAreToleratedNotFatal() throws {
        let dir = try TempDir()
        _ = try dir.write("export/watched-history.json", #"[{"id": 1, "watched_at": "2020-01-01T00:00:00Z", "type": "movie", "movie": {"title": "Heat", "ids": {"tmdb": 949}}}]"#)
        _ = try dir.write("export/ratings-movies.json", """
            [{"rated_at": "2020-01-01T00:00:00Z", "rating": 8, "type": "movie", "movie": {"ids": {"tmdb": "abc"}}},
             42, null, "text",
             {"rated_at": 12, "rating": 1e400, "type": "person", "person": {"name": "X"}},
             {"rated_at": "2020-01-01T00:00:00Z", "rating": -0, "movie": {"ids": {"tmdb": 550}}},
             {"rated_at": "2020-01-01T00:00:00Z", "rating": 99999999999999999999, "type": "show", "show": null}]
            """)
        let scan = try ExportReader.read(paths: [dir.url.appendingPathComponent("export").path])
        #expect(scan.listRecords.count == 7)
        #expect(scan.listRecords[0].media != nil && scan.listRecords[0].media?.tmdb == nil)
        #expect(scan.listRecords[1...3].allSatisfy { $0.type == nil && $0.media == nil })
        #expect(scan.listRecords[4].type == nil && scan.listRecords[4].rating == nil && scan.listRecords[4].date == .missing)
        #expect(scan.listRecords[5].type == .movie && scan.listRecords[5].rating == 0)
        #expect(scan.listRecords[6].rating == nil && scan.listRecords[6].media == nil)
    }
}

extension FileKind {
    var isList: Bool { self == .ratings || self == .favorites || self == .watchlist }
}
