import DiscovrAPI
import Foundation
import Testing
@testable import ImportPlanner
@testable import TraktExport

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func sample(_ path: String) -> String { root.appendingPathComponent("samples").appendingPathComponent(path).path }
    static let realworld = root.appendingPathComponent("Tests/Fixtures/realworld").path
}

/// Builders for records, so each rule's table reads as data.
enum R {
    static let heat = TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 949)
    static let bb = TraktTitle(title: "Breaking Bad", year: 2008, slug: "breaking-bad", tmdb: 1396)

    static func movie(_ m: TraktTitle?, _ at: String?, kind: RecordKind = .history, progress: Double? = nil) -> TraktRecord {
        TraktRecord(kind: kind, play: TraktPlay(type: .movie, movie: m, timestamp: at, progress: progress), fileIndex: 0)
    }

    static func episode(_ s: TraktTitle?, _ season: Int?, _ number: Int?, _ at: String?, kind: RecordKind = .history,
                        progress: Double? = nil, noEpisode: Bool = false) -> TraktRecord {
        TraktRecord(kind: kind, play: TraktPlay(type: .episode, show: s, episode: noEpisode ? nil : TraktEpisode(season: season, number: number),
                                                timestamp: at, progress: progress), fileIndex: 0)
    }
}

@Suite struct PlannerRuleTests {
    static let t = "2020-05-01T10:00:00.000Z"

    /// One record alone: the reason it is skipped with, or nil when it is planned.
    @Test(arguments: [
        (R.movie(nil, t), SkipReason.missingMedia),
        (R.episode(nil, 1, 1, t), .missingMedia),
        (R.episode(R.bb, 1, 1, t, noEpisode: true), .missingMedia),
        (R.movie(TraktTitle(title: "X", tmdb: nil), t), .noTmdbID),
        (R.episode(TraktTitle(title: "X", tmdb: nil), 1, 1, t), .noTmdbID),
        (R.episode(TraktTitle(title: "X", tmdb: nil), 0, 1, t), .noTmdbID), // no-tmdb-id comes before special-episode
        (R.episode(R.bb, 0, 1, t), .specialEpisode),
        (R.episode(R.bb, 1, 0, t), .specialEpisode),
        (R.episode(R.bb, -4, 2, t), .specialEpisode),
        (R.episode(R.bb, nil, 2, t), .specialEpisode),
        (R.episode(R.bb, 0, 1, "garbage"), .specialEpisode), // special-episode comes before invalid-date
        (R.movie(R.heat, "yesterday"), .invalidDate),
        (R.movie(R.heat, nil), .invalidDate),
        (R.movie(R.heat, "2020-02-30T00:00:00Z"), .invalidDate),
        (R.movie(R.heat, "90000-01-01T00:00:00Z"), .invalidDate),
        (R.episode(R.bb, nil, nil, t, kind: .watchedShowWithoutEpisodes), .noEpisodeDetail),
        (R.episode(nil, nil, nil, t, kind: .watchedShowWithoutEpisodes), .missingMedia),
        (R.episode(R.bb, nil, nil, "not a date", kind: .watchedShowWithoutEpisodes), .invalidDate), // date rules come first
        (R.movie(R.heat, t, kind: .playback, progress: 0), .zeroProgress),
        (R.movie(R.heat, t, kind: .playback, progress: 0.004), .zeroProgress),  // rounds to 0.00
        (R.movie(R.heat, t, kind: .playback, progress: -3), .zeroProgress),     // clamped to 0
        (R.movie(R.heat, t, kind: .playback, progress: nil), .zeroProgress),    // no progress read: nothing known watched
        (R.movie(R.heat, t, kind: .playback, progress: .nan), .zeroProgress),
        (R.episode(R.bb, 2, 3, t, kind: .playback, progress: 0), .zeroProgress),
        (R.episode(R.bb, 0, 1, t, kind: .playback, progress: 0), .specialEpisode),  // special-episode comes before zero-progress
        (R.movie(R.heat, "not a date", kind: .playback, progress: 0), .invalidDate), // invalid-date comes before zero-progress
        (R.movie(nil, t, kind: .playback, progress: 0), .missingMedia),
        (R.movie(TraktTitle(title: "X", tmdb: nil), t, kind: .playback, progress: 0), .noTmdbID),
    ] as [(TraktRecord, SkipReason)])
    func singleRecordSkips(record: TraktRecord, reason: SkipReason) {
        let plan = ImportPlanner.plan(records: [record])
        #expect(plan.items.isEmpty)
        #expect(plan.skipped.map(\.reason) == [reason])
    }

    @Test func aMovieAndAnEpisodeMapAsTheContractSays() {
        let plan = ImportPlanner.plan(records: [R.movie(R.heat, "2019-05-01T20:00:00+02:00"), R.episode(R.bb, 1, 5, "2023-01-15T00:00:00Z")])
        #expect(plan.items.map(\.item.jsonBody) == [
            #"{"mediaId":"MV_TMDBID949","progress":100,"updatedAt":"2019-05-01T18:00:00.000Z","imported":"trakt"}"#,
            #"{"mediaId":"TV_TMDBID1396","season":1,"episode":5,"progress":100,"updatedAt":"2023-01-15T00:00:00.000Z","imported":"trakt"}"#,
        ])
    }

    @Test(arguments: [
        (UnknownDatePolicy.omit, #"{"mediaId":"MV_TMDBID949","progress":100,"imported":"trakt"}"#, SkipReason?.none),
        (.keep, #"{"mediaId":"MV_TMDBID949","progress":100,"updatedAt":"1970-01-01T00:00:00.000Z","imported":"trakt"}"#, nil),
        (.skip, nil, .unknownDate),
    ] as [(UnknownDatePolicy, String?, SkipReason?)])
    func unknownDates(policy: UnknownDatePolicy, body: String?, reason: SkipReason?) {
        let row = R.episode(R.bb, nil, nil, "1970-01-01T00:00:00.000Z", kind: .watchedShowWithoutEpisodes)
        #expect(ImportPlanner.plan(records: [row], options: PlanOptions(unknownDates: policy)).skipped.first?.reason
            == (policy == .skip ? .unknownDate : .noEpisodeDetail))
        let plan = ImportPlanner.plan(records: [R.movie(R.heat, "1970-01-01T00:00:00.000Z")], options: PlanOptions(unknownDates: policy))
        #expect(plan.items.first?.item.jsonBody == body)
        #expect(plan.skipped.first?.reason == reason)
    }

    @Test func twoUnknownDatePlaysOfOneKeyAreDuplicatesUnderOmit() {
        let records = [R.movie(R.heat, "1970-01-01T00:00:00.000Z"), R.movie(R.heat, "1900-01-01T00:00:00.000Z")]
        #expect(ImportPlanner.plan(records: records).skippedCounts[.duplicate] == 1)
        #expect(ImportPlanner.plan(records: records, options: PlanOptions(unknownDates: .keep)).items.count == 2)
    }

    @Test func rewatchesAreKeptAndSamePlayIsADuplicate() {
        let plan = ImportPlanner.plan(records: [
            R.movie(R.heat, "2020-01-01T00:00:00Z"), R.movie(R.heat, "2021-01-01T00:00:00Z"),
            R.movie(R.heat, "2020-01-01T00:00:00.000Z"), // the same instant written differently
        ])
        #expect(plan.items.count == 2)
        #expect(plan.skippedCounts[.duplicate] == 1)
    }

    @Test func bulkMarkedEpisodesSharingATimestampAreNotDuplicates() {
        let records = (1...10).map { R.episode(R.bb, 1, $0, "2023-01-15T00:00:00Z") }
        let plan = ImportPlanner.plan(records: records.reversed())
        #expect(plan.items.map { $0.item.episode } == Array(1...10)) // ties go out in episode order
        #expect(plan.skipped.isEmpty)
    }

    @Test func summariesFillOnlyGapsThatHistoryLeaves() {
        let plan = ImportPlanner.plan(records: [
            R.movie(R.heat, "2020-01-01T00:00:00Z"),
            R.movie(R.heat, "2021-06-01T00:00:00Z", kind: .watchedMovie),   // history has Heat: covered
            R.movie(TraktTitle(title: "Jaws", tmdb: 578), "2015-01-01T00:00:00Z", kind: .watchedMovie),
            R.episode(R.bb, 1, 1, "2016-01-01T00:00:00Z", kind: .watchedEpisode),
            R.episode(R.bb, 1, 1, "2016-01-01T00:00:00Z", kind: .watchedEpisode), // the same summary twice
        ])
        #expect(plan.items.map(\.item.mediaId.rawValue).sorted() == ["MV_TMDBID578", "MV_TMDBID949", "TV_TMDBID1396"])
        #expect(plan.skippedCounts[.coveredByHistory] == 1)
        #expect(plan.skippedCounts[.duplicate] == 1)
        #expect(plan.planned.fromSummary == 2)
    }

    @Test func playbackNeverOverridesACompletedPlay() {
        let plan = ImportPlanner.plan(records: [
            R.episode(R.bb, 1, 1, "2020-01-01T00:00:00Z", kind: .playback, progress: 40),    // watched in history
            R.episode(R.bb, 1, 2, "2020-01-01T00:00:00Z", kind: .playback, progress: 40),    // watched per summary
            R.episode(R.bb, 1, 3, "2020-01-01T00:00:00Z", kind: .playback, progress: 45.678), // never watched
            R.movie(R.heat, "2020-01-01T00:00:00Z", kind: .playback, progress: 130),          // clamped
            R.episode(R.bb, 1, 1, "2019-01-01T00:00:00Z"),
            R.episode(R.bb, 1, 2, "2019-01-01T00:00:00Z", kind: .watchedEpisode),
        ])
        #expect(plan.skippedCounts[.supersededByWatch] == 2)
        let progress = plan.items.filter { $0.isInProgress }.map(\.item.progress).sorted()
        #expect(progress == [45.68, 100])
        #expect(plan.planned.inProgress == 2)
    }

    /// The smallest progress that survives rounding is sent; zero-progress is only for what rounds to 0.
    @Test(arguments: [(0.01, 0.01), (0.005, 0.01), (0.0051, 0.01), (1e-9, nil), (0.0, nil), (100.0, 100.0), (250.0, 100.0)] as [(Double, Double?)])
    func tinyPositiveProgressIsStillPlanned(progress: Double, sent: Double?) {
        let plan = ImportPlanner.plan(records: [R.movie(R.heat, "2020-01-01T00:00:00Z", kind: .playback, progress: progress)])
        #expect(plan.items.first?.item.progress == sent)
        #expect(plan.skipped.map(\.reason) == (sent == nil ? [.zeroProgress] : []))
    }

    /// zero-progress in the order of the contract: after the record's own rules (special, date),
    /// before superseded-by-watch and duplicate; unknown-date (with skip) comes first.
    @Test func zeroProgressInTheRuleOrder() {
        let records = [
            R.episode(R.bb, 1, 1, "2019-01-01T00:00:00Z"),                                    // 0: history, planned
            R.episode(R.bb, 1, 1, "2020-01-01T00:00:00Z", kind: .playback, progress: 0),      // 1: completed item at 0%
            R.episode(R.bb, 1, 1, "2020-01-02T00:00:00Z", kind: .playback, progress: 30),     // 2: completed item, 30%
            R.movie(R.heat, "yesterday", kind: .playback, progress: 0),                       // 3: invalid date at 0%
            R.episode(R.bb, 0, 4, "2020-01-01T00:00:00Z", kind: .playback, progress: 0),      // 4: special at 0%
            R.movie(R.heat, "1970-01-01T00:00:00Z", kind: .playback, progress: 0),            // 5: unknown date at 0%
            R.movie(R.heat, "2021-05-05T00:00:00Z", kind: .playback, progress: 0),            // 6: at 0%
            R.movie(R.heat, "2021-05-05T00:00:00Z", kind: .playback, progress: 0),            // 7: the same play again at 0%
            R.movie(R.heat, "2021-05-06T00:00:00Z", kind: .playback, progress: 0.01),         // 8: planned
        ]
        func reasons(_ options: PlanOptions) -> [Int: SkipReason] {
            Dictionary(uniqueKeysWithValues: ImportPlanner.plan(records: records, options: options).skipped.map { ($0.recordIndex, $0.reason) })
        }
        #expect(reasons(PlanOptions()) == [1: .zeroProgress, 2: .supersededByWatch, 3: .invalidDate, 4: .specialEpisode,
                                           5: .zeroProgress, 6: .zeroProgress, 7: .zeroProgress])
        #expect(reasons(PlanOptions(unknownDates: .skip))[5] == .unknownDate)
        // --no-playback (an addition to the contract) leaves every playback out, whatever its progress.
        #expect(Set(reasons(PlanOptions(includePlayback: false)).values) == [.playbackExcluded])
        let plan = ImportPlanner.plan(records: records)
        #expect(plan.items.map(\.recordIndex).sorted() == [0, 8])
        #expect(plan.skippedCounts[.zeroProgress] == 4)
        #expect(plan.planned.inProgress == 1)
    }

    @Test func noPlaybackLeavesInProgressItemsOutButAccountsForThem() {
        let records = [R.movie(R.heat, "2020-01-01T00:00:00Z", kind: .playback, progress: 50)]
        let plan = ImportPlanner.plan(records: records, options: PlanOptions(includePlayback: false))
        #expect(plan.items.isEmpty)
        #expect(plan.skippedCounts[.playbackExcluded] == 1)
    }

    @Test func latestOnlyKeepsTheLatestCompletedPlay() {
        let plan = ImportPlanner.plan(records: [
            R.movie(R.heat, "2020-01-01T00:00:00Z"), R.movie(R.heat, "2022-01-01T00:00:00Z"), R.movie(R.heat, "2021-01-01T00:00:00Z"),
            R.movie(R.heat, "1970-01-01T00:00:00Z"),
        ], options: PlanOptions(latestOnly: true))
        #expect(plan.items.map { $0.item.updatedAt?.iso8601 } == ["2022-01-01T00:00:00.000Z"])
        #expect(plan.skippedCounts[.olderRewatch] == 3)
    }

    @Test func sendOrderIsOldestFirstWithUnknownDatesFirstOfAll() {
        let plan = ImportPlanner.plan(records: [
            R.movie(R.heat, "2022-01-01T00:00:00Z"), R.movie(TraktTitle(title: "A", tmdb: 1), "1970-01-01T00:00:00Z"),
            R.episode(R.bb, 2, 1, "2010-01-01T00:00:00Z"),
        ])
        #expect(plan.items.map { $0.item.updatedAt?.iso8601 } == [nil, "2010-01-01T00:00:00.000Z", "2022-01-01T00:00:00.000Z"])
    }

    @Test func historyShorterThanStatsWarns() {
        let plan = ImportPlanner.plan(records: [R.movie(R.heat, "2020-01-01T00:00:00Z")], stats: TraktStats(moviePlays: 5, episodePlays: 10))
        #expect(plan.warnings.contains { $0.contains("1 plays") && $0.contains("15") })
    }

    /// Random records from a seeded generator: the accounting invariant always holds.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyRecordIsAccountedForExactlyOnce(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let titles: [TraktTitle?] = [nil, R.heat, R.bb, TraktTitle(title: "X", tmdb: nil), TraktTitle(title: "Y", tmdb: 7)]
        let dates: [String?] = [nil, "bad", "1970-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2021-03-04T05:06:07.890+01:00"]
        let kinds: [RecordKind] = RecordKind.allCases
        var records: [TraktRecord] = []
        for _ in 0..<2000 {
            let kind = kinds[Int(rng.next() % UInt64(kinds.count))]
            let title = titles[Int(rng.next() % UInt64(titles.count))]
            let date = dates[Int(rng.next() % UInt64(dates.count))]
            let isMovie = (kind == .history || kind == .playback) ? rng.next() % 2 == 0 : kind == .watchedMovie
            if isMovie {
                records.append(R.movie(title, date, kind: kind, progress: Double(rng.next() % 120)))
            } else {
                records.append(R.episode(title, Int(rng.next() % 3), Int(rng.next() % 3), date, kind: kind, progress: 50))
            }
        }
        for latest in [false, true] {
            for policy in UnknownDatePolicy.allCases {
                let plan = ImportPlanner.plan(records: records, options: PlanOptions(unknownDates: policy, latestOnly: latest, includePlayback: seed % 2 == 0))
                #expect(plan.records.total == records.count)
                #expect(plan.planned.total + plan.skippedCounts.values.reduce(0, +) == records.count)
                #expect(plan.planned.movies + plan.planned.episodes == plan.planned.total)
                #expect(Set(plan.skipped.map(\.recordIndex)).count == plan.skipped.count)
                #expect(Set(plan.items.map(\.item.playKey)).count == plan.items.count)
                #expect(Set(plan.items.map(\.recordIndex)).isDisjoint(with: plan.skipped.map(\.recordIndex)))
            }
        }
    }
}
