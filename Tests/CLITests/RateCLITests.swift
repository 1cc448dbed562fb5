import Foundation
import Testing

/// `--rate auto` (the default) and `--rate N` end to end: the built binary against a sandbox process
/// that limits history requests and says so in `RateLimit-*` headers. What is checked is the pace the
/// tool settled on (the progress line's last state) and what the server saw, not how long it took.
@Suite(.serialized) struct RateCLITests {
    private func importAgainst(limit: Int, items: Int, rate: [String]) throws -> (CLI.Result, [String: Any]) {
        let server = try SandboxProcess(["--rate-limit", String(limit)])
        let dir = try TempDir()
        let input = try DeliveryCLITests.history(dir, count: items)
        // Not a terminal: the progress display writes its final line when the run ends.
        let r = try CLI.run(["import", input, "--api-url", server.url, "--token-file", server.tokenFile,
                             "--state", dir.path("state.sqlite")] + rate)
        return (r, try server.stats())
    }

    @Test(.timeLimit(.minutes(5)))
    func autoFollowsTheAdvertisedLimitAboveItsStart() throws {
        // The measured failure of issue #11: a server allowing 40/s that says so, and a tool that kept
        // to its default of 5/s. Now the pace is the advertised one.
        let (r, stats) = try importAgainst(limit: 40, items: 80, rate: [])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("80/80 done (100%)  pace "), "\(r.stderr)")
        #expect(r.stderr.contains("  sending 40.0/s"), "\(r.stderr)")
        #expect(stats["stored"] as? Int == 80)
        #expect(stats["rateLimited"] as? Int == 0)
    }

    @Test(.timeLimit(.minutes(5)))
    func aNumberIsACeiling() throws {
        let (r, stats) = try importAgainst(limit: 40, items: 20, rate: ["--rate", "10"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("20/20 done (100%)  pace "), "\(r.stderr)")
        #expect(r.stderr.contains("  sending 10.0/s"), "\(r.stderr)")
        #expect(stats["stored"] as? Int == 20)
    }

    @Test(arguments: ["fast", "-3", "0", "inf"])
    func aRateThatIsNeitherAutoNorAPositiveNumberIsRefused(_ value: String) throws {
        let r = try CLI.run(["import", "x.zip", "--rate", value])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--rate"), "\(r.stderr)")
    }
}
