import Foundation
import Testing
@testable import ImportPlanner
@testable import TraktExport

/// The samples' expected figures, worked out by hand from scripts/make-samples.py (see samples/README.md).
@Suite struct SampleTests {
    struct Expected: Sendable, CustomStringConvertible {
        var path: String
        var records: [Int]      // history, playback, watchedMovies, watchedEpisodes, watchedShowsWithoutEpisodes
        var planned: [Int]      // total, movies, episodes, inProgress, fromSummary
        var skipped: [SkipReason: Int]
        var warningCount: Int
        var description: String { path }
    }

    static let cases: [Expected] = [
        Expected(path: "official/trakt-export-sample.zip", records: [22, 3, 2, 0, 1], planned: [14, 6, 8, 1, 1],
                 skipped: [.missingMedia: 2, .noTmdbID: 3, .specialEpisode: 2, .invalidDate: 1, .zeroProgress: 1, .coveredByHistory: 1,
                           .supersededByWatch: 1, .noEpisodeDetail: 1, .duplicate: 2], warningCount: 2),
        Expected(path: "legacy", records: [3, 2, 2, 5, 0], planned: [6, 2, 4, 1, 2],
                 skipped: [.coveredByHistory: 3, .specialEpisode: 1, .noTmdbID: 1, .zeroProgress: 1], warningCount: 1),
        Expected(path: "traktexport/traktexport-sample.json", records: [3, 0, 2, 2, 0], planned: [4, 2, 2, 0, 2],
                 skipped: [.duplicate: 1, .coveredByHistory: 2], warningCount: 1),
        Expected(path: "raw", records: [3, 2, 1, 0, 0], planned: [4, 1, 3, 1, 0],
                 skipped: [.coveredByHistory: 1, .zeroProgress: 1], warningCount: 1),
    ]

    @Test(arguments: cases)
    func sampleGivesItsExpectedReport(expected: Expected) throws {
        let scan = try ExportReader.read(paths: [Repo.sample(expected.path)])
        let plan = ImportPlanner.plan(scan)
        let r = plan.records
        #expect([r.history, r.playback, r.watchedMovies, r.watchedEpisodes, r.watchedShowsWithoutEpisodes] == expected.records)
        let p = plan.planned
        #expect([p.total, p.movies, p.episodes, p.inProgress, p.fromSummary] == expected.planned)
        for reason in SkipReason.allCases {
            #expect(plan.skippedCounts[reason] == expected.skipped[reason] ?? 0, "\(reason)")
        }
        #expect(plan.warnings.count == expected.warningCount, "\(plan.warnings)")
        #expect(r.total == p.total + plan.skippedCounts.values.reduce(0, +))
        #expect(plan.lists.records.total == plan.lists.planned.total + plan.lists.skippedTotal)
    }

    /// The checked-in expected-report.json of each sample is what the planner gives today.
    @Test(arguments: cases)
    func checkedInReportMatches(expected: Expected) throws {
        let scan = try ExportReader.read(paths: [Repo.sample(expected.path)])
        var report = ImportReport(scan: scan, plan: ImportPlanner.plan(scan), dryRun: true)
        report.inputs = report.inputs.map { var i = $0; i.path = "samples/" + expected.path; return i }
        let dir = expected.path.split(separator: "/").first.map(String.init)!
        let file = Repo.sample("expected/\(dir).json")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(report.json == text)
    }
}

@Suite struct RealWorldTests {
    @Test(arguments: ["sourpatchdad-history-merged.json", "josh-trakt-data", "iacoviola-trakt-backup"])
    func countsAddUp(path: String) throws {
        let scan = try ExportReader.read(paths: [Repo.realworld + "/" + path])
        let plan = ImportPlanner.plan(scan)
        #expect(plan.records.total == scan.records.count)
        #expect(plan.records.total == plan.planned.total + plan.skippedCounts.values.reduce(0, +))
        #expect(plan.planned.movies + plan.planned.episodes == plan.planned.total)
        #expect(SkipReason.allCases.allSatisfy { plan.skippedCounts[$0] != nil })
        #expect(plan.lists.records.total == scan.listRecords.count)
        #expect(plan.lists.records.total == plan.lists.planned.total + plan.lists.skippedTotal)
    }

    @Test func sourpatchdadHistoryWithExtraKeys() throws {
        let scan = try ExportReader.read(paths: [Repo.realworld + "/sourpatchdad-history-merged.json"])
        let plan = ImportPlanner.plan(scan)
        #expect(plan.records.history == 140)
        let movies = scan.records.filter { $0.play.type == .movie }.count
        #expect(movies == 40)
        #expect(plan.items.allSatisfy { $0.item.imported == "trakt" })
    }

    @Test func joshHeavyUserWithoutHistoryWarnsAndUsesSummaries() throws {
        let scan = try ExportReader.read(paths: [Repo.realworld + "/josh-trakt-data"])
        let plan = ImportPlanner.plan(scan)
        #expect(plan.records.watchedMovies == 4274)
        #expect(plan.records.watchedShowsWithoutEpisodes == 534)
        #expect(plan.records.playback == 1)
        #expect(plan.skippedCounts[.noEpisodeDetail, default: 0] + plan.skippedCounts[.noTmdbID, default: 0] + plan.skippedCounts[.missingMedia, default: 0] >= 534 - 0)
        #expect(plan.warnings.contains { $0.contains("20954") })
        let paused = plan.items.first { $0.isInProgress }
        #expect(paused?.item.jsonBody.contains("\"progress\":57.6") == true)
    }

    @Test func iacoviolaFlattenedEpisodesAreReportedNotGuessed() throws {
        let scan = try ExportReader.read(paths: [Repo.realworld + "/iacoviola-trakt-backup"])
        let plan = ImportPlanner.plan(scan)
        let flattened = scan.sections.first { $0.name == "watched_episodes.json" }
        #expect(flattened?.kind == .ignored)
        #expect(flattened?.recordCount == 0)
        #expect(plan.warnings.contains { $0.contains("watched_episodes.json") && $0.contains("1499") })
        #expect(plan.records.watchedMovies == 1150)
        #expect(plan.records.watchedEpisodes > 0)
    }
}
