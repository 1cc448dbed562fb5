import Foundation
import Testing

/// The fault matrix (issue #4): the built binary imports a history file into a sandbox Discovr that
/// misbehaves in one way (one test per fault kind), then in all ways at once. Each run must end with
/// exit 0, every planned play stored exactly once on the server (the sandbox appends, as Discovr does:
/// a play sent twice would be stored twice), nothing failed or pending in the state, and the fault
/// visibly hit the run.
///
/// Seeds are fixed, so the sandbox's fault draws are the same in every run; only the order in which
/// concurrent requests reach the generator varies. `--max-attempts` is set per test so that an item
/// that keeps being retried cannot fail by bad luck (the bound is given with each test).
@Suite(.timeLimit(.minutes(5))) struct FaultMatrixCLITests {
    /// What one run of the matrix saw.
    struct Run {
        var stats: [String: Int]
        var seconds: Double
        /// The import's `--json` report.
        var report: [String: Any] = [:]
        subscript(_ key: String) -> Int { stats[key] ?? 0 }
    }

    /// Imports `count` distinct movie plays into `server` with the client flags `client`, checks what
    /// every fault run must show, and returns the sandbox's counts. `whileRunning` is called over and
    /// over while the import runs (the outage test probes the port with it).
    static func importThrough(_ server: SandboxProcess, count: Int, client: [String], name: String,
                              whileRunning: () -> Void = {}) throws -> Run {
        let dir = try TempDir()
        let input = try DeliveryCLITests.history(dir, count: count)
        let state = dir.path("state.sqlite")
        let started = Date()
        let run = try CLI.start(["import", input, "--api-url", server.url, "--token-file", server.tokenFile,
                                 "--state", state, "--no-progress", "--json"] + client)
        // Bounded: a hang fails the test instead of blocking the suite.
        let deadline = started.addingTimeInterval(90)
        while run.process.isRunning && Date() < deadline {
            whileRunning()
            usleep(20_000)
        }
        if run.process.isRunning {
            Issue.record("\(name): the import did not finish in 90 s")
            run.stop()
            return Run(stats: [:], seconds: 90)
        }
        let result = run.result()
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let report = CLI.json(result.stdout)
        let planned = (report["planned"] as? [String: Any])?["total"] as? Int
        #expect(planned == count, "\(name): planned \(String(describing: planned))")

        // The server holds exactly the planned plays, body for body, each once.
        let dryRun = try CLI.run(["import", input, "--dry-run", "--items-out", dir.path("items.jsonl")])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let want = try String(contentsOfFile: dir.path("items.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { DeliveryCLITests.key(CLI.json(String($0))) }
        let stored = try server.items().map(DeliveryCLITests.key)
        #expect(want.count == count)
        #expect(stored.count == count, "\(name): \(stored.count) stored")
        #expect(Set(stored) == Set(want), "\(name): the stored plays differ from the planned ones")

        // The state agrees: everything delivered, nothing failed, nothing left.
        let status = try CLI.run(["status", "--json", "--state", state])
        let counts = CLI.json(status.stdout)["counts"] as? [String: Int] ?? [:]
        #expect(counts["failed"] == 0, "\(name): \(status.stdout)")
        #expect(counts["pending"] == 0 && counts["inFlight"] == 0, "\(name): \(status.stdout)")
        #expect(counts["total"] == count)
        #expect((counts["delivered"] ?? 0) + (counts["alreadyPresent"] ?? 0) == count, "\(name): \(status.stdout)")

        var stats: [String: Int] = [:]
        for (key, value) in try server.stats() {
            if let number = value as? Int { stats[key] = number }
        }
        let figures = Run(stats: stats, seconds: seconds, report: report)
        #expect(figures["stored"] == count)
        // Every body the client sent was valid, and every request is accounted for.
        #expect(figures["invalid"] == 0)
        #expect(figures["requests"] == figures["stored"] + figures["repeats"] + figures["rateLimited"]
            + figures["failed"] + figures["unauthorized"] + figures["invalid"] + figures["droppedBeforeStore"])
        // One line per run, so CI logs show what each fault did (counts only: no token or secret).
        print("fault matrix \(name): requests \(figures["requests"]), stored \(figures["stored"]), duplicates \(figures["repeats"]), "
            + "dropped \(figures["dropped"]), slow \(figures["slow"]), rateLimited \(figures["rateLimited"]), failed \(figures["failed"]), "
            + "unauthorized \(figures["unauthorized"]), reads \(figures["reads"]) (failed \(figures["readsFailed"])), tokensIssued \(figures["tokensIssued"]), outages \(figures["outages"]), "
            + String(format: "%.1f s", seconds))
        return figures
    }

    static func common(rate: Int, maxAttempts: Int, extra: [String] = []) -> [String] {
        ["--rate", String(rate), "--concurrency", "4", "--max-attempts", String(maxAttempts)] + extra
    }

    /// 5xx in bursts of 4: a fresh draw fails with p = 0.05 and then the next 3 requests fail too.
    /// A request falls in a burst only if one of the last 4 fresh draws hit: at most 1 - 0.95^4 = 0.19.
    /// One burst takes at most 4 of an item's attempts, so failing 40 attempts needs 10 bursts:
    /// under 0.19^10 = 6e-8 per item, 6e-6 for the 100 items. Nothing is stored on a 5xx: 0 repeats.
    @Test func serverErrorBursts() throws {
        let server = try SandboxProcess(["--fail-rate", "0.05", "--fail-burst", "4", "--seed", "11"])
        let run = try Self.importThrough(server, count: 100, client: Self.common(rate: 100, maxAttempts: 40), name: "5xx bursts")
        #expect(run["failed"] >= 4) // at least one whole burst
        #expect(run["repeats"] == 0)
    }

    /// A server that sends only `Retry-After` (no RateLimit-* headers) at 20 requests a second, to a
    /// client asking for 60: the client cannot see the limit coming, so it must meet real 429s, wait
    /// as told in either form, slow down, and lose nothing. A 429 is not a counted attempt, so no
    /// item can fail however many there are; nothing is stored on a 429: 0 repeats.
    @Test(arguments: ["seconds", "http-date"])
    func rateLimited(retryAfter: String) throws {
        let server = try SandboxProcess(["--rate-limit", "20", "--no-rate-limit-headers", "--retry-after", retryAfter, "--seed", "12"])
        let run = try Self.importThrough(server, count: 80, client: Self.common(rate: 60, maxAttempts: 8), name: "429 \(retryAfter)")
        #expect(run["rateLimited"] > 0)
        #expect(run["repeats"] == 0)
        #expect(run["failed"] == 0)
    }

    /// 20% of answers are lost after the server stored the play (the connection is closed). Each
    /// attempt is lost independently with p = 0.2: an item fails only if 15 attempts in a row are
    /// lost, 0.2^15 = 3e-11 per item. Each lost answer is read back after the grace: 0 repeats.
    @Test func lostAnswers() throws {
        // The documented server (history appends): each lost answer is read back, never re-sent blind.
        let server = try SandboxProcess(["--drop-rate", "0.2", "--seed", "13"])
        let run = try Self.importThrough(server, count: 100, client: Self.common(rate: 100, maxAttempts: 15, extra: ["--timeout", "5"]), name: "lost answers")
        #expect(run["dropped"] > 0)
        // No play stored twice: every lost answer was read back (and found) instead of re-sent.
        #expect(run["repeats"] == 0)
        #expect(run["reads"] >= run["dropped"])
    }

    /// Lost answers whose read-backs fail too: 20% of answers lost, and 30% of all history reads
    /// (the existing-history check, the media-id probe, every read-back page) answered 500 or 503.
    /// A read-back that fails is retried and never counts as an attempt, so no item can fail by it;
    /// a read that fails again and again only delays the item. The existing-history check's reads are
    /// retried like sends: failing 15 in a row is 0.3^15 = 1e-8. 0 repeats. (At 50% one seed failed
    /// the check's first page 9 times in a row, 46 s of backoff: 30% keeps the run near 20 s.)
    @Test func lostAnswersWhoseReadBacksFail() throws {
        let server = try SandboxProcess(["--drop-rate", "0.2", "--read-fail-rate", "0.3", "--seed", "19"])
        let run = try Self.importThrough(server, count: 60, client: Self.common(rate: 100, maxAttempts: 15, extra: ["--timeout", "5"]),
                                         name: "lost answers, failing read-backs")
        #expect(run["dropped"] > 0)
        #expect(run["readsFailed"] > 0)
        #expect(run["repeats"] == 0)
        #expect(run["reads"] - run["readsFailed"] >= run["dropped"], "every lost answer read back in the end")
        // The media-id probe's first read fails with this seed: it asks again instead of letting a 503
        // decide the form (the only other answer, short accepted, would have picked MV_550).
        let destination = run.report["destination"] as? [String: Any]
        #expect(destination?["mediaIdForm"] as? String == "tmdbid", "\(String(describing: destination))")
    }

    /// 20% of answers come after 3 s, the client waits 1 s: each of those attempts times out (the
    /// play is stored all the same). Independent draws, p = 0.2: 0.2^15 = 3e-11 per item. Every slow
    /// answer is past the timeout, so it is read back after the grace (the play is found): 0 repeats.
    @Test func slowAnswersPastTheTimeout() throws {
        // The documented server (history appends): each answer past the timeout is read back after the grace period.
        let server = try SandboxProcess(["--slow-rate", "0.2", "--slow-delay", "3", "--seed", "14"])
        let run = try Self.importThrough(server, count: 60, client: Self.common(rate: 100, maxAttempts: 15, extra: ["--timeout", "1"]),
                                         name: "slow answers")
        #expect(run["slow"] > 0)
        #expect(run["repeats"] == 0)
    }

    /// Session tokens that live one second, over a run of about five (60 items at 12 a second): the
    /// client refreshes ahead of expiry, and on a 401 refreshes and sends again (not counted). A 401
    /// stores nothing: 0 repeats.
    @Test func tokenExpiringEverySecond() throws {
        let server = try SandboxProcess(["--token-ttl", "1", "--seed", "15"])
        let run = try Self.importThrough(server, count: 60, client: Self.common(rate: 12, maxAttempts: 8), name: "token ttl 1 s")
        #expect(run["tokensIssued"] >= 3)
        #expect(run["repeats"] == 0)
    }

    /// The server goes away at its 30th history request (the listener closes: connections are
    /// refused) and comes back on the same port 2 s later. The test itself sees the port refuse
    /// connections during the run. Refused connections are not counted attempts; a request on a
    /// connection closed by the shutdown counts, at most a few per item: 10 attempts is ample. The
    /// shutdown is graceful (answers in flight are sent), so no answer is lost: 0 repeats.
    @Test func serverGoesAwayAndComesBack() throws {
        let server = try SandboxProcess(["--outage-after", "30", "--outage-for", "2", "--seed", "16"])
        let port = URL(string: server.url)?.port ?? 0
        var refusedDuringRun = 0
        var probes = 0
        let run = try Self.importThrough(server, count: 80, client: Self.common(rate: 40, maxAttempts: 10), name: "outage",
                                         whileRunning: {
                                             probes += 1
                                             if !Self.accepts(port: port) { refusedDuringRun += 1 }
                                         })
        #expect(refusedDuringRun > 0, "the port never refused a connection in \(probes) probes")
        #expect(run["outages"] == 1)
        #expect(run["repeats"] == 0)
    }

    /// Everything at once: 5xx bursts (p = 0.05, 3 long), 429s with only an HTTP-date Retry-After,
    /// 10% lost answers, 10% answers 2 s late against a 1 s timeout, one-second tokens, and a 2 s
    /// outage after 60 requests. A counted attempt is spoiled by a new event with probability at most
    /// (1 - 0.95^3) + 0.1 + 0.1 = 0.35 (in a burst begun by one of the last 3 fresh draws, lost, or
    /// late); one burst spoils at most 3 of an item's attempts, so failing 40 needs 14 such events:
    /// 0.35^14 = 4e-7 per item, 5e-5 for the 120 (the outage adds at most a lost connection or two).
    /// The server is the documented one (history appends): no play may be stored twice, so every
    /// lost or late answer must be read back (after the 10 s grace) instead of re-sent. The server
    /// allows 10 requests a second against the client's 50, so that 429s happen although the other
    /// faults slow the client down (at 30 a second one run in three saw none).
    @Test func everyFaultAtOnce() throws {
        let server = try SandboxProcess(["--fail-rate", "0.05", "--fail-burst", "3",
                                         "--rate-limit", "10", "--no-rate-limit-headers", "--retry-after", "http-date",
                                         "--drop-rate", "0.1", "--slow-rate", "0.1", "--slow-delay", "2",
                                         "--token-ttl", "1", "--outage-after", "60", "--outage-for", "2", "--seed", "17"])
        let port = URL(string: server.url)?.port ?? 0
        var refusedDuringRun = 0
        let run = try Self.importThrough(server, count: 120, client: Self.common(rate: 50, maxAttempts: 40, extra: ["--timeout", "1"]),
                                         name: "all at once",
                                         whileRunning: { if !Self.accepts(port: port) { refusedDuringRun += 1 } })
        #expect(run["failed"] > 0)
        #expect(run["rateLimited"] > 0)
        #expect(run["dropped"] > 0)
        #expect(run["slow"] > 0)
        #expect(run["tokensIssued"] >= 3)
        #expect(run["outages"] == 1)
        #expect(refusedDuringRun > 0)
        // No play stored twice: each lost or late answer was read back (and found) instead of re-sent.
        #expect(run["repeats"] == 0)
        #expect(run["reads"] > 0)
    }

    /// Whether something accepts a TCP connection on 127.0.0.1:port right now (a refused connect
    /// returns at once on loopback).
    static func accepts(port: Int) -> Bool {
        let fd = HTTPGet.connectTCP(host: "127.0.0.1", port: port)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }
}
