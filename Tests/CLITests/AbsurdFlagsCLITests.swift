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
