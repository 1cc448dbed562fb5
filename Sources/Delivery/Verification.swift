import DiscovrAPI
import Foundation
import ImportQueue
import Logging

/// A play `verify` names (importer.md section 8): missing (`found` 0) or duplicated (`found` 2 or more).
public struct VerifyFinding: Sendable, Equatable, Encodable {
    /// In the state's media id form (the form it was sent in).
    public var mediaId: String
    public var season: Int?
    public var episode: Int?
    /// As sent (`YYYY-MM-DDTHH:MM:SS.sssZ`); nil for a play sent without a date.
    public var updatedAt: String?
    public var title: String
    /// Entries of the history that match it.
    public var found: Int
    /// The queue's row (for `--requeue-missing`); not in the report.
    public var id: Int64

    private enum CodingKeys: String, CodingKey { case mediaId, season, episode, updatedAt, title, found }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mediaId, forKey: .mediaId)
        try c.encode(season, forKey: .season)  // null, not left out: every finding has the same keys
        try c.encode(episode, forKey: .episode)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(title, forKey: .title)
        try c.encode(found, forKey: .found)
    }
}

/// What `verify` found: every play the state counts as in the profile, held against the whole history.
public struct VerifyResult: Sendable, Equatable {
    /// Plays the state counts as delivered or already present.
    public var checked = 0
    /// Of those, the ones matched by exactly one entry.
    public var present = 0
    public var missing: [VerifyFinding] = []
    public var duplicated: [VerifyFinding] = []
    /// `imported: "trakt"` entries that match no play of the state.
    public var unexpected = 0
    /// History entries read, and the pages they came in.
    public var entries = 0
    public var pages = 0

    public init() {}

    /// Nothing missing, nothing duplicated.
    public var isExact: Bool { missing.isEmpty && duplicated.isEmpty }

    /// What the state keeps as the last verify (`status` shows it): the counts and when.
    public func record(at time: Timestamp, requeued: Int) -> VerifyRecord {
        VerifyRecord(at: time.iso8601, checked: checked, present: present, missing: missing.count,
                     duplicated: duplicated.count, unexpected: unexpected, requeued: requeued)
    }
}

/// The last verify as the state's meta table keeps it (`StateMeta.lastVerify`), written by
/// `DeliveryDriver.recordVerify` and read by `status`: one type for both.
public struct VerifyRecord: Sendable, Equatable, Codable {
    public var at: String
    public var checked: Int
    public var present: Int
    public var missing: Int
    public var duplicated: Int
    public var unexpected: Int
    /// Missing plays put back to pending by `--requeue-missing`.
    public var requeued: Int

    /// The meta value: compact JSON, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings and integers only: encoding cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension VerifyRecord {
    /// Reads a meta value; nil when there is none or it is not such a record.
    public init?(json: String?) {
        guard let json, let value = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else { return nil }
        self = value
    }
}

/// Where a verify stands, for the progress line: entries read of about `expected`.
public struct VerifyProgress: Sendable, Equatable {
    public var entries: Int
    public var pages: Int
    /// The plays being checked: the history holds at least about as many entries.
    public var expected: Int
}

/// The matching of `verify`, a pure value: fed the history a page at a time, it counts for each settled
/// play the entries that match it, with the read-back's matching (`HistoryItem.isMatched`: the id in
/// either form, season, episode, `imported: "trakt"`, `updatedAt` to the millisecond; a play sent
/// without a date by an entry of its item created from its first send on). Memory follows the plan,
/// not the profile: an entry is looked up by its play key (or, for the plays sent without a date, its
/// item key) and only counted.
struct VerifyTally {
    let plays: [SettledPlay]
    private var byPlayKey: [String: Int] = [:]
    private var datelessByItemKey: [String: [Int]] = [:]
    private(set) var found: [Int]
    private(set) var unexpected = 0
    private(set) var entries = 0

    init(plays: [SettledPlay]) {
        self.plays = plays
        found = Array(repeating: 0, count: plays.count)
        for (index, play) in plays.enumerated() {
            if play.play.updatedAt == nil {
                datelessByItemKey[play.itemKey, default: []].append(index)
            } else {
                byPlayKey[play.playKey] = index
            }
        }
    }

    mutating func take(_ page: [HistoryEntry]) {
        entries += page.count
        for entry in page {
            if let index = matchingPlay(entry) {
                found[index] += 1
            } else if entry.imported == HistoryItem.importSource {
                unexpected += 1
            }
        }
    }

    private func matchingPlay(_ entry: HistoryEntry) -> Int? {
        guard let item = entry.asPlannedItem else { return nil }
        let keys = item.keys
        if item.updatedAt != nil, let index = byPlayKey[keys.play],
           plays[index].play.isMatched(by: entry, createdWithinMs: nil, anyImport: plays[index].foundBeforeSending) {
            return index
        }
        return datelessByItemKey[keys.item]?.first { index in
            guard let from = plays[index].sentAtMs else { return false }
            return plays[index].play.isMatched(by: entry, createdWithinMs: from...Int64.max)
        }
    }

    /// The result, ids written in `form`.
    func result(form: MediaIDForm) -> VerifyResult {
        var result = VerifyResult()
        result.checked = plays.count
        result.entries = entries
        result.unexpected = unexpected
        for (index, count) in found.enumerated() {
            if count == 1 {
                result.present += 1
                continue
            }
            let settled = plays[index]
            let play = settled.play
            let finding = VerifyFinding(mediaId: play.mediaId.rawValue(in: form),
                                        season: play.season, episode: play.episode,
                                        updatedAt: play.updatedAt?.iso8601, title: settled.title, found: count,
                                        id: settled.id)
            if count == 0 { result.missing.append(finding) } else { result.duplicated.append(finding) }
        }
        return result
    }
}

extension DeliveryDriver {
    /// `verify`: reads the profile's whole history (`SendContext.historyPage`, every page) and holds it
    /// against every play the state counts as in the profile. Ids in the findings are written in `form`.
    /// Throws why the history could not be read to the end (unreachable, refused, stopped, the state file).
    public func verify(stop: StopSignal, form: MediaIDForm, progress report: @escaping @Sendable (VerifyProgress) -> Void)
        async throws(DeliveryStop) -> VerifyResult {
        let time = runTime()
        let startedAtMs = time.nowMs()
        var tally: VerifyTally
        do {
            tally = VerifyTally(plays: try queue.settledPlays())
        } catch {
            throw .storage(Self.queueError(error, queue: queue))
        }
        let expected = tally.plays.count
        let seed = settings.jitterSeed ?? UInt64.random(in: .min ... .max)
        return try await withContext(time: time, seed: seed, stop: stop) { context throws(DeliveryStop) in
            var token: String?
            var pages = 0
            var requests = 0
            var tokensSeen = Set<String>()
            logger.info("verify started", metadata: ["plays": .stringConvertible(expected)])
            reading: while true {
                let page = try await context.historyPage(after: token, number: pages + 1, requests: &requests)
                pages += 1
                tally.take(page.items)
                report(VerifyProgress(entries: tally.entries, pages: pages, expected: expected))
                switch ExistingHistoryScan.next(after: page, pages: pages, tokensSeen: &tokensSeen) {
                case .read(let next): token = next
                case .done: break reading
                case .badPaging(let why): throw .historyUnreadable(why)
                }
            }
            var result = tally.result(form: form)
            result.pages = pages
            logger.info("verify done", metadata: [
                "pages": .stringConvertible(pages), "requests": .stringConvertible(requests),
                "entries": .stringConvertible(result.entries),
                "missing": .stringConvertible(result.missing.count),
                "duplicated": .stringConvertible(result.duplicated.count),
                "ms": .stringConvertible(time.nowMs() - startedAtMs),
            ])
            return result
        }
    }

    /// Keeps the result as the state's last verify and, with `requeueMissing`, puts the missing plays
    /// back to pending (one transaction). Returns how many were put back.
    public func recordVerify(_ result: VerifyResult, requeueMissing: Bool) throws -> Int {
        let at = Timestamp(millisecondsSince1970: wallClock())
        guard requeueMissing, !result.missing.isEmpty else {
            try queue.setMeta(StateMeta.lastVerify, result.record(at: at, requeued: 0).json)
            return 0
        }
        let ids = result.missing.map(\.id)
        return try queue.requeueMissing(ids: ids, verifyRecord: result.record(at: at, requeued: ids.count).json)
    }
}
