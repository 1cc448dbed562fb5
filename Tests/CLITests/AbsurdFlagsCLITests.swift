import Foundation
import Testing

/// Numbers no one means, on the flags that take seconds: saturated, never a trap (issue #18: these
/// crashed with SIGILL in `Int64(Double)` after the plan was saved).
@Suite(.timeLimit(.minutes(5))) struct AbsurdFlagsCLITests {
    @Test(arguments: ["1e300", "inf", "18446744073709551616"])
    func hugeGiveUpAfterAndTimeoutDeliverNormally(value: String) throws {
        let dir = try TempDir()
        for flag in ["--give-up-after", "--timeout"] {
            let r = try CLI.run(["import", "--sandbox", flag, value, "--no-progress", "--json"], cwd: dir.url)
            #expect(r.status == 0, "\(flag) \(value): \(r.stderr)")
            #expect(((CLI.json(r.stdout)["delivery"] as? [String: Any])?["delivered"] as? Int) == 14)
        }
    }

    @Test(arguments: ["nan", "-1", "0"])
    func impossibleSecondsAreAUsageError(value: String) throws {
        for flag in ["--give-up-after", "--timeout"] {
            let r = try CLI.run(["import", "--sandbox", flag, value, "--no-progress"])
            #expect(r.status == 64, "\(flag) \(value): \(r.stderr)")
        }
    }
}

/// Every numeric flag with numbers no one means (issue #18: try each with huge, infinite, NaN,
/// negative, zero and beyond-64-bit values): a usage error (64) or a normal run, never a trap.
@Suite(.timeLimit(.minutes(10))) struct EveryNumericFlagCLITests {
    static let values = ["1e300", "inf", "-inf", "nan", "-1", "0", "18446744073709551616", "-18446744073709551617",
                         "9223372036854775807"]

    /// `import --sandbox` of the bundled sample with one flag set: 0 (a number it can live with),
    /// 64 (refused), or 1/75 (for instance --limit or --max-attempts that end the run early). A trap
    /// would end it by a signal, whose number (4, 5, 6, 11) is none of these.
    @Test(arguments: ["--concurrency", "--max-attempts", "--limit", "--timeout", "--give-up-after", "--rate",
                      "--super-liked-from", "--liked-from", "--disliked-up-to"])
    func importFlags(flag: String) throws {
        let dir = try TempDir()
        for value in Self.values {
            let r = try CLI.run(["import", "--sandbox", flag, value, "--no-progress", "--json"], cwd: dir.url, timeout: 120)
            #expect([0, 1, 64, 75].contains(r.status), "\(flag) \(value): exit \(r.status): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(flag) \(value): \(r.stderr)")
        }
    }

    @Test(arguments: ["--failures"])
    func statusFlags(flag: String) throws {
        let dir = try TempDir()
        _ = try CLI.run(["import", "--sandbox", "--no-progress"], cwd: dir.url)
        let state = dir.path("state.sqlite")
        _ = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--dry-run"], cwd: dir.url)
        for value in Self.values {
            let r = try CLI.run(["status", "--state", state, flag, value], cwd: dir.url)
            #expect([0, 64, 66].contains(r.status), "\(flag) \(value): exit \(r.status): \(r.stderr)")
        }
    }

    /// The sandbox server with one flag set: refused with 64 at once, or up and serving; then asked for
    /// a session, which stamps --token-ttl's lifetime on a token (the number that used to overflow).
    @Test(arguments: ["--port", "--rate-limit", "--fail-rate", "--fail-burst", "--read-fail-rate", "--outage-after",
                      "--outage-for", "--token-ttl", "--profiles", "--confirm-after", "--device-code-ttl", "--drop-rate",
                      "--drop-before-store-rate", "--slow-rate", "--slow-delay", "--seed", "--hostile-trickle", "--hostile-body-bytes"])
    func sandboxFlags(flag: String) throws {
        for value in Self.values {
            let dir = try TempDir()
            let token = dir.path("token")
            let run = try CLI.start(["sandbox", "--port", "0", "--quiet", "--token-out", token, flag, value])
            // The listening line is printed after the token file is written: wait for the line, not
            // the file (under load the file could be there before the line, and the URL read as "").
            _ = CLI.waitFor("the sandbox to start or stop", timeout: 20) {
                !run.process.isRunning || run.stdout.contains("refresh token: ")
            }
            if run.process.isRunning {
                // Up: a whole import against it must not crash it either (a session, a history send).
                let url = run.stdout.components(separatedBy: "listening on ").last?
                    .split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
                let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", url,
                                     "--token-file", token, "--state", dir.path("s.sqlite"), "--no-progress",
                                     "--give-up-after", "5", "--timeout", "2"], timeout: 120)
                #expect([0, 1, 75].contains(r.status), "import against sandbox \(flag) \(value): \(r.stderr)")
                #expect(run.process.isRunning, "the sandbox died with \(flag) \(value): \(run.stderr)")
                run.stop()
            } else {
                run.process.waitUntilExit()
                #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 64,
                        "\(flag) \(value): \(run.process.terminationReason == .exit ? "exit" : "signal") \(run.process.terminationStatus): \(run.stderr)")
                run.stop()
            }
        }
    }
}
