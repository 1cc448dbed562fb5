import DiscovrAPI

/// A movie or show as a record names it: what the importer needs to map it and to tell a person
/// which title was skipped (and where to look it up: its slug and other ids).
public struct TraktTitle: Sendable, Equatable {
    public var title: String?
    public var year: Int?
    public var slug: String?
    /// `ids.tmdb` when it is a positive integer; nil when null, missing, 0, negative or not an integer.
    public var tmdb: Int64?
    /// `ids.trakt` and `ids.tvdb` when positive integers (or strings of digits); nil otherwise.
    public var trakt: Int64?
    public var tvdb: Int64?
    /// `ids.imdb` as written (`tt0113277`); nil when not a string.
    public var imdb: String?
}

/// An episode as a history or playback record names it. Season and number are nil when missing
/// or not integers.
public struct TraktEpisode: Sendable, Equatable {
    public var season: Int?
    public var number: Int?
}

/// A record's timestamp, parsed once while reading (on all cores) rather than while planning.
public enum RecordDate: Sendable, Equatable {
    case missing
    case valid(Timestamp)
    /// Kept as read, for the skipped-records list.
    case invalid(String)

    public init(_ text: String?) {
        guard let text else { self = .missing; return }
        if let ts = Timestamp(iso8601: text) { self = .valid(ts) } else { self = .invalid(text) }
    }

    /// The timestamp when the date is valid.
    public var timestamp: Timestamp? {
        if case .valid(let ts) = self { return ts }
        return nil
    }
}

public enum MediaType: String, Sendable, Equatable {
    case movie
    case episode
}

/// One play of history, one paused playback, or one summary entry, as read.
public struct TraktPlay: Sendable, Equatable {
    public var type: MediaType
    /// nil when the record's `movie` is null or missing.
    public var movie: TraktTitle?
    /// nil when the record's `show` is null or missing.
    public var show: TraktTitle?
    /// nil when the record's `episode` is null or missing.
    public var episode: TraktEpisode?
    /// The timestamp (`watched_at`, `paused_at` or `last_watched_at`), parsed while reading.
    public var date: RecordDate

    /// The timestamp as text: normalised when it parsed, as read when it did not, nil when missing.
    public var timestamp: String? {
        switch date {
        case .missing: return nil
        case .valid(let ts): return ts.iso8601
        case .invalid(let raw): return raw
        }
    }
    /// Playback progress (0...100 as read, unclamped); nil for history and summaries.
    public var progress: Double?

    /// The movie (for a movie) or the show (for an episode).
    public var media: TraktTitle? { type == .movie ? movie : show }

    public init(type: MediaType, movie: TraktTitle? = nil, show: TraktTitle? = nil, episode: TraktEpisode? = nil,
                timestamp: String?, progress: Double? = nil) {
        self.type = type
        self.movie = movie
        self.show = show
        self.episode = episode
        self.date = RecordDate(timestamp)
        self.progress = progress
    }
}

/// The record kinds of the contract.
public enum RecordKind: String, Sendable, Equatable, CaseIterable {
    case history
    case playback
    /// A `watched-movies` summary row.
    case watchedMovie = "watched-movie"
    /// One episode entry of a `watched-shows` row's `seasons[].episodes[]`.
    case watchedEpisode = "watched-episode"
    /// A `watched-shows` row with no `seasons` detail (counted as one record).
    case watchedShowWithoutEpisodes = "watched-show"
}

/// One record of the contract: it becomes one planned item or one skip.
public struct TraktRecord: Sendable, Equatable {
    public var kind: RecordKind
    public var play: TraktPlay
    /// Index into `ExportScan.sections`: the file the record came from.
    public var fileIndex: Int
}

/// What a file was found to hold (the report's `kind`).
public enum FileKind: String, Sendable, Equatable, CaseIterable {
    case history
    case playback
    case watchedMovies = "watched-movies"
    case watchedShows = "watched-shows"
    /// Ratings (`rated_at`, `rating`): verdicts for Discovr's lists (importer.md section 7).
    case ratings
    /// The favorites list (`lists-favorites[-N].json`): each a `super_liked` verdict.
    case favorites
    /// The watchlist (`lists-watchlist[-N].json`, `lists/watchlist.json`, `watchlist_*.json`, ...).
    case watchlist
    case stats
    case errors
    case ignored
}

/// Play counts from `user-stats.json` / `stats.json`, for the completeness check.
public struct TraktStats: Sendable, Equatable {
    public var moviePlays: Int?
    public var episodePlays: Int?

    public var totalPlays: Int? {
        guard moviePlays != nil || episodePlays != nil else { return nil }
        return (moviePlays ?? 0) + (episodePlays ?? 0)
    }
}

/// The kinds of records that go to Discovr's lists (importer.md section 7), counted apart from the
/// history records of the contract's section 1.
public enum ListRecordKind: String, Sendable, Equatable, CaseIterable {
    /// A rating, 1 to 10: a verdict (`liked`, `disliked`, `super_liked`) or none.
    case rating
    /// A favorite: `super_liked`.
    case favorite
    /// A watchlist entry.
    case watchlist
}

/// What a rating or list item names: Trakt rates and lists seasons and episodes too.
public enum ListMediaType: String, Sendable, Equatable, CaseIterable {
    case movie
    case show
    case season
    case episode
}

/// One rating, favorite or watchlist entry, as read. Few per export (thousands, not millions), so kept
/// whole rather than as compact rows.
public struct TraktListRecord: Sendable, Equatable {
    public var kind: ListRecordKind
    /// The record's `type` (or, without one, what its objects say); nil when it names none of the four
    /// (a person, say), or the record is not an object.
    public var type: ListMediaType?
    /// The title the record is about: the movie for a movie, the show for a show, a season or an
    /// episode. nil when that object is null or missing.
    public var media: TraktTitle?
    /// `rating` when it is written as a JSON integer (`7`, not `7.0`, `7.5` or `"7"`); nil otherwise,
    /// and for favorites and watchlist entries. Not range-checked here: the planner does that.
    public var rating: Int64?
    /// `rated_at` for a rating, `listed_at` for a favorite or watchlist entry.
    public var date: RecordDate
    /// Index into `ExportScan.sections`: the file the record came from.
    public var fileIndex: Int

    public init(kind: ListRecordKind, type: ListMediaType?, media: TraktTitle? = nil, rating: Int64? = nil,
                timestamp: String?, fileIndex: Int = 0) {
        self.kind = kind
        self.type = type
        self.media = media
        self.rating = rating
        self.date = RecordDate(timestamp)
        self.fileIndex = fileIndex
    }
}

/// Which list records to read (`--no-ratings`, `--no-watchlist`). Files of a kind left out are listed
/// as `ignored` and give no records.
public struct ListSelection: Sendable, Equatable {
    /// Ratings and favorites: the verdicts.
    public var verdicts: Bool
    public var watchlist: Bool

    public init(verdicts: Bool = true, watchlist: Bool = true) {
        self.verdicts = verdicts
        self.watchlist = watchlist
    }

    public static let all = ListSelection()
}
