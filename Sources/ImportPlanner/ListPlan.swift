import DiscovrAPI
import TraktExport

/// Why a rating, favorite or watchlist entry is not sent (importer.md section 7). The raw values are
/// the keys of the report's `lists.skipped`, in the order the rules are checked.
public enum ListSkipReason: String, Sendable, CaseIterable, Codable, Error {
    case missingMedia = "missing-media"
    case noTmdbID = "no-tmdb-id"
    case noListTarget = "no-list-target"
    case invalidRating = "invalid-rating"
    case neutralRating = "neutral-rating"
    case superseded
    case duplicate

    /// What a person should read next to the count.
    public var explanation: String {
        switch self {
        // The two reasons history shares read the same.
        case .missingMedia: return SkipReason.missingMedia.explanation
        case .noTmdbID: return SkipReason.noTmdbID.explanation
        case .noListTarget: return "a rating or favorite of a season or episode: Discovr's lists hold titles"
        case .invalidRating: return "the rating is not a whole number from 1 to 10"
        case .neutralRating: return "a rating between the disliked and liked lines (--disliked-up-to, --liked-from)"
        case .superseded: return "the title's verdict comes from another record (a favorite, or a later rating)"
        case .duplicate: return "the title is already on the watchlist, or already a favorite"
        }
    }
}

/// Where a rating from 1 to 10 puts a title: `--super-liked-from`, `--liked-from`, `--disliked-up-to`.
/// The defaults follow Trakt's own reading of its scale (docs/mapping.md, "Lists").
public struct RatingLines: Sendable, Equatable {
    public var superLikedFrom: Int
    public var likedFrom: Int
    public var dislikedUpTo: Int

    public init(superLikedFrom: Int = 9, likedFrom: Int = 6, dislikedUpTo: Int = 5) {
        self.superLikedFrom = superLikedFrom
        self.likedFrom = likedFrom
        self.dislikedUpTo = dislikedUpTo
    }

    /// Why these lines cannot be used, or nil: they must keep
    /// `1 <= disliked-up-to < liked-from <= super-liked-from <= 10`.
    public var problem: String? {
        if 1 <= dislikedUpTo, dislikedUpTo < likedFrom, likedFrom <= superLikedFrom, superLikedFrom <= 10 { return nil }
        return "the rating lines must keep 1 <= --disliked-up-to < --liked-from <= --super-liked-from <= 10; "
            + "given --disliked-up-to \(dislikedUpTo), --liked-from \(likedFrom), --super-liked-from \(superLikedFrom) "
            + "(the defaults are 5, 6 and 9)"
    }

    /// The verdict of a valid rating (1...10), or nil for one between the lines (`neutral-rating`).
    public func verdict(_ rating: Int64) -> DiscovrList? {
        if rating >= Int64(superLikedFrom) { return .superLiked }
        if rating >= Int64(likedFrom) { return .liked }
        if rating <= Int64(dislikedUpTo) { return .disliked }
        return nil
    }
}

/// One list write to make, with what a person and the queue need to know of it.
public struct PlannedListItem: Sendable, Equatable {
    /// `POST /profile/{list}` with the title's id.
    public var item: ListItem
    /// The title as a person knows it: `Fight Club (1999)`.
    public var title: String
    /// The record's `rated_at` (a rating) or `listed_at` (a favorite, a watchlist entry), in
    /// milliseconds since 1970; nil when missing or unreadable. Send order is by it.
    public var sortAt: Int64?
    /// The record the item comes from.
    public var source: ListRecordKind
    /// Index of that record in `ExportScan.listRecords`.
    public var recordIndex: Int

    /// The line of `--list-items-out`: `{"list": "liked", "mediaId": "MV_TMDBID550"}` (the contract's form).
    public func jsonLine(form: MediaIDForm) -> String {
        "{\"list\": \"" + item.list.rawValue + "\", \"mediaId\": \"" + item.mediaId.rawValue(in: form) + "\"}"
    }
}

/// One rating, favorite or watchlist entry that is not sent, and why.
public struct SkippedListRecord: Sendable, Equatable {
    /// Index of the record in `ExportScan.listRecords`.
    public var recordIndex: Int
    public var reason: ListSkipReason
}

/// The report's `lists` counts: records read, list writes planned by list, skips by reason.
public struct ListCounts: Sendable, Equatable {
    public struct Records: Sendable, Equatable {
        public var ratings = 0
        public var favorites = 0
        public var watchlist = 0
        public var total: Int { ratings + favorites + watchlist }
    }

    public struct Planned: Sendable, Equatable {
        public var total = 0
        public var superLiked = 0
        public var liked = 0
        public var disliked = 0
        public var watchlist = 0

        public subscript(list: DiscovrList) -> Int {
            get { self[keyPath: Self.count(of: list)] }
            set { self[keyPath: Self.count(of: list)] = newValue }
        }

        static func count(of list: DiscovrList) -> WritableKeyPath<Planned, Int> {
            switch list {
            case .superLiked: \.superLiked
            case .liked: \.liked
            case .disliked: \.disliked
            case .watchlist: \.watchlist
            }
        }
    }

    public var records = Records()
    public var planned = Planned()
    /// Every reason, zeros included.
    public var skipped: [ListSkipReason: Int] = Dictionary(uniqueKeysWithValues: ListSkipReason.allCases.map { ($0, 0) })

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// The report's `lists` object on one line, keys in the contract's order, every reason present.
    public var json: String {
        var out = "{\"records\": {\"ratings\": \(records.ratings), \"favorites\": \(records.favorites), \"watchlist\": \(records.watchlist)}, "
        out += "\"planned\": {\"total\": \(planned.total), \"superLiked\": \(planned.superLiked), \"liked\": \(planned.liked), \"disliked\": \(planned.disliked), \"watchlist\": \(planned.watchlist)}, "
        out += "\"skipped\": {" + ListSkipReason.allCases.map { "\"\($0.rawValue)\": \(skipped[$0] ?? 0)" }.joined(separator: ", ") + "}}"
        return out
    }
}

/// Ratings, favorites and watchlist entries to Discovr's lists (importer.md section 7). Pure, like the
/// history planner: one verdict per title at most (a favorite beats any rating; of the verdict-giving
/// ratings the latest `rated_at` wins, equal times the one read last), one watchlist entry per title,
/// and every record one item or one skip.
public enum ListPlanner {
    public struct Result: Sendable, Equatable {
        /// In send order: by `sortAt`, unknown dates first, ties in reading order.
        public var items: [PlannedListItem]
        /// In reading order.
        public var skipped: [SkippedListRecord]
        public var counts: ListCounts
    }

    public static func plan(_ records: [TraktListRecord], lines: RatingLines = RatingLines()) -> Result {
        var counts = ListCounts()
        var reasons = [ListSkipReason?](repeating: nil, count: records.count)
        /// Per record that passed the rules, its title and verdict (nil for a watchlist entry).
        var candidates: [(index: Int, media: MediaID, list: DiscovrList)] = []
        var favorite: [MediaID: Int] = [:]
        var watchlisted: Set<MediaID> = []
        /// The latest verdict-giving rating of each title.
        var latestRating: [MediaID: Int] = [:]

        for (index, record) in records.enumerated() {
            switch record.kind {
            case .rating: counts.records.ratings += 1
            case .favorite: counts.records.favorites += 1
            case .watchlist: counts.records.watchlist += 1
            }
            switch candidate(record, lines: lines) {
            case .failure(let reason):
                reasons[index] = reason
            case .success(let (media, list)):
                switch record.kind {
                case .watchlist:
                    if !watchlisted.insert(media).inserted { reasons[index] = .duplicate; continue }
                case .favorite:
                    if favorite[media] != nil { reasons[index] = .duplicate; continue }
                    favorite[media] = index
                case .rating:
                    // Latest wins; at equal times (or both unknown) the one read last.
                    if let current = latestRating[media], sortValue(records[current]) > sortValue(record) { break }
                    latestRating[media] = index
                }
                candidates.append((index, media, list))
            }
        }

        var items: [PlannedListItem] = []
        items.reserveCapacity(candidates.count)
        for c in candidates {
            let record = records[c.index]
            if record.kind == .rating, favorite[c.media] != nil || latestRating[c.media] != c.index {
                reasons[c.index] = .superseded
                continue
            }
            items.append(PlannedListItem(item: ListItem(list: c.list, mediaId: c.media),
                                         title: ImportPlanner.label(title: record.media),
                                         sortAt: record.date.timestamp?.millisecondsSince1970,
                                         source: record.kind, recordIndex: c.index))
        }
        // Unknown dates (`Int64.min`: no date read is that far back) first.
        items.sort { ($0.sortAt ?? .min, $0.recordIndex) < ($1.sortAt ?? .min, $1.recordIndex) }

        var skipped: [SkippedListRecord] = []
        for (index, reason) in reasons.enumerated() {
            guard let reason else { continue }
            skipped.append(SkippedListRecord(recordIndex: index, reason: reason))
            counts.skipped[reason, default: 0] += 1
        }
        counts.planned.total = items.count
        for p in items { counts.planned[p.item.list] += 1 }
        return Result(items: items, skipped: skipped, counts: counts)
    }

    /// The title and list a record goes to, or the first rule (in the contract's order) that stops it;
    /// `superseded` and `duplicate` depend on the other records and are decided by `plan`.
    static func candidate(_ record: TraktListRecord, lines: RatingLines) -> Swift.Result<(MediaID, DiscovrList), ListSkipReason> {
        guard let type = record.type, let media = record.media else { return .failure(.missingMedia) }
        guard let tmdb = media.tmdb else { return .failure(.noTmdbID) }
        let id: MediaID = type == .movie ? .movie(tmdb) : .show(tmdb)
        switch record.kind {
        case .watchlist:
            // A season or episode on the watchlist: its show goes on Discovr's.
            return .success((id, .watchlist))
        case .favorite:
            guard type == .movie || type == .show else { return .failure(.noListTarget) }
            return .success((id, .superLiked))
        case .rating:
            guard type == .movie || type == .show else { return .failure(.noListTarget) }
            guard let rating = record.rating, (1...10).contains(rating) else { return .failure(.invalidRating) }
            guard let verdict = lines.verdict(rating) else { return .failure(.neutralRating) }
            return .success((id, verdict))
        }
    }

    /// A record's date for "latest wins": unknown dates before every known one.
    static func sortValue(_ record: TraktListRecord) -> Int64 {
        record.date.timestamp?.millisecondsSince1970 ?? Int64.min
    }
}
