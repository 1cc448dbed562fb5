/// Discovr's prefixed media identifier. The docs show two wire forms (`discovr-api.md`): the seed
/// page's `MV_TMDBID550` / `TV_TMDBID1396`, and the newer pages' `MV_550` / `TV_1396`. A `MediaID` is
/// the value; `MediaIDForm` says how it is written. Both forms are read everywhere.
public struct MediaID: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case movie
        case show

        /// `MV` or `TV`.
        public var head: String {
            switch self {
            case .movie: return "MV"
            case .show: return "TV"
            }
        }

        /// The kind whose `head` is `text`.
        public init?(head text: String) {
            switch text {
            case "MV": self = .movie
            case "TV": self = .show
            default: return nil
            }
        }
    }

    public let kind: Kind
    public let tmdb: Int64

    public init(kind: Kind, tmdb: Int64) {
        self.kind = kind
        self.tmdb = tmdb
    }

    public static func movie(_ tmdb: Int64) -> MediaID { MediaID(kind: .movie, tmdb: tmdb) }
    public static func show(_ tmdb: Int64) -> MediaID { MediaID(kind: .show, tmdb: tmdb) }

    /// The seed page's form, for example `TV_TMDBID1396`: what the planner writes and the queue keys on.
    public var rawValue: String { rawValue(in: .tmdbid) }
    public var description: String { rawValue }

    /// The id written in `form`: `TV_TMDBID1396` or `TV_1396`.
    public func rawValue(in form: MediaIDForm) -> String {
        switch form {
        case .tmdbid: return kind.head + "_TMDBID" + String(tmdb)
        case .short: return kind.head + "_" + String(tmdb)
        }
    }

    /// Parses either wire form; nil unless it is `MV_`/`TV_`, optionally `TMDBID`, then a positive
    /// decimal id without leading zeros.
    public init?(rawValue: String) {
        guard let parsed = MediaID.parse(rawValue) else { return nil }
        self = parsed.id
    }

    /// The id and the form it was written in.
    public static func parse(_ text: String) -> (id: MediaID, form: MediaIDForm)? {
        let kind: Kind
        switch text.prefix(3) {
        case "MV_": kind = .movie
        case "TV_": kind = .show
        default: return nil
        }
        var digits = text.dropFirst(3)
        var form = MediaIDForm.short
        if digits.hasPrefix("TMDBID") {
            digits = digits.dropFirst(6)
            form = .tmdbid
        }
        guard !digits.isEmpty, digits.count <= 18, digits.first != "0",
              digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int64(digits), value > 0 else { return nil }
        return (MediaID(kind: kind, tmdb: value), form)
    }
}

/// How a media id is written on the wire (`--media-id-form`, `importer.md` section 5).
public enum MediaIDForm: String, Sendable, CaseIterable, Codable {
    /// `MV_TMDBID550`, `TV_TMDBID1396`: the seed page's form, and the default when nothing else is known.
    case tmdbid
    /// `MV_550`, `TV_1396`: the form of the newer reference pages and of what `GET /profile/history` answers.
    case short

    /// The other form (for the auto-detection's one switch).
    public var other: MediaIDForm { self == .tmdbid ? .short : .tmdbid }
}
