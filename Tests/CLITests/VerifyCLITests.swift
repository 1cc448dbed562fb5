import Foundation
import Testing

/// `verify` (importer.md section 8) through the built binary, against a sandbox in another process
/// whose history is damaged on purpose (`/_sandbox/history/drop` and `/duplicate`).
@Suite(.timeLimit(.minutes(5))) struct VerifyCLITests {
    static let fast = DeliveryCLITests.fast

    /// A play as the sandbox stored it or as verify names it: id (either form), season, episode, date.
    static func play(_ o: [String: Any]) -> String {
        let id = (o["mediaId"] as? String ?? "").replacingOccurrences(of: "TMDBID", with: "")
        return "\(id)|\(o["season"] as? Int ?? 0)|\(o["episode"] as? Int ?? 0)|\(o["updatedAt"] as? String ?? "-")"
    }

    static func plays(_ report: [String: Any], _ key: String) -> Set<String> {
        Set((report[key] as? [[String: Any]] ?? []).map(play))
    }

    @Test func verifyFindsExactlyWhatTheSandboxDroppedAndDuplicatedAndRequeueMissingSendsTheMissingOnes() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        // 120 movie plays and the sample (episodes, a play without a date): 134 plays, 3 history pages.
        let history = try DeliveryCLITests.history(dir, count: 120)
        let account = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")]
        let imported = try CLI.run(["import", history, CLI.sample("official/trakt-export-sample.zip"), "--json"] + account + Self.fast)
        #expect(imported.status == 0, "\(imported.stderr)")
        let planned = (CLI.json(imported.stdout)["planned"] as? [String: Any])?["total"] as? Int
        #expect(planned == 134)

        let clean = try CLI.run(["verify", "--json", "--no-progress"] + account)
        #expect(clean.status == 0, "\(clean.stderr)")
        let first = CLI.json(clean.stdout)
        #expect(first["checked"] as? Int == planned)
        #expect(first["present"] as? Int == planned)
        #expect(Self.plays(first, "missing").isEmpty && Self.plays(first, "duplicated").isEmpty)
        #expect(first["unexpected"] as? Int == 0)
        #expect(first["pages"] as? Int == 3)

        let dropped = Set(try server.damage("drop", count: 2, seed: 11).map(Self.play))
        let doubled = Set(try server.damage("duplicate", count: 3, seed: 12).map(Self.play))
        #expect(dropped.count == 2 && doubled.count == 3)

        let damaged = try CLI.run(["verify", "--no-progress", "--report", dir.path("verify.json")] + account)
        #expect(damaged.status == 1, "\(damaged.stderr)")
        #expect(damaged.stdout.hasPrefix("NOT verified: 2 missing, 3 duplicated of 134 plays checked"), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("--requeue-missing"))
        let report = CLI.json(try String(contentsOfFile: dir.path("verify.json"), encoding: .utf8))
        #expect(Self.plays(report, "missing") == dropped)
        #expect(Self.plays(report, "duplicated") == doubled)
        #expect((report["missing"] as? [[String: Any]] ?? []).allSatisfy { $0["found"] as? Int == 0 && $0["title"] is String })
        #expect((report["duplicated"] as? [[String: Any]] ?? []).allSatisfy { $0["found"] as? Int == 2 })
        #expect(report["present"] as? Int == 129)

        let requeue = try CLI.run(["verify", "--requeue-missing", "--json", "--no-progress"] + account)
        #expect(requeue.status == 1)
        #expect(CLI.json(requeue.stdout)["requeued"] as? Int == 2)
        let pending = CLI.json(try CLI.run(["status", "--json", "--state", dir.path("state.sqlite")]).stdout)
        #expect((pending["counts"] as? [String: Int])?["pending"] == 2)

        let resumed = try CLI.run(["resume"] + account + Self.fast)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try CLI.run(["verify", "--json", "--no-progress"] + account)
        #expect(after.status == 1) // the duplicates are still there: only the app can remove them
        let last = CLI.json(after.stdout)
        #expect(Self.plays(last, "missing").isEmpty)
        #expect(Self.plays(last, "duplicated") == doubled)
        #expect(last["present"] as? Int == 131)
        // 134 sent by the import and 2 sent again after the drop; no play sent twice by the tool.
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 136 && stats["repeats"] as? Int == 0)

        let status = try CLI.run(["status", "--state", dir.path("state.sqlite")])
        #expect(status.stdout.contains("0 missing, 3 duplicated of 134 checked"), "\(status.stdout)")
        let statusJSON = CLI.json(try CLI.run(["status", "--json", "--state", dir.path("state.sqlite")]).stdout)
        #expect((statusJSON["lastVerify"] as? [String: Any])?["duplicated"] as? Int == 3)
        for output in [clean, damaged, requeue, after, status] {
            #expect(!(output.stdout + output.stderr).contains(server.token))
        }
    }

    @Test func entriesOfAnotherImportAreCountedAsUnexpectedNotAsOurs() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let other = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", dir.path("other.sqlite")]
        #expect(try CLI.run(["import", try DeliveryCLITests.history(dir, count: 5, name: "a.json")] + other + Self.fast).status == 0)
        let ours = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")]
        #expect(try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip")] + ours + Self.fast).status == 0)
        let r = try CLI.run(["verify", "--json", "--no-progress"] + ours)
        #expect(r.status == 0, "\(r.stderr)")
        let result = CLI.json(r.stdout)
        #expect(result["checked"] as? Int == 14 && result["present"] as? Int == 14)
        #expect(result["unexpected"] as? Int == 5)
    }

    @Test func aMissingStateAStateWithNothingDeliveredAndARefusedTokenSayWhatToDo() throws {
        let dir = try TempDir()
        let missing = try CLI.run(["verify", "--state", dir.path("none.sqlite"), "--api-url", "http://127.0.0.1:1", "--token-file", dir.path("t")])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no state file"), "\(missing.stderr)")

        // A plan saved, nothing delivered: the server could not be reached.
        let token = try dir.write("token", "rt_0123456789abcdef0123456789abcdef\n")
        chmod(token, 0o600)
        let unreachable = ["--api-url", "http://127.0.0.1:1", "--token-file", token, "--state", dir.path("state.sqlite")]
        let planned = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--give-up-after", "1"] + unreachable + Self.fast)
        #expect(planned.status == 75, "\(planned.stderr)")
        let nothing = try CLI.run(["verify"] + unreachable)
        #expect(nothing.status == 75)
        #expect(nothing.stderr.contains("none of the 14 planned plays"), "\(nothing.stderr)")
        #expect(nothing.stderr.contains("resume"))

        let server = try SandboxProcess()
        let account = ["--api-url", server.url, "--state", dir.path("delivered.sqlite")]
        #expect(try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--token-file", server.tokenFile] + account + Self.fast).status == 0)
        let refused = try CLI.run(["verify", "--token-file", token] + account)
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.contains("trakt2discovr login"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("rt_0123456789abcdef"))
    }
}
