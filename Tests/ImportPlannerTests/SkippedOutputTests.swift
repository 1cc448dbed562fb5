import Testing
@testable import ImportPlanner
@testable import TraktExport

/// What a person gets to act on for the skipped records: the trakt.tv page in `--skipped-out`, and
/// the titles the summary names. (The CSV itself is read back with an RFC 4180 reader in CLITests.)
@Suite struct SkippedOutputTests {
    static let t = "2020-05-01T10:00:00.000Z"

    @Test(arguments: [
        (R.movie(R.heat, t), "https://trakt.tv/movies/heat-1995"),
        (R.episode(R.bb, 1, 5, t), "https://trakt.tv/shows/breaking-bad/seasons/1/episodes/5"),
        (R.episode(R.bb, 0, 3, t), "https://trakt.tv/shows/breaking-bad/seasons/0/episodes/3"),   // a special has a page
        (R.episode(R.bb, 2, 0, t), "https://trakt.tv/shows/breaking-bad"),                        // no episode 0 page
        (R.episode(R.bb, nil, 4, t), "https://trakt.tv/shows/breaking-bad"),
        (R.episode(R.bb, -1, 4, t), "https://trakt.tv/shows/breaking-bad"),
        (R.episode(R.bb, nil, nil, t, kind: .watchedShowWithoutEpisodes), "https://trakt.tv/shows/breaking-bad"),
        (R.movie(TraktTitle(title: "X", slug: "amélie 2001/?#"), t), "https://trakt.tv/movies/am%C3%A9lie%202001%2F%3F%23"),
        (R.movie(TraktTitle(title: "X", slug: ""), t), nil),
        (R.movie(TraktTitle(title: "X", slug: nil, tmdb: 5), t), nil),
        (R.movie(nil, t), nil),
        (R.episode(nil, 1, 1, t), nil),
    ] as [(TraktRecord, String?)])
    func traktURLFromTheSlug(record: TraktRecord, url: String?) {
        #expect(SkippedCSV.traktURL(record.play) == url)
    }

    @Test func topTitlesPerReasonMostPlaysFirstAtMostThree() {
        let noTmdb = { (title: String, year: Int?) in TraktTitle(title: title, year: year, slug: "s", tmdb: nil) }
        var records: [TraktRecord] = []
        for n in 1...4 { records.append(R.episode(noTmdb("Local Show", 2012), 1, n, Self.t)) }
        for n in 1...2 { records.append(R.episode(noTmdb("Other", nil), 1, n, Self.t)) }
        records.append(R.movie(noTmdb("Zed", 1999), Self.t))
        records.append(R.movie(noTmdb("Abe", 1999), Self.t))            // ties with Zed: label order
        records.append(R.movie(noTmdb("Line\nBreak\u{1B}[31m", 2001), Self.t))
        records.append(R.movie(nil, Self.t))                           // deleted: not named
        records.append(R.movie(R.heat, Self.t, kind: .playback, progress: 0))
        let scan = ExportScan.of(records)
        let top = SkippedTitles.top(scan: scan, plan: ImportPlanner.plan(records: records))
        #expect(top[.noTmdbID] == [.init(label: "Local Show (2012)", plays: 4), .init(label: "Other", plays: 2),
                                   .init(label: "Abe (1999)", plays: 1)])
        #expect(top[.zeroProgress] == [.init(label: "Heat (1995)", plays: 1)])
        #expect(top[.missingMedia] == nil)
        #expect(top[.duplicate] == nil)
        // Control characters in a title never reach the terminal.
        let all = SkippedTitles.top(scan: scan, plan: ImportPlanner.plan(records: records), limit: 10)
        #expect(all[.noTmdbID]?.contains { $0.label == "Line Break [31m (2001)" } == true)
    }
}

extension ExportScan {
    /// A scan holding just these records, from one file.
    static func of(_ records: [TraktRecord]) -> ExportScan {
        var scan = ExportScan()
        scan.sections = [ExportSection(name: "test.json", kind: .history, recordCount: records.count)]
        scan.records = TraktRecords(records)
        return scan
    }
}
