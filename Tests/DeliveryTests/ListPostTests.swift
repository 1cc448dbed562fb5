import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing
@testable import Delivery

/// `DiscovrClient.post` of list writes against the sandbox on a real port, and the list answer read by
/// `HistoryResponse.parse` (which already reads `message`, `added` and `removed`).
@Suite(.timeLimit(.minutes(5))) struct ListPostTests {
    @Test func postsEachListAndReadsTheAnswer() async throws {
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await sandbox.run { running in
            try await withDiscovrClient(baseURL: running.url, requestTimeout: 5, logger: quietLogger,
                                        now: SandboxConfiguration.systemNow) { client in
                let session = try await client.session(refreshToken: running.refreshToken, profileId: running.profiles[0].id)
                let fight = ListItem(list: .disliked, mediaId: .movie(550))
                let first = try await client.post(.list(fight), form: .short, jwt: session.token)
                #expect(first.status == 200)
                #expect(HistoryResponse.parse(body: first.body)
                    == HistoryResponse(message: "Item added to disliked list successfully", added: "disliked", removed: nil))
                let again = try await client.post(.list(fight), form: .tmdbid, jwt: session.token)
                #expect(again.status == 200)
                #expect(HistoryResponse.parse(body: again.body)
                    == HistoryResponse(message: "Item was already disliked — no change made", added: "disliked", removed: nil))
                let moved = try await client.post(.list(ListItem(list: .superLiked, mediaId: .movie(550))), form: .tmdbid, jwt: session.token)
                #expect(HistoryResponse.parse(body: moved.body).removed == "disliked")
                let watch = try await client.post(.list(ListItem(list: .watchlist, mediaId: .show(1396))), form: .short, jwt: session.token)
                #expect(HistoryResponse.parse(body: watch.body) == HistoryResponse(message: "Item added to watchlist list successfully"))
                // Every path went where DiscovrList.path says.
                let lists = running.store.lists(profileId: running.profiles[0].id)
                #expect(lists == ProfileLists(superLiked: ["MV_TMDBID550"], watchlist: ["TV_TMDBID1396"]))
                #expect(running.store.stats().lists.requests == 4 && running.store.stats().requests == 0)
            }
        }
    }

    @Test func aPathTheServerDoesNotTakeIsItsStatus() async throws {
        var configuration = SandboxConfiguration()
        configuration.listPaths = .documentedWith405
        let sandbox = DiscovrSandbox(configuration: configuration, logger: quietLogger)
        try await sandbox.run { running in
            try await withDiscovrClient(baseURL: running.url, requestTimeout: 5, logger: quietLogger,
                                        now: SandboxConfiguration.systemNow) { client in
                let session = try await client.session(refreshToken: running.refreshToken, profileId: running.profiles[0].id)
                #expect(try await client.post(.list(ListItem(list: .liked, mediaId: .movie(550))), form: .short, jwt: session.token).status == 405)
                #expect(try await client.post(.list(ListItem(list: .disliked, mediaId: .movie(550))), form: .short, jwt: session.token).status == 200)
            }
        }
    }
}
