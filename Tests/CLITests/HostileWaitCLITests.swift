import Foundation
import Testing

/// The two loop-level rules of importer.md section 5 against hostile servers: a wait longer than
/// `--give-up-after` stops with 75 instead of sleeping, and a run in which no item settles for
/// `--give-up-after` seconds stops with 75 whatever the server answers.
@Suite(.timeLimit(.minutes(5))) struct HostileWaitCLITests {
    @Test(.timeLimit(.minutes(5)), arguments: ["1e20", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
    func aHugeRetryAfterStopsWith75InsteadOfSleeping(retryAfter: String) throws {
        let server = try SandboxProcess(["--hostile-retry-after=" + retryAfter]) // "=": "-5" is not a flag
        let started = Date()
        let dir = try TempDir()
        let (result, state) = try HostileServerCLITests.importInto(server, dir: dir)
        HostileServerCLITests.expectNoCrash(result, "Retry-After \(retryAfter)")
        #expect(result.status == 75, "\(result.stderr)")
        #expect(result.stderr.contains("resume"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try HostileServerCLITests.status(state).contains("pending   3"))
    }

    @Test(.timeLimit(.minutes(5)))
    func aHugeRateLimitResetStopsWith75InsteadOfSleeping() throws {
        let server = try SandboxProcess(["--hostile-rate-limit-reset=1e20"])
        let started = Date()
        let dir = try TempDir()
        let (result, _) = try HostileServerCLITests.importInto(server, dir: dir, count: 5)
        HostileServerCLITests.expectNoCrash(result, "RateLimit-Reset 1e20")
        #expect(result.status == 75, "\(result.stderr)")
        #expect(result.stderr.contains("resume"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test(.timeLimit(.minutes(5)), arguments: ["-5", "0", "-1e20"])
    func everyAnswer429StopsWith75AfterGiveUpAfter(retryAfter: String) throws {
        let server = try SandboxProcess(["--hostile-retry-after=" + retryAfter]) // "=": "-5" is not a flag
        let started = Date()
        let dir = try TempDir()
        let (result, state) = try HostileServerCLITests.importInto(server, dir: dir)
        HostileServerCLITests.expectNoCrash(result, "429 with Retry-After \(retryAfter)")
        #expect(result.status == 75, "\(result.stderr)")
        #expect(result.stderr.contains("resume"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try HostileServerCLITests.status(state).contains("pending   3"))
    }
}
