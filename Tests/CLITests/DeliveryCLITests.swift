import Foundation
import Testing

/// The whole pipeline through the built binary, against a sandbox Discovr in another process on a
/// real port. Rates are set high so each test takes a second or two.
@Suite(.timeLimit(.minutes(5))) struct DeliveryCLITests {
    static let fast = ["--rate", "500", "--concurrency", "4", "--no-progress"]

    /// A history file of `count` distinct movie plays, one a day.
    static func history(_ dir: TempDir, count: Int, name: String = "watched-history-1.json") throws -> String {
        var records: [String] = []
        for k in 0..<count {
            let day = String(format: "%02d", k % 28 + 1), month = String(format: "%02d", k / 28 % 12 + 1)
            let year = 2000 + k / (28 * 12)
            records.append("{\"id\": \(9_000_000_000 + k), \"watched_at\": \"\(year)-\(month)-\(day)T20:00:00.000Z\", \"action\": \"watch\", \"type\": \"movie\", \"movie\": {\"title\": \"Movie \(k)\", \"year\": 2000, \"ids\": {\"trakt\": \(k + 1), \"slug\": \"movie-\(k)\", \"tmdb\": \(k + 1)}}}")
        }
        return try dir.write(name, "[" + records.joined(separator: ",\n") + "]")
    }

    @Test func importSandboxRunsTheWholeJobOnTheBundledSample() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", "--sandbox", "--json"] + Self.fast, cwd: dir.url)
        #expect(r.status == 0, "\(r.stderr)")
        let report = CLI.json(r.stdout)
        let planned = (report["planned"] as? [String: Any])?["total"] as? Int
        let delivery = (report["delivery"] as? [String: Any])?.compactMapValues { $0 as? Int } ?? [:]
        #expect(planned == 14)
        #expect(delivery["delivered"] == 14)
        #expect(delivery["failed"] == 0 && delivery["pending"] == 0)
        #expect(dir.files.isEmpty) // the sandbox's queue is temporary
    }

    @Test func importDeliversEverythingOnceAndASecondImportSendsNothing() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let args = ["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                    "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")] + Self.fast
        let first = try CLI.run(args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("delivered 14"))
        let stats1 = try server.stats()
        #expect(stats1["stored"] as? Int == 14)
        // Everything stored is what the dry run planned, body for body.
        let planned = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--dry-run", "--items-out", dir.path("items.jsonl")])
        #expect(planned.status == 0)
        let want = Set(try String(contentsOfFile: dir.path("items.jsonl"), encoding: .utf8).split(separator: "\n").map { Self.key(CLI.json(String($0))) })
        let got = Set(try server.items().map(Self.key))
        #expect(want == got)

        let second = try CLI.run(args)
        #expect(second.status == 0, "\(second.stderr)")
        let stats2 = try server.stats()
        #expect(stats2["requests"] as? Int == stats1["requests"] as? Int) // not one more history request
        #expect(stats2["stored"] as? Int == 14)
    }

    static func key(_ o: [String: Any]) -> String {
        "\(o["mediaId"] ?? "")|\(o["season"] ?? "-")|\(o["episode"] ?? "-")|\(o["updatedAt"] ?? "-")|\(o["progress"] ?? "")"
    }

    @Test func limitStopsWith75AndResumeFinishes() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let input = try Self.history(dir, count: 30)
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")] + Self.fast
        let first = try CLI.run(["import", input, "--limit", "10"] + common)
        #expect(first.status == 75, "\(first.stderr)")
        #expect(first.stderr.contains("resume"))
        #expect(try server.stats()["stored"] as? Int == 10)
        let second = try CLI.run(["resume", "--limit", "10"] + common)
        #expect(second.status == 75)
        #expect(try server.stats()["stored"] as? Int == 20)
        let third = try CLI.run(["resume"] + common)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try server.stats()["stored"] as? Int == 30)
        let status = try CLI.run(["status", "--json", "--state", dir.path("state.sqlite")])
        let counts = CLI.json(status.stdout)["counts"] as? [String: Int] ?? [:]
        #expect(counts["delivered"] == 30 && counts["pending"] == 0 && counts["failed"] == 0)
    }

    @Test func aRefusedRefreshTokenExits77BeforeSendingAnything() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let wrong = "rt_" + String(repeating: "ab", count: 16)
        let tokenFile = try dir.write("token", wrong + "\n")
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", tokenFile, "--state", dir.path("state.sqlite")] + Self.fast)
        #expect(r.status == 77, "\(r.stderr)")
        #expect(try server.stats()["stored"] as? Int == 0)
        #expect(!r.stderr.contains(wrong) && !r.stdout.contains(wrong))
    }

    @Test func noTokenIsAUsageErrorThatSaysWhatToDo() throws {
        let dir = try TempDir()
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip")], cwd: dir.url)
        #expect(r.status == 64)
        #expect(r.stderr.contains("--token-file"))
        #expect(dir.files.isEmpty)
    }

    @Test func secretsNeverReachOutputReportsOrTheStateFile() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", server.tokenFile, "--state", dir.path("state.sqlite"), "--report", dir.path("report.json"),
                             "--verbose"] + Self.fast)
        #expect(r.status == 0, "\(r.stderr)")
        let token = server.token
        #expect(token.hasPrefix("rt_"))
        var haystacks = [r.stdout, r.stderr]
        for file in dir.files where file != "token" {
            let data = try Data(contentsOf: dir.url.appendingPathComponent(file))
            haystacks.append(String(decoding: data, as: UTF8.self))
        }
        for text in haystacks {
            #expect(!text.contains(token))
            #expect(!text.contains("eyJ")) // every JWT starts with a base64url '{"'
        }
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path("state.sqlite"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func serverErrorsAndRateLimitsStillDeliverEverything() throws {
        let server = try SandboxProcess(["--fail-rate", "0.3", "--rate-limit", "10"])
        let dir = try TempDir()
        let input = try Self.history(dir, count: 60)
        let r = try CLI.run(["import", input, "--api-url", server.url, "--token-file", server.tokenFile,
                             "--state", dir.path("state.sqlite"), "--rate", "50", "--no-progress", "--max-attempts", "20"])
        #expect(r.status == 0, "\(r.stderr)")
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 60)
        #expect((stats["failed"] as? Int ?? 0) > 0)
        // The client paces itself on the RateLimit headers, so few requests (under 10%) are refused.
        #expect((stats["rateLimited"] as? Int ?? 0) * 10 < (stats["requests"] as? Int ?? 0))
    }

    @Test func anUnreachableServerStopsWith75AndKeepsEverythingPending() throws {
        let dir = try TempDir()
        let tokenFile = try dir.write("token", "rt_0123456789abcdef")
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", "http://127.0.0.1:9",
                             "--token-file", tokenFile, "--state", dir.path("state.sqlite"), "--give-up-after", "2", "--no-progress"])
        #expect(r.status == 75, "\(r.stderr)")
        #expect(r.stderr.contains("resume"))
        let status = try CLI.run(["status", "--json", "--state", dir.path("state.sqlite")])
        let counts = CLI.json(status.stdout)["counts"] as? [String: Int] ?? [:]
        #expect(counts["pending"] == 14 && counts["failed"] == 0)
    }

    @Test func aSecondProcessOnTheSameStateIsRefused() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let input = try Self.history(dir, count: 40)
        let state = dir.path("state.sqlite")
        let slow = try CLI.start(["import", input, "--api-url", server.url, "--token-file", server.tokenFile, "--state", state,
                                  "--rate", "4", "--no-progress"])
        defer { slow.stop() }
        _ = CLI.waitFor("the first import to start sending") { ((try? server.stats()["stored"] as? Int) ?? 0) ?? 0 >= 1 }
        let second = try CLI.run(["import", input, "--api-url", server.url, "--token-file", server.tokenFile, "--state", state] + Self.fast)
        #expect(second.status == 75)
        #expect(second.stderr.contains("another trakt2discovr"), "\(second.stderr)")
    }

    /// kill -9 in the middle of delivery, then resume: nothing lost, repeats at most what was in flight.
    @Test func killNineThenResumeLosesNothing() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let input = try Self.history(dir, count: 120)
        let state = dir.path("state.sqlite")
        // --timeout 5: the grace before the read-back of what the kill left in flight is 10 s, not 60.
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", state, "--no-progress", "--concurrency", "4",
                      "--timeout", "5"]
        let run = try CLI.start(["import", input, "--rate", "60"] + common)
        _ = CLI.waitFor("some deliveries") { ((try? server.stats()["stored"] as? Int) ?? 0) ?? 0 >= 30 }
        kill(run.process.processIdentifier, SIGKILL)
        run.process.waitUntilExit()
        run.stop()
        let storedAtKill = try server.stats()["stored"] as? Int ?? 0
        #expect(storedAtKill < 120)
        let resumed = try CLI.run(["resume", "--rate", "500"] + common)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 120)
        // What was in flight at the kill was read back, not sent blind: nothing stored twice.
        #expect(stats["repeats"] as? Int == 0, "\(stats)")
    }

    @Test func expiringTokensAndLostAnswersStillDeliverEverything() throws {
        let server = try SandboxProcess(["--token-ttl", "1", "--drop-rate", "0.1", "--retry-after", "http-date", "--rate-limit", "30"])
        let dir = try TempDir()
        let input = try Self.history(dir, count: 80)
        let r = try CLI.run(["import", input, "--api-url", server.url, "--token-file", server.tokenFile,
                             "--state", dir.path("state.sqlite"), "--rate", "60", "--no-progress", "--timeout", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 80)
        #expect((stats["tokensIssued"] as? Int ?? 0) >= 2) // at least one refresh: the run outlives a token
        #expect((stats["dropped"] as? Int ?? 0) > 0)
        // A lost answer is read back (found), never sent again: nothing stored twice.
        #expect(stats["repeats"] as? Int == 0, "\(stats)")
    }

    @Test func sigintSettlesWhatIsInFlightAndExits75() throws {
        let server = try SandboxProcess()
        let dir = try TempDir()
        let input = try Self.history(dir, count: 60)
        let state = dir.path("state.sqlite")
        let run = try CLI.start(["import", input, "--api-url", server.url, "--token-file", server.tokenFile, "--state", state,
                                 "--rate", "10", "--no-progress"])
        _ = CLI.waitFor("some deliveries") { ((try? server.stats()["stored"] as? Int) ?? 0) ?? 0 >= 5 }
        kill(run.process.processIdentifier, SIGINT)
        let result = run.result()
        #expect(result.status == 75, "\(result.stderr)")
        #expect(result.stderr.contains("resume"))
        let status = try CLI.run(["status", "--json", "--state", state])
        let counts = CLI.json(status.stdout)["counts"] as? [String: Int] ?? [:]
        // Nothing left in flight, and what the server stored is exactly what the state calls delivered.
        #expect(counts["inFlight"] == 0)
        #expect(counts["delivered"] == (try server.stats()["stored"] as? Int))
        #expect((counts["delivered"] ?? 0) + (counts["pending"] ?? 0) == 60)
    }

    @Test func failedItemsAreListedByStatusAndRetryFailedSendsThemAgain() throws {
        let dir = try TempDir()
        let input = try Self.history(dir, count: 6)
        let state = dir.path("state.sqlite")
        do {
            // A server that answers 5xx to everything, and one attempt per item: every item fails.
            let broken = try SandboxProcess(["--fail-rate", "1"])
            let r = try CLI.run(["import", input, "--api-url", broken.url, "--token-file", broken.tokenFile, "--state", state,
                                 "--max-attempts", "1"] + Self.fast)
            #expect(r.status == 1, "\(r.stderr)")
            let status = try CLI.run(["status", "--state", state])
            #expect(status.stdout.contains("failed    6"))
            #expect(status.stdout.contains("HTTP 5"), "\(status.stdout)")
            #expect(status.stdout.contains("retry-failed"))
        }
        let retry = try CLI.run(["retry-failed", "--state", state])
        #expect(retry.status == 0)
        #expect(retry.stdout.contains("6 failed items moved back to pending"))
        let healthy = try SandboxProcess()
        let resumed = try CLI.run(["resume", "--api-url", healthy.url, "--token-file", healthy.tokenFile, "--state", state] + Self.fast)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try healthy.stats()["stored"] as? Int == 6)
    }
}
