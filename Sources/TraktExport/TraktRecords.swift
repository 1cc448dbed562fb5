import DiscovrAPI
import Foundation
import Synchronization

/// Every record of a scan, in reading order, stored compactly: a million plays are kept until the
/// plan is made (labels and the skipped-records list need them afterwards too), so each record is
/// a fixed 40-byte row, and each distinct movie or show is stored once and referred to by index
/// (a show with 500 watched episodes has one title, not 500 copies of its strings). Reading an
/// element gives the full `TraktRecord` back, equal to the one appended.
public struct TraktRecords: RandomAccessCollection, Sendable, Equatable {
    /// One record. `value` is the timestamp (milliseconds since 1970) when the date is valid, or,
    /// for a row kept whole (`Flags.whole`), the index of its play in `whole`.
    struct Row: Sendable {
        var value: Int64
        var progress: Double
        var fileIndex: Int32
        var movie: Int32
        var show: Int32
        var season: Int32
        var number: Int32
        var kind: UInt8
        var flags: UInt8

        var isWhole: Bool { flags & Flags.whole != 0 }
        var isEpisode: Bool { flags & Flags.episodeType != 0 }
        /// The movie (for a movie) or the show (for an episode): a title index, or `noTitle`.
        var media: Int32 { isEpisode ? show : movie }
        var episode: TraktEpisode? {
            guard flags & Flags.hasEpisode != 0 else { return nil }
            return TraktEpisode(season: season == TraktRecords.noNumber ? nil : Int(season),
                                number: number == TraktRecords.noNumber ? nil : Int(number))
        }
        /// nil when the record has no date (a row kept whole has none here either: read `whole`).
        var timestamp: Timestamp? { flags & Flags.dateMissing != 0 ? nil : Timestamp(millisecondsSince1970: value) }
        var progressValue: Double? { flags & Flags.hasProgress != 0 ? progress : nil }
    }

    enum Flags {
        static let episodeType: UInt8 = 1
        static let hasEpisode: UInt8 = 2
        static let hasProgress: UInt8 = 4
        static let dateMissing: UInt8 = 8
        /// The play did not fit a row (an invalid date kept as text, a number beyond Int32): it is in `whole`.
        static let whole: UInt8 = 16
    }

    static let noTitle: Int32 = -1
    static let noNumber = Int32.min
    static let kinds = RecordKind.allCases

    var rows: [Row] = []
    /// Plays that do not fit a row; rare (invalid dates).
    var whole: [TraktPlay] = []
    /// Distinct titles, indexed by `Row.movie` and `Row.show`.
    var titles: [TraktTitle] = []

    public init() {}

    /// The records of `records`, in their order, with their file indices.
    public init<S: Sequence>(_ records: S) where S.Element == TraktRecord {
        var interner = TitleInterner.Table()
        var section = RecordRows()
        for record in records { section.append(record) }
        section.intern(into: &interner)
        rows = section.rows
        whole = section.whole
        titles = interner.titles
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }

    public subscript(position: Int) -> TraktRecord {
        let row = rows[position]
        return TraktRecord(kind: Self.kinds[Int(row.kind)], play: play(row), fileIndex: Int(row.fileIndex))
    }

    /// The record's kind, without building the record.
    public func kind(at position: Int) -> RecordKind { Self.kinds[Int(rows[position].kind)] }

    func play(_ row: Row) -> TraktPlay {
        if row.isWhole { return whole[Int(row.value)] }
        var play = TraktPlay(type: row.isEpisode ? .episode : .movie, timestamp: nil)
        if row.movie != Self.noTitle { play.movie = titles[Int(row.movie)] }
        if row.show != Self.noTitle { play.show = titles[Int(row.show)] }
        play.episode = row.episode
        play.date = row.timestamp.map(RecordDate.valid) ?? .missing
        play.progress = row.progressValue
        return play
    }

    /// Appends a section read elsewhere (its titles already interned into this scan's table), with its
    /// records moved to `fileIndex`.
    mutating func append(_ section: RecordRows, fileIndex: Int) {
        let offset = Int64(whole.count)
        rows.reserveCapacity(rows.count + section.rows.count)
        for var row in section.rows {
            row.fileIndex = Int32(truncatingIfNeeded: fileIndex)
            if row.isWhole { row.value += offset }
            rows.append(row)
        }
        whole.append(contentsOf: section.whole)
    }

    public static func == (lhs: TraktRecords, rhs: TraktRecords) -> Bool {
        lhs.elementsEqual(rhs)
    }
}

/// The records of one section while it is read, with its titles numbered locally; `intern(into:)`
/// renumbers them into the scan's table.
struct RecordRows: Sendable {
    var rows: [TraktRecords.Row] = []
    var whole: [TraktPlay] = []
    /// This section's titles, numbered in the order first met.
    var ownTitles = TitleInterner.Table()

    var count: Int { rows.count }

    mutating func reserveCapacity(_ n: Int) {
        rows.reserveCapacity(n)
        ownTitles.index.reserveCapacity(n)
    }

    mutating func append(_ record: TraktRecord) {
        let play = record.play
        let kind = UInt8(TraktRecords.kinds.firstIndex(of: record.kind)!)
        var row = TraktRecords.Row(value: 0, progress: 0, fileIndex: Int32(truncatingIfNeeded: record.fileIndex),
                                   movie: TraktRecords.noTitle, show: TraktRecords.noTitle,
                                   season: TraktRecords.noNumber, number: TraktRecords.noNumber, kind: kind, flags: 0)
        /// `n` as a row holds it (`noNumber` for none); nil when it does not fit.
        func number(_ n: Int?) -> Int32? {
            guard let n else { return TraktRecords.noNumber }
            return n > Int(Int32.min) && n <= Int(Int32.max) ? Int32(n) : nil
        }
        var fits = record.fileIndex >= 0 && record.fileIndex <= Int(Int32.max)
        if let episode = play.episode {
            row.flags |= TraktRecords.Flags.hasEpisode
            if let s = number(episode.season), let n = number(episode.number) {
                row.season = s
                row.number = n
            } else {
                fits = false
            }
        }
        switch play.date {
        case .missing: row.flags |= TraktRecords.Flags.dateMissing
        case .valid(let ts): row.value = ts.millisecondsSince1970
        case .invalid: fits = false
        }
        if !fits {
            row.flags = TraktRecords.Flags.whole
            row.value = Int64(whole.count)
            whole.append(play)
            rows.append(row)
            return
        }
        if play.type == .episode { row.flags |= TraktRecords.Flags.episodeType }
        if let progress = play.progress {
            row.flags |= TraktRecords.Flags.hasProgress
            row.progress = progress
        }
        if let movie = play.movie { row.movie = local(movie) }
        if let show = play.show { row.show = local(show) }
        rows.append(row)
    }

    private mutating func local(_ title: TraktTitle) -> Int32 {
        // Consecutive records mostly name the same show (a season watched in a row).
        if let last = ownTitles.titles.last, TitleKey.same(last, title) { return Int32(ownTitles.titles.count - 1) }
        return ownTitles.index(of: title)
    }

    /// Renumbers the titles into `table` and drops the local ones.
    mutating func intern(into table: inout TitleInterner.Table) {
        guard !ownTitles.titles.isEmpty else { return }
        let global = ownTitles.titles.map { table.index(of: $0) }
        for k in rows.indices where !rows[k].isWhole {
            if rows[k].movie != TraktRecords.noTitle { rows[k].movie = global[Int(rows[k].movie)] }
            if rows[k].show != TraktRecords.noTitle { rows[k].show = global[Int(rows[k].show)] }
        }
        ownTitles = TitleInterner.Table()
    }
}

/// A title as an interning key: equal only when every field is the same, strings byte for byte
/// (`String ==` also equates canonically equivalent spellings, and the skipped-records list must give
/// back the bytes that were read); hashed over the bytes, without Unicode normalisation.
struct TitleKey: Hashable {
    let title: TraktTitle

    static func == (lhs: TitleKey, rhs: TitleKey) -> Bool { same(lhs.title, rhs.title) }

    static func same(_ a: TraktTitle, _ b: TraktTitle) -> Bool {
        a.tmdb == b.tmdb && a.trakt == b.trakt && a.tvdb == b.tvdb && a.year == b.year
            && sameBytes(a.title, b.title) && sameBytes(a.slug, b.slug) && sameBytes(a.imdb, b.imdb)
    }

    static func sameBytes(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (var x?, var y?):
            guard x.utf8.count == y.utf8.count else { return false }
            return x.withUTF8 { a in y.withUTF8 { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
        default: return false
        }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(title.tmdb)
        hasher.combine(title.trakt)
        hasher.combine(title.tvdb)
        hasher.combine(title.year)
        func combine(_ text: String?) {
            guard var text else { hasher.combine(-1); return }
            hasher.combine(text.utf8.count)
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
        combine(title.title)
        combine(title.slug)
        combine(title.imdb)
    }
}

/// The scan's table of distinct titles, shared by the reading workers (each interns a file's titles
/// under the lock once, when the file is done). Indices depend on timing; nothing visible does.
final class TitleInterner: Sendable {
    struct Table {
        var titles: [TraktTitle] = []
        var index: [TitleKey: Int32] = [:]

        mutating func index(of title: TraktTitle) -> Int32 {
            let key = TitleKey(title: title)
            if let known = index[key] { return known }
            let k = Int32(titles.count)
            titles.append(title)
            index[key] = k
            return k
        }
    }

    private let table = Mutex(Table())

    func intern(_ section: inout RecordRows) {
        table.withLock { section.intern(into: &$0) }
    }

    var titles: [TraktTitle] { table.withLock { $0.titles } }
}

extension TraktRecords {
    /// What planning needs of a record, read from its row without building its title strings.
    public struct Facts: Sendable {
        public var kind: RecordKind
        public var type: MediaType
        /// The movie (for a movie) or the show (for an episode) is present.
        public var hasMedia: Bool
        /// That movie's or show's `ids.tmdb`.
        public var tmdb: Int64?
        public var episode: TraktEpisode?
        public var date: RecordDate
        public var progress: Double?
    }

    /// The record's facts; from its row, or from its play when the record is kept whole.
    public func facts(at position: Int) -> Facts {
        let row = rows[position]
        let kind = Self.kinds[Int(row.kind)]
        if row.isWhole {
            let play = whole[Int(row.value)]
            return Facts(kind: kind, type: play.type, hasMedia: play.media != nil, tmdb: play.media?.tmdb,
                         episode: play.episode, date: play.date, progress: play.progress)
        }
        return Facts(
            kind: kind,
            type: row.isEpisode ? .episode : .movie,
            hasMedia: row.media != Self.noTitle,
            tmdb: row.media == Self.noTitle ? nil : titles[Int(row.media)].tmdb,
            episode: row.episode, date: row.timestamp.map(RecordDate.valid) ?? .missing, progress: row.progressValue)
    }

    /// The record's movie (for a movie) or show (for an episode), without building the rest of the record.
    public func media(at position: Int) -> TraktTitle? {
        let row = rows[position]
        if row.isWhole { return whole[Int(row.value)].media }
        return row.media == Self.noTitle ? nil : titles[Int(row.media)]
    }

    /// The record's movie (for a movie) or show (for an episode) as an index for `title(_:)`: records
    /// of one title give one index, so they can be counted by title without building their strings.
    /// Nil when the record names none, or is kept whole (then read `self[position]`).
    public func mediaTitleIndex(at position: Int) -> Int? {
        let row = rows[position]
        if row.isWhole || row.media == Self.noTitle { return nil }
        return Int(row.media)
    }

    /// The title at an index given by `mediaTitleIndex(at:)`.
    public func title(_ index: Int) -> TraktTitle { titles[index] }
}
