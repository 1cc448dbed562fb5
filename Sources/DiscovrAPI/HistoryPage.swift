/// One entry of `GET /profile/history` or `GET /profile/history/{mediaId}` (documented, `get-history-items`).
/// Only the fields the importer matches on; every other key is ignored.
public struct HistoryEntry: Sendable, Equatable {
    /// The `id` as the server wrote it (`TV_1396`, or `TV_TMDBID1396`).
    public var rawId: String
    /// `rawId` understood in either form; nil when it is neither.
    public var mediaId: MediaID?
    public var season: Int?
    public var episode: Int?
    public var progress: Double?
    public var updatedAt: Timestamp?
    public var createdAt: Timestamp?
    public var imported: String?

    public init(rawId: String, mediaId: MediaID? = nil, season: Int? = nil, episode: Int? = nil, progress: Double? = nil,
                updatedAt: Timestamp? = nil, createdAt: Timestamp? = nil, imported: String? = nil) {
        self.rawId = rawId
        self.mediaId = mediaId ?? MediaID(rawValue: rawId)
        self.season = season
        self.episode = episode
        self.progress = progress
        self.updatedAt = updatedAt
        self.createdAt = createdAt
        self.imported = imported
    }

    /// Reads one entry; nil when it has no string `id`. A field of the wrong type reads as missing.
    public init?(json: JSONValue) {
        guard let object = json.objectValue, let id = object["id"]?.stringValue ?? object["mediaId"]?.stringValue else {
            return nil
        }
        func time(_ key: String) -> Timestamp? { object[key]?.stringValue.flatMap { Timestamp(iso8601: $0) } }
        self.init(rawId: id, season: object.int32("season"), episode: object.int32("episode"),
                  progress: object["progress"]?.doubleValue.flatMap { $0.isFinite ? $0 : nil },
                  updatedAt: time("updatedAt"), createdAt: time("createdAt"),
                  imported: object["imported"]?.stringValue)
    }
}

/// One page of history: `{"items": [...], "hasMore": true, "nextPageToken": "<opaque>"}`.
public struct HistoryPage: Sendable, Equatable {
    public var items: [HistoryEntry]
    public var hasMore: Bool
    /// Opaque; passed back as `nextPageToken` for the next page. Nil on the last page.
    public var nextPageToken: String?

    public init(items: [HistoryEntry], hasMore: Bool, nextPageToken: String?) {
        self.items = items
        self.hasMore = hasMore
        self.nextPageToken = nextPageToken
    }

    /// Longest page token passed back to a server; a longer one is treated as the end of the list.
    public static let maximumPageTokenLength = 4096

    /// Reads a page body; nil when it is not a JSON object with an `items` array. Entries without an
    /// id are dropped. There is a next page only when `hasMore` is not false and a usable token is given.
    public static func parse(body: [UInt8]) -> HistoryPage? {
        guard let value = try? JSONParser.parse(body), let object = value.objectValue,
              let items = object["items"]?.arrayValue else { return nil }
        let token = object["nextPageToken"]?.stringValue.flatMap { text -> String? in
            text.isEmpty || text.utf8.count > maximumPageTokenLength ? nil : text
        }
        let hasMore = token != nil && object["hasMore"] != .bool(false)
        return HistoryPage(items: items.compactMap(HistoryEntry.init(json:)), hasMore: hasMore,
                           nextPageToken: hasMore ? token : nil)
    }
}

/// The error body of a Discovr answer. Its shape is assumed (`discovr-api.md`): `{"code"?, "message"?}`,
/// also `error` for the message. Codes the SDK documents: `TOKEN_INVALID`, `TOKEN_EXPIRED`,
/// `SESSION_EXPIRED`, `WRONG_TOKEN_KIND`.
public struct ErrorBody: Sendable, Equatable {
    public var code: String?
    public var message: String?

    public init(code: String? = nil, message: String? = nil) {
        self.code = code
        self.message = message
    }

    public static let tokenInvalid = "TOKEN_INVALID"
    public static let tokenExpired = "TOKEN_EXPIRED"
    public static let sessionExpired = "SESSION_EXPIRED"
    public static let wrongTokenKind = "WRONG_TOKEN_KIND"

    /// Reads `code` and `message` (or `error`) from a JSON object body, each cut at 300 characters;
    /// both nil when the body is not such an object.
    public static func parse(body: [UInt8]) -> ErrorBody {
        guard let object = (try? JSONParser.parse(body))?.objectValue else { return ErrorBody() }
        return ErrorBody(code: object.text("code", limit: 300),
                         message: object.text("message", limit: 300) ?? object.text("error", limit: 300))
    }
}
