import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

extension SandboxClient {
    /// `POST /profile/{list}` with `body` (by default `{"mediaId": mediaId}`).
    func list(_ list: DiscovrList, _ mediaId: String, bearer: String?, body: String? = nil) async throws -> Answer {
        try await post(list.path, bearer: bearer, body: body ?? #"{"mediaId":"# + JSONText.quote(mediaId) + "}")
    }

    /// `GET /_sandbox/lists[?profileId=]`: each list's media ids, as served; empty when refused.
    func lists(profileId: String? = nil) async throws -> [String: [String]] {
        let answer = try await get("/_sandbox/lists" + (profileId.map { "?profileId=" + $0 } ?? ""))
        return ListAnswer.lists(answer.body)
    }
}

/// Reading list answers outside async closures (the compiler's SendNonSendable pass crashes on
/// `[String: Any]` handled inline in async code).
enum ListAnswer {
    static func object(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    static func lists(_ body: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (key, value) in object(body) {
            if let ids = value as? [String] { out[key] = ids }
        }
        return out
    }

    /// The keys of a list answer and the values of `added` and `removed` ("null" for JSON null, nil
    /// when absent).
    static func fields(_ body: String) -> (keys: Set<String>, message: String?, added: String?, removed: String?) {
        let object = object(body)
        func text(_ key: String) -> String? {
            guard let value = object[key] else { return nil }
            return value is NSNull ? "null" : value as? String
        }
        return (Set(object.keys), object["message"] as? String, text("added"), text("removed"))
    }

    /// What `/_sandbox/lists` serves for a profile holding only `ids` in `list`.
    static func only(_ list: DiscovrList, _ ids: [String]) -> [String: [String]] {
        var out = Dictionary(uniqueKeysWithValues: DiscovrList.allCases.map { ($0.rawValue, [String]()) })
        out[list.rawValue] = ids
        return out
    }

    static let empty = Dictionary(uniqueKeysWithValues: DiscovrList.allCases.map { ($0.rawValue, [String]()) })
}

@Suite("POST /profile/{liked,disliked,super_liked,watchlist}", .timeLimit(.minutes(5)))
struct ListTests {
    /// The documented success message pattern (`add-disliked-item`: "Item added to disliked list successfully").
    static func addedMessage(_ list: DiscovrList) -> String { "Item added to \(list.rawValue) list successfully" }

    @Test("each list path stores the title, in the session's profile, and answers as add-disliked-item documents", arguments: DiscovrList.allCases)
    func stores(_ list: DiscovrList) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let answer = try await client.list(list, "MV_550", bearer: token)
            #expect(answer.status == 200, "\(answer.body)")
            #expect(answer.header("Content-Type")?.hasPrefix("application/json") == true)
            let fields = ListAnswer.fields(answer.body)
            #expect(fields.message == Self.addedMessage(list))
            if list.isVerdict {
                #expect(fields.keys == ["message", "added", "removed"])
                #expect(fields.added == list.rawValue && fields.removed == "null")
            } else {
                #expect(fields.keys == ["message"])
            }
            #expect(try await client.lists() == ListAnswer.only(list, ["MV_TMDBID550"]))
            // No history entry is made.
            #expect(running.store.storedItems().isEmpty)
        }
    }

    @Test("liked, disliked and super_liked are exclusive: adding to one moves the title and says where from")
    func exclusive() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.list(.watchlist, "TV_1396", bearer: token).status == 200)
            let first = ListAnswer.fields(try await client.list(.disliked, "TV_1396", bearer: token).body)
            #expect(first.added == "disliked" && first.removed == "null")
            let moved = try await client.list(.liked, "TV_1396", bearer: token)
            #expect(moved.status == 200)
            let fields = ListAnswer.fields(moved.body)
            #expect(fields.message == "Item added to liked list successfully")
            #expect(fields.added == "liked" && fields.removed == "disliked")
            let again = ListAnswer.fields(try await client.list(.superLiked, "TV_1396", bearer: token).body)
            #expect(again.added == "super_liked" && again.removed == "liked")
            // Another title is not touched; the watchlist is not one of the exclusive lists.
            #expect(try await client.list(.disliked, "MV_603", bearer: token).status == 200)
            var expected = ListAnswer.empty
            expected["super_liked"] = ["TV_TMDBID1396"]
            expected["disliked"] = ["MV_TMDBID603"]
            expected["watchlist"] = ["TV_TMDBID1396"]
            #expect(try await client.lists() == expected)
            let stats = running.store.stats().lists
            #expect(stats.stored == 5 && stats.moved == 2 && stats.unchanged == 0)
        }
    }

    @Test("a title already in the list is a success that changes nothing", arguments: DiscovrList.allCases)
    func alreadyThere(_ list: DiscovrList) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            #expect(try await client.list(list, "MV_550", bearer: token).status == 200)
            // The other id form is the same title.
            let again = try await client.list(list, "MV_TMDBID550", bearer: token)
            #expect(again.status == 200)
            let fields = ListAnswer.fields(again.body)
            if list.isVerdict {
                #expect(fields.message == "Item was already \(list.rawValue) — no change made")
                #expect(fields.added == list.rawValue && fields.removed == "null")
            } else {
                #expect(fields.message == "Item was already in watchlist — no change made")
                #expect(fields.keys == ["message"])
            }
            #expect(try await client.lists() == ListAnswer.only(list, ["MV_TMDBID550"]))
        }
    }

    @Test("the lists are sorted and in the seed form whatever form was sent")
    func sortedInSeedForm() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for id in ["TV_TMDBID1396", "MV_603", "MV_TMDBID550", "TV_100"] {
                #expect(try await client.list(.watchlist, id, bearer: token).status == 200)
            }
            #expect(try await client.lists()["watchlist"] == ["MV_TMDBID550", "MV_TMDBID603", "TV_TMDBID100", "TV_TMDBID1396"])
        }
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var status: Int
        var message: String
        var testDescription: String { name }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(name: "missing mediaId", body: "{}", status: 400, message: "mediaId is required"),
        InvalidCase(name: "mediaId not a string", body: #"{"mediaId":550}"#, status: 400, message: "mediaId must be a string"),
        InvalidCase(name: "mediaId without prefix", body: #"{"mediaId":"550"}"#, status: 400,
                    message: "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>"),
        InvalidCase(name: "an episode id", body: #"{"mediaId":"EP_1396"}"#, status: 400,
                    message: "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>"),
        InvalidCase(name: "an array", body: "[]", status: 422, message: "body must be a JSON object"),
        InvalidCase(name: "not JSON", body: "not json", status: 422, message: "body must be a JSON object"),
        InvalidCase(name: "empty", body: "", status: 422, message: "body must be a JSON object"),
    ]

    @Test("an invalid body is refused as the history POST refuses it, and nothing is stored", arguments: invalidCases)
    func invalid(_ example: InvalidCase) async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            for list in DiscovrList.allCases {
                let answer = try await client.list(list, "", bearer: token, body: example.body)
                #expect(answer.status == example.status, "\(list): \(answer.body)")
                #expect(answer.message?.hasPrefix(example.message) == true, "\(list): \(answer.body)")
                #expect(answer.code == "BAD_REQUEST")
            }
            #expect(try await client.lists() == ListAnswer.empty)
        }
    }

    @Test("a list POST is authorised like the history POST: a session JWT, of the profile it writes")
    func authorised() async throws {
        try await withSandbox(SandboxConfiguration(profiles: 2)) { running, client in
            let none = try await client.list(.disliked, "MV_550", bearer: nil)
            #expect(none.status == 401 && none.code == "TOKEN_INVALID")
            let refresh = try await client.list(.liked, "MV_550", bearer: running.refreshToken)
            #expect(refresh.status == 401 && refresh.code == "WRONG_TOKEN_KIND")
            let unknown = try await client.list(.watchlist, "MV_550", bearer: "x.y.z")
            #expect(unknown.status == 401 && unknown.code == "TOKEN_INVALID")
            let kids = running.profiles[1].id
            let token = try #require(try await client.sessionToken(refreshToken: running.refreshToken, profileId: kids))
            #expect(try await client.list(.superLiked, "MV_550", bearer: token).status == 200)
            #expect(try await client.lists(profileId: kids) == ListAnswer.only(.superLiked, ["MV_TMDBID550"]))
            #expect(try await client.lists(profileId: running.profiles[0].id) == ListAnswer.empty)
        }
    }
}
