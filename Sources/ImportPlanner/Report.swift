import Foundation
import DiscovrAPI
import TraktExport

/// The report of the contract (section 3), written by hand so the key order is stable and the
/// output is the same on every machine.
public struct ImportReport: Sendable {
    public struct InputEntry: Sendable, Equatable {
        public var path: String
        public var files: [ExportSection]
    }

    public struct Delivery: Sendable, Equatable {
        /// History plays only; list writes are in `lists`.
        public var delivered: Int
        public var alreadyPresent: Int
        public var failed: Int
        public var pending: Int
        /// List writes (importer.md section 7): `delivery.lists`.
        public var lists = ListTally()

        public init(delivered: Int, alreadyPresent: Int, failed: Int, pending: Int) {
            self.delivered = delivered
            self.alreadyPresent = alreadyPresent
            self.failed = failed
            self.pending = pending
        }
    }

    /// Where a delivery wrote (absent on a dry run).
    public struct Destination: Sendable, Equatable {
        public var apiUrl: String
        public var profile: Profile
        public var mediaIdForm: MediaIDForm

        public init(apiUrl: String, profile: Profile, mediaIdForm: MediaIDForm) {
            self.apiUrl = apiUrl
            self.profile = profile
            self.mediaIdForm = mediaIdForm
        }
    }

    public static let schemaVersion = 1
    public var dryRun: Bool
    public var inputs: [InputEntry]
    public var records: RecordCounts
    public var planned: PlannedCounts
    public var skipped: [SkipReason: Int]
    public var warnings: [String]
    /// Ratings, favorites and watchlist (importer.md section 7): records, planned writes, skips. The
    /// history sections above (`records`, `planned`, `skipped`) do not count them.
    public var lists: ListCounts
    public var delivery: Delivery?
    public var destination: Destination?
    /// For the human summary (not in the JSON): per reason, the titles with the most skipped plays.
    public var topSkippedTitles: [SkipReason: [SkippedTitles.Entry]]

    public init(scan: ExportScan, plan: ImportPlan, dryRun: Bool) {
        self.dryRun = dryRun
        self.inputs = scan.inputs.map { input in
            InputEntry(path: input.path, files: input.sectionIndices.map { scan.sections[$0] })
        }
        self.records = plan.records
        self.planned = plan.planned
        self.skipped = plan.skippedCounts
        self.warnings = plan.warnings
        self.lists = plan.lists
        self.topSkippedTitles = SkippedTitles.top(scan: scan, plan: plan)
    }

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// The report as pretty-printed JSON (two-space indent), keys in the contract's order.
    public var json: String {
        var out = "{\n"
        out += "  \"schemaVersion\": \(ImportReport.schemaVersion),\n"
        out += "  \"dryRun\": \(dryRun),\n"
        out += "  \"inputs\": ["
        out += inputs.map { input in
            var s = "\n    {\"path\": \(JSONText.quote(input.path)), \"files\": ["
            s += input.files.map { f in
                var e = "\n      {\"name\": \(JSONText.quote(f.name)), \"kind\": \"\(f.kind.rawValue)\", \"records\": \(f.recordCount)"
                if let note = f.note { e += ", \"note\": \(JSONText.quote(note))" }
                return e + "}"
            }.joined(separator: ",")
            s += input.files.isEmpty ? "]}" : "\n    ]}"
            return s
        }.joined(separator: ",")
        out += inputs.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"records\": {\"history\": \(records.history), \"playback\": \(records.playback), \"watchedMovies\": \(records.watchedMovies), \"watchedEpisodes\": \(records.watchedEpisodes), \"watchedShowsWithoutEpisodes\": \(records.watchedShowsWithoutEpisodes)},\n"
        out += "  \"planned\": {\"total\": \(planned.total), \"movies\": \(planned.movies), \"episodes\": \(planned.episodes), \"inProgress\": \(planned.inProgress), \"fromSummary\": \(planned.fromSummary)},\n"
        out += "  \"skipped\": {"
        out += SkipReason.allCases.map { "\"\($0.rawValue)\": \(skipped[$0] ?? 0)" }.joined(separator: ", ")
        out += "},\n"
        out += "  \"warnings\": ["
        out += warnings.map { "\n    " + JSONText.quote($0) }.joined(separator: ",")
        out += warnings.isEmpty ? "]" : "\n  ]"
        out += ",\n  \"lists\": " + lists.json
        if let d = delivery {
            out += ",\n  \"delivery\": {\"delivered\": \(d.delivered), \"alreadyPresent\": \(d.alreadyPresent), \"failed\": \(d.failed), \"pending\": \(d.pending), "
                + "\"lists\": {\"delivered\": \(d.lists.delivered), \"moved\": \(d.lists.moved), \"failed\": \(d.lists.failed), \"pending\": \(d.lists.pending)}}"
        }
        if let d = destination {
            out += ",\n  \"destination\": {\"apiUrl\": \(JSONText.quote(d.apiUrl)), \"profile\": \(d.profile.json), \"mediaIdForm\": \"\(d.mediaIdForm.rawValue)\"}"
        }
        out += "\n}\n"
        return out
    }
}

/// The titles (movies, shows) with the most skipped plays, per reason: "one show has no TMDB id"
/// is the common case, and the summary should make it visible without opening the CSV.
public enum SkippedTitles {
    public struct Entry: Sendable, Equatable {
        /// `Heat (1995)`, `Breaking Bad (2008)`: the movie or show, never the episode.
        public var label: String
        public var plays: Int
    }

    /// At most `limit` entries per reason, most plays first, ties in label order. Records without
    /// a title (a deleted movie or show) are not named.
    public static func top(scan: ExportScan, plan: ImportPlan, limit: Int = 3) -> [SkipReason: [Entry]] {
        var counts: [SkipReason: [String: Int]] = [:]
        func count(_ media: TraktTitle?, _ reason: SkipReason, _ plays: Int) {
            guard media?.title != nil else { return }
            counts[reason, default: [:]][printable(ImportPlanner.label(title: media)), default: 0] += plays
        }
        // Counted by title first (integers), then by label: one label per title, not per skipped record.
        var byTitle: [SkipReason: [Int: Int]] = [:]
        for s in plan.skipped {
            if let title = scan.records.mediaTitleIndex(at: s.recordIndex) {
                byTitle[s.reason, default: [:]][title, default: 0] += 1
            } else {
                count(scan.records[s.recordIndex].play.media, s.reason, 1)
            }
        }
        for (reason, titles) in byTitle {
            for (title, plays) in titles { count(scan.records.title(title), reason, plays) }
        }
        return counts.mapValues { byLabel in
            byLabel.map { Entry(label: $0.key, plays: $0.value) }
                .sorted { $0.plays != $1.plays ? $0.plays > $1.plays : $0.label < $1.label }
                .prefix(limit).map { $0 }
        }
    }

    /// A title as it may be printed on a terminal: a line break or an escape sequence in a file
    /// must not break the summary's lines or drive the terminal, so control characters become spaces.
    static func printable(_ title: String) -> String {
        guard title.unicodeScalars.contains(where: isControl) else { return title }
        return String(String.UnicodeScalarView(title.unicodeScalars.map { isControl($0) ? " " : $0 }))
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}

/// The skipped records as CSV a person can act on (`--skipped-out`): RFC 4180, one row per skipped
/// record, with the trakt.tv page and the ids the record had, to look a title up or fix it on Trakt.
public enum SkippedCSV {
    /// The first nine columns are the original ones, in their order; the rest were added after them.
    public static let header = "reason,kind,title,year,trakt_slug,season,episode,date,file,trakt_url,trakt_id,imdb_id,tvdb_id,tmdb_id"

    public static func render(scan: ExportScan, plan: ImportPlan) -> String {
        var out = header + "\n"
        for s in plan.skipped {
            let record = scan.records[s.recordIndex]
            let play = record.play
            let media = play.media
            let fields: [String] = [
                s.reason.rawValue,
                record.kind.rawValue,
                media?.title ?? "",
                media?.year.map(String.init) ?? "",
                media?.slug ?? "",
                play.episode?.season.map(String.init) ?? "",
                play.episode?.number.map(String.init) ?? "",
                play.timestamp ?? "",
                scan.sections[record.fileIndex].name,
                traktURL(play) ?? "",
                media?.trakt.map(String.init) ?? "",
                media?.imdb ?? "",
                media?.tvdb.map(String.init) ?? "",
                media?.tmdb.map(String.init) ?? "",
            ]
            out += fields.map(field).joined(separator: ",") + "\n"
        }
        return out
    }

    /// The record's page on trakt.tv, from its slug: `https://trakt.tv/movies/<slug>`,
    /// `https://trakt.tv/shows/<slug>/seasons/<s>/episodes/<e>` when the episode has a season (0 for
    /// specials) and a number (>= 1: Trakt has no episode 0 page), else the show's page; nil when the
    /// record has no slug.
    public static func traktURL(_ play: TraktPlay) -> String? {
        guard let slug = play.media?.slug.flatMap(pathSegment) else { return nil }
        guard play.type == .episode else { return "https://trakt.tv/movies/\(slug)" }
        var url = "https://trakt.tv/shows/\(slug)"
        if let season = play.episode?.season, let number = play.episode?.number, season >= 0, number >= 1 {
            url += "/seasons/\(season)/episodes/\(number)"
        }
        return url
    }

    /// A slug as one URL path segment: Trakt's slugs are lower-case letters, digits and dashes, but
    /// a file may hold anything, so everything else is percent-encoded (and an empty slug is none).
    static func pathSegment(_ slug: String) -> String? {
        slug.isEmpty ? nil : slug.addingPercentEncoding(withAllowedCharacters: unreserved)
    }

    /// RFC 3986's unreserved characters, the only ones a path segment keeps as they are.
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")

    static func field(_ s: String) -> String {
        // Quote when needed; neutralise a leading = + - @ so a spreadsheet does not run it as a formula.
        var value = s
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        // By bytes, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        if value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }
}
