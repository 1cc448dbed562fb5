import Foundation
import Testing

/// `status` while an import delivers from the same state (importer.md section 2): never refused by the
/// lock, read only, with counts that add up.
@Suite struct StatusWhileRunningCLITests {
    /// Starts `import` of `count` distinct movie plays into `server` with a fresh state file in `dir`
    /// (keep `dir`: the folder goes when it does).
    static func startImport(_ server: SandboxProcess, count: Int, extra: [String] = []) throws
        -> (dir: TempDir, state: String, run: CLI.Running) {
        let dir = try TempDir()
        let input = try DeliveryCLITests.history(dir, count: count)
        let state = dir.path("state.sqlite")
        let run = try CLI.start(["import", input, "--api-url", server.url, "--token-file", server.tokenFile, "--state", state,
                                 "--concurrency", "2", "--rate", "500"] + extra)
        return (dir, state, run)
    }

    @Test(.timeLimit(.minutes(5)))
    func statusDuringARunningImportExitsZeroAndShowsTheCounts() throws {
        // Every answer takes 0.3 s: with 2 in flight, 60 items take about 9 s.
        let server = try SandboxProcess(["--slow-rate", "1", "--slow-delay", "0.3"])
        let (dir, state, run) = try Self.startImport(server, count: 60, extra: ["--no-progress"])
        defer { run.stop(); _ = dir }
        #expect(CLI.waitFor("some plays stored") { ((try? server.stats()["stored"] as? Int) ?? 0) >= 3 })

        let json = try CLI.run(["status", "--json", "--state", state])
        #expect(json.status == 0, "\(json.stderr)")
        let object = CLI.json(json.stdout)
        #expect(object["running"] as? Bool == true, "\(json.stdout)")
        let counts = object["counts"] as? [String: Int] ?? [:]
        #expect(counts["total"] == 60, "\(json.stdout)")
        let settled = (counts["delivered"] ?? 0) + (counts["alreadyPresent"] ?? 0)
        #expect(settled >= 1 && settled < 60, "\(json.stdout)")
        #expect((counts["pending"] ?? 0) + (counts["inFlight"] ?? 0) + settled + (counts["failed"] ?? 0) == 60)

        let human = try CLI.run(["status", "--state", state])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("another trakt2discovr is delivering from this state now"), "\(human.stdout)")
        #expect(human.stdout.contains("in flight"))
        // A second delivering process is still refused.
        let resume = try CLI.run(["resume", "--api-url", server.url, "--token-file", server.tokenFile, "--state", state, "--no-progress"])
        #expect(resume.status == 75, "\(resume.stderr)")

        let finished = run.result()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try server.stats()["stored"] as? Int == 60)
        // Once the run is over, status opens the state as usual again.
        let after = CLI.json(try CLI.run(["status", "--json", "--state", state]).stdout)
        #expect(after["running"] as? Bool == false)
        #expect((after["counts"] as? [String: Int])?["delivered"] == 60)
    }

    /// An answer lost while a run goes on: `status` (read only) shows the item as uncertain until its
    /// read-back settles it, and 0 once the run is over.
    @Test(.timeLimit(.minutes(5)))
    func statusDuringARunShowsUncertainItems() throws {
        // 30% of answers lost after the play was stored; --timeout 5 makes the grace 10 s, so each
        // uncertain item waits that long before its read-back.
        let server = try SandboxProcess(["--drop-rate", "0.3", "--seed", "21"])
        let (dir, state, run) = try Self.startImport(server, count: 30, extra: ["--timeout", "5"])
        defer { run.stop(); _ = dir }
        #expect(CLI.waitFor("an answer lost") { ((try? server.stats()["dropped"] as? Int) ?? 0) >= 1 })
        var seen: [String: Any] = [:]
        let sawUncertain = CLI.waitFor("status shows an uncertain item") {
            guard let status = try? CLI.run(["status", "--json", "--state", state]), status.status == 0 else { return false }
            seen = CLI.json(status.stdout)
            return (seen["uncertain"] as? Int ?? 0) >= 1
        }
        #expect(sawUncertain, "\(seen)")
        #expect(seen["running"] as? Bool == true, "\(seen)")
        let finished = run.result()
        #expect(finished.status == 0, "\(finished.stderr)")
        // The progress line (stderr is not a terminal: a plain line every 10 s and one at the end) says
        // what the read-backs did.
        let last = finished.stderr.split(separator: "\n").last { $0.contains(" done") }.map(String.init) ?? ""
        #expect(last.contains("30/30 done") && last.contains("read back ") && last.contains(", found "), "\(finished.stderr)")
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 30 && stats["repeats"] as? Int == 0, "\(stats)")
        let after = CLI.json(try CLI.run(["status", "--json", "--state", state]).stdout)
        #expect(after["uncertain"] as? Int == 0, "\(after)")
        #expect((after["counts"] as? [String: Int])?["alreadyPresent"] ?? 0 >= 1, "\(after)")
    }
}
