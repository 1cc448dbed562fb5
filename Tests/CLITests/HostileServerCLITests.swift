import Foundation
import Testing

/// The built binary against a sandbox that answers what no sane server sends (issue #10, the
/// sandbox's `--hostile-*` knobs): no crash, no hang, the documented exit code, a message a person
/// can act on. Before the fix the release binary died with SIGILL on the first three and hung on
/// the trickling body.
@Suite struct HostileServerCLITests {
    /// Imports `count` movie plays into `server`, with a short `--give-up-after`, `--timeout` and
    /// attempts budget so that every hostile run ends in seconds.
    static func importInto(_ server: SandboxProcess, dir: TempDir, count: Int = 3, extra: [String] = [], timeout: Double = 60) throws
        -> (result: CLI.Result, state: String) {
        let input = try DeliveryCLITests.history(dir, count: count)
        let state = dir.path("state.sqlite")
        let result = try CLI.run(["import", input, "--api-url", server.url, "--token-file", server.tokenFile, "--state", state,
                                  "--no-progress", "--timeout", "2", "--give-up-after", "5", "--max-attempts", "2"] + extra,
                                 timeout: timeout)
        return (result, state)
    }

    /// Not a crash: a crash is a signal (SIGILL = 132 from a shell) and a backtrace on stderr.
    static func expectNoCrash(_ result: CLI.Result, _ name: String) {
        #expect(result.status < 128, "\(name): status \(result.status)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Crash"), "\(name): \(result.stderr.suffix(2000))")
    }

    static func status(_ state: String) throws -> String {
        try CLI.run(["status", "--state", state]).stdout
    }

    @Test(.timeLimit(.minutes(5)))
    func aSessionJWTWithExp1e300IsUsedNotATrap() throws {
        let server = try SandboxProcess(["--hostile-jwt-exp", "1e300"])
        let dir = try TempDir()
        let (result, state) = try Self.importInto(server, dir: dir)
        Self.expectNoCrash(result, "jwt exp 1e300")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try server.stats()["stored"] as? Int == 3)
        #expect(try Self.status(state).contains("delivered 3"))
    }

    /// An answer whose body trickles in (one byte a second) is cut at `--timeout` (the whole answer,
    /// not each read), never awaited for the minute it would take. The play was stored before the
    /// answer began, so the send is uncertain: read back after the grace (10 s; the history reads are
    /// not trickled), found, delivered, not sent again. Before read-backs the run stopped with 75 and
    /// three plays pending; before the grace restarted the no-answer clock, `--give-up-after 5` ended
    /// the run `unreachable` while it waited for its own read-backs.
    @Test(.timeLimit(.minutes(5)))
    func aBodyTricklingInIsCutAtTheTimeoutAndReadBack() throws {
        let server = try SandboxProcess(["--hostile-trickle", "1"])
        let started = Date()
        let dir = try TempDir()
        let (result, state) = try Self.importInto(server, dir: dir, extra: ["--max-attempts", "50"])
        Self.expectNoCrash(result, "trickle")
        #expect(result.status == 0, "\(result.stderr)")
        // The 2 s timeouts, the 10 s grace and one read-back each: never the minute a trickled answer takes.
        #expect(Date().timeIntervalSince(started) < 30)
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 3 && stats["repeats"] as? Int == 0 && stats["requests"] as? Int == 3, "\(stats)")
        #expect(try Self.status(state).contains("delivered 0 (3 were already there)"))  // found on read-back, as the summary counts them
    }

    @Test(.timeLimit(.minutes(5)))
    func aRedirectIsNotFollowedAndTheTokenStaysHome() throws {
        // The redirect points at another server on this machine: it must never hear from the client.
        let elsewhere = try SandboxProcess()
        let server = try SandboxProcess(["--hostile-redirect", elsewhere.url + "/profile/history"])
        let dir = try TempDir()
        let (result, state) = try Self.importInto(server, dir: dir)
        Self.expectNoCrash(result, "redirect")
        #expect(result.status == 1, "\(result.stderr)") // done, items failed for good: listed by status
        let status = try Self.status(state)
        #expect(status.contains("status 302: the server redirected to \(elsewhere.url)"), "\(status)")
        #expect(status.contains("redirects are not followed"), "\(status)")
        #expect(try elsewhere.stats()["requests"] as? Int == 0)
        #expect(try elsewhere.stats()["tokensIssued"] as? Int == 0)
        #expect(try elsewhere.stats()["tokensRefused"] as? Int == 0)
    }

    @Test(.timeLimit(.minutes(5)))
    func anAnswerOver4MiBIsCutOffAndAFailedAttempt() throws {
        let server = try SandboxProcess(["--hostile-body-bytes", String(5 << 20)])
        let dir = try TempDir()
        // The cut-off answer may have followed a stored play, so the item is uncertain and read back
        // after its grace (10 s) before any resend: --give-up-after must outlast that.
        let (result, state) = try Self.importInto(server, dir: dir, extra: ["--give-up-after", "40"])
        Self.expectNoCrash(result, "5 MiB body")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.status(state).contains("pending   0"))
        let stats = try server.stats()
        // Each play stored once, none sent twice, found by reading back (not by a blind resend).
        #expect(stats["stored"] as? Int == 3 && stats["repeats"] as? Int == 0, "\(stats)")
        #expect((stats["reads"] as? Int ?? 0) >= 3, "\(stats)")
    }

    @Test(.timeLimit(.minutes(5)), arguments: ["http://api.discovr.media", "http://10.1.2.3:8080", "http://127.0.0.1.example.com"])
    func plainHTTPToAnotherHostIsRefusedWith64BeforeAnything(url: String) throws {
        let dir = try TempDir()
        let input = try DeliveryCLITests.history(dir, count: 2)
        let token = try dir.write("token", "rt_0123456789abcdef0123456789abcdef\n")
        chmod(token, 0o600)
        let state = dir.path("state.sqlite")
        let result = try CLI.run(["import", input, "--api-url", url, "--token-file", token, "--state", state, "--no-progress"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("unencrypted") && result.stderr.contains("https://"), "\(result.stderr)")
        #expect(!result.stderr.contains("rt_0123"))
        #expect(!FileManager.default.fileExists(atPath: state), "the state was written before the URL was refused")
        let env = try CLI.run(["resume", "--token-file", token, "--state", state], environment: ["DISCOVR_API_URL": url])
        #expect(env.status == 66 || env.status == 64, "\(env.stderr)") // no state yet: either refusal, never a connection
    }

    @Test(.timeLimit(.minutes(5)))
    func aTokenFileOthersCanReadIsUsedWithAWarning() throws {
        let server = try SandboxProcess()
        #expect(chmod(server.tokenFile, 0o644) == 0)
        let dir = try TempDir()
        let (result, _) = try Self.importInto(server, dir: dir, count: 1)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains(server.tokenFile) && result.stderr.contains("chmod 600 \(server.tokenFile)"), "\(result.stderr)")
        #expect(!result.stderr.contains(server.token))

        #expect(chmod(server.tokenFile, 0o600) == 0)
        let quiet = try Self.importInto(server, dir: TempDir(), count: 1)
        #expect(quiet.result.status == 0)
        #expect(!quiet.result.stderr.contains("chmod"), "\(quiet.result.stderr)")
    }

    @Test(.timeLimit(.minutes(5)), arguments: [["--hostile-jwt-exp", "soon"], ["--hostile-trickle", "0"], ["--hostile-body-bytes", "1"]])
    func badHostileKnobsAreUsageErrors(arguments: [String]) throws {
        let result = try CLI.run(["sandbox", "--port", "0"] + arguments, timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("hostile"), "\(result.stderr)")
    }
}
