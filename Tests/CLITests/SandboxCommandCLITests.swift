import Foundation
import Testing

/// `trakt2discovr sandbox` as a person starts it: what it prints, and its new flags.
@Suite(.timeLimit(.minutes(5)))
struct SandboxCommandCLITests {
    @Test func printsTheProfilesByNameAndId() throws {
        let server = try SandboxProcess(["--profiles", "3"])
        let ok = CLI.waitFor("the sandbox to print its profiles") { server.running.stdout.contains("try: ") }
        #expect(ok)
        let out = server.running.stdout
        #expect(out.contains("profiles (3):"))
        let lines = out.split(separator: "\n").map(String.init)
        for name in ["Main", "Kids", "Sci-Fi Lover"] {
            let line = lines.first { $0.hasPrefix("  \(name)  profile_") }
            #expect(line != nil, "no line for \(name) in:\n\(out)")
        }
        #expect(out.contains("--profile \"Main\""))
        #expect(out.contains("refresh token: rt_"))
    }

    @Test func theSampleLandsInTheOnlyProfileInTheFormTheServerTakes() throws {
        let dir = try TempDir()
        let server = try SandboxProcess(["--media-id-form", "tmdbid"])
        _ = CLI.waitFor("the sandbox to print its profiles") { server.running.stdout.contains("try: ") }
        let profileLine = server.running.stdout.split(separator: "\n").first { $0.hasPrefix("  Main  ") }
        let profileId = profileLine.map { String($0.split(separator: " ").last ?? "") } ?? "?"
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", server.tokenFile, "--state", dir.path("state.sqlite"),
                             "--rate", "500", "--no-progress"])
        #expect(r.status == 0, "\(r.stderr)")
        let items = try server.items()
        #expect(items.count == 14)
        #expect(items.allSatisfy { $0["profileId"] as? String == profileId && $0["createdAt"] is String })
        #expect(items.allSatisfy { ($0["mediaId"] as? String)?.contains("_TMDBID") == true })
        let stats = try server.stats()
        #expect(stats["stored"] as? Int == 14 && stats["repeats"] as? Int == 0 && stats["invalid"] as? Int == 0)
    }

    /// `--lists documented`: POST /profile/liked is an unknown path (404 before any token check),
    /// disliked is served (401 without a token); `all` serves both. Read through the sandbox's counts.
    @Test(arguments: ["documented", "documented-405", "all"])
    func listsFlagTakesTheUndocumentedPathsAway(_ mode: String) throws {
        let server = try SandboxProcess(["--lists", mode])
        _ = try HTTPGet.body(server.url + "/profile/liked", method: "POST")
        _ = try HTTPGet.body(server.url + "/profile/disliked", method: "POST")
        let lists = try #require(try server.stats()["lists"] as? [String: Any])
        #expect(lists["requests"] as? Int == 2)
        #expect(lists["notServed"] as? Int == (mode == "all" ? 0 : 1), "\(lists)")
        #expect(lists["unauthorized"] as? Int == (mode == "all" ? 2 : 1), "\(lists)")
        #expect(try server.lists() == ["liked": [], "disliked": [], "super_liked": [], "watchlist": []])
    }

    @Test(arguments: [["--lists", "none"], ["--media-id-form", "long"], ["--profiles", "0"], ["--device-poll-path", "both"],
                      ["--confirm-after", "-1"], ["--device-code-ttl", "0"]])
    func badFlagsAreUsageErrors(_ flags: [String]) throws {
        let r = try CLI.run(["sandbox", "--port", "0"] + flags)
        #expect(r.status == 64, "\(flags): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(flags[0]), "\(r.stderr)")
    }
}
