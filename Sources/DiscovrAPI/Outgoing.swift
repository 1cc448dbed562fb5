/// One write the importer makes at Discovr, as typed facts: a play for `POST /profile/history`, or a
/// title for one of the profile's lists (`POST /profile/{list}`). The queue keeps these facts, not
/// bodies; the body is written once, at send time, in the state's media id form.
public enum Outgoing: Hashable, Sendable {
    case play(HistoryItem)
    case list(ListItem)

    public var mediaId: MediaID {
        switch self {
        case .play(let item): return item.mediaId
        case .list(let item): return item.mediaId
        }
    }

    /// The play, or nil for a list write.
    public var play: HistoryItem? {
        if case .play(let item) = self { return item }
        return nil
    }

    /// The list, or nil for a play.
    public var list: DiscovrList? {
        if case .list(let item) = self { return item.list }
        return nil
    }

    /// A second send of the same write adds a second entry: true for a play (history appends), false
    /// for a list write (lists are sets). What decides whether a send whose outcome is unknown must
    /// be read back before it is sent again.
    public var appends: Bool { play != nil }

    /// The queue's unique key (`HistoryItem.playKey` or `ListItem.playKey`).
    public var playKey: String {
        switch self {
        case .play(let item): return item.playKey
        case .list(let item): return item.playKey
        }
    }

    /// Writes of one item key go one at a time, in send order.
    public var itemKey: String {
        switch self {
        case .play(let item): return item.itemKey
        case .list(let item): return item.itemKey
        }
    }

    /// The request path.
    public var path: String {
        switch self {
        case .play: return DiscovrEndpoints.history
        case .list(let item): return item.list.path
        }
    }

    /// The POST body with the media id written in `form`.
    public func jsonBody(form: MediaIDForm) -> String {
        switch self {
        case .play(let item): return item.jsonBody(form: form)
        case .list(let item): return item.jsonBody(form: form)
        }
    }
}
