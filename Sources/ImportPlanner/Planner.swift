import DiscovrAPI
import TraktExport

/// Turns Trakt records into Discovr history items, pure and deterministic: the same records and
/// options always give the same plan. Every record becomes exactly one planned item or one skip
/// (`records.total == planned.total + sum(skipped)`), following the rules of docs/mapping.md in
/// their order: history first (the source of truth), then summaries filling only the gaps history
/// leaves, then playback that never overrides a completed play.
public enum ImportPlanner {
    public static func plan(_ scan: ExportScan, options: PlanOptions = PlanOptions()) -> ImportPlan {
        var plan = plan(records: scan.records, stats: scan.stats, options: options, warnings: scan.warnings)
        // Lists after history: a title's verdict and watchlist entry depend on no play.
        let lists = ListPlanner.plan(scan.listRecords, lines: options.ratingLines)
        plan.listItems = lists.items
        plan.listSkipped = lists.skipped
        plan.lists = lists.counts
        return plan
    }

    public static func plan(records: [TraktRecord], stats: TraktStats? = nil, options: PlanOptions = PlanOptions(),
                            warnings: [String] = []) -> ImportPlan {
        plan(records: TraktRecords(records), stats: stats, options: options, warnings: warnings)
    }

    public static func plan(records: TraktRecords, stats: TraktStats? = nil, options: PlanOptions = PlanOptions(),
                            warnings: [String] = []) -> ImportPlan {
        var counts = RecordCounts()
        var skipped: [SkippedRecord] = []
        // The records planned, in phase order. Items are made from them once the phases' sets are
        // freed: a million plays' items (100 bytes each) and sets (tens of MB each) never coexist.
        var accepted: [Int] = []

        func skip(_ index: Int, _ reason: SkipReason) {
            skipped.append(SkippedRecord(recordIndex: index, reason: reason))
        }

        do {
            // One pass to sort record indices by phase, so each phase touches only its own records.
            var historyIndices: [Int] = [], summaryIndices: [Int] = [], playbackIndices: [Int] = []
            historyIndices.reserveCapacity(records.count)
            for index in records.indices {
                switch records.kind(at: index) {
                case .history: counts.history += 1; historyIndices.append(index)
                case .playback: counts.playback += 1; playbackIndices.append(index)
                case .watchedMovie: counts.watchedMovies += 1; summaryIndices.append(index)
                case .watchedEpisode: counts.watchedEpisodes += 1; summaryIndices.append(index)
                case .watchedShowWithoutEpisodes: counts.watchedShowsWithoutEpisodes += 1; summaryIndices.append(index)
                }
            }
            accepted.reserveCapacity(records.count)
            var plannedPlays = Set<PlayKey>()
            /// Item keys with a completed play planned; true when one came from history.
            var completedKeys: [ItemKey: Bool] = [:]
            plannedPlays.reserveCapacity(records.count)
            // Growing it would rehash every key each time; a key per history play is the most it holds.
            completedKeys.reserveCapacity(historyIndices.count + summaryIndices.count)

            /// Plans the record unless its mapping, `rule` (given its item key) or an equal play planned
            /// before stops it; returns the item key when planned.
            func admit(_ index: Int, unless rule: (ItemKey) -> SkipReason?) -> ItemKey? {
                switch candidate(records, index, options: options) {
                case .failure(let reason): skip(index, reason)
                case .success(let item):
                    let play = PlayKey(item)
                    if let reason = rule(play.item) { skip(index, reason); return nil }
                    if !plannedPlays.insert(play).inserted { skip(index, .duplicate); return nil }
                    accepted.append(index)
                    return play.item
                }
                return nil
            }

            // 1. History: the source of truth; every distinct play is kept (rewatches too).
            for index in historyIndices {
                if let key = admit(index, unless: { _ in nil }) { completedKeys[key] = true }
            }

            // 2. Summaries: only for keys history has no play of (older exports lost the oldest plays).
            for index in summaryIndices {
                let key = admit(index) { completedKeys[$0] == true ? .coveredByHistory : nil }
                if let key { completedKeys[key] = false }
            }

            // 3. Playback: a partial progress would un-mark a completed play on Discovr, so it only goes
            //    out for things never watched in full.
            for index in playbackIndices {
                if !options.includePlayback { skip(index, .playbackExcluded); continue }
                _ = admit(index) { completedKeys[$0] != nil ? .supersededByWatch : nil }
            }
        }

        // Each planned record's item again (the same pure mapping), now with room for exactly these.
        // A record's kind is its item's source: history, a summary, or playback.
        var items: [PlannedItem] = []
        items.reserveCapacity(accepted.count)
        for index in accepted {
            if case .success(let item) = candidate(records, index, options: options) {
                items.append(PlannedItem(item: item, source: records.kind(at: index), recordIndex: index))
            }
        }
        accepted = []

        // 4. --latest-only: keep the latest completed play of each key.
        if options.latestOnly {
            var latest: [ItemKey: Int] = [:]
            for (k, planned) in items.enumerated() where !planned.isInProgress {
                let key = ItemKey(planned.item)
                if let current = latest[key], sortValue(planned.item) <= sortValue(items[current].item) { continue }
                latest[key] = k
            }
            var kept: [PlannedItem] = []
            kept.reserveCapacity(items.count)
            for (k, planned) in items.enumerated() {
                if !planned.isInProgress, latest[ItemKey(planned.item)] != k {
                    skip(planned.recordIndex, .olderRewatch)
                } else {
                    kept.append(planned)
                }
            }
            items = kept
        }

        items.sort(by: sendsBefore)

        var planned = PlannedCounts()
        planned.total = items.count
        for p in items {
            if p.item.mediaId.kind == .movie { planned.movies += 1 } else { planned.episodes += 1 }
            if p.isInProgress { planned.inProgress += 1 }
            if p.isFromSummary { planned.fromSummary += 1 }
        }
        var skippedCounts = Dictionary(uniqueKeysWithValues: SkipReason.allCases.map { ($0, 0) })
        for s in skipped { skippedCounts[s.reason, default: 0] += 1 }
        skipped.sort { $0.recordIndex < $1.recordIndex }

        var allWarnings = warnings
        if let expected = stats?.totalPlays, counts.history < expected {
            allWarnings.append("the export's history has \(counts.history) plays but its stats count \(expected): the export is incomplete (older exports dropped the oldest plays); watched summaries fill what they can (\(planned.fromSummary) items)")
        }
        return ImportPlan(items: items, skipped: skipped, records: counts, planned: planned,
                          skippedCounts: skippedCounts, warnings: allWarnings)
    }

    /// The item a record maps to, or the first rule (in the contract's order) that stops it.
    static func candidate(_ records: TraktRecords, _ index: Int, options: PlanOptions) -> Result<HistoryItem, SkipReason> {
        let facts = records.facts(at: index)
        let mediaId: MediaID
        var season: Int?
        var episode: Int?
        guard facts.hasMedia else { return .failure(.missingMedia) }
        switch facts.type {
        case .movie:
            guard let tmdb = facts.tmdb else { return .failure(.noTmdbID) }
            mediaId = .movie(tmdb)
        case .episode:
            if facts.kind == .watchedShowWithoutEpisodes {
                // No episode to check; the date rules still come before no-episode-detail.
                guard facts.tmdb != nil else { return .failure(.noTmdbID) }
                guard case .valid(let date) = facts.date else { return .failure(.invalidDate) }
                if PlanOptions.isUnknownDate(date), options.unknownDates == .skip { return .failure(.unknownDate) }
                return .failure(.noEpisodeDetail)
            }
            guard let ep = facts.episode else { return .failure(.missingMedia) }
            guard let tmdb = facts.tmdb else { return .failure(.noTmdbID) }
            guard let s = ep.season, let n = ep.number, s >= 1, n >= 1 else { return .failure(.specialEpisode) }
            mediaId = .show(tmdb)
            season = s
            episode = n
        }
        guard case .valid(let date) = facts.date else { return .failure(.invalidDate) }
        var updatedAt: Timestamp? = date
        if PlanOptions.isUnknownDate(date) {
            switch options.unknownDates {
            case .omit: updatedAt = nil
            case .keep: break
            case .skip: return .failure(.unknownDate)
            }
        }
        let progress = facts.kind == .playback ? HistoryItem.normalizedProgress(facts.progress ?? 0) : 100
        // Real backups hold many playbacks paused at 0%: nothing was watched, and Discovr would show
        // "watched 0%" in the person's history. A tiny positive progress (0.01) still goes out.
        if progress == 0 { return .failure(.zeroProgress) }
        return .success(HistoryItem(mediaId: mediaId, season: season, episode: episode, progress: progress, updatedAt: updatedAt))
    }

    static func sortValue(_ item: HistoryItem) -> Int64 {
        item.updatedAt?.millisecondsSince1970 ?? Int64.min
    }

    /// Oldest first, unknown dates first of all; ties (bulk "mark as watched") in title and episode
    /// order, so the plan does not depend on the order of the files.
    static func sendsBefore(_ a: PlannedItem, _ b: PlannedItem) -> Bool {
        let ta = sortValue(a.item), tb = sortValue(b.item)
        if ta != tb { return ta < tb }
        if a.item.mediaId.kind != b.item.mediaId.kind { return a.item.mediaId.kind == .movie }
        if a.item.mediaId.tmdb != b.item.mediaId.tmdb { return a.item.mediaId.tmdb < b.item.mediaId.tmdb }
        if (a.item.season ?? 0) != (b.item.season ?? 0) { return (a.item.season ?? 0) < (b.item.season ?? 0) }
        if (a.item.episode ?? 0) != (b.item.episode ?? 0) { return (a.item.episode ?? 0) < (b.item.episode ?? 0) }
        if a.item.progress != b.item.progress { return a.item.progress < b.item.progress }
        return a.recordIndex < b.recordIndex
    }

    /// `Heat (1995)`, `Breaking Bad (2008)`, or `(unknown title)`: a movie or show as a title.
    public static func label(title: TraktTitle?) -> String {
        var bytes: [UInt8] = []
        appendLabel(media: title, type: .movie, episode: nil, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `Breaking Bad (2008) S01E05`, `Heat (1995)`, or `(unknown title)`.
    public static func label(_ play: TraktPlay) -> String {
        var bytes: [UInt8] = []
        appendLabel(media: play.media, type: play.type, episode: play.episode, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `label(records[position].play)` as UTF-8, appended to `bytes`: read from the record's row
    /// without building the record (its title strings, its play), for the queue's pages.
    public static func appendLabel(of position: Int, in records: TraktRecords, to bytes: inout [UInt8]) {
        let facts = records.facts(at: position)
        appendLabel(media: records.media(at: position), type: facts.type, episode: facts.episode, to: &bytes)
    }

    /// The label of a play of `type` whose movie or show is `media`.
    private static func appendLabel(media: TraktTitle?, type: MediaType, episode: TraktEpisode?, to bytes: inout [UInt8]) {
        func append(_ text: String) {
            var text = text
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
        append(media?.title ?? "(unknown title)")
        if let year = media?.year {
            append(" (")
            append(String(year))
            append(")")
        }
        if type == .episode, let episode {
            append(" S")
            append(episode.season.map(format2) ?? "?")
            append("E")
            append(episode.number.map(format2) ?? "?")
        }
    }

    static func format2(_ n: Int) -> String {
        n >= 0 && n < 10 ? "0\(n)" : String(n)
    }
}

/// The contract's item key (mediaId, season, episode) as a value: hashing it is much cheaper than
/// building the string form (`HistoryItem.itemKey`) for every record of a large export. The kind
/// is the top bit of `media` (TMDB ids are positive Int64s), so the key is 24 bytes.
struct ItemKey: Hashable {
    var media: UInt64
    var season: Int
    var episode: Int

    init(_ item: HistoryItem) {
        media = UInt64(bitPattern: item.mediaId.tmdb) | (item.mediaId.kind == .show ? 1 << 63 : 0)
        season = item.season ?? -1
        episode = item.episode ?? -1
    }
}

/// The contract's play: (item key, updatedAt); an unknown date is its own value (`Int64.min`: no
/// timestamp of the accepted years is that far back).
struct PlayKey: Hashable {
    var item: ItemKey
    var at: Int64

    init(_ item: HistoryItem) {
        self.item = ItemKey(item)
        at = item.updatedAt?.millisecondsSince1970 ?? Int64.min
    }
}
