import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportQueue
import Testing
@testable import Delivery

/// The existing-history check end to end: a real queue, a real sandbox on a real port, the real driver.
@Suite struct ExistingHistoryTests {
    /// Adds `bodies` to the sandbox's (only) profile with plain POSTs, as another import would have.
    static func preload(_ running: RunningSandbox, _ bodies: [String]) async throws {
        try await withDiscovrClient(baseURL: running.url, requestTimeout: 5, logger: quietLogger,
                                    now: { Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()) }) { client in
            let session = try await client.session(refreshToken: running.refreshToken, profileId: nil)
            for body in bodies {
                let answer = try await client.send(method: .POST, path: DiscovrEndpoints.history, body: body,
                                                   bearer: session.token)
                #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            }
        }
    }

    /// The POST body of `entry` with its media id in `form`.
    static func body(_ entry: QueueEntry, form: MediaIDForm, imported: String? = "trakt") throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(entry.body.utf8)) as? [String: Any])
        let raw = try #require(object["mediaId"] as? String)
        let id = try #require(MediaID(rawValue: raw))
        object["mediaId"] = id.rawValue(in: form)
        object["imported"] = imported
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func settings(_ running: RunningSandbox, _ mode: ExistingHistoryMode) -> DeliverySettings {
        var settings = DeliveryDriverTests.settings(running)
        settings.existingHistory = mode
        return settings
    }

    /// 40% of the plays already in the profile (half of them written in the short id form, half in
    /// the seed's), plus 30 entries of another source: the import adds exactly the other 60%, reads the
    /// 150 entries in 3 pages of 50, and a resume reads nothing again.
    @Test(.timeLimit(.minutes(5)))
    func anImportIntoAProfileHolding40PercentAddsExactlyTheOther60() async throws {
        let entries = makeEntries(300)
        let already = entries.enumerated().filter { $0.offset % 5 < 2 }.map(\.element)  // 120, spread over the send order
        let others = makeEntries(30, firstShow: 9000)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await sandbox.run { running in
            try await Self.preload(running, already.enumerated().map { index, entry in
                try Self.body(entry, form: index % 2 == 0 ? .short : .tmdbid)
            } + others.map { try Self.body($0, form: .short, imported: nil) })
            let before = running.store.stats()
            #expect(before.stored == 150 && before.reads == 0)
            let directory = try TempDirectory()
            defer { directory.cleanup() }
            let updates = Shared<[ExistingHistoryProgress]>([])
            do {
                let queue = try ImportQueue.open(path: directory.statePath)
                defer { queue.close() }
                _ = try queue.enqueue(entries)
                let result = await DeliveryDriverTests.deliver(queue, Self.settings(running, .check)) { p in
                    if let reading = p.existingHistory { updates.update { $0.append(reading) } }
                }
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 300, alreadyPresent: 120))
                #expect(result.sent == 180)
            }
            let after = running.store.stats()
            #expect(after.reads == 3)        // 150 entries, pages of 50
            #expect(after.requests - before.requests == 180)
            #expect(after.repeats == 0)      // not one play twice
            let stored = Set(identities(of: running.store.storedItems()).map { PlayIdentity(mediaId: MediaID(rawValue: $0.mediaId)!.rawValue, season: $0.season, episode: $0.episode, updatedAt: $0.updatedAt) })
            #expect(stored == Set(identities(of: entries + others)))
            let seen = updates.get()
            #expect(seen.first == ExistingHistoryProgress(pages: 0, entries: 0, readingAll: false, found: nil, requests: 0))
            #expect(seen.last == ExistingHistoryProgress(pages: 3, entries: 150, readingAll: true, found: 120, requests: 3))
            #expect(seen.map(\.pages) == [0, 1, 2, 3, 3])

            // The check is recorded in the state: resuming (with new work) does not read again.
            let queue = try ImportQueue.open(path: directory.statePath)
            defer { queue.close() }
            let record = try #require(try queue.meta(StateMeta.existingHistoryChecked(profileId: nil)))
            #expect(record == #"{"pages":3,"entries":150,"requests":3,"found":120}"#)
            _ = try queue.enqueue(makeEntries(10, firstShow: 5000))
            let resumed = await DeliveryDriverTests.deliver(queue, Self.settings(running, .check))
            #expect(resumed.stop == .finished && resumed.sent == 10)
            #expect(running.store.stats().reads == 3)
        }
    }

    /// A profile whose first page holds no trakt import and none of the planned plays costs one
    /// request, even when it has more pages; so does an empty profile.
    @Test(.timeLimit(.minutes(5)), arguments: [0, 20, 120])
    func aProfileWithoutTraktEntriesCostsExactlyOneRequest(otherEntries: Int) async throws {
        let entries = makeEntries(40)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await sandbox.run { running in
            try await Self.preload(running, makeEntries(otherEntries, firstShow: 9000).map { try Self.body($0, form: .short, imported: nil) })
            try await DeliveryDriverTests.withFilledQueue(entries) { queue throws in
                let result = await DeliveryDriverTests.deliver(queue, Self.settings(running, .check))
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 40))
                #expect(running.store.stats().reads == 1)
                #expect(running.store.stats().stored == 40 + otherEntries)
                let record = try #require(try queue.meta(StateMeta.existingHistoryChecked(profileId: nil)))
                #expect(record == #"{"pages":1,"entries":\#(min(otherEntries, 50)),"requests":1,"found":0}"#)
            }
        }
    }

    /// `--existing ignore` reads nothing and sends everything: what the profile held is added again.
    @Test(.timeLimit(.minutes(5)))
    func ignoreSendsEverything() async throws {
        let entries = makeEntries(50)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        try await sandbox.run { running in
            try await Self.preload(running, try entries.prefix(20).map { try Self.body($0, form: .tmdbid) })
            try await DeliveryDriverTests.withFilledQueue(entries) { queue throws in
                let result = await DeliveryDriverTests.deliver(queue, Self.settings(running, .ignore))
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 50))
                #expect(result.sent == 50)
                let stats = running.store.stats()
                #expect(stats.reads == 0 && stats.repeats == 20)
                #expect(try queue.meta(StateMeta.existingHistoryChecked(profileId: nil)) == nil)
            }
        }
    }

    /// Reads are paced and retried like sends: a sandbox allowing 1 request a second without
    /// RateLimit headers answers some pages 429, and the check still reads every page and finds every play.
    @Test(.timeLimit(.minutes(5)))
    func rateLimitedPagesAreReadAgain() async throws {
        let entries = makeEntries(103)
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: quietLogger)
        let store = sandbox.store
        try await sandbox.run { running in
            try await Self.preload(running, try entries.prefix(100).map { try Self.body($0, form: .short) })
        }
        let limited = DiscovrSandbox(configuration: SandboxConfiguration(rateLimit: 1, rateLimitHeaders: false), store: store, logger: quietLogger)
        try await limited.run { running in
            try await DeliveryDriverTests.withFilledQueue(entries) { queue throws in
                var settings = Self.settings(running, .check)
                settings.rate = 50
                let result = await DeliveryDriverTests.deliver(queue, settings)
                #expect(result.stop == .finished)
                #expect(result.counts == StateCounts(delivered: 103, alreadyPresent: 100))
                let stats = running.store.stats()
                #expect(stats.readsRateLimited > 0)
                #expect(stats.reads - stats.readsRateLimited == 2)
                #expect(stats.repeats == 0)
            }
        }
    }
}
