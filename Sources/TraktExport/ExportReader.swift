import DiscovrAPI
import Dispatch
import Foundation
import Synchronization
import ZIPFoundation

/// Everything read from the inputs: the records of the contract, the files they came from, play
/// counts for the completeness check, and warnings. Produced by `ExportReader.read(paths:)`.
public struct ExportScan: Sendable {
    public struct Input: Sendable, Equatable {
        /// The path as the user gave it.
        public var path: String
        /// Indices into `sections` of this input's files, in reading order.
        public var sectionIndices: [Int]
    }

    public var inputs: [Input] = []
    /// Every file (or document section) read or ignored; `TraktRecord.fileIndex` points here.
    public var sections: [ExportSection] = []
    /// The records, compact (see `TraktRecords`); `records[i]` is a whole `TraktRecord`.
    public var records = TraktRecords()
    public var stats: TraktStats?
    public var warnings: [String] = []
    /// Ratings, favorites and watchlist entries (importer.md section 7), in reading order; not part of
    /// `records`, which holds the history records of section 1 only.
    public var listRecords: [TraktListRecord] = []

    /// Appends one file's sections and records; returns the indices of its sections.
    mutating func add(_ file: ClassifiedFile) -> [Int] {
        var indices: [Int] = []
        for (k, section) in file.sections.enumerated() {
            let fileIndex = sections.count
            indices.append(fileIndex)
            sections.append(section)
            records.append(file.records[k], fileIndex: fileIndex)
        }
        for var record in file.lists {
            record.fileIndex = indices[record.fileIndex]
            listRecords.append(record)
        }
        if let stats = file.stats { self.stats = stats }
        warnings.append(contentsOf: file.warnings)
        return indices
    }
}

/// Limits that keep a hostile or broken input from exhausting memory.
public struct ReadLimits: Sendable {
    /// Largest JSON file or ZIP entry accepted, in bytes. The largest real page is about 1 MB.
    public var maxFileBytes: Int = 512 << 20
    /// Largest ratio of uncompressed to compressed size for a ZIP entry over `ratioFloorBytes`.
    public var maxCompressionRatio: Int = 100
    public var ratioFloorBytes: Int = 16 << 20
    /// Most files read from one input.
    public var maxFiles: Int = 100_000

    public init() {}
}

/// Finds and reads Trakt exports: ZIP archives, folders (official, legacy, any nesting), and single
/// JSON files, in all the layouts of `docs/formats.md`. Files are identified by their content.
public enum ExportReader {
    /// Files that hold personal data (an e-mail address, an API token): never opened.
    static func isPrivate(_ base: String) -> Bool {
        let lower = base.lowercased()
        return lower.hasPrefix("user-settings") || lower.hasPrefix("user-profile")
            || lower.hasPrefix("user_settings") || lower.hasPrefix("user_profile")
    }

    /// Reads every input. Throws on the first unusable input (missing path, malformed JSON, corrupt
    /// ZIP); the caller must not change any state before this returns.
    /// `lists` says which list records to read (`--no-ratings`, `--no-watchlist`).
    public static func read(paths: [String], limits: ReadLimits = ReadLimits(),
                            lists: ListSelection = .all) throws(TraktExportError) -> ExportScan {
        var scan = ExportScan()
        let interner = TitleInterner()
        for path in paths {
            let sources = try listSources(path: path, limits: limits)
            var indices: [Int] = []
            try load(sources, limits: limits, interner: interner, lists: lists,
                     reserve: { scan.records.rows.reserveCapacity(scan.records.rows.count + $0) }) { indices += scan.add($0) }
            scan.inputs.append(ExportScan.Input(path: path, sectionIndices: indices))
        }
        scan.records.titles = interner.titles
        try requireWatchData(scan, paths: paths)
        return scan
    }

    /// Reads one JSON document already in memory, as if it were a file called `name` (the name
    /// only matters for the few files recognised by name, such as `_errors.json`). The same parsing
    /// and classification as `read(paths:)`; used by the fuzz target.
    public static func read(document data: Data, name: String, limits: ReadLimits = ReadLimits(),
                            lists: ListSelection = .all) throws(TraktExportError) -> ExportScan {
        if data.count > limits.maxFileBytes {
            throw .tooLarge(file: name, reason: "\(data.count) bytes, more than the limit of \(limits.maxFileBytes)")
        }
        var scan = ExportScan()
        let interner = TitleInterner()
        let indices = scan.add(try parse(.file(name: name, path: name), data: data, interner: interner, lists: lists).get())
        scan.records.titles = interner.titles
        scan.inputs.append(ExportScan.Input(path: name, sectionIndices: indices))
        try requireWatchData(scan, paths: [name])
        return scan
    }

    /// Ratings and list entries alone are not enough: an input without watch data is refused as before
    /// (it is most likely the wrong file).
    static func requireWatchData(_ scan: ExportScan, paths: [String]) throws(TraktExportError) {
        // Only sections of these kinds hold history records (and one that is empty still counts).
        if !scan.sections.contains(where: { [.history, .playback, .watchedMovies, .watchedShows].contains($0.kind) }) {
            let detail = scan.sections.isEmpty ? "no JSON files" : "\(scan.sections.count) file(s), none of them watch history"
            throw .noTraktData(paths: paths, detail: detail)
        }
    }

    // MARK: - Finding files

    enum Source: Sendable {
        /// A JSON file on disk.
        case file(name: String, path: String)
        /// A JSON entry in a ZIP archive.
        case zipEntry(name: String, archivePath: String, entryPath: String)
        /// Listed in the report, never read.
        case skipped(name: String, note: String)

        var name: String {
            switch self {
            case .file(let name, _), .zipEntry(let name, _, _), .skipped(let name, _): return name
            }
        }

        /// Where a person finds it: the file's path, or `archive.zip:entry/path`.
        var displayName: String {
            switch self {
            case .file(_, let path): return path
            case .zipEntry(_, let archivePath, let entryPath): return "\(archivePath):\(entryPath)"
            case .skipped(let name, _): return name
            }
        }

        /// A file found in a folder or an archive: never opened when it holds personal data, read
        /// (as `readable`) when it is JSON, else only listed.
        static func found(_ name: String, base: String, readable: Source) -> Source {
            if isPrivate(base) { return .skipped(name: name, note: "never opened: holds personal data") }
            if base.lowercased().hasSuffix(".json") { return readable }
            return .skipped(name: name, note: "not a JSON file")
        }
    }

    static func listSources(path: String, limits: ReadLimits) throws(TraktExportError) -> [Source] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notFound(path: path)
        }
        if isDirectory.boolValue {
            return try folderSources(path, limits: limits)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied")
        }
        if try isZip(path) {
            return try zipSources(path, limits: limits)
        }
        let base = (path as NSString).lastPathComponent
        if isPrivate(base) {
            return [.skipped(name: base, note: "never opened: holds personal data")]
        }
        return [.file(name: base, path: path)]
    }

    static func isZip(_ path: String) throws(TraktExportError) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(path: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic.starts(with: [0x50, 0x4B]) || path.lowercased().hasSuffix(".zip")
    }

    static func folderSources(_ root: String, limits: ReadLimits) throws(TraktExportError) -> [Source] {
        let rootURL = URL(fileURLWithPath: root)
        guard let enumerator = FileManager.default.enumerator(
            at: rootURL, includingPropertiesForKeys: [.isRegularFileKey],
            options: [.skipsHiddenFiles], errorHandler: { _, _ in true }) else {
            throw .unreadable(path: root, reason: "cannot list the folder")
        }
        var found: [Source] = []
        let rootPath = rootURL.standardizedFileURL.path
        for case let url as URL in enumerator {
            let full = url.standardizedFileURL.path
            var relative = full.hasPrefix(rootPath) ? String(full.dropFirst(rootPath.count)) : url.lastPathComponent
            while relative.hasPrefix("/") { relative.removeFirst() }
            let base = url.lastPathComponent
            if base == "__MACOSX" { enumerator.skipDescendants(); continue }
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            if found.count >= limits.maxFiles {
                throw .tooLarge(file: root, reason: "more than \(limits.maxFiles) files")
            }
            found.append(.found(relative, base: base, readable: .file(name: relative, path: full)))
        }
        return found.sorted { NaturalOrder.less($0.name, $1.name) }
    }

    static func zipSources(_ path: String, limits: ReadLimits) throws(TraktExportError) -> [Source] {
        let archive = try openArchive(path)
        var found: [Source] = []
        for entry in archive {
            guard entry.type == .file else { continue }
            let entryPath = entry.path
            let components = entryPath.split(separator: "/")
            guard let base = components.last.map(String.init) else { continue }
            if components.contains(where: { $0 == "__MACOSX" || $0.hasPrefix(".") }) { continue }
            if found.count >= limits.maxFiles {
                throw .tooLarge(file: path, reason: "more than \(limits.maxFiles) entries")
            }
            found.append(.found(entryPath, base: base, readable: .zipEntry(name: entryPath, archivePath: path, entryPath: entryPath)))
        }
        return found.sorted { NaturalOrder.less($0.name, $1.name) }
    }

    static func openArchive(_ path: String) throws(TraktExportError) -> Archive {
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .corruptArchive(path: path, reason: "\(error)")
        }
    }

    // MARK: - Reading

    /// Reads and parses the files on all cores: each worker takes every n-th file, with its own handle
    /// on each ZIP archive (one `Archive` cannot be read from two threads), and results are handed
    /// over in file order, so the outcome never depends on timing.
    static func load(_ sources: [Source], limits: ReadLimits, interner: TitleInterner, lists: ListSelection,
                     reserve: (Int) -> Void, deliver: (ClassifiedFile) -> Void) throws(TraktExportError) {
        guard !sources.isEmpty else { return }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, sources.count))
        let results = Mutex<[Result<ClassifiedFile, TraktExportError>?]>(Array(repeating: nil, count: sources.count))
        let failed = Atomic<Bool>(false)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var archives: [String: OpenArchive] = [:]
            var k = worker
            while k < sources.count, !failed.load(ordering: .relaxed) {
                let outcome: Result<ClassifiedFile, TraktExportError>
                do throws(TraktExportError) {
                    let data = try bytes(of: sources[k], limits: limits, archives: &archives)
                    outcome = parse(sources[k], data: data, interner: interner, lists: lists)
                } catch {
                    outcome = .failure(error)
                }
                if case .failure = outcome { failed.store(true, ordering: .relaxed) }
                results.withLock { $0[k] = outcome }
                k += workers
            }
        }
        var ordered = results.withLock { all in
            defer { all = [] }
            return all
        }
        var total = 0
        for case .success(let file)? in ordered { total += file.records.reduce(0) { $0 + $1.count } }
        reserve(total)
        for k in ordered.indices {
            // After a failure some later files were never read: the first failure in file order is reported.
            // Each file's rows are freed as soon as they are handed over.
            guard let outcome = ordered[k] else { continue }
            ordered[k] = nil
            switch outcome {
            case .success(let file): deliver(file)
            case .failure(let error): throw error
            }
        }
    }

    /// An archive opened by one worker, with its entries indexed by path (ZIPFoundation's own
    /// lookup walks the whole central directory on every call).
    struct OpenArchive {
        let archive: Archive
        let entries: [String: Entry]
    }

    static func bytes(of source: Source, limits: ReadLimits, archives: inout [String: OpenArchive]) throws(TraktExportError) -> Data? {
        switch source {
        case .skipped:
            return nil
        case .file(_, let path):
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            if size > limits.maxFileBytes {
                throw .tooLarge(file: path, reason: "\(size) bytes, more than the limit of \(limits.maxFileBytes)")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path: path, reason: "read failed")
            }
            return data
        case .zipEntry(_, let archivePath, let entryPath):
            let open: OpenArchive
            if let known = archives[archivePath] {
                open = known
            } else {
                let archive = try openArchive(archivePath)
                var entries: [String: Entry] = [:]
                for entry in archive where entries[entry.path] == nil { entries[entry.path] = entry }
                open = OpenArchive(archive: archive, entries: entries)
                archives[archivePath] = open
            }
            let name = source.displayName
            guard let entry = open.entries[entryPath] else {
                throw .corruptArchive(path: archivePath, reason: "entry \(entryPath) vanished")
            }
            let declared = entry.uncompressedSize
            if declared > UInt64(limits.maxFileBytes) {
                throw .tooLarge(file: name, reason: "\(declared) bytes uncompressed, more than the limit of \(limits.maxFileBytes)")
            }
            if declared > UInt64(limits.ratioFloorBytes), entry.compressedSize > 0,
               declared / entry.compressedSize > UInt64(limits.maxCompressionRatio) {
                throw .tooLarge(file: name, reason: "compression ratio over \(limits.maxCompressionRatio):1 (a ZIP bomb?)")
            }
            do {
                let (data, checksum) = try ZipEntryReader.read(entry, of: open.archive, path: archivePath, cap: limits.maxFileBytes,
                                                             reserve: Int(min(declared, UInt64(limits.ratioFloorBytes))))
                if checksum != entry.checksum {
                    throw TraktExportError.corruptArchive(path: archivePath, reason: "entry \(entryPath) fails its checksum")
                }
                return data
            } catch is ReadCapExceeded {
                throw .tooLarge(file: name, reason: "more than \(limits.maxFileBytes) bytes uncompressed")
            } catch let error as TraktExportError {
                throw error
            } catch {
                throw .corruptArchive(path: archivePath, reason: "entry \(entryPath): \(error)")
            }
        }
    }

    static func parse(_ source: Source, data: Data?, interner: TitleInterner,
                      lists: ListSelection) -> Result<ClassifiedFile, TraktExportError> {
        if case .skipped(let name, let note) = source {
            var file = ClassifiedFile(interner: interner, selection: lists)
            file.ignore(name, note: note)
            return .success(file)
        }
        let parsed = (data ?? Data()).withUnsafeBytes { raw in
            Result { () throws(JSONSyntaxError) in try JSONParser.parse(raw.bindMemory(to: UInt8.self)) }
        }
        switch parsed {
        case .success(let document):
            return .success(Classifier.classify(document, name: source.name, interner: interner, lists: lists))
        case .failure(let error):
            return .failure(.malformedJSON(file: source.displayName, line: error.line, column: error.column, reason: error.reason))
        }
    }
}

/// Orders `watched-history-2.json` before `watched-history-10.json`.
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        while i < x.count && j < y.count {
            let cx = x[i], cy = y[j]
            if isDigit(cx) && isDigit(cy) {
                var ei = i, ej = j
                while ei < x.count && isDigit(x[ei]) { ei += 1 }
                while ej < y.count && isDigit(y[ej]) { ej += 1 }
                // Compare numerically without overflow: strip leading zeros, then length, then digits.
                var si = i, sj = j
                while si < ei - 1 && x[si] == 48 { si += 1 }
                while sj < ej - 1 && y[sj] == 48 { sj += 1 }
                if ei - si != ej - sj { return ei - si < ej - sj }
                for k in 0..<(ei - si) where x[si + k] != y[sj + k] { return x[si + k] < y[sj + k] }
                i = ei
                j = ej
            } else {
                if cx != cy { return cx < cy }
                i += 1
                j += 1
            }
        }
        return x.count - i < y.count - j
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}
