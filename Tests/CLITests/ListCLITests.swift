import Foundation
import Testing

/// Ratings, favorites and watchlist moved end to end (importer.md section 7): the built binary against
/// the sandbox in its own process, on a real port. What the profile's lists hold at the end is checked
/// against what a dry run planned (`--list-items-out`), not against numbers written here.
@Suite(.serialized) struct ListCLITests {
    /// A current-export folder: `plays` movie plays, ratings of movies 1...`rated` (rating k % 10 + 1,
    /// so every verdict and the neutral band occur), a watchlist of the next `watchlisted` movies and
    /// one favorite.
    static func export(_ dir: TempDir, plays: Int, rated: Int, watchlisted: Int) throws -> String {
        func movie(_ k: Int) -> String {
            "{\"title\": \"Movie \(k)\", \"year\": 2000, \"ids\": {\"trakt\": \(k), \"slug\": \"movie-\(k)\", \"tmdb\": \(k)}}"
        }
        func date(_ k: Int) -> String {
            String(format: "20%02d-%02d-%02dT20:00:00.000Z", 10 + k / 336 % 15, k / 28 % 12 + 1, k % 28 + 1)
        }
        let folder = dir.path("export")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let history = (1...plays).map {
            "{\"id\": \(9_000_000_000 + $0), \"watched_at\": \"\(date($0))\", \"action\": \"watch\", \"type\": \"movie\", \"movie\": \(movie($0))}"
        }
        let ratings = (1...rated).map { "{\"rated_at\": \"\(date($0))\", \"rating\": \($0 % 10 + 1), \"type\": \"movie\", \"movie\": \(movie($0))}" }
        let watchlist = (1...watchlisted).map {
            "{\"rank\": \($0), \"id\": \(70_000 + $0), \"listed_at\": \"\(date($0))\", \"notes\": null, \"type\": \"movie\", \"movie\": \(movie(rated + $0))}"
        }
        let favorite = "{\"rank\": 1, \"id\": 80000, \"listed_at\": \"\(date(3))\", \"notes\": null, \"type\": \"movie\", \"movie\": \(movie(3))}"
        for (name, records) in [("watched-history.json", history), ("ratings-movies.json", ratings),
                                ("lists-watchlist.json", watchlist), ("lists-favorites.json", [favorite])] {
            try ("[" + records.joined(separator: ",\n") + "]").write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// What the profile's lists must hold: the dry run's list writes, by list, in the sandbox's form.
    static func plannedLists(_ input: String, _ dir: TempDir) throws -> [String: [String]] {
        let out = dir.path("planned-lists.jsonl")
        let r = try CLI.run(["import", input, "--dry-run", "--list-items-out", out])
        #expect(r.status == 0, "\(r.stderr)")
        var lists: [String: [String]] = ["liked": [], "disliked": [], "super_liked": [], "watchlist": []]
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            let object = CLI.json(String(line))
            lists[object["list"] as? String ?? "?", default: []].append(object["mediaId"] as? String ?? "?")
        }
        return lists.mapValues { $0.sorted() }
    }

    static func listStats(_ server: SandboxProcess) throws -> [String: Int] {
        ((try server.stats())["lists"] as? [String: Any])?.compactMapValues { $0 as? Int } ?? [:]
    }

    @Test func ratingsAndTheWatchlistArriveExactlyAsPlannedAndARepeatSendsNoListWrite() throws {
        let dir = try TempDir()
        let input = try Self.export(dir, plays: 40, rated: 30, watchlisted: 8)
        let planned = try Self.plannedLists(input, dir)
        let total = planned.values.map(\.count).reduce(0, +)
        #expect(total > 20 && !planned["liked", default: []].isEmpty && !planned["disliked", default: []].isEmpty
            && !planned["super_liked", default: []].isEmpty && planned["watchlist"]?.count == 8, "\(planned)")
        // Lost answers after the write, on plays and list writes alike.
        let server = try SandboxProcess(["--drop-rate", "0.2", "--seed", "5"])
        let state = dir.path("state.sqlite")
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", state, "--no-progress",
                      "--rate", "300", "--timeout", "2"]
        let r = try CLI.run(["import", input, "--json"] + common)
        #expect(r.status == 0, "\(r.stderr)")
        let delivery = CLI.json(r.stdout)["delivery"] as? [String: Any] ?? [:]
        let lists = (delivery["lists"] as? [String: Any])?.compactMapValues { $0 as? Int } ?? [:]
        #expect(lists["delivered"] == total && lists["failed"] == 0 && lists["pending"] == 0, "\(delivery)")
        // Plays whose answer was lost and that a read-back found count as already there.
        #expect((delivery["delivered"] as? Int ?? 0) + (delivery["alreadyPresent"] as? Int ?? 0) == 40, "\(delivery)")
        #expect(try server.lists() == planned)
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 40 && stats["repeats"] as? Int == 0, "every play once: \(stats)")
        #expect((try Self.listStats(server)["dropped"] ?? 0) > 0, "the test lost no list answer")
        // The favorite's title (movie 3, rated too) is super_liked, and in one list only.
        #expect(planned["super_liked"]?.contains("MV_TMDBID3") == true)

        // Again: nothing new to send, no list write goes out.
        let before = try Self.listStats(server)["requests"] ?? -1
        let again = try CLI.run(["import", input, "--json"] + common)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.listStats(server)["requests"] == before)
        #expect(try server.lists() == planned)
        let status = CLI.json(try CLI.run(["status", "--json", "--state", state]).stdout)
        #expect((status["lists"] as? [String: Int])?["delivered"] == total)
    }

    @Test func aServerWithOnlyTheDocumentedListTakesHistoryAndDislikedAndFailsTheRestClearly() throws {
        let dir = try TempDir()
        let input = try Self.export(dir, plays: 25, rated: 30, watchlisted: 6)
        let planned = try Self.plannedLists(input, dir)
        let server = try SandboxProcess(["--lists", "documented"])
        let state = dir.path("state.sqlite")
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", state, "--no-progress", "--rate", "300"]
        let r = try CLI.run(["import", input, "--json"] + common)
        #expect(r.status == 1, "\(r.stderr)")
        for path in ["/profile/liked", "/profile/super_liked", "/profile/watchlist"] {
            #expect(r.stderr.contains("POST \(path)") && r.stderr.contains("retry-failed"), "\(path): \(r.stderr)")
        }
        #expect(!r.stderr.contains("POST /profile/disliked"))
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 25 && stats["repeats"] as? Int == 0)
        let held = try server.lists()
        #expect(held["disliked"] == planned["disliked"] && held["liked"] == [] && held["watchlist"] == [])
        let refused = ["liked", "super_liked", "watchlist"].map { planned[$0]?.count ?? 0 }.reduce(0, +)
        let lists = ((CLI.json(r.stdout)["delivery"] as? [String: Any])?["lists"] as? [String: Int]) ?? [:]
        #expect(lists["failed"] == refused && lists["delivered"] == planned["disliked"]?.count && lists["pending"] == 0, "\(lists)")
        // Refused once per path, not one retry loop per item: each refused path saw at most its first
        // titles plus what was in flight with them.
        let listStats = try Self.listStats(server)
        #expect((listStats["notServed"] ?? 99) <= 3 * (3 + 4), "\(listStats)")
        // retry-failed puts them back for a later resume.
        let retry = try CLI.run(["retry-failed", "--state", state])
        #expect(retry.status == 0 && retry.stdout.contains("\(refused) failed items moved back"), "\(retry.stdout)")
    }

    /// kill -9 while list writes are out, then resume: every play once, the lists exactly as planned.
    @Test func aKillDuringListWritesLosesNothingAndRepeatsNoPlay() throws {
        let dir = try TempDir()
        let input = try Self.export(dir, plays: 30, rated: 60, watchlisted: 20)
        let planned = try Self.plannedLists(input, dir)
        let server = try SandboxProcess(["--slow-rate", "0.5", "--slow-delay", "0.3"])
        let state = dir.path("state.sqlite")
        // A short --timeout: a play the kill left in flight is read back after twice it, not a minute.
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", state, "--no-progress", "--rate", "200",
                      "--timeout", "2"]
        let run = try CLI.start(["import", input] + common)
        let started = CLI.waitFor("list writes to be under way", timeout: 60) {
            ((try? Self.listStats(server)["requests"]) ?? 0) >= 5 || !run.process.isRunning
        }
        #expect(started && run.process.isRunning, "the import ended before its list writes: \(run.stderr)")
        kill(run.process.processIdentifier, SIGKILL)
        run.process.waitUntilExit()
        run.stop()
        let r = try CLI.run(["resume", "--json"] + common)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try server.lists() == planned)
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 30 && stats["repeats"] as? Int == 0, "\(stats)")
    }
}
