import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("POST /profile/history")
struct HistoryTests {
    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var message: String
        var testDescription: String { name }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(name: "missing mediaId", body: #"{"progress":100,"imported":"trakt"}"#, message: "mediaId is required"),
        InvalidCase(name: "mediaId without prefix (the seed's sample)", body: #"{"mediaId":"1396","season":1,"episode":5}"#,
                    message: "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>"),
        InvalidCase(name: "unknown prefix", body: #"{"mediaId":"EP_TMDBID1396"}"#, message: "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>"),
        InvalidCase(name: "progress above 100", body: #"{"mediaId":"MV_TMDBID603","progress":100.5}"#,
                    message: "progress must be between 0 and 100"),
        InvalidCase(name: "progress below 0", body: #"{"mediaId":"MV_TMDBID603","progress":-1}"#,
                    message: "progress must be between 0 and 100"),
        InvalidCase(name: "season 0", body: #"{"mediaId":"TV_TMDBID1396","season":0,"episode":1}"#, message: "season must be >= 1"),
        InvalidCase(name: "episode 0", body: #"{"mediaId":"TV_TMDBID1396","season":1,"episode":0}"#, message: "episode must be >= 1"),
        InvalidCase(name: "TV show without season", body: #"{"mediaId":"TV_TMDBID1396","episode":5}"#,
                    message: "season is required for TV shows"),
        InvalidCase(name: "non-integer season", body: #"{"mediaId":"TV_TMDBID1396","season":1.5,"episode":5}"#,
                    message: "season must be an integer"),
        InvalidCase(name: "season as a string", body: #"{"mediaId":"TV_TMDBID1396","season":"1","episode":5}"#,
                    message: "season must be an integer"),
        InvalidCase(name: "updatedAt not a date", body: #"{"mediaId":"MV_TMDBID603","updatedAt":"yesterday"}"#,
                    message: "updatedAt must be an ISO 8601 date-time"),
    ]

    @Test("each validation rule of the seed page answers 400 with a message", arguments: invalidCases)
    func invalid(_ example: InvalidCase) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.history(example.body, bearer: token)
            #expect(answer.status == 400)
            #expect(answer.message?.hasPrefix(example.message) == true, "got \(answer.body)")
            #expect(answer.code == "BAD_REQUEST")
            #expect(running.store.storedItems().isEmpty)
            #expect(running.store.stats().invalid == 1)
        }
    }

    @Test("a body that is not a JSON object answers 422", arguments: ["[]", "\"text\"", "42", "not json", ""])
    func notAnObject(_ body: String) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.history(body, bearer: token)
            #expect(answer.status == 422)
            #expect(answer.message == "body must be a JSON object")
            #expect(running.store.stats().invalid == 1)
        }
    }

    @Test("valid movies and episodes are stored as sent, in arrival order, with their profile and createdAt")
    func stored() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(now: clock.closure)) { running, client in
            let profile = try #require(running.profiles.first).id
            let created = clock.now.iso8601
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let movie = try await client.history(movieBody(), bearer: token)
            #expect(movie.status == 200)
            #expect(movie.message == "Item added to history list successfully")
            #expect(movie.header("Content-Type")?.hasPrefix("application/json") == true)
            // No rate limit configured: no RateLimit headers.
            #expect(movie.header("RateLimit-Limit") == nil)
            let partial = #"{"mediaId":"TV_TMDBID1396","season":2,"episode":3,"progress":57.6,"imported":"trakt"}"#
            #expect(try await client.history(episodeBody(), bearer: token).status == 200)
            #expect(try await client.history(partial, bearer: token).status == 200)
            let expected = [
                StoredHistoryItem(mediaId: "MV_TMDBID603", progress: 100, updatedAt: "2023-02-01T20:00:00.000Z", imported: "trakt",
                                  profileId: profile, createdAt: created),
                StoredHistoryItem(mediaId: "TV_TMDBID1396", season: 1, episode: 5, progress: 100,
                                  updatedAt: "2023-01-15T00:00:00.000Z", imported: "trakt", profileId: profile, createdAt: created),
                StoredHistoryItem(mediaId: "TV_TMDBID1396", season: 2, episode: 3, progress: 57.6, imported: "trakt",
                                  profileId: profile, createdAt: created),
            ]
            #expect(running.store.storedItems() == expected)
            let items = try await client.get("/_sandbox/items")
            #expect(items.status == 200)
            #expect(try JSONDecoder().decode([StoredHistoryItem].self, from: Data(items.body.utf8)) == expected)
        }
    }

    @Test("history appends: the same play twice is two entries, answered 200, the second counted a repeat")
    func appends() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(episodeBody(), bearer: token).status == 200)
            let again = try await client.history(episodeBody(), bearer: token)
            #expect(again.status == 200)
            #expect(again.message == "Item added to history list successfully")
            // The same instant written without milliseconds, or in the short id form, is the same play.
            let sameInstant = #"{"mediaId":"TV_TMDBID1396","season":1,"episode":5,"updatedAt":"2023-01-15T00:00:00Z"}"#
            #expect(try await client.history(sameInstant, bearer: token).status == 200)
            let shortForm = #"{"mediaId":"TV_1396","season":1,"episode":5,"updatedAt":"2023-01-15T00:00:00.000Z"}"#
            #expect(try await client.history(shortForm, bearer: token).status == 200)
            // Another date, or another episode, is another play.
            #expect(try await client.history(episodeBody(updatedAt: "2023-01-16T00:00:00.000Z"), bearer: token).status == 200)
            #expect(try await client.history(episodeBody(episode: 6), bearer: token).status == 200)
            let stats = running.store.stats()
            #expect(stats.requests == 6)
            #expect(stats.stored == 3)
            #expect(stats.repeats == 3)
            #expect(stats.entries == 6)
            #expect(running.store.storedItems().count == 6)
            #expect(running.store.storedItems().map(\.mediaId).filter { $0 == "TV_1396" }.count == 1) // kept as sent
        }
    }

    @Test("conflictOnRepeat (not Discovr's behaviour): a repeat answers 409 and is not stored")
    func conflictOnRepeat() async throws {
        try await withSandbox(SandboxConfiguration(conflictOnRepeat: true)) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.history(episodeBody(), bearer: token).status == 200)
            let again = try await client.history(#"{"mediaId":"TV_1396","season":1,"episode":5,"updatedAt":"2023-01-15T00:00:00Z"}"#,
                                                 bearer: token)
            #expect(again.status == 409)
            #expect(again.message == "already in history")
            #expect(try await client.history(episodeBody(episode: 6), bearer: token).status == 200)
            let stats = running.store.stats()
            #expect(stats.stored == 2 && stats.repeats == 1 && stats.requests == 3)
            #expect(running.store.storedItems().count == 2)
        }
    }
}
