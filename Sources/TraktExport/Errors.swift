/// Why an export could not be read at all. Per-record problems are never errors: they are skips.
public enum TraktExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An input path does not exist.
    case notFound(path: String)
    /// An input path exists but cannot be read (permissions, a special file, an I/O error).
    case unreadable(path: String, reason: String)
    /// A file is not valid JSON; line and column are 1-based.
    case malformedJSON(file: String, line: Int, column: Int, reason: String)
    /// A ZIP archive is damaged or not a ZIP archive.
    case corruptArchive(path: String, reason: String)
    /// A file or archive entry is larger than any real export, or compresses suspiciously well.
    case tooLarge(file: String, reason: String)
    /// None of the inputs holds Trakt watch data.
    case noTraktData(paths: [String], detail: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): no such file or folder; check the path (a Trakt export is a .zip, a folder or .json files)"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read (\(reason)); check its permissions"
        case .malformedJSON(let file, let line, let column, let reason):
            return "\(file):\(line):\(column): malformed JSON: \(reason); the file is damaged or was cut short: download the export again"
        case .corruptArchive(let path, let reason):
            return "\(path): not a readable ZIP archive (\(reason)); download the export again, or unzip it and pass the folder"
        case .tooLarge(let file, let reason):
            return "\(file): refused: \(reason); no real Trakt export file is this large"
        case .noTraktData(let paths, let detail):
            return "no Trakt watch data found in \(paths.joined(separator: ", ")) (\(detail)); pass the export ZIP from Trakt's settings, its folder, or its watched-history JSON files"
        }
    }

    /// An input that is missing or cannot be read, as against one that was read and is unusable (the
    /// executable tells them apart by exit code).
    public var isMissingInput: Bool {
        switch self {
        case .notFound, .unreadable: return true
        default: return false
        }
    }
}
