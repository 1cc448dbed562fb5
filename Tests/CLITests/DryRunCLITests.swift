import Foundation
import Testing

@Suite struct DryRunCLITests {
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
        #expect(csv.first == "reason,kind,title,year,trakt_slug,season,episode,date,file")
        #expect(csv.count == skippedTotal + 1)
        // The human summary names the reasons and where the details went.
        #expect(r.stdout.contains("special-episode"))
        #expect(r.stdout.contains("items: items.jsonl"))
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
