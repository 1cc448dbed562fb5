import DiscovrAPI
import Foundation
import Testing
@testable import ImportPlanner
@testable import TraktExport

/// Builders for list records, so each rule's table reads as data.
enum L {
    static let heat = TraktTitle(title: "Heat", year: 1995, slug: "heat-1995", tmdb: 949)
    static let fightClub = TraktTitle(title: "Fight Club", year: 1999, slug: "fight-club-1999", tmdb: 550)
    static let bb = TraktTitle(title: "Breaking Bad", year: 2008, slug: "breaking-bad", tmdb: 1396)
    static let noTmdb = TraktTitle(title: "Local Show", year: 2012, tmdb: nil)

    static func rating(_ value: Int64?, _ media: TraktTitle? = heat, type: ListMediaType? = .movie, at: String? = "2020-01-01T00:00:00.000Z") -> TraktListRecord {
        TraktListRecord(kind: .rating, type: type, media: media, rating: value, timestamp: at)
    }

    static func favorite(_ media: TraktTitle? = heat, type: ListMediaType? = .movie, at: String? = "2020-01-01T00:00:00.000Z") -> TraktListRecord {
        TraktListRecord(kind: .favorite, type: type, media: media, timestamp: at)
    }

    static func watchlist(_ media: TraktTitle? = heat, type: ListMediaType? = .movie, at: String? = "2020-01-01T00:00:00.000Z") -> TraktListRecord {
        TraktListRecord(kind: .watchlist, type: type, media: media, timestamp: at)
    }

    static func ms(_ iso: String) -> Int64 { Timestamp(iso8601: iso)!.millisecondsSince1970 }
}

@Suite struct ListPlannerTests {
    func plan(_ records: [TraktListRecord], lines: RatingLines = RatingLines()) -> ListPlanner.Result {
        ListPlanner.plan(records, lines: lines)
    }

    /// The accounting invariant and the report's every-reason-present rule, for any result.
    func checkAccounting(_ r: ListPlanner.Result, _ n: Int) {
        #expect(r.counts.records.total == n)
        #expect(r.counts.planned.total + r.counts.skippedTotal == n)
        #expect(r.items.count == r.counts.planned.total)
        #expect(ListSkipReason.allCases.allSatisfy { r.counts.skipped[$0] != nil })
        #expect(Set(r.items.map(\.recordIndex)).isDisjoint(with: r.skipped.map(\.recordIndex)))
        #expect(Set(r.items.map(\.recordIndex)).count + Set(r.skipped.map(\.recordIndex)).count == n)
    }

    /// One record alone: the reason it is skipped with, in the contract's order.
    @Test(arguments: [
        (L.rating(8, nil), ListSkipReason.missingMedia),
        (L.rating(8, L.heat, type: nil), .missingMedia),          // a person, or not an object
        (L.rating(nil, nil), .missingMedia),                      // missing-media before invalid-rating
        (L.rating(8, L.noTmdb), .noTmdbID),
        (L.rating(8, L.noTmdb, type: .season), .noTmdbID),        // no-tmdb-id before no-list-target
        (L.rating(8, L.bb, type: .season), .noListTarget),
        (L.rating(8, L.bb, type: .episode), .noListTarget),
        (L.rating(nil, L.bb, type: .episode), .noListTarget),     // no-list-target before invalid-rating
        (L.rating(nil), .invalidRating),                          // 7.5, 7.0, "7", null: not read as an integer
        (L.rating(0), .invalidRating),
        (L.rating(11), .invalidRating),
        (L.rating(-3), .invalidRating),
        (L.rating(Int64.max), .invalidRating),
        (L.favorite(nil), .missingMedia),
        (L.favorite(L.noTmdb, type: .show), .noTmdbID),
        (L.favorite(L.bb, type: .episode), .noListTarget),
        (L.favorite(L.bb, type: .season), .noListTarget),
        (L.watchlist(nil), .missingMedia),
        (L.watchlist(L.noTmdb, type: .episode), .noTmdbID),
    ] as [(TraktListRecord, ListSkipReason)])
    func singleRecordSkips(record: TraktListRecord, reason: ListSkipReason) {
        let r = plan([record])
        #expect(r.items.isEmpty)
        #expect(r.skipped.map(\.reason) == [reason])
        checkAccounting(r, 1)
    }

    /// Trakt's 1-10 scale with the default lines 9 / 6 / 5: 1-5 disliked, 6-8 liked, 9-10 super_liked.
    @Test(arguments: 1...10)
    func defaultLines(rating: Int) {
        let r = plan([L.rating(Int64(rating))])
        let expected: DiscovrList = rating >= 9 ? .superLiked : rating >= 6 ? .liked : .disliked
        #expect(r.items.map(\.item) == [ListItem(list: expected, mediaId: .movie(949))])
    }

    /// Moved lines: between --disliked-up-to and --liked-from is neutral-rating; the lines are inclusive.
    @Test(arguments: [
        (RatingLines(superLikedFrom: 10, likedFrom: 7, dislikedUpTo: 4), [DiscovrList?.some(.disliked), .disliked, .disliked, .disliked, nil, nil, .liked, .liked, .liked, .superLiked]),
        (RatingLines(superLikedFrom: 8, likedFrom: 8, dislikedUpTo: 3), [.disliked, .disliked, .disliked, nil, nil, nil, nil, .superLiked, .superLiked, .superLiked]),
        (RatingLines(superLikedFrom: 10, likedFrom: 10, dislikedUpTo: 9), [.disliked, .disliked, .disliked, .disliked, .disliked, .disliked, .disliked, .disliked, .disliked, .superLiked]),
        (RatingLines(superLikedFrom: 2, likedFrom: 2, dislikedUpTo: 1), [.disliked, .superLiked, .superLiked, .superLiked, .superLiked, .superLiked, .superLiked, .superLiked, .superLiked, .superLiked]),
    ] as [(RatingLines, [DiscovrList?])])
    func movedLines(lines: RatingLines, verdicts: [DiscovrList?]) {
        #expect(lines.problem == nil)
        for (k, want) in verdicts.enumerated() {
            let r = plan([L.rating(Int64(k + 1))], lines: lines)
            #expect(r.items.first?.item.list == want, "rating \(k + 1)")
            if want == nil { #expect(r.skipped.map(\.reason) == [.neutralRating], "rating \(k + 1)") }
        }
    }

    @Test(arguments: [(5, 6, 9, true), (1, 2, 2, true), (9, 10, 10, true), (5, 5, 9, false), (6, 5, 9, false), (0, 6, 9, false),
                      (5, 6, 11, false), (5, 9, 8, false), (-1, 6, 9, false), (5, 6, Int.max, false), (Int.min, 6, 9, false)])
    func linesMustKeepTheirOrder(dislikedUpTo: Int, likedFrom: Int, superLikedFrom: Int, valid: Bool) {
        let lines = RatingLines(superLikedFrom: superLikedFrom, likedFrom: likedFrom, dislikedUpTo: dislikedUpTo)
        #expect((lines.problem == nil) == valid)
        if !valid { #expect(lines.problem?.contains("1 <= --disliked-up-to < --liked-from <= --super-liked-from <= 10") == true) }
    }

    @Test func aFavoriteIsSuperLikedWhateverItsRating() {
        // The rating read before and after the favorite, and a rating of 1: the favorite wins each time.
        for records in [[L.rating(1), L.favorite()], [L.favorite(), L.rating(1, at: "2030-01-01T00:00:00.000Z")]] {
            let r = plan(records)
            #expect(r.items.map(\.item) == [ListItem(list: .superLiked, mediaId: .movie(949))])
            #expect(r.skipped.map(\.reason) == [.superseded])
            #expect(r.items.first?.source == .favorite)
            checkAccounting(r, 2)
        }
    }

    @Test func theLatestRatingWinsAndEqualTimesTheOneReadLast() {
        let r = plan([
            L.rating(9, at: "2020-01-02T00:00:00.000Z"),   // the latest: super_liked
            L.rating(2, at: "2020-01-01T00:00:00.000Z"),   // older
            L.rating(7, L.bb, type: .show, at: "2021-01-01T00:00:00.000Z"),
            L.rating(3, L.bb, type: .show, at: "2021-01-01T00:00:00.000Z"),   // same instant, read last: disliked
            L.rating(8, L.fightClub, at: nil),             // no date: older than any known one
            L.rating(4, L.fightClub, at: "1999-01-01T00:00:00.000Z"),
            L.rating(6, L.fightClub, at: "not a date"),
        ])
        #expect(Set(r.items.map(\.item)) == [ListItem(list: .superLiked, mediaId: .movie(949)), ListItem(list: .disliked, mediaId: .show(1396)),
                                              ListItem(list: .disliked, mediaId: .movie(550))])
        #expect(r.skipped.map(\.recordIndex) == [1, 2, 4, 6])
        #expect(r.skipped.allSatisfy { $0.reason == .superseded })
        checkAccounting(r, 7)
    }

    @Test func twoUndatedRatingsTheOneReadLastWins() {
        let r = plan([L.rating(9, at: nil), L.rating(2, at: nil)])
        #expect(r.items.map(\.item.list) == [.disliked])
        #expect(r.skipped.map(\.recordIndex) == [0])
    }

    /// Neutral and invalid ratings never compete: a later one leaves an earlier verdict in place.
    @Test func neutralAndInvalidRatingsDoNotSupersede() {
        let lines = RatingLines(superLikedFrom: 9, likedFrom: 7, dislikedUpTo: 5)
        let r = plan([L.rating(8, at: "2020-01-01T00:00:00.000Z"), L.rating(6, at: "2021-01-01T00:00:00.000Z"),
                      L.rating(nil, at: "2022-01-01T00:00:00.000Z"), L.rating(42, at: "2023-01-01T00:00:00.000Z")], lines: lines)
        #expect(r.items.map(\.item.list) == [.liked])
        #expect(r.skipped.map(\.reason) == [.neutralRating, .invalidRating, .invalidRating])
        checkAccounting(r, 4)
    }

    @Test func aSecondFavoriteOrWatchlistEntryIsADuplicate() {
        let r = plan([L.favorite(), L.favorite(at: "2021-01-01T00:00:00.000Z"), L.watchlist(), L.watchlist(at: "2019-01-01T00:00:00.000Z")])
        #expect(r.items.map(\.item) == [ListItem(list: .superLiked, mediaId: .movie(949)), ListItem(list: .watchlist, mediaId: .movie(949))])
        #expect(r.skipped.map(\.reason) == [.duplicate, .duplicate])
        #expect(r.skipped.map(\.recordIndex) == [1, 3])
        checkAccounting(r, 4)
    }

    /// A season or episode on the watchlist is its show; a movie and a show with one TMDB number are two titles.
    @Test func watchlistSeasonsAndEpisodesBecomeTheirShow() {
        let r = plan([L.watchlist(L.bb, type: .season), L.watchlist(L.bb, type: .episode), L.watchlist(L.bb, type: .show),
                      L.watchlist(TraktTitle(title: "Same number", tmdb: 1396), type: .movie)])
        #expect(r.items.map(\.item) == [ListItem(list: .watchlist, mediaId: .show(1396)), ListItem(list: .watchlist, mediaId: .movie(1396))])
        #expect(r.skipped.map(\.reason) == [.duplicate, .duplicate])
        #expect(r.items.first?.title == "Breaking Bad (2008)")
    }

    /// A title may be on the watchlist and have a verdict: they are different lists.
    @Test func aVerdictAndAWatchlistEntryOfOneTitleAreBothPlanned() {
        let r = plan([L.rating(7), L.watchlist()])
        #expect(r.items.map(\.item.list) == [.liked, .watchlist])
        checkAccounting(r, 2)
    }

    @Test func sendOrderIsByDateUnknownFirstTiesInReadingOrder() {
        let r = plan([
            L.watchlist(L.bb, type: .show, at: "2024-01-01T00:00:00.000Z"),
            L.rating(7, L.heat, at: "2019-01-01T00:00:00.000Z"),
            L.favorite(L.fightClub, at: nil),
            L.watchlist(L.heat, at: "2019-01-01T00:00:00.000Z"),
            L.rating(2, L.bb, type: .show, at: "bad date"),
        ])
        #expect(r.items.map(\.recordIndex) == [2, 4, 1, 3, 0])
        #expect(r.items.map(\.sortAt) == [nil, nil, L.ms("2019-01-01T00:00:00.000Z"), L.ms("2019-01-01T00:00:00.000Z"), L.ms("2024-01-01T00:00:00.000Z")])
        #expect(r.items.map(\.title) == ["Fight Club (1999)", "Breaking Bad (2008)", "Heat (1995)", "Heat (1995)", "Breaking Bad (2008)"])
    }

    @Test func linesOfListItemsOut() {
        let item = PlannedListItem(item: ListItem(list: .superLiked, mediaId: .movie(550)), title: "Fight Club (1999)", sortAt: nil, source: .favorite, recordIndex: 0)
        #expect(item.jsonLine(form: .tmdbid) == #"{"list": "super_liked", "mediaId": "MV_TMDBID550"}"#)
        #expect(item.jsonLine(form: .short) == #"{"list": "super_liked", "mediaId": "MV_550"}"#)
    }

    /// The plan of a scan carries the lists next to history, and history is planned as without them.
    @Test func importPlanCarriesTheListsAndHistoryIsUnchanged() throws {
        var scan = ExportScan()
        scan.records = TraktRecords([R.movie(R.heat, "2020-01-01T00:00:00Z")])
        let before = ImportPlanner.plan(scan)
        scan.listRecords = [L.rating(9), L.watchlist(L.bb, type: .episode), L.rating(3, L.bb, type: .episode)]
        let plan = ImportPlanner.plan(scan)
        #expect(plan.items == before.items)
        #expect(plan.records == before.records && plan.planned == before.planned && plan.skippedCounts == before.skippedCounts)
        #expect(plan.listItems.map(\.item) == [ListItem(list: .superLiked, mediaId: .movie(949)), ListItem(list: .watchlist, mediaId: .show(1396))])
        #expect(plan.lists.records.ratings == 2 && plan.lists.records.watchlist == 1)
        #expect(plan.lists.planned.superLiked == 1 && plan.lists.planned.watchlist == 1 && plan.lists.planned.total == 2)
        #expect(plan.lists.skipped[.noListTarget] == 1)
        #expect(plan.listSkipped == [SkippedListRecord(recordIndex: 2, reason: .noListTarget)])
        // The lines come from the options.
        let moved = ImportPlanner.plan(scan, options: PlanOptions(ratingLines: RatingLines(superLikedFrom: 10, likedFrom: 10, dislikedUpTo: 9)))
        #expect(moved.listItems.first?.item.list == .disliked)
        #expect(moved.lists.planned.superLiked == 0 && moved.lists.planned.disliked == 1)
    }

    /// Random records from a seeded generator: every record one item or one skip, one verdict and one
    /// watchlist entry per title, send order by date.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyListRecordIsAccountedForExactlyOnce(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let titles: [TraktTitle?] = [nil, L.heat, L.bb, L.noTmdb, L.fightClub, TraktTitle(title: "Y", tmdb: 949)]
        let dates: [String?] = [nil, "bad", "1970-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2021-03-04T05:06:07.890+01:00"]
        let types: [ListMediaType?] = [nil] + ListMediaType.allCases
        let ratings: [Int64?] = [nil, -1, 0, 1, 5, 6, 7, 9, 10, 11, Int64.min]
        var records: [TraktListRecord] = []
        for _ in 0..<3000 {
            let kind = ListRecordKind.allCases[Int(rng.next() % 3)]
            let type = types[Int(rng.next() % UInt64(types.count))]
            records.append(TraktListRecord(kind: kind, type: type, media: titles[Int(rng.next() % UInt64(titles.count))],
                                           rating: kind == .rating ? ratings[Int(rng.next() % UInt64(ratings.count))] : nil,
                                           timestamp: dates[Int(rng.next() % UInt64(dates.count))]))
        }
        for lines in [RatingLines(), RatingLines(superLikedFrom: 10, likedFrom: 8, dislikedUpTo: 3)] {
            let r = plan(records, lines: lines)
            checkAccounting(r, records.count)
            let verdicts = r.items.filter { $0.item.list.isVerdict }.map(\.item.mediaId)
            #expect(Set(verdicts).count == verdicts.count)
            let watchlist = r.items.filter { !$0.item.list.isVerdict }.map(\.item.mediaId)
            #expect(Set(watchlist).count == watchlist.count)
            #expect(zip(r.items, r.items.dropFirst()).allSatisfy { a, b in
                (a.sortAt ?? .min, a.recordIndex) < (b.sortAt ?? .min, b.recordIndex)
            })
        }
    }
}

/// The list fixtures of each layout and the real-world files, planned: the figures were worked out by
/// hand from Tests/Fixtures/lists/make-fixtures.py (each record's comment says what it becomes) and
/// match the dry run's report.
@Suite struct ListFixtureTests {
    struct Expected: Sendable, CustomStringConvertible {
        var path: String
        var records: [Int]      // ratings, favorites, watchlist
        var planned: [Int]      // total, superLiked, liked, disliked, watchlist
        var skipped: [ListSkipReason: Int]
        var description: String { path }
    }

    static let cases: [Expected] = [
        Expected(path: "official", records: [17, 4, 7], planned: [11, 3, 2, 2, 4],
                 skipped: [.missingMedia: 2, .noTmdbID: 1, .noListTarget: 3, .invalidRating: 5, .superseded: 3, .duplicate: 3]),
        Expected(path: "legacy", records: [2, 1, 2], planned: [4, 1, 0, 1, 2], skipped: [.superseded: 1]),
        Expected(path: "backup", records: [3, 0, 2], planned: [4, 1, 0, 1, 2], skipped: [.superseded: 1]),
        Expected(path: "traktexport/traktexport-lists.json", records: [4, 0, 2], planned: [4, 1, 1, 0, 2], skipped: [.noListTarget: 2]),
        Expected(path: "api", records: [2, 0, 1], planned: [3, 0, 1, 1, 1], skipped: [:]),
    ]

    @Test(arguments: cases)
    func fixtureGivesItsExpectedLists(expected: Expected) throws {
        let scan = try ExportReader.read(paths: [Repo.root.appendingPathComponent("Tests/Fixtures/lists/" + expected.path).path])
        let plan = ImportPlanner.plan(scan)
        let l = plan.lists
        #expect([l.records.ratings, l.records.favorites, l.records.watchlist] == expected.records)
        #expect([l.planned.total, l.planned.superLiked, l.planned.liked, l.planned.disliked, l.planned.watchlist] == expected.planned)
        for reason in ListSkipReason.allCases {
            #expect(l.skipped[reason] == expected.skipped[reason] ?? 0, "\(reason)")
        }
        #expect(l.records.total == l.planned.total + l.skippedTotal)
    }

    /// The official fixture's send order, worked out by hand: the undated Dark rating first, then by date.
    @Test func officialSendOrder() throws {
        let scan = try ExportReader.read(paths: [Repo.root.appendingPathComponent("Tests/Fixtures/lists/official").path])
        let plan = ImportPlanner.plan(scan)
        #expect(plan.listItems.map { "\($0.item.list.rawValue) \($0.title)" } == [
            "liked Dark (2017)", "super_liked Breaking Bad (2008)", "disliked The Wire (2002)", "liked Heat (1995)",
            "disliked Inception (2010)", "super_liked Fight Club (1999)", "super_liked Severance (2022)",
            "watchlist Arrival (2016)", "watchlist Chernobyl (2019)", "watchlist Dark (2017)", "watchlist Severance (2022)",
        ])
        #expect(plan.listItems.first?.sortAt == nil)
        #expect(plan.listItems.last?.sortAt == L.ms("2024-05-01T10:00:00.000Z"))
    }

    /// The real files (Tests/Fixtures/realworld): josh-trakt-data's ratings/ratings-episodes.json holds
    /// one episode rating (no-list-target), ratings-seasons.json is `[]`, lists/watchlist.json 176
    /// entries (145 movies, 31 shows, 176 distinct titles, each with a TMDB id). Counted over the raw
    /// files with:
    ///   python3 -c "import json,collections; w=json.load(open('lists/watchlist.json')); \
    ///     print(len(w), collections.Counter(r['type'] for r in w), \
    ///     len({(r['type'], (r.get(r['type']) or {}).get('ids', {}).get('tmdb')) for r in w}))"
    /// The other two real inputs hold no ratings or lists.
    @Test func realWorldLists() throws {
        let scan = try ExportReader.read(paths: [Repo.realworld])
        let plan = ImportPlanner.plan(scan)
        #expect(plan.lists.records.ratings == 1)
        #expect(plan.lists.records.favorites == 0)
        #expect(plan.lists.records.watchlist == 176)
        #expect(plan.lists.planned.total == 176 && plan.lists.planned.watchlist == 176)
        #expect(plan.lists.skipped[.noListTarget] == 1)
        #expect(plan.lists.skippedTotal == 1)
        #expect(Set(plan.listItems.filter { $0.item.mediaId.kind == .movie }.map(\.item.mediaId)).count == 145)
        // History is planned as before the lists were read.
        #expect(plan.records.watchedMovies == 4274 + 1150)
    }
}
