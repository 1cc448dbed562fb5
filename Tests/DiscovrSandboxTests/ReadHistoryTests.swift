import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("profiles, reading history, media id forms")
struct ReadHistoryTests {
    @Test("GET /profiles lists --profiles named profiles, newest first, with id, name, avatarUrl and createdAt")
    func profiles() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(profiles: 3, now: clock.closure)) { running, client in
            let answer = try await client.get(DiscovrEndpoints.profiles, bearer: running.refreshToken)
            #expect(answer.status == 200)
            let list = try #require(answer.object?["profiles"] as? [[String: Any]])
            #expect(list.map { $0["name"] as? String } == ["Sci-Fi Lover", "Kids", "Main"])
            let created = list.compactMap { ($0["createdAt"] as? String).flatMap(Timestamp.init(iso8601:)) }
            #expect(created.count == 3 && created == created.sorted(by: >))
            for entry in list {
                let id = try #require(entry["id"] as? String)
                #expect(id.hasPrefix("profile_") && id.count == 20)
                #expect((entry["avatarUrl"] as? String)?.hasPrefix("https://") == true)
            }
            #expect(Set(list.compactMap { $0["id"] as? String }).count == 3)
            #expect(running.profiles.map(\.id) == list.reversed().compactMap { $0["id"] as? String })
            // Identity tier only.
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let wrongKind = try await client.get(DiscovrEndpoints.profiles, bearer: token)
            #expect(wrongKind.status == 401 && wrongKind.code == "WRONG_TOKEN_KIND")
            let none = try await client.get(DiscovrEndpoints.profiles)
            #expect(none.status == 401 && none.code == "TOKEN_INVALID")
        }
    }

    @Test("history is per profile: each session reads and counts its own profile's entries")
    func perProfile() async throws {
        try await withSandbox(SandboxConfiguration(profiles: 2)) { running, client in
            let (main, kids) = (running.profiles[0].id, running.profiles[1].id)
            let mainToken = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: main))
            let kidsToken = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: kids))
            #expect(try await client.history(movieBody(tmdb: 1), bearer: mainToken).status == 200)
            #expect(try await client.history(movieBody(tmdb: 2), bearer: mainToken).status == 200)
            // The same play in another profile is not a repeat.
            #expect(try await client.history(movieBody(tmdb: 1), bearer: kidsToken).status == 200)
            #expect(running.store.stats().repeats == 0 && running.store.stats().stored == 3)
            let mainItems = try await client.allPages(DiscovrEndpoints.history, limit: 50, bearer: mainToken).items
            let kidsItems = try await client.allPages(DiscovrEndpoints.history, limit: 50, bearer: kidsToken).items
            #expect(mainItems.map { $0["id"] as? String } == ["MV_2", "MV_1"])
            #expect(kidsItems.map { $0["id"] as? String } == ["MV_1"])
            #expect(running.store.storedItems(profileId: kids).map(\.mediaId) == ["MV_TMDBID1"])
            #expect(running.store.storedItems().map(\.profileId) == [main, main, kids])
        }
    }

    @Test("120 entries read in pages of 50 with the page token: 3 pages, each entry once, newest created first")
    func paging() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for n in 1...120 {
                #expect(try await client.history(movieBody(tmdb: Int64(n)), bearer: token).status == 200)
                if n % 3 == 0 { clock.advance(milliseconds: 1) } // some share a millisecond
            }
            let read = try await client.allPages(DiscovrEndpoints.history, limit: 50, bearer: token)
            #expect(read.pages == 3)
            #expect(read.statuses == [200, 200, 200])
            #expect(read.items.compactMap { $0["id"] as? String } == (1...120).reversed().map { "MV_\($0)" })
            let first = try #require(try await client.get(DiscovrEndpoints.history + "?limit=50", bearer: token).object)
            #expect(first["hasMore"] as? Bool == true)
            let last = try #require(try await client.get(DiscovrEndpoints.history + "?limit=50&nextPageToken="
                + ((first["nextPageToken"] as? String) ?? ""), bearer: token).object)
            #expect((last["items"] as? [Any])?.count == 50)
            // Default limit 10.
            let page = try await client.get(DiscovrEndpoints.history, bearer: token)
            #expect((page.object?["items"] as? [Any])?.count == 10)
        }
    }

    @Test("entries appended while paging neither repeat nor shift the next page")
    func appendsWhilePaging() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for n in 1...5 { _ = try await client.history(movieBody(tmdb: Int64(n)), bearer: token) }
            let first = try #require(try await client.get(DiscovrEndpoints.history + "?limit=2", bearer: token).object)
            #expect((first["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["MV_5", "MV_4"])
            _ = try await client.history(movieBody(tmdb: 6), bearer: token)
            let next = try #require(first["nextPageToken"] as? String)
            let second = try #require(try await client.get(DiscovrEndpoints.history + "?limit=2&nextPageToken=" + next, bearer: token).object)
            #expect((second["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["MV_3", "MV_2"])
        }
    }

    @Test("limit out of 1...50 and bad page tokens answer 400",
          arguments: ["?limit=0", "?limit=51", "?limit=ten", "?limit=-1", "?nextPageToken=bm90LWEtdG9rZW4",
                      "?nextPageToken=MTAuMTAuZmZmZg"])
    func badQueries(_ query: String) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.get(DiscovrEndpoints.history + query, bearer: token)
            #expect(answer.status == 400)
            #expect(answer.code == "BAD_REQUEST")
            #expect(answer.message?.contains(query.contains("limit") ? "limit" : "nextPageToken") == true)
        }
    }

    @Test("a page token is bound to its listing and profile, and an altered one is refused")
    func tokenScope() async throws {
        try await withSandbox(SandboxConfiguration(profiles: 2)) { running, client in
            let main = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: running.profiles[0].id))
            let kids = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: running.profiles[1].id))
            for n in 1...3 {
                _ = try await client.history(episodeBody(episode: n), bearer: main)
                _ = try await client.history(episodeBody(episode: n), bearer: kids)
            }
            let page = try #require(try await client.get(DiscovrEndpoints.history + "?limit=1", bearer: main).object)
            let token = try #require(page["nextPageToken"] as? String)
            #expect(try await client.get(DiscovrEndpoints.history + "?limit=1&nextPageToken=" + token, bearer: main).status == 200)
            #expect(try await client.get(DiscovrEndpoints.history + "?limit=1&nextPageToken=" + token, bearer: kids).status == 400)
            #expect(try await client.get(DiscovrEndpoints.history(of: "TV_1396") + "?season=1&limit=1&nextPageToken=" + token,
                                         bearer: main).status == 400)
            // Change one character of the token.
            var altered = Array(token)
            altered[altered.count / 2] = altered[altered.count / 2] == "A" ? "B" : "A"
            #expect(try await client.get(DiscovrEndpoints.history + "?limit=1&nextPageToken=" + String(altered),
                                         bearer: main).status == 400)
        }
    }

    @Test("an entry answers the documented fields, the id in the short form")
    func entryFields() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(now: clock.closure)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            _ = try await client.history(episodeBody(), bearer: token)
            _ = try await client.history(episodeBody(), bearer: token)
            let partial = #"{"mediaId":"TV_TMDBID1396","season":1,"episode":6,"progress":57.5}"#
            _ = try await client.history(partial, bearer: token)
            let items = try await client.allPages(DiscovrEndpoints.history, limit: 50, bearer: token).items
            #expect(items.count == 3)
            let newest = items[0]
            #expect(newest["id"] as? String == "TV_1396")
            #expect(newest["mediaType"] as? String == "tv")
            #expect((newest["title"] as? String)?.isEmpty == false)
            #expect(newest["progress"] as? Double == 57.5)
            #expect(newest["completed"] as? Bool == false)
            #expect(newest["watched_count"] as? Int == 0)
            #expect(newest["season"] as? Int == 1 && newest["episode"] as? Int == 6)
            #expect(newest["imported"] is NSNull)
            // Sent without updatedAt: the server's now.
            #expect(newest["updatedAt"] as? String == clock.now.iso8601)
            #expect(newest["createdAt"] as? String == clock.now.iso8601)
            let watched = items[1]
            #expect(watched["updatedAt"] as? String == "2023-01-15T00:00:00.000Z")
            #expect(watched["completed"] as? Bool == true && watched["watched_count"] as? Int == 2)
            #expect(watched["imported"] as? String == "trakt")
        }
    }

    @Test("GET /profile/history/{mediaId}: that media's entries, season required for TV, episode filters, newest updatedAt first")
    func byMediaId() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            _ = try await client.history(episodeBody(episode: 5, updatedAt: "2023-01-15T00:00:00.000Z"), bearer: token)
            _ = try await client.history(episodeBody(episode: 5, updatedAt: "2024-01-15T00:00:00.000Z"), bearer: token)
            _ = try await client.history(episodeBody(episode: 5, updatedAt: "2022-01-15T00:00:00.000Z"), bearer: token)
            _ = try await client.history(episodeBody(episode: 6), bearer: token)
            _ = try await client.history(movieBody(tmdb: 603), bearer: token)
            _ = try await client.history(#"{"mediaId":"TV_TMDBID1396","season":2,"episode":5}"#, bearer: token)

            let episode = try await client.allPages(DiscovrEndpoints.history(of: "TV_1396") + "?season=1&episode=5", limit: 2, bearer: token)
            #expect(episode.pages == 2)
            #expect(episode.items.compactMap { $0["updatedAt"] as? String }
                == ["2024-01-15T00:00:00.000Z", "2023-01-15T00:00:00.000Z", "2022-01-15T00:00:00.000Z"])
            let season = try await client.allPages(DiscovrEndpoints.history(of: "TV_TMDBID1396") + "?season=1", limit: 50, bearer: token)
            #expect(season.items.count == 4)
            let movie = try await client.allPages(DiscovrEndpoints.history(of: "MV_603"), limit: 50, bearer: token)
            #expect(movie.items.compactMap { $0["id"] as? String } == ["MV_603"])
            let nothing = try await client.get(DiscovrEndpoints.history(of: "MV_550"), bearer: token)
            #expect(nothing.status == 200)
            #expect((nothing.object?["items"] as? [Any])?.isEmpty == true && nothing.object?["hasMore"] as? Bool == false)

            let noSeason = try await client.get(DiscovrEndpoints.history(of: "TV_1396"), bearer: token)
            #expect(noSeason.status == 400 && noSeason.message == "season is required for TV shows")
            #expect(try await client.get(DiscovrEndpoints.history(of: "TV_1396") + "?season=0", bearer: token).status == 400)
            #expect(try await client.get(DiscovrEndpoints.history(of: "1396") + "?season=1", bearer: token).status == 400)
            #expect(try await client.get(DiscovrEndpoints.history(of: "TV_1396") + "?season=1&limit=51", bearer: token).status == 400)
            #expect(try await client.get(DiscovrEndpoints.history(of: "TV_1396") + "?season=1", bearer: running.refreshToken).status == 401)
        }
    }

    struct FormCase: Sendable, CustomTestStringConvertible {
        var accepted: AcceptedMediaIDForms
        var sent: MediaIDForm
        var testDescription: String { "\(accepted.rawValue) server, \(sent.rawValue) sent" }
        var takes: Bool { accepted.accepts(sent) }
    }

    static let formCases = AcceptedMediaIDForms.allCases.flatMap { accepted in
        MediaIDForm.allCases.map { FormCase(accepted: accepted, sent: $0) }
    }

    @Test("--media-id-form: a POST or a GET in a refused form answers 400 and says so; the taken form works", arguments: formCases)
    func mediaIdForm(_ example: FormCase) async throws {
        try await withSandbox(SandboxConfiguration(mediaIDForms: example.accepted)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let id = MediaID.show(1396).rawValue(in: example.sent)
            let post = try await client.history(#"{"mediaId":"\#(id)","season":1,"episode":5,"updatedAt":"2023-01-15T00:00:00.000Z"}"#,
                                                bearer: token)
            let get = try await client.get(DiscovrEndpoints.history(of: id) + "?season=1&episode=5", bearer: token)
            if example.takes {
                #expect(post.status == 200)
                #expect(get.status == 200)
                #expect((get.object?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["TV_1396"])
                #expect(running.store.stats().stored == 1)
            } else {
                #expect(post.status == 400)
                #expect(get.status == 400)
                for answer in [post, get] {
                    #expect(answer.code == "BAD_REQUEST")
                    #expect(answer.message?.contains("\(example.sent.rawValue) form") == true, "got \(answer.body)")
                    #expect(answer.message?.contains(MediaID.show(1396).rawValue(in: example.sent.other)) == true)
                }
                #expect(running.store.stats().invalid == 1)
                #expect(running.store.storedItems().isEmpty)
            }
        }
    }
}
