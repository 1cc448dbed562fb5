import Foundation
import Testing

/// Ratings, favorites and watchlist on the command line (issue #19, importer.md section 7): the
/// flags, the report's `lists` section, `--list-items-out`, the human summary.
@Suite(.timeLimit(.minutes(5))) struct ListsCLITests {
    static let official = CLI.root.appendingPathComponent("Tests/Fixtures/lists/official").path

    static func lists(_ report: [String: Any]) -> (records: [String: Int], planned: [String: Int], skipped: [String: Int]) {
        let lists = report["lists"] as? [String: Any] ?? [:]
        return (lists["records"] as? [String: Int] ?? [:], lists["planned"] as? [String: Int] ?? [:], lists["skipped"] as? [String: Int] ?? [:])
    }

    static let allSkips = ["missing-media", "no-tmdb-id", "no-list-target", "invalid-rating", "neutral-rating", "superseded", "duplicate"]

    /// The figures of Tests/Fixtures/lists/official, worked out by hand from make-fixtures.py (each
    /// record's comment there says what it becomes).
    @Test func dryRunReportsTheListsSection() throws {
        let r = try CLI.run(["import", Self.official, "--dry-run", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = CLI.json(r.stdout)
        let (records, planned, skipped) = Self.lists(report)
        #expect(records == ["ratings": 17, "favorites": 4, "watchlist": 7])
        #expect(planned == ["total": 11, "superLiked": 3, "liked": 2, "disliked": 2, "watchlist": 4])
        #expect(skipped == ["missing-media": 2, "no-tmdb-id": 1, "no-list-target": 3, "invalid-rating": 5, "neutral-rating": 0,
                            "superseded": 3, "duplicate": 3])
        // The history sections count history only.
        #expect((report["records"] as? [String: Int])?["history"] == 2)
        #expect((report["planned"] as? [String: Int])?["total"] == 2)
        // Key order: lists after warnings, on one line, every reason present.
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("  \"lists\": ") }
        #expect(line == #"  "lists": {"records": {"ratings": 17, "favorites": 4, "watchlist": 7}, "planned": {"total": 11, "superLiked": 3, "liked": 2, "disliked": 2, "watchlist": 4}, "skipped": {"missing-media": 2, "no-tmdb-id": 1, "no-list-target": 3, "invalid-rating": 5, "neutral-rating": 0, "superseded": 3, "duplicate": 3}}"#)
    }

    @Test func listItemsOutIsInSendOrderAndTheHumanSummaryHasALinePerList() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", Self.official, "--dry-run", "--list-items-out", "lists.jsonl", "--items-out", "items.jsonl"], cwd: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: dir.path("lists.jsonl"), encoding: .utf8)
        #expect(lines == """
            {"list": "liked", "mediaId": "TV_TMDBID70523"}
            {"list": "super_liked", "mediaId": "TV_TMDBID1396"}
            {"list": "disliked", "mediaId": "TV_TMDBID1438"}
            {"list": "liked", "mediaId": "MV_TMDBID949"}
            {"list": "disliked", "mediaId": "MV_TMDBID27205"}
            {"list": "super_liked", "mediaId": "MV_TMDBID550"}
            {"list": "super_liked", "mediaId": "TV_TMDBID95396"}
            {"list": "watchlist", "mediaId": "MV_TMDBID329865"}
            {"list": "watchlist", "mediaId": "TV_TMDBID87108"}
            {"list": "watchlist", "mediaId": "TV_TMDBID70523"}
            {"list": "watchlist", "mediaId": "TV_TMDBID95396"}

            """)
        // --items-out keeps the history items only.
        let items = try String(contentsOfFile: dir.path("items.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(items.count == 2 && items.allSatisfy { $0.contains("\"imported\":\"trakt\"") })
        #expect(r.stdout.contains("lists     28 records: 17 ratings, 4 favorites, 7 watchlist entries; 11 planned:"), "\(r.stdout)")
        for expected in ["  super_liked: 3", "  liked: 2", "  disliked: 2", "  watchlist: 4", "  skipped: 17"] {
            #expect(r.stdout.split(separator: "\n").contains { $0 == expected }, "\(expected): \(r.stdout)")
        }
        #expect(r.stdout.contains("invalid-rating       the rating is not a whole number from 1 to 10"), "\(r.stdout)")
        #expect(r.stdout.contains("list items: lists.jsonl"))

        // The short form with --media-id-form short, as --items-out.
        let short = try CLI.run(["import", Self.official, "--dry-run", "--media-id-form", "short", "--list-items-out", "short.jsonl"], cwd: dir.url)
        #expect(short.status == 0)
        #expect(try String(contentsOfFile: dir.path("short.jsonl"), encoding: .utf8).hasPrefix(#"{"list": "liked", "mediaId": "TV_70523"}"#))
    }

    @Test func noRatingsLeavesEveryVerdictOutAndListsTheFilesAsIgnored() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", Self.official, "--dry-run", "--json", "--no-ratings", "--list-items-out", "lists.jsonl"], cwd: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let report = CLI.json(r.stdout)
        let (records, planned, skipped) = Self.lists(report)
        #expect(records == ["ratings": 0, "favorites": 0, "watchlist": 7])
        #expect(planned == ["total": 4, "superLiked": 0, "liked": 0, "disliked": 0, "watchlist": 4])
        #expect(skipped.values.reduce(0, +) == 3) // two duplicates and a deleted show, all watchlist
        let files = ((report["inputs"] as? [[String: Any]])?.first?["files"] as? [[String: Any]]) ?? []
        let ratings = files.filter { ($0["name"] as? String)?.hasPrefix("ratings-") == true || $0["name"] as? String == "lists-favorites.json" }
        #expect(ratings.count == 7)
        #expect(ratings.allSatisfy { $0["kind"] as? String == "ignored" && $0["records"] as? Int == 0 })
        let lines = try String(contentsOfFile: dir.path("lists.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4 && lines.allSatisfy { $0.hasPrefix(#"{"list": "watchlist""#) })
    }

    @Test func noWatchlistLeavesTheWatchlistOut() throws {
        let r = try CLI.run(["import", Self.official, "--dry-run", "--json", "--no-watchlist"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = CLI.json(r.stdout)
        let (records, planned, _) = Self.lists(report)
        #expect(records == ["ratings": 17, "favorites": 4, "watchlist": 0])
        #expect(planned == ["total": 7, "superLiked": 3, "liked": 2, "disliked": 2, "watchlist": 0])
        let files = ((report["inputs"] as? [[String: Any]])?.first?["files"] as? [[String: Any]]) ?? []
        let watchlist = files.filter { ($0["name"] as? String)?.hasPrefix("lists-watchlist") == true }
        #expect(watchlist.count == 2)
        #expect(watchlist.allSatisfy { $0["kind"] as? String == "ignored" && $0["note"] as? String == "watchlist, left out by --no-watchlist" })
        // Both flags: nothing of the lists, and the history the same as without them.
        let both = CLI.json(try CLI.run(["import", Self.official, "--dry-run", "--json", "--no-watchlist", "--no-ratings"]).stdout)
        #expect(Self.lists(both).planned["total"] == 0 && Self.lists(both).records.values.reduce(0, +) == 0)
        for key in ["records", "planned", "skipped"] {
            #expect(NSDictionary(dictionary: both[key] as? [String: Int] ?? [:]) == NSDictionary(dictionary: report[key] as? [String: Int] ?? [:]), "\(key)")
        }
    }

    @Test func movedLinesChangeTheVerdicts() throws {
        let r = try CLI.run(["import", Self.official, "--dry-run", "--json", "--disliked-up-to", "4", "--liked-from", "7", "--super-liked-from", "10"])
        #expect(r.status == 0, "\(r.stderr)")
        let (_, planned, skipped) = Self.lists(CLI.json(r.stdout))
        // Breaking Bad 10 stays super_liked with the two favorites, Heat 8 liked, Inception 2 disliked;
        // The Wire 5 and Dark 6 fall between the lines.
        #expect(planned == ["total": 9, "superLiked": 3, "liked": 1, "disliked": 1, "watchlist": 4])
        #expect(skipped["neutral-rating"] == 2)
    }

    /// The lines must keep 1 <= disliked-up-to < liked-from <= super-liked-from <= 10; any other number,
    /// however absurd, is a usage error with a message, never a crash.
    @Test(arguments: [
        ["--liked-from", "5"], ["--liked-from", "10"], ["--super-liked-from", "5"], ["--disliked-up-to", "0"],
        ["--super-liked-from", "11"], ["--disliked-up-to", "6"], ["--liked-from", "9223372036854775807"],
        ["--liked-from", "99999999999999999999999"], ["--super-liked-from", "-3"], ["--disliked-up-to", "-9223372036854775808"],
        ["--liked-from", "6.5"], ["--liked-from", "1e3"], ["--liked-from", "six"], ["--liked-from", ""], ["--disliked-up-to", "nan"],
    ])
    func linesOutOfOrderOrAbsurdAreAUsageError(flags: [String]) throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", Self.official, "--dry-run", "--list-items-out", "lists.jsonl"] + flags, cwd: dir.url)
        #expect(r.status == 64, "\(flags): \(r.status) \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)")
        #expect(r.stderr.contains("--") && r.stderr.count < 2000, "\(r.stderr)")
        #expect(dir.files.isEmpty) // nothing was written
    }

    @Test func theOrderMessageNamesTheRuleAndTheValuesGiven() throws {
        let r = try CLI.run(["import", Self.official, "--dry-run", "--liked-from", "5"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("1 <= --disliked-up-to < --liked-from <= --super-liked-from <= 10"), "\(r.stderr)")
        #expect(r.stderr.contains("--disliked-up-to 5, --liked-from 5, --super-liked-from 9"), "\(r.stderr)")
    }

    @Test(arguments: [["--disliked-up-to", "1", "--liked-from", "2", "--super-liked-from", "2"],
                      ["--disliked-up-to", "9", "--liked-from", "10", "--super-liked-from", "10"]])
    func theWidestAndNarrowestLinesAreAccepted(flags: [String]) throws {
        let r = try CLI.run(["import", Self.official, "--dry-run", "--json"] + flags)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.lists(CLI.json(r.stdout)).planned["total"] == 11) // no rating falls between the lines
    }

    /// The real files (Tests/Fixtures/realworld): one episode rating and 176 watchlist entries in
    /// josh-trakt-data, nothing else (counted over the raw files; see ListFixtureTests.realWorldLists
    /// for the python line).
    @Test func realWorldDryRunLists() throws {
        let r = try CLI.run(["import", CLI.realworld, "--dry-run", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let (records, planned, skipped) = Self.lists(CLI.json(r.stdout))
        #expect(records == ["ratings": 1, "favorites": 0, "watchlist": 176])
        #expect(planned == ["total": 176, "superLiked": 0, "liked": 0, "disliked": 0, "watchlist": 176])
        #expect(skipped == Dictionary(uniqueKeysWithValues: Self.allSkips.map { ($0, $0 == "no-list-target" ? 1 : 0) }))
    }

    /// A history-only export's human summary has no lists lines.
    @Test func noListsNoListLines() throws {
        let r = try CLI.run(["import", CLI.sample("raw"), "--dry-run"])
        #expect(r.status == 0)
        #expect(!r.stdout.contains("lists "), "\(r.stdout)")
    }
}
