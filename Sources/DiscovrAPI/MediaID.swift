/// Discovr's prefixed media identifier: `MV_TMDBID<n>` for a movie, `TV_TMDBID<n>` for a show.
public struct MediaID: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case movie
        case show

        var prefix: String {
            switch self {
            case .movie: return "MV_TMDBID"
            case .show: return "TV_TMDBID"
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

    /// The wire form, for example `TV_TMDBID1396`.
    public var rawValue: String { kind.prefix + String(tmdb) }
    public var description: String { rawValue }

    /// Parses the wire form; nil unless it is a known prefix followed by a positive decimal id.
    public init?(rawValue: String) {
        let kind: Kind
        if rawValue.hasPrefix(Kind.movie.prefix) {
            kind = .movie
        } else if rawValue.hasPrefix(Kind.show.prefix) {
            kind = .show
        } else {
            return nil
        }
        let digits = rawValue.dropFirst(kind.prefix.count)
        guard !digits.isEmpty, digits.count <= 18, digits.first != "0",
              digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int64(digits), value > 0 else { return nil }
        self.init(kind: kind, tmdb: value)
    }
}
