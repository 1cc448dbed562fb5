/// One of a profile's lists a title can be put in (`importer.md` section 7). The raw values are the
/// path segment and the report's `list` names.
public enum DiscovrList: String, Sendable, CaseIterable, Codable, Hashable {
    case superLiked = "super_liked"
    case liked
    case disliked
    case watchlist

    /// `POST /profile/{list}`. Only `/profile/disliked` is documented; the others follow its pattern.
    public var path: String { "/profile/" + rawValue }

    /// True for the one path the reference documents (`add-disliked-item`).
    public var isDocumented: Bool { self == .disliked }

    /// True for the three exclusive lists (a title is in at most one of them).
    public var isVerdict: Bool { self != .watchlist }
}

/// One list write: `POST /profile/{list}` with `{"mediaId": ...}`. Lists are sets: a re-send is safe.
public struct ListItem: Hashable, Sendable {
    public var list: DiscovrList
    public var mediaId: MediaID

    public init(list: DiscovrList, mediaId: MediaID) {
        self.list = list
        self.mediaId = mediaId
    }

    /// `{"mediaId":"MV_TMDBID550"}` with the id written in `form`.
    public func jsonBody(form: MediaIDForm) -> String {
        "{\"mediaId\":\"" + mediaId.rawValue(in: form) + "\"}"
    }

    /// The queue's play key, unique per (list, title): `super_liked:MV_TMDBID550`. A re-import of the
    /// same verdict is the same key (not sent again); a changed verdict is a new one.
    public var playKey: String { list.rawValue + ":" + mediaId.rawValue }

    /// The queue's item key: writes of one key go one at a time, in order. The three exclusive lists
    /// share one (`verdict:MV_TMDBID550`), so a later verdict for a title is never overtaken by an earlier one.
    public var itemKey: String { (list.isVerdict ? "verdict:" : "watchlist:") + mediaId.rawValue }
}

/// List writes counted by how they stand: the report's `delivery.lists`, `status`.
public struct ListTally: Sendable, Equatable, Codable {
    public var delivered = 0
    /// Delivered writes whose answer named a list the title left (`removed`).
    public var moved = 0
    public var failed = 0
    /// Pending or in flight.
    public var pending = 0

    public init() {}

    public var total: Int { delivered + failed + pending }
}
