/// The body of `POST /profile/history`, exactly as the importer sends it.
public struct HistoryItem: Hashable, Sendable {
    public var mediaId: MediaID
    /// Set for episodes only; both or neither (the importer never sends season defaults).
    public var season: Int?
    public var episode: Int?
    /// 0...100, at most two decimals; 100 for a completed play.
    public var progress: Double
    /// Nil when the play's date is unknown and `--unknown-dates omit` is in force.
    public var updatedAt: Timestamp?
    /// The source of the import; always `trakt` for this tool.
    public var imported: String

    public static let importSource = "trakt"

    public init(mediaId: MediaID, season: Int? = nil, episode: Int? = nil, progress: Double = 100,
                updatedAt: Timestamp?, imported: String = HistoryItem.importSource) {
        self.mediaId = mediaId
        self.season = season
        self.episode = episode
        self.progress = progress
        self.updatedAt = updatedAt
        self.imported = imported
    }

    /// The item key of the contract: (mediaId, season, episode). Plays of one key are sent one at a time.
    public var itemKey: String {
        if let season, let episode {
            return "\(mediaId.rawValue):\(season):\(episode)"
        }
        return mediaId.rawValue
    }

    /// The play key of the contract: (item key, updatedAt). Unique in the queue.
    public var playKey: String {
        itemKey + "@" + (updatedAt.map { String($0.millisecondsSince1970) } ?? "-")
    }

    /// The JSON body, keys in a fixed order, no whitespace:
    /// `{"mediaId":"TV_TMDBID1396","season":1,"episode":5,"progress":100,"updatedAt":"...","imported":"trakt"}`.
    public var jsonBody: String { jsonBody(form: .tmdbid) }

    /// The JSON body with the media id written in `form`.
    public func jsonBody(form: MediaIDForm) -> String {
        var out = "{\"mediaId\":\""
        out += mediaId.rawValue(in: form)
        out += "\""
        if let season { out += ",\"season\":" + String(season) }
        if let episode { out += ",\"episode\":" + String(episode) }
        out += ",\"progress\":" + HistoryItem.formatProgress(progress)
        if let updatedAt { out += ",\"updatedAt\":\"" + updatedAt.iso8601 + "\"" }
        out += ",\"imported\":\"" + JSONText.escape(imported) + "\"}"
        return out
    }

    /// Clamps to 0...100 and rounds to two decimals, as the contract asks for playback progress.
    public static func normalizedProgress(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        let clamped = Swift.min(100, Swift.max(0, value))
        return (clamped * 100).rounded() / 100
    }

    /// `100`, `57.6`, `33.33`: whole numbers without a fraction, others in their shortest form.
    public static func formatProgress(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }

    /// Progress from which Discovr counts an episode as completed (from the seed page).
    public static let completedThreshold: Double = 80
}

/// Minimal JSON text helpers shared by the modules that write JSON by hand.
public enum JSONText {
    public static func escape(_ s: String) -> String {
        var needs = false
        for u in s.utf8 where u < 0x20 || u == 0x22 || u == 0x5C { needs = true; break }
        guard needs else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    public static func quote(_ s: String) -> String { "\"" + escape(s) + "\"" }
}
