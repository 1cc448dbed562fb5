import DiscovrAPI
/// Turns parsed JSON into records. Tolerant by design: a field of the wrong type reads as missing,
/// and the planner then skips the record with a reason; nothing here throws.
enum RecordDecoding {
    static func title(_ value: JSONValue?) -> TraktTitle? {
        guard let object = value?.objectValue else { return nil }
        let ids = object["ids"]?.objectValue
        return TraktTitle(
            title: object["title"]?.stringValue,
            year: smallInt(object["year"]),
            slug: ids?["slug"]?.stringValue,
            tmdb: positiveID(ids?["tmdb"]),
            trakt: positiveID(ids?["trakt"]),
            tvdb: positiveID(ids?["tvdb"]),
            imdb: ids?["imdb"]?.stringValue
        )
    }

    /// A positive integer id; also a string of digits (some backup tools write ids as strings).
    static func positiveID(_ value: JSONValue?) -> Int64? {
        guard let value else { return nil }
        if let n = value.intValue { return n > 0 ? n : nil }
        if let s = value.stringValue, !s.isEmpty, s.count <= 18, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
           let n = Int64(s), n > 0 {
            return n
        }
        return nil
    }

    /// An integer that fits comfortably in an Int32 (season and episode numbers, years).
    static func smallInt(_ value: JSONValue?) -> Int? {
        guard let n = value?.intValue, n >= -2_000_000_000, n <= 2_000_000_000 else { return nil }
        return Int(n)
    }

    static func episode(_ value: JSONValue?) -> TraktEpisode? {
        guard let object = value?.objectValue else { return nil }
        return TraktEpisode(season: smallInt(object["season"]), number: smallInt(object["number"]))
    }

    static func mediaType(_ object: JSONObject) -> MediaType {
        switch object["type"]?.stringValue {
        case "movie": return .movie
        case "episode": return .episode
        default:
            // No (or an odd) type: decide by the objects present.
            if object["episode"] != nil || object["show"] != nil { return .episode }
            return .movie
        }
    }

    /// A history or playback record. A non-object element becomes a play with no media.
    static func play(_ value: JSONValue, timestampKey: String, withProgress: Bool) -> TraktPlay {
        guard let object = value.objectValue else {
            return TraktPlay(type: .movie, timestamp: nil)
        }
        let type = mediaType(object)
        return TraktPlay(
            type: type,
            movie: type == .movie ? title(object["movie"]) : nil,
            show: type == .episode ? title(object["show"]) : nil,
            episode: type == .episode ? episode(object["episode"]) : nil,
            timestamp: object[timestampKey]?.stringValue,
            progress: withProgress ? object["progress"]?.doubleValue : nil
        )
    }

    static func watchedMovie(_ value: JSONValue) -> TraktPlay {
        let object = value.objectValue
        return TraktPlay(type: .movie, movie: title(object?["movie"]), timestamp: object?["last_watched_at"]?.stringValue)
    }

    /// The records of one `watched-shows` row: one per episode entry, or one row record without detail.
    static func watchedShow(_ value: JSONValue, into records: inout RecordRows) {
        let object = value.objectValue
        let show = title(object?["show"])
        var produced = false
        if let seasons = object?["seasons"]?.arrayValue {
            for season in seasons {
                guard let seasonObject = season.objectValue else { continue }
                let seasonNumber = smallInt(seasonObject["number"])
                guard let episodes = seasonObject["episodes"]?.arrayValue else { continue }
                for entry in episodes {
                    let entryObject = entry.objectValue
                    let play = TraktPlay(
                        type: .episode, show: show,
                        episode: TraktEpisode(season: seasonNumber, number: smallInt(entryObject?["number"])),
                        timestamp: entryObject?["last_watched_at"]?.stringValue)
                    records.append(TraktRecord(kind: .watchedEpisode, play: play, fileIndex: 0))
                    produced = true
                }
            }
        }
        if !produced {
            let play = TraktPlay(type: .episode, show: show, timestamp: object?["last_watched_at"]?.stringValue)
            records.append(TraktRecord(kind: .watchedShowWithoutEpisodes, play: play, fileIndex: 0))
        }
    }

    /// A rating, favorite or watchlist entry. A non-object element becomes a record with no media.
    /// `my_rating` (in list items) is never read: Trakt writes it null even for rated titles.
    static func listRecord(_ value: JSONValue, kind: ListRecordKind, fileIndex: Int) -> TraktListRecord {
        guard let object = value.objectValue else {
            return TraktListRecord(kind: kind, type: nil, timestamp: nil, fileIndex: fileIndex)
        }
        let type = listMediaType(object)
        // A season or an episode is about its show.
        let media = type.flatMap { title(object[$0 == .movie ? "movie" : "show"]) }
        var rating: Int64?
        // Only an integer as written: 7.0 reads as an integer through `intValue`, but is not one here.
        if kind == .rating, case .int(let n)? = object["rating"] { rating = n }
        return TraktListRecord(kind: kind, type: type, media: media, rating: rating,
                               timestamp: object[kind == .rating ? "rated_at" : "listed_at"]?.stringValue,
                               fileIndex: fileIndex)
    }

    static func listMediaType(_ object: JSONObject) -> ListMediaType? {
        if let type = object["type"]?.stringValue { return ListMediaType(rawValue: type) }
        // No type: decide by the objects present, the most specific first.
        if object["episode"] != nil { return .episode }
        if object["season"] != nil { return .season }
        if object["show"] != nil { return .show }
        if object["movie"] != nil { return .movie }
        return nil
    }

    static func stats(_ value: JSONValue) -> TraktStats? {
        guard let object = value.objectValue,
              object["movies"]?.objectValue != nil || object["episodes"]?.objectValue != nil else { return nil }
        return TraktStats(moviePlays: smallInt(object["movies"]?["plays"]),
                          episodePlays: smallInt(object["episodes"]?["plays"]))
    }
}
