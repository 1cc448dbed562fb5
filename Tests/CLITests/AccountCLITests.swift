import Foundation
import Testing

/// Profiles, the media id form, sign-in and refused tokens, through the built binary against a
/// sandbox Discovr in another process on a real port.
@Suite struct AccountCLITests {
    static let fast = ["--rate", "500", "--concurrency", "4", "--no-progress"]

    static func profiles(_ server: SandboxProcess) throws -> [(id: String, name: String)] {
        let r = try CLI.run(["profiles", "--json", "--api-url", server.url, "--token-file", server.tokenFile])
        #expect(r.status == 0, "\(r.stderr)")
        let list = CLI.json(r.stdout)["profiles"] as? [[String: String]] ?? []
        return list.map { ($0["id"] ?? "", $0["name"] ?? "") }
    }

    @Test func threeProfilesWithoutAChoiceExit64ListingThemAndSendNothing() throws {
        let server = try SandboxProcess(["--profiles", "3"])
        let dir = try TempDir()
        let profiles = try Self.profiles(server)
        #expect(profiles.count == 3)
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")] + Self.fast)
        #expect(r.status == 64, "\(r.stderr)")
        for profile in profiles {
            #expect(r.stderr.contains(profile.name))
            #expect(r.stderr.contains("--profile \(profile.id)"))
        }
        #expect(try server.stats()["stored"] as? Int == 0)
        let unknown = try CLI.run(["resume", "--api-url", server.url, "--token-file", server.tokenFile,
                                   "--state", dir.path("state.sqlite"), "--profile", "Nobody"] + Self.fast)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("\"Nobody\"") && unknown.stderr.contains(profiles[0].id))
        #expect(try server.stats()["stored"] as? Int == 0)
    }

    @Test(arguments: ["name", "id"])
    func aProfileChosenByNameOrIdGetsTheWholeImport(by: String) throws {
        let server = try SandboxProcess(["--profiles", "3"])
        let dir = try TempDir()
        let target = try #require(try Self.profiles(server).first { $0.name == "Kids" })
        let choice = by == "name" ? "kIDS" : target.id
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", server.tokenFile, "--state", dir.path("state.sqlite"), "--profile", choice,
                             "--json"] + Self.fast)
        #expect(r.status == 0, "\(r.stderr)")
        let destination = CLI.json(r.stdout)["destination"] as? [String: Any] ?? [:]
        let profile = destination["profile"] as? [String: String] ?? [:]
        #expect(profile["id"] == target.id && profile["name"] == "Kids")
        #expect(destination["apiUrl"] as? String == server.url)
        let items = try server.items()
        #expect(items.count == 14)
        #expect(items.allSatisfy { $0["profileId"] as? String == target.id })
        // resume without --profile keeps writing to the state's profile.
        let again = try CLI.run(["resume", "--api-url", server.url, "--token-file", server.tokenFile,
                                 "--state", dir.path("state.sqlite"), "--json"] + Self.fast)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains(target.id))
    }

    @Test(arguments: [("tmdbid", "tmdbid", "MV_TMDBID"), ("short", "short", "MV_"), ("both", "tmdbid", "MV_TMDBID")])
    func autoFindsTheFormTheServerTakes(serverForm: String, chosen: String, prefix: String) throws {
        let server = try SandboxProcess(["--media-id-form", serverForm])
        let dir = try TempDir()
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                             "--token-file", server.tokenFile, "--state", dir.path("state.sqlite"), "--json"] + Self.fast)
        #expect(r.status == 0, "\(r.stderr)")
        let destination = CLI.json(r.stdout)["destination"] as? [String: Any] ?? [:]
        #expect(destination["mediaIdForm"] as? String == chosen)
        let delivery = (CLI.json(r.stdout)["delivery"] as? [String: Any])?.compactMapValues { $0 as? Int } ?? [:]
        #expect(delivery["delivered"] == 14 && delivery["failed"] == 0)
        let items = try server.items()
        #expect(items.count == 14)
        for item in items {
            let id = item["mediaId"] as? String ?? ""
            #expect(chosen == "tmdbid" ? id.contains("_TMDBID") : !id.contains("TMDBID"), "\(id)")
            #expect(id.hasPrefix(prefix) || id.hasPrefix(prefix.replacingOccurrences(of: "MV", with: "TV")))
        }
        let status = try CLI.run(["status", "--json", "--state", dir.path("state.sqlite")])
        #expect(status.status == 0)
    }

    @Test func aFixedWrongFormFailsAndAutoIsNotFooledLater() throws {
        // --media-id-form tmdbid against a short-only server: every item is refused (400), kept as failed;
        // retry-failed and a resume with the right form deliver them all.
        let server = try SandboxProcess(["--media-id-form", "short"])
        let dir = try TempDir()
        let common = ["--api-url", server.url, "--token-file", server.tokenFile, "--state", dir.path("state.sqlite")] + Self.fast
        let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--media-id-form", "tmdbid"] + common)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(try server.stats()["stored"] as? Int == 0)
        #expect(try CLI.run(["retry-failed", "--state", dir.path("state.sqlite")]).status == 0)
        let fixed = try CLI.run(["resume", "--media-id-form", "short"] + common)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(try server.stats()["stored"] as? Int == 14)
    }

    @Test func aDryRunWritesTheSeedFormUnlessShortIsAsked() throws {
        let dir = try TempDir()
        for (form, marker) in [("auto", "_TMDBID"), ("short", nil as String?)] {
            let out = dir.path("items-\(form).jsonl")
            let r = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--dry-run", "--items-out", out,
                                 "--media-id-form", form])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 14)
            for line in lines {
                if let marker { #expect(line.contains(marker)) } else { #expect(!line.contains("TMDBID")) }
            }
        }
    }

    @Test(arguments: [("--refresh-token-expired", "expired"), ("--refresh-token-revoked", "not valid")])
    func aRefusedRefreshTokenExits77AndSaysToLogIn(knob: String, says: String) throws {
        let server = try SandboxProcess([knob])
        let dir = try TempDir()
        for command in [["import", CLI.sample("official/trakt-export-sample.zip"), "--state", dir.path("state.sqlite")],
                        ["profiles"]] {
            let r = try CLI.run(command + ["--api-url", server.url, "--token-file", server.tokenFile]
                + (command[0] == "import" ? Self.fast : []))
            #expect(r.status == 77, "\(r.stderr)")
            #expect(r.stderr.contains(says), "\(r.stderr)")
            #expect(r.stderr.contains("trakt2discovr login"))
            #expect(!r.stderr.contains(server.token))
        }
        #expect(try server.stats()["stored"] as? Int == 0)
    }

    @Test(.timeLimit(.minutes(5)))
    func loginImportWithTheKeptTokenThenLogout() throws {
        let server = try SandboxProcess(["--confirm-after", "1", "--profiles", "1"])
        let dir = try TempDir()
        let config = dir.path("config")
        let env = ["XDG_CONFIG_HOME": config]
        let qr = dir.path("code.png")
        let login = try CLI.run(["login", "--client-id", "test-app", "--api-url", server.url, "--qr-out", qr],
                                environment: env, timeout: 60)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("enter the code"))
        #expect(login.stdout.contains("valid for"))
        let png = try Data(contentsOf: URL(fileURLWithPath: qr))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let credentials = config + "/trakt2discovr/credentials"
        let fileMode = try FileManager.default.attributesOfItem(atPath: credentials)[.posixPermissions] as? Int
        let dirMode = try FileManager.default.attributesOfItem(atPath: config + "/trakt2discovr")[.posixPermissions] as? Int
        #expect(fileMode == 0o600 && dirMode == 0o700)
        let saved = CLI.json(try String(contentsOfFile: credentials, encoding: .utf8))
        let token = try #require(saved["refreshToken"] as? String)
        #expect(!login.stdout.contains(token) && !login.stderr.contains(token))

        let run = try CLI.run(["import", CLI.sample("official/trakt-export-sample.zip"), "--api-url", server.url,
                               "--state", dir.path("state.sqlite")] + Self.fast, environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try server.stats()["stored"] as? Int == 14)
        #expect(!run.stdout.contains(token) && !run.stderr.contains(token))
        // Another server does not get this token.
        let elsewhere = try CLI.run(["profiles", "--api-url", "http://127.0.0.1:9"], environment: env)
        #expect(elsewhere.status == 64)
        #expect(elsewhere.stderr.contains("saved sign-in is for"))

        let logout = try CLI.run(["logout"], environment: env)
        #expect(logout.status == 0, "\(logout.stderr)")
        #expect(logout.stdout.contains("revoked"))
        #expect(!FileManager.default.fileExists(atPath: credentials))
        let after = try CLI.run(["profiles", "--api-url", server.url, "--token-file", dir.write("t", token)])
        #expect(after.status == 77, "\(after.stderr)")
        let none = try CLI.run(["profiles", "--api-url", server.url], environment: env)
        #expect(none.status == 64 && none.stderr.contains("trakt2discovr login"))
    }

    @Test(.timeLimit(.minutes(5)))
    func ctrlCWhileWaitingForSignInExits75AndSavesNothing() throws {
        let server = try SandboxProcess(["--confirm-after", "1000"])
        let dir = try TempDir()
        let config = dir.path("config")
        let qr = dir.path("code.png")
        let login = try CLI.start(["login", "--client-id", "test-app", "--api-url", server.url, "--qr-out", qr],
                                  environment: ["XDG_CONFIG_HOME": config])
        defer { login.stop() }
        _ = CLI.waitFor("the code to be shown", timeout: 30) { login.stdout.contains("enter the code") }
        kill(login.process.processIdentifier, SIGINT)
        let result = login.result()
        #expect(result.status == 75, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: config + "/trakt2discovr/credentials"))
        #expect(!FileManager.default.fileExists(atPath: qr))
    }

    @Test func loginWithoutAClientIdIsAUsageError() throws {
        let r = try CLI.run(["login", "--api-url", "http://127.0.0.1:9"], environment: ["DISCOVR_CLIENT_ID": ""])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--client-id") && r.stderr.contains("DISCOVR_CLIENT_ID"))
    }
}
