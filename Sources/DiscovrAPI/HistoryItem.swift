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
    public var itemKey: String { keys.item }

    /// The play key of the contract: (item key, updatedAt). Unique in the queue.
    public var playKey: String { keys.play }

    /// Both keys at once (the queue stores both for every item), written byte by byte:
    /// `TV_TMDBID1396:1:5` and `TV_TMDBID1396:1:5@1673740800000` (`@-` without a date).
    public var keys: (item: String, play: String) {
        var itemLength = 0
        let play = String(unsafeUninitializedCapacity: Self.keysCapacity) { buffer in
            var out = BodyWriter(buffer: buffer)
            itemLength = out.append(keysOf: self)
            return out.count
        }
        return (String(play.utf8.prefix(itemLength))!, play)
    }

    /// The JSON body, keys in a fixed order, no whitespace:
    /// `{"mediaId":"TV_TMDBID1396","season":1,"episode":5,"progress":100,"updatedAt":"...","imported":"trakt"}`.
    public var jsonBody: String { jsonBody(form: .tmdbid) }

    /// The JSON body with the media id written in `form`. Written byte by byte into the string's
    /// own buffer: a dry run with `--items-out` writes one body per planned play.
    public func jsonBody(form: MediaIDForm) -> String {
        let parts = BodyParts(self)
        return String(unsafeUninitializedCapacity: parts.capacity) { buffer in
            var out = BodyWriter(buffer: buffer)
            out.append(bodyOf: self, form: form, parts: parts)
            return out.count
        }
    }

    /// Room for both keys: the longest media id, two Int season and episode numbers and a date.
    static let keysCapacity = 96

    /// The parts of the body that are not written digit by digit, and the room the body needs.
    struct BodyParts {
        var imported: String
        var progress: String?
        var capacity: Int

        init(_ item: HistoryItem) {
            imported = item.imported == HistoryItem.importSource ? HistoryItem.importSource : JSONText.escape(item.imported)
            progress = item.progress == item.progress.rounded() && abs(item.progress) < 1e15 ? nil : String(item.progress)
            capacity = 224 + imported.utf8.count + (progress?.utf8.count ?? 0)
        }
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
}

/// Appends bytes to a buffer known to be large enough (the caller sizes it for the longest body).
struct BodyWriter {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { buffer[count] = byte; count += 1 }
        }
    }

    mutating func append(text: String) {
        for byte in text.utf8 { buffer[count] = byte; count += 1 }
    }

    mutating func append(integer value: Int64) {
        if value < 0 { buffer[count] = UInt8(ascii: "-"); count += 1 }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits += 1 }
        var k = count + digits - 1
        repeat {
            buffer[k] = UInt8(48 + magnitude % 10)
            magnitude /= 10
            k -= 1
        } while magnitude > 0
        count += digits
    }

    /// `value` in exactly `width` digits (as `Timestamp.iso8601` writes each field).
    mutating func append(_ value: Int, width: Int) {
        var x = value
        for k in stride(from: count + width - 1, through: count, by: -1) {
            buffer[k] = UInt8(truncatingIfNeeded: 48 + x % 10)
            x /= 10
        }
        count += width
    }

    /// The play key (`TV_TMDBID1396:1:5@1673740800000`, `@-` without a date), whose start is the item
    /// key: returns the item key's length.
    mutating func append(keysOf item: HistoryItem) -> Int {
        append(mediaId: item.mediaId, form: .tmdbid)
        if let season = item.season, let episode = item.episode {
            append(":")
            append(integer: Int64(season))
            append(":")
            append(integer: Int64(episode))
        }
        let itemLength = count
        append("@")
        if let updatedAt = item.updatedAt { append(integer: updatedAt.millisecondsSince1970) } else { append("-") }
        return itemLength
    }

    /// `HistoryItem.jsonBody(form:)`; `parts` sized the buffer.
    mutating func append(bodyOf item: HistoryItem, form: MediaIDForm, parts: HistoryItem.BodyParts) {
        append("{\"mediaId\":\"")
        append(mediaId: item.mediaId, form: form)
        append("\"")
        if let season = item.season { append(",\"season\":"); append(integer: Int64(season)) }
        if let episode = item.episode { append(",\"episode\":"); append(integer: Int64(episode)) }
        append(",\"progress\":")
        if let progress = parts.progress { append(text: progress) } else { append(integer: Int64(item.progress)) }
        if let updatedAt = item.updatedAt { append(",\"updatedAt\":\""); append(timestamp: updatedAt); append("\"") }
        append(",\"imported\":\"")
        append(text: parts.imported)
        append("\"}")
    }

    /// `id` as `MediaID.rawValue(in: form)` writes it, from the same parts (`MediaID.Kind.head`).
    mutating func append(mediaId id: MediaID, form: MediaIDForm) {
        append(text: id.kind.head)
        append("_")
        if form == .tmdbid { append("TMDBID") }
        append(integer: id.tmdb)
    }

    /// `Timestamp.iso8601` (which is written by this): 24 bytes, `2023-01-15T00:00:00.000Z`.
    mutating func append(timestamp: Timestamp) {
        let ms = timestamp.millisecondsSince1970
        let totalSeconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = Int(ms - totalSeconds * 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secOfDay = Int(totalSeconds - days * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        append(y, width: 4); append("-"); append(m, width: 2); append("-"); append(d, width: 2); append("T")
        append(secOfDay / 3600, width: 2); append(":"); append(secOfDay / 60 % 60, width: 2); append(":")
        append(secOfDay % 60, width: 2); append("."); append(millis, width: 3); append("Z")
    }
}

/// Minimal JSON text helpers shared by the modules that write JSON by hand.
public enum JSONText {
    public static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return s }
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
