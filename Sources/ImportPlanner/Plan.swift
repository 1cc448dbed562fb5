import DiscovrAPI
import TraktExport

/// Why a record is not sent. The raw values are the report's keys (the contract, section 1).
public enum SkipReason: String, Sendable, CaseIterable, Codable, Error {
    case missingMedia = "missing-media"
    case noTmdbID = "no-tmdb-id"
    case specialEpisode = "special-episode"
    case invalidDate = "invalid-date"
    case unknownDate = "unknown-date"
    case zeroProgress = "zero-progress"
    case coveredByHistory = "covered-by-history"
    case supersededByWatch = "superseded-by-watch"
    case noEpisodeDetail = "no-episode-detail"
    case duplicate
    case olderRewatch = "older-rewatch"
    /// `--no-playback`: an in-progress record the user chose to leave out (an addition to the contract).
    case playbackExcluded = "playback-excluded"

    /// What a person should read next to the count.
    public var explanation: String {
        switch self {
        case .missingMedia: return "the title was deleted from Trakt (no movie or show in the record)"
        case .noTmdbID: return "Trakt has no TMDB id for the title, and Discovr needs one"
        case .specialEpisode: return "a special (season 0) or an episode without a number; Discovr needs both >= 1"
        case .invalidDate: return "the watch date could not be read"
        case .unknownDate: return "the watch date is unknown (1970 or earlier placeholder) and --unknown-dates skip is set"
        case .zeroProgress: return "a playback paused at 0%: nothing was watched"
        case .coveredByHistory: return "a summary row whose plays history already has"
        case .supersededByWatch: return "a paused playback of something already watched in full (sending it would un-mark it)"
        case .noEpisodeDetail: return "a watched show with no per-episode detail in the export"
        case .duplicate: return "the same play appears more than once"
        case .olderRewatch: return "an earlier rewatch, left out by --latest-only"
        case .playbackExcluded: return "an in-progress item, left out by --no-playback"
        }
    }
}

/// What to do with sentinel dates (before 1920), `--unknown-dates`.
public enum UnknownDatePolicy: String, Sendable, CaseIterable, Codable {
    /// Send without `updatedAt`.
    case omit
    /// Send the sentinel as it is.
    case keep
    /// Skip the record (`unknown-date`).
    case skip
}

public struct PlanOptions: Sendable, Equatable {
    public var unknownDates: UnknownDatePolicy
    public var latestOnly: Bool
    public var includePlayback: Bool
    /// Where ratings become `super_liked`, `liked` or `disliked` (importer.md section 7).
    public var ratingLines: RatingLines

    public init(unknownDates: UnknownDatePolicy = .omit, latestOnly: Bool = false, includePlayback: Bool = true,
                ratingLines: RatingLines = RatingLines()) {
        self.unknownDates = unknownDates
        self.latestOnly = latestOnly
        self.includePlayback = includePlayback
        self.ratingLines = ratingLines
    }

    /// Dates before this year are Trakt's "unknown" placeholders (1900-01-01 and the like).
    public static let firstRealYear = 1920

    /// Trakt writes an unknown watch date as 1970-01-01T00:00:00.000Z or 1900-01-01T00:00:00.000Z.
    /// Anything before 1920, and the Unix epoch give or take a day (the placeholder shifted by a
    /// time zone), is treated as "date unknown".
    public static func isUnknownDate(_ date: Timestamp) -> Bool {
        if date.year < firstRealYear { return true }
        return abs(date.millisecondsSince1970) < 86_400_000
    }
}

/// One item to send, with where it came from.
public struct PlannedItem: Sendable, Equatable {
    public var item: HistoryItem
    public var source: RecordKind
    /// Index of the record in `ExportScan.records` (its label: `ImportPlanner.label(scan.records[i].play)`,
    /// made only when needed: a dry run of a million plays never needs it).
    public var recordIndex: Int

    public var isFromSummary: Bool { source == .watchedMovie || source == .watchedEpisode }
    public var isInProgress: Bool { source == .playback }
}

/// One record that is not sent, and why.
public struct SkippedRecord: Sendable, Equatable {
    public var recordIndex: Int
    public var reason: SkipReason
}

/// Counts of records read, by kind (the report's `records`).
public struct RecordCounts: Sendable, Equatable, Codable {
    public var history = 0
    public var playback = 0
    public var watchedMovies = 0
    public var watchedEpisodes = 0
    public var watchedShowsWithoutEpisodes = 0

    public var total: Int { history + playback + watchedMovies + watchedEpisodes + watchedShowsWithoutEpisodes }
}

/// Counts of planned items (the report's `planned`).
public struct PlannedCounts: Sendable, Equatable, Codable {
    public var total = 0
    public var movies = 0
    public var episodes = 0
    public var inProgress = 0
    public var fromSummary = 0
}

/// The result of planning: items in send order, every other record with its reason, and counts.
public struct ImportPlan: Sendable {
    public var items: [PlannedItem]
    public var skipped: [SkippedRecord]
    public var records: RecordCounts
    public var planned: PlannedCounts
    /// Every reason, zeros included.
    public var skippedCounts: [SkipReason: Int]
    public var warnings: [String]
    /// The list writes (ratings, favorites, watchlist: importer.md section 7) in send order. Apart from
    /// `items`, `records`, `planned` and `skippedCounts`, which are about history only.
    public var listItems: [PlannedListItem] = []
    /// The ratings, favorites and watchlist entries not sent, in reading order.
    public var listSkipped: [SkippedListRecord] = []
    /// The report's `lists` counts.
    public var lists = ListCounts()
}
