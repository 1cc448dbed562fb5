import DiscovrAPI
/// One file, or one section of a traktexport document, as the report lists it.
public struct ExportSection: Sendable, Equatable {
    /// The name shown in the report: the file name, or `file.json#history` for a document's section.
    public var name: String
    public var kind: FileKind
    /// Records read from it (0 for stats, errors and ignored files).
    public var recordCount: Int
    /// Why it was ignored, or what it holds, in a few words.
    public var note: String?
}

/// What one file held, before file indices are assigned.
struct ClassifiedFile: Sendable {
    var sections: [ExportSection] = []
    /// Records of each section, parallel to `sections`, their titles interned into `interner`.
    var records: [RecordRows] = []
    var stats: TraktStats?
    var warnings: [String] = []
    /// Ratings, favorites and watchlist entries; `fileIndex` is the index of their section in `sections`.
    var lists: [TraktListRecord] = []
    /// Which list records to read (`--no-ratings`, `--no-watchlist`).
    let selection: ListSelection
    let interner: TitleInterner

    init(interner: TitleInterner, selection: ListSelection) {
        self.interner = interner
        self.selection = selection
    }

    mutating func add(_ section: ExportSection, _ sectionRecords: RecordRows = RecordRows()) {
        var sectionRecords = sectionRecords
        interner.intern(&sectionRecords)
        sections.append(section)
        records.append(sectionRecords)
    }

    /// Adds a section that gives no records, with why.
    mutating func ignore(_ name: String, note: String) {
        add(ExportSection(name: name, kind: .ignored, recordCount: 0, note: note))
    }
}

/// Decides what a JSON document holds from the shape of its records, with the file name as a hint
/// (an empty page `[]` says nothing by itself).
enum Classifier {
    enum ArrayShape: Equatable {
        case history, playback, watchedMovies, watchedShows, summariesMixed
        case flattenedEpisodes, ratings, list, collection, unknown, empty
    }

    static func classify(_ document: JSONValue, name: String, interner: TitleInterner, lists: ListSelection) -> ClassifiedFile {
        var file = ClassifiedFile(interner: interner, selection: lists)
        let lower = name.lowercased()
        if baseName(lower).hasPrefix("_errors") {
            let empty = (document.arrayValue?.isEmpty ?? false) || (document.objectValue?.members.isEmpty ?? false)
            file.add(ExportSection(name: name, kind: .errors, recordCount: 0, note: "sections Trakt failed to export"))
            if !empty {
                file.warnings.append("\(name): Trakt reports sections that failed to export: \(summary(document)); export again later for a complete history")
            }
            return file
        }
        switch document {
        case .array(let elements):
            classifyArray(elements, name: name, into: &file)
        case .object(let object):
            if let data = object["data"]?.arrayValue, object["metadata"] != nil || object.members.count <= 3 {
                classifyArray(data, name: name, into: &file)
            } else if isTraktExportDocument(object) {
                classifyDocument(object, name: name, into: &file)
            } else if let stats = RecordDecoding.stats(document) {
                file.stats = stats
                file.add(ExportSection(name: name, kind: .stats, recordCount: 0, note: "play counts, for the completeness check"))
            } else {
                file.ignore(name, note: "a JSON object of unknown shape")
                if looksLikeHistoryName(lower) {
                    file.warnings.append("\(name): not understood (a JSON object of unknown shape); it was ignored")
                }
            }
        default:
            file.ignore(name, note: "not a JSON array or object")
            file.warnings.append("\(name): not understood (not a JSON array or object); it was ignored")
        }
        return file
    }

    static func isTraktExportDocument(_ object: JSONObject) -> Bool {
        if object["history"]?.arrayValue != nil || object["watched"]?.arrayValue != nil { return true }
        if let type = object["type"]?.stringValue, ["full", "partial"].contains(type), object["username"] != nil { return true }
        return false
    }

    /// A traktexport document: `history`, `watched` (movies and shows mixed), maybe `playback`, `stats`.
    static func classifyDocument(_ object: JSONObject, name: String, into file: inout ClassifiedFile) {
        for (key, value) in object.members {
            let sectionName = "\(name)#\(key)"
            switch key {
            case "history", "watched", "playback", "ratings", "watchlist", "favorites":
                if let elements = value.arrayValue {
                    classifyArray(elements, name: sectionName, into: &file, hint: key)
                }
            case "stats":
                if let stats = RecordDecoding.stats(value) {
                    file.stats = stats
                    file.add(ExportSection(name: sectionName, kind: .stats, recordCount: 0, note: "play counts, for the completeness check"))
                }
            default:
                if value.arrayValue != nil || value.objectValue != nil {
                    file.ignore(sectionName, note: "not watch history")
                }
            }
        }
    }

    static func classifyArray(_ elements: [JSONValue], name: String, into file: inout ClassifiedFile, hint: String? = nil) {
        var shape = arrayShape(elements)
        if shape == .empty {
            shape = shapeFromName(hint ?? baseName(name.lowercased()))
        }
        var records = RecordRows()
        switch shape {
        case .history, .playback:
            let playback = shape == .playback
            records.reserveCapacity(elements.count)
            for e in elements {
                let play = RecordDecoding.play(e, timestampKey: playback ? "paused_at" : "watched_at", withProgress: playback)
                records.append(TraktRecord(kind: playback ? .playback : .history, play: play, fileIndex: 0))
            }
            file.add(ExportSection(name: name, kind: playback ? .playback : .history, recordCount: records.count), records)
        case .watchedMovies, .watchedShows, .summariesMixed:
            for e in elements {
                if isShowSummary(e) {
                    RecordDecoding.watchedShow(e, into: &records)
                } else {
                    records.append(TraktRecord(kind: .watchedMovie, play: RecordDecoding.watchedMovie(e), fileIndex: 0))
                }
            }
            let kind: FileKind = shape == .watchedShows ? .watchedShows : .watchedMovies
            let note = shape == .summariesMixed ? "movie and show summaries" : nil
            file.add(ExportSection(name: name, kind: kind, recordCount: records.count, note: note), records)
        case .flattenedEpisodes:
            file.ignore(name, note: "episode rows without their show: cannot be mapped")
            file.warnings.append("\(name): \(elements.count) watched episode rows name no show, so they cannot be mapped to Discovr; they were ignored (use the export's watched-history or watched-shows files instead)")
        case .ratings:
            addLists(elements, .rating, name: name, into: &file)
        case .list:
            switch listFileKind(hint ?? baseName(name.lowercased())) {
            case .favorites?: addLists(elements, .favorite, name: name, into: &file)
            case .watchlist?: addLists(elements, .watchlist, name: name, into: &file)
            default:
                file.ignore(name, note: "a custom list, not imported (only the watchlist and favorites are)")
            }
        case .collection:
            file.ignore(name, note: "collection, not watch history")
        case .empty:
            file.ignore(name, note: "empty")
        case .unknown:
            file.ignore(name, note: "records of unknown shape")
            if looksLikeHistoryName(name.lowercased()) {
                file.warnings.append("\(name): not understood (its records have none of the fields of Trakt history, playback or watched summaries); it was ignored")
            }
        }
    }

    /// A section of ratings, favorites or watchlist entries; `ignored`, with the flag named, when the
    /// selection leaves its kind out.
    static func addLists(_ elements: [JSONValue], _ kind: ListRecordKind, name: String, into file: inout ClassifiedFile) {
        let (fileKind, included, flag): (FileKind, Bool, String) = switch kind {
        case .rating: (.ratings, file.selection.verdicts, "--no-ratings")
        case .favorite: (.favorites, file.selection.verdicts, "--no-ratings")
        case .watchlist: (.watchlist, file.selection.watchlist, "--no-watchlist")
        }
        guard included else {
            file.ignore(name, note: "\(fileKind.rawValue), left out by \(flag)")
            return
        }
        let section = file.sections.count
        file.lists += elements.map { RecordDecoding.listRecord($0, kind: kind, fileIndex: section) }
        file.add(ExportSection(name: name, kind: fileKind, recordCount: elements.count))
    }

    static func isShowSummary(_ value: JSONValue) -> Bool {
        guard let object = value.objectValue else { return false }
        return object["show"] != nil || object["seasons"] != nil
    }

    /// The shape of an array, from its first element that says something.
    static func arrayShape(_ elements: [JSONValue]) -> ArrayShape {
        var sawMovieSummary = false
        var sawShowSummary = false
        var checked = 0
        for element in elements {
            guard let o = element.objectValue else { continue }
            checked += 1
            if o["watched_at"] != nil { return .history }
            if o["paused_at"] != nil || (o["progress"] != nil && o["plays"] == nil && o["type"] != nil) { return .playback }
            if o["rated_at"] != nil || o["rating"] != nil && o["plays"] == nil { return .ratings }
            if o["listed_at"] != nil { return .list }
            if o["collected_at"] != nil || o["last_collected_at"] != nil { return .collection }
            if o["plays"] != nil || o["last_watched_at"] != nil {
                if o["movie"] != nil { sawMovieSummary = true }
                else if o["show"] != nil || o["seasons"] != nil { sawShowSummary = true }
                else if o["episode"] != nil { return .flattenedEpisodes }
            }
            // Mixed summaries (traktexport's `watched`) need a look at more than one element.
            if (sawMovieSummary && sawShowSummary) || checked >= 64 { break }
        }
        if sawMovieSummary && sawShowSummary { return .summariesMixed }
        if sawMovieSummary { return .watchedMovies }
        if sawShowSummary { return .watchedShows }
        return checked == 0 ? .empty : .unknown
    }

    /// The kind an empty page belongs to, from names like `watched-history-3.json` or `history_shows.json`.
    static func shapeFromName(_ base: String) -> ArrayShape {
        if base.contains("playback") { return .playback }
        if base.contains("history") { return .history }
        if base.contains("watched-movies") || base.contains("watched_movies") { return .watchedMovies }
        if base.contains("watched-shows") || base.contains("watched_shows") { return .watchedShows }
        if base.contains("ratings") { return .ratings }
        if listFileKind(base) != nil { return .list }
        return .empty
    }

    /// The two lists told apart by their file's name (their records have one shape, that of every
    /// Trakt list, custom lists included). Nil for any other list, which stays `ignored`.
    static func listFileKind(_ base: String) -> FileKind? {
        var stem = base.lowercased()
        if stem.hasSuffix(".json") { stem.removeLast(5) }
        // A page: `lists-watchlist-2`.
        if let dash = stem.lastIndex(of: "-"), stem.index(after: dash) < stem.endIndex,
           stem[stem.index(after: dash)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            stem = String(stem[..<dash])
        }
        for (word, kind) in [("favorites", FileKind.favorites), ("watchlist", FileKind.watchlist)] {
            // The official ZIP (`lists-watchlist`), legacy folders and API dumps (`watchlist`), backup
            // scripts (`watchlist_movies`, `<user>-watchlist_shows`, `<user>-watchlist`). A custom list's
            // file (`lists-<slug>`) is never one of them, even when its slug holds the word.
            if stem == word || stem == "lists-" + word || stem.hasPrefix(word + "_") { return kind }
            if !stem.hasPrefix("lists-"), stem.hasSuffix("-" + word) || stem.contains("-" + word + "_") { return kind }
        }
        return nil
    }

    static func looksLikeHistoryName(_ lower: String) -> Bool {
        let base = baseName(lower)
        return base.contains("history") || base.contains("watched") || base.contains("playback")
    }

    static func baseName(_ path: String) -> String {
        let afterSlash = path.split(separator: "/").last.map(String.init) ?? path
        return afterSlash.split(separator: "#").first.map(String.init) ?? afterSlash
    }

    static func summary(_ value: JSONValue) -> String {
        switch value {
        case .array(let a): return "\(a.count) entr\(a.count == 1 ? "y" : "ies")"
        case .object(let o): return o.keys.prefix(5).joined(separator: ", ")
        default: return "unknown content"
        }
    }
}
