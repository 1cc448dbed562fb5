import Foundation
import Testing

@Suite(.timeLimit(.minutes(5))) struct DryRunCLITests {
    @Test(arguments: [
        ("official/trakt-export-sample.zip", "official"),
        ("legacy", "legacy"),
        ("traktexport/traktexport-sample.json", "traktexport"),
        ("raw", "raw"),
    ])
    func sampleDryRunPrintsItsExpectedReport(path: String, expected: String) throws {
        let r = try CLI.run(["import", "samples/\(path)", "--dry-run", "--json"], cwd: CLI.root)
        #expect(r.status == 0, "\(r.stderr)")
        let want = try String(contentsOfFile: CLI.sample("expected/\(expected).json"), encoding: .utf8)
        #expect(r.stdout == want)
    }

    @Test func dryRunWritesNoStateAndTheAskedFiles() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--dry-run",
                             "--report", "report.json", "--items-out", "items.jsonl", "--skipped-out", "skipped.csv"], cwd: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(dir.files) == ["report.json", "items.jsonl", "skipped.csv"])
        let report = CLI.json(try String(contentsOfFile: dir.path("report.json"), encoding: .utf8))
        #expect(report["delivery"] == nil)
        #expect(report["dryRun"] as? Bool == true)
        let planned = (report["planned"] as? [String: Any])?["total"] as? Int
        let lines = try String(contentsOfFile: dir.path("items.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == planned)
        // Send order: oldest first, items without a date first of all.
        let dates = lines.map { (CLI.json(String($0))["updatedAt"] as? String) ?? "" }
        #expect(dates == dates.sorted())
        #expect(lines.allSatisfy { CLI.json(String($0))["imported"] as? String == "trakt" })
        let skippedTotal = ((report["skipped"] as? [String: Int]) ?? [:]).values.reduce(0, +)
        let csv = try String(contentsOfFile: dir.path("skipped.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "reason,kind,title,year,trakt_slug,season,episode,date,file,trakt_url,trakt_id,imdb_id,tvdb_id,tmdb_id")
        #expect(csv.count == skippedTotal + 1)
        // The human summary names the reasons and where the details went.
        #expect(r.stdout.contains("special-episode"))
        #expect(r.stdout.contains("items: items.jsonl"))
    }

    /// An export whose skipped titles hold commas, quotes, a line break and a leading `=`: the CSV
    /// read back with an RFC 4180 reader gives every field as it was, the trakt.tv page and the ids;
    /// the summary names the titles with the most skipped plays.
    @Test func skippedCSVReadsBackAndTheSummaryNamesTheTopTitles() throws {
        let dir = try TempDir()
        func ids(_ trakt: Int, _ slug: String?, tmdb: String, tvdb: String = "null", imdb: String = "null") -> String {
            #"{"trakt": \#(trakt), "slug": \#(slug.map { "\"\($0)\"" } ?? "null"), "imdb": \#(imdb), "tvdb": \#(tvdb), "tmdb": \#(tmdb)}"#
        }
        let office = #"{"title": "The \"Office\", US", "year": 2005, "ids": \#(ids(1391, "the-office-us", tmdb: "null", tvdb: "73244", imdb: "\"tt0386676\""))}"#
        let tiger = #"{"title": "Crouching Tiger, Hidden Dragon", "year": 2000, "ids": \#(ids(146, "crouching-tiger-hidden-dragon-2000", tmdb: "0", imdb: "\"tt0190332\""))}"#
        let odd = #"{"title": "=1+2, \"quoted\"\r\nsecond line", "year": 2019, "ids": \#(ids(7, nil, tmdb: "12345"))}"#
        let bb = #"{"title": "Breaking Bad", "year": 2008, "ids": \#(ids(1388, "breaking-bad", tmdb: "1396", tvdb: "81189", imdb: "\"tt0903747\""))}"#
        let history = [
            #"{"id": 1, "watched_at": "2020-01-01T10:00:00.000Z", "type": "episode", "episode": {"season": 1, "number": 1}, "show": \#(office)}"#,
            #"{"id": 2, "watched_at": "2020-01-02T10:00:00.000Z", "type": "episode", "episode": {"season": 1, "number": 2}, "show": \#(office)}"#,
            #"{"id": 3, "watched_at": "2020-01-03T10:00:00.000Z", "type": "episode", "episode": {"season": 2, "number": 1}, "show": \#(office)}"#,
            #"{"id": 4, "watched_at": "2020-02-01T10:00:00.000Z", "type": "movie", "movie": \#(tiger)}"#,
            #"{"id": 5, "watched_at": "2020-03-01T10:00:00.000Z", "type": "episode", "episode": {"season": 0, "number": 3}, "show": \#(bb)}"#,
            #"{"id": 6, "watched_at": "2020-03-02T10:00:00.000Z", "type": "movie", "movie": null}"#,
            #"{"id": 7, "watched_at": "2020-03-03T10:00:00.000Z", "type": "episode", "episode": {"season": 1, "number": 1}, "show": \#(bb)}"#,
        ]
        let playback = [
            #"{"progress": 0.0, "paused_at": "2021-01-01T10:00:00.000Z", "id": 1, "type": "movie", "movie": \#(odd)}"#,
            #"{"progress": 0.01, "paused_at": "2021-01-02T10:00:00.000Z", "id": 2, "type": "episode", "episode": {"season": 1, "number": 2}, "show": \#(bb)}"#,
        ]
        try dir.write("export/watched-history-1.json", "[" + history.joined(separator: ",\n") + "]")
        try dir.write("export/watched-playback.json", "[" + playback.joined(separator: ",\n") + "]")
        let r = try CLI.run(["import", dir.path("export"), "--dry-run", "--skipped-out", "skipped.csv"], cwd: dir.url)
        #expect(r.status == 0, "\(r.stderr)")

        let (header, rows) = try RFC4180.rows(try String(contentsOfFile: dir.path("skipped.csv"), encoding: .utf8))
        #expect(header == ["reason", "kind", "title", "year", "trakt_slug", "season", "episode", "date", "file",
                           "trakt_url", "trakt_id", "imdb_id", "tvdb_id", "tmdb_id"])
        let columns = ["reason", "title", "year", "season", "episode", "trakt_url", "trakt_id", "imdb_id", "tvdb_id", "tmdb_id"]
        let got = rows.map { row in columns.map { row[$0] ?? "<none>" } }
        #expect(got == [
            ["no-tmdb-id", #"The "Office", US"#, "2005", "1", "1", "https://trakt.tv/shows/the-office-us/seasons/1/episodes/1", "1391", "tt0386676", "73244", ""],
            ["no-tmdb-id", #"The "Office", US"#, "2005", "1", "2", "https://trakt.tv/shows/the-office-us/seasons/1/episodes/2", "1391", "tt0386676", "73244", ""],
            ["no-tmdb-id", #"The "Office", US"#, "2005", "2", "1", "https://trakt.tv/shows/the-office-us/seasons/2/episodes/1", "1391", "tt0386676", "73244", ""],
            ["no-tmdb-id", "Crouching Tiger, Hidden Dragon", "2000", "", "", "https://trakt.tv/movies/crouching-tiger-hidden-dragon-2000", "146", "tt0190332", "", ""],
            ["special-episode", "Breaking Bad", "2008", "0", "3", "https://trakt.tv/shows/breaking-bad/seasons/0/episodes/3", "1388", "tt0903747", "81189", "1396"],
            ["missing-media", "", "", "", "", "", "", "", "", ""],
            // A leading = is neutralised for spreadsheets; the rest of the title comes back whole.
            ["zero-progress", "'=1+2, \"quoted\"\r\nsecond line", "2019", "", "", "", "7", "", "", "12345"],
        ])
        #expect(rows.map { $0["file"] } == Array(repeating: "watched-history-1.json", count: 6) + ["watched-playback.json"])
        #expect(rows.last?["date"] == "2021-01-01T10:00:00.000Z")

        // The summary: each reason with its top titles, most skipped plays first.
        let lines = r.stdout.split(separator: "\n").map { String($0) }
        func line(after reason: String) -> String? {
            guard let k = lines.firstIndex(where: { $0.contains(" \(reason) ") }), k + 1 < lines.count else { return nil }
            return lines[k + 1].trimmingCharacters(in: .whitespaces)
        }
        #expect(line(after: "no-tmdb-id") == #"most: The "Office", US (2005): 3 plays; Crouching Tiger, Hidden Dragon (2000): 1 play"#, "\(r.stdout)")
        #expect(line(after: "special-episode") == "most: Breaking Bad (2008): 1 play", "\(r.stdout)")
        #expect(line(after: "zero-progress")?.hasPrefix("most: =1+2") == true, "\(r.stdout)")
        #expect(line(after: "missing-media")?.hasPrefix("most:") == false, "a deleted title is not named: \(r.stdout)")
        #expect(r.stdout.contains("planned   2 items: 0 movies, 2 episodes (1 in progress)"), "\(r.stdout)")
    }

    @Test func humanSummaryIsShortAndWarnsAboutIncompleteExports() throws {
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--dry-run"])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").count < 30)
        #expect(r.stdout.contains("_errors.json"))
        #expect(r.stdout.contains("stats count 27"))
    }

    @Test func realWorldFilesAllAddUp() throws {
        let r = try CLI.run(["import", CLI.realworld, "--dry-run", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = CLI.json(r.stdout)
        let records = (report["records"] as? [String: Int] ?? [:]).values.reduce(0, +)
        let planned = (report["planned"] as? [String: Any])?["total"] as? Int ?? -1
        let skipped = (report["skipped"] as? [String: Int] ?? [:]).values.reduce(0, +)
        #expect(records > 0)
        #expect(records == planned + skipped)
    }

    @Test(arguments: [
        (["import", "/nonexistent/export.zip", "--dry-run"], Int32(66), "no such file"),
        (["import", "--dry-run"], Int32(64), "at least one export path"),
        (["import", "x.zip", "--unknown-dates", "sometimes"], Int32(64), "unknown-dates"),
        (["import", "x.zip", "--rate", "0"], Int32(64), "--rate"),
        (["frobnicate"], Int32(64), "Unexpected argument"),
    ])
    func usageAndMissingInputErrors(arguments: [String], status: Int32, message: String) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func malformedJSONNamesFileLineAndColumn() throws {
        let dir = try TempDir()
        let file = try dir.write("watched-history-1.json", "[{\"id\": 1,\n \"watched_at\": \"2020-01-01T00:00:00Z\",\n \"type\": \"movie\"\n")
        let r = try CLI.run(["import", file, "--dry-run"], cwd: dir.url)
        #expect(r.status == 65)
        #expect(r.stderr.contains("\(file):4:1: malformed JSON"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(dir.files == ["watched-history-1.json"]) // nothing written
    }

    @Test func corruptZipAndEmptyFolderAreDataErrors() throws {
        let dir = try TempDir()
        let zip = try dir.write("trakt-export-x.zip", "PK\u{3}\u{4} this is not really a zip")
        let r1 = try CLI.run(["import", zip, "--dry-run"])
        #expect(r1.status == 65)
        #expect(r1.stderr.contains("not a readable ZIP archive"))
        try dir.write("empty/notes.txt", "nothing here")
        let r2 = try CLI.run(["import", dir.path("empty"), "--dry-run"])
        #expect(r2.status == 65)
        #expect(r2.stderr.contains("no Trakt watch data found"))
    }

    @Test func everyCommandHasHelpWithAnExample() throws {
        for command in ["import", "resume", "status", "retry-failed", "sandbox"] {
            let r = try CLI.run([command, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Example"), "\(command)")
        }
    }

    /// Completion scripts for the three shells ArgumentParser supports name every command; the bash
    /// one is valid bash.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsCanBeGenerated(shell: String) throws {
        let r = try CLI.run(["--generate-completion-script", shell])
        #expect(r.status == 0, "\(r.stderr)")
        for command in ["import", "resume", "status", "retry-failed", "sandbox", "dry-run", "token-file"] {
            #expect(r.stdout.contains(command), "\(shell) completion lacks \(command)")
        }
        if shell == "bash" {
            let dir = try TempDir()
            let script = try dir.write("completion.bash", r.stdout)
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/bin/bash")
            check.arguments = ["-n", script]
            try check.run()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0)
        }
    }
}
