import DiscovrAPI
import TraktExport

/// Turns Trakt records into Discovr history items, pure and deterministic: the same records and
/// options always give the same plan. Every record becomes exactly one planned item or one skip
/// (`records.total == planned.total + sum(skipped)`), following the rules of docs/mapping.md in
/// their order: history first (the source of truth), then summaries filling only the gaps history
/// leaves, then playback that never overrides a completed play.
public enum ImportPlanner {
    public static func plan(_ scan: ExportScan, options: PlanOptions = PlanOptions()) -> ImportPlan {
        plan(records: scan.records, stats: scan.stats, options: options, warnings: scan.warnings)
    }

    public static func plan(records: [TraktRecord], stats: TraktStats? = nil, options: PlanOptions = PlanOptions(),
                            warnings: [String] = []) -> ImportPlan {
        var counts = RecordCounts()
        var skipped: [SkippedRecord] = []
        var items: [PlannedItem] = []
        var plannedPlays = Set<PlayKey>()
        var historyKeys = Set<ItemKey>()
        var completedKeys = Set<ItemKey>()
        items.reserveCapacity(records.count)
        plannedPlays.reserveCapacity(records.count)
        historyKeys.reserveCapacity(records.count)
        completedKeys.reserveCapacity(records.count)
        // One pass to sort record indices by phase, so each phase touches only its own records.
        var historyIndices: [Int] = [], summaryIndices: [Int] = [], playbackIndices: [Int] = []
        historyIndices.reserveCapacity(records.count)

        for index in records.indices {
            switch records[index].kind {
            case .history: counts.history += 1; historyIndices.append(index)
            case .playback: counts.playback += 1; playbackIndices.append(index)
            case .watchedMovie: counts.watchedMovies += 1; summaryIndices.append(index)
            case .watchedEpisode: counts.watchedEpisodes += 1; summaryIndices.append(index)
            case .watchedShowWithoutEpisodes: counts.watchedShowsWithoutEpisodes += 1; summaryIndices.append(index)
            }
        }

        func skip(_ index: Int, _ reason: SkipReason) {
            skipped.append(SkippedRecord(recordIndex: index, reason: reason))
        }

        // 1. History: the source of truth; every distinct play is kept (rewatches too).
        for index in historyIndices {
            switch candidate(records[index], options: options) {
            case .failure(let reason): skip(index, reason)
            case .success(let item):
                let play = PlayKey(item)
                if plannedPlays.contains(play) { skip(index, .duplicate); continue }
                plannedPlays.insert(play)
                historyKeys.insert(ItemKey(item))
                completedKeys.insert(ItemKey(item))
                items.append(PlannedItem(item: item, source: .history, recordIndex: index))
            }
        }

        // 2. Summaries: only for keys history has no play of (older exports lost the oldest plays).
        for index in summaryIndices {
            switch candidate(records[index], options: options) {
            case .failure(let reason): skip(index, reason)
            case .success(let item):
                if historyKeys.contains(ItemKey(item)) { skip(index, .coveredByHistory); continue }
                let play = PlayKey(item)
                if plannedPlays.contains(play) { skip(index, .duplicate); continue }
                plannedPlays.insert(play)
                completedKeys.insert(ItemKey(item))
                items.append(PlannedItem(item: item, source: records[index].kind, recordIndex: index))
            }
        }

        // 3. Playback: a partial progress would un-mark a completed play on Discovr, so it only goes
        //    out for things never watched in full.
        for index in playbackIndices {
            if !options.includePlayback { skip(index, .playbackExcluded); continue }
            switch candidate(records[index], options: options) {
            case .failure(let reason): skip(index, reason)
            case .success(let item):
                if completedKeys.contains(ItemKey(item)) { skip(index, .supersededByWatch); continue }
                let play = PlayKey(item)
                if plannedPlays.contains(play) { skip(index, .duplicate); continue }
                plannedPlays.insert(play)
                items.append(PlannedItem(item: item, source: .playback, recordIndex: index))
            }
        }

        // 4. --latest-only: keep the latest completed play of each key.
        if options.latestOnly {
            var latest: [ItemKey: Int] = [:]
            for (k, planned) in items.enumerated() where !planned.isInProgress {
                let key = ItemKey(planned.item)
                if let current = latest[key] {
                    if sortValue(planned.item) > sortValue(items[current].item) { latest[key] = k }
                } else {
                    latest[key] = k
                }
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
    static func candidate(_ record: TraktRecord, options: PlanOptions) -> Result<HistoryItem, SkipReason> {
        let play = record.play
        let mediaId: MediaID
        var season: Int?
        var episode: Int?
        switch play.type {
        case .movie:
            guard let movie = play.movie else { return .failure(.missingMedia) }
            guard let tmdb = movie.tmdb else { return .failure(.noTmdbID) }
            mediaId = .movie(tmdb)
        case .episode:
            guard let show = play.show else { return .failure(.missingMedia) }
            if record.kind == .watchedShowWithoutEpisodes {
                // No episode to check; the date rules still come before no-episode-detail.
                guard show.tmdb != nil else { return .failure(.noTmdbID) }
                guard case .valid(let date) = play.date else { return .failure(.invalidDate) }
                if PlanOptions.isUnknownDate(date), options.unknownDates == .skip { return .failure(.unknownDate) }
                return .failure(.noEpisodeDetail)
            }
            guard let ep = play.episode else { return .failure(.missingMedia) }
            guard let tmdb = show.tmdb else { return .failure(.noTmdbID) }
            guard let s = ep.season, let n = ep.number, s >= 1, n >= 1 else { return .failure(.specialEpisode) }
            mediaId = .show(tmdb)
            season = s
            episode = n
        }
        guard case .valid(let date) = play.date else { return .failure(.invalidDate) }
        var updatedAt: Timestamp? = date
        if PlanOptions.isUnknownDate(date) {
            switch options.unknownDates {
            case .omit: updatedAt = nil
            case .keep: break
            case .skip: return .failure(.unknownDate)
            }
        }
        let progress = record.kind == .playback ? HistoryItem.normalizedProgress(play.progress ?? 0) : 100
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

    /// `Breaking Bad (2008) S01E05`, `Heat (1995)`, or `(unknown title)`.
    public static func label(_ play: TraktPlay) -> String {
        let media = play.type == .movie ? play.movie : play.show
        var text = media?.title ?? "(unknown title)"
        if let year = media?.year { text += " (\(year))" }
        if play.type == .episode, let ep = play.episode {
            let s = ep.season.map { String(format2($0)) } ?? "?"
            let e = ep.number.map { String(format2($0)) } ?? "?"
            text += " S\(s)E\(e)"
        }
        return text
    }

    static func format2(_ n: Int) -> String {
        n >= 0 && n < 10 ? "0\(n)" : String(n)
    }
}

/// The contract's item key (mediaId, season, episode) as a value: hashing it is much cheaper than
/// building the string form (`HistoryItem.itemKey`) for every record of a large export.
struct ItemKey: Hashable {
    var show: Bool
    var tmdb: Int64
    var season: Int
    var episode: Int

    init(_ item: HistoryItem) {
        show = item.mediaId.kind == .show
        tmdb = item.mediaId.tmdb
        season = item.season ?? -1
        episode = item.episode ?? -1
    }
}

/// The contract's play: (item key, updatedAt); an unknown date is its own value.
struct PlayKey: Hashable {
    var item: ItemKey
    var at: Int64?

    init(_ item: HistoryItem) {
        self.item = ItemKey(item)
        at = item.updatedAt?.millisecondsSince1970
    }
}
