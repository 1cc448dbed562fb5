import DiscovrAPI

/// Where one play stands in the queue. The raw values are what the `state` column holds.
public enum ItemState: String, Sendable, CaseIterable, Codable {
    /// Waiting to be sent (first time, or again after a retryable answer).
    case pending
    /// Claimed by a sender; back to pending when the next run opens the queue if it never settles.
    case inFlight = "in-flight"
    /// The server confirmed it (2xx, or 409 "already in history").
    case delivered
    /// Given up on permanently; `retryFailed()` moves it back to pending.
    case failed
}

/// One planned write as the planner hands it to the queue: typed facts, not a body.
public struct QueueEntry: Sendable, Equatable {
    public var outgoing: Outgoing
    /// Send order within the item's lane (plays first, then list writes): ms since 1970, nil first.
    /// For a play this is its `updatedAt` (nil: sent without one), for a list write the date of the
    /// record it came from (order only).
    public var sortAt: Int64?
    /// Human label for status and failures, e.g. "Breaking Bad S01E05" (no secrets).
    public var title: String

    /// A play: sorted by its `updatedAt`.
    public init(play: HistoryItem, title: String) {
        outgoing = .play(play)
        sortAt = play.updatedAt?.millisecondsSince1970
        self.title = title
    }

    /// A list write, sent after every play, in `sortAt` order.
    public init(list: ListItem, sortAt: Int64?, title: String) {
        outgoing = .list(list)
        self.sortAt = sortAt
        self.title = title
    }

    init(outgoing: Outgoing, sortAt: Int64?, title: String) {
        self.outgoing = outgoing
        self.sortAt = sortAt
        self.title = title
    }

    public var playKey: String { outgoing.playKey }
    public var itemKey: String { outgoing.itemKey }
    /// 0 for a play, 1 for a list write: every play is sent before any list write.
    var lane: Int { outgoing.list == nil ? 0 : 1 }
}

/// An item handed out by `claim`, now in flight.
public struct QueuedItem: Sendable, Equatable {
    public var id: Int64
    /// What to send.
    public var outgoing: Outgoing
    public var title: String
    /// Attempts counted so far (before this one).
    public var attempts: Int
    /// An earlier send may have been stored: read it back before sending again.
    public var uncertain: Bool
    /// For an uncertain item: when the earliest send that may have been stored began (ms since 1970).
    public var sentAtMs: Int64?
    /// When this item was last claimed or sent before this claim (ms since 1970), nil if never: the
    /// grace period of a read-back runs from the latest send that may still be under way at the server.
    public var lastSendMs: Int64?

    public init(id: Int64, outgoing: Outgoing, title: String, attempts: Int,
                uncertain: Bool = false, sentAtMs: Int64? = nil, lastSendMs: Int64? = nil) {
        self.id = id
        self.outgoing = outgoing
        self.title = title
        self.attempts = attempts
        self.uncertain = uncertain
        self.sentAtMs = sentAtMs
        self.lastSendMs = lastSendMs
    }

    public var playKey: String { outgoing.playKey }
    public var itemKey: String { outgoing.itemKey }
}

/// What one `enqueue` call did.
public struct EnqueueSummary: Sendable, Equatable {
    /// Entries that were new to the queue.
    public var added: Int
    /// Entries whose play key the queue already held (in any state), or that repeated one earlier in the batch.
    public var alreadyQueued: Int

    public init(added: Int, alreadyQueued: Int) {
        self.added = added
        self.alreadyQueued = alreadyQueued
    }
}

/// How many items are in each state.
public struct StateCounts: Sendable, Equatable, Codable {
    public var pending: Int
    public var inFlight: Int
    public var delivered: Int
    /// Delivered items whose answer was 409 (a subset of delivered).
    public var alreadyPresent: Int
    public var failed: Int
    public var total: Int { pending + inFlight + delivered + failed }

    public init(pending: Int = 0, inFlight: Int = 0, delivered: Int = 0, alreadyPresent: Int = 0, failed: Int = 0) {
        self.pending = pending
        self.inFlight = inFlight
        self.delivered = delivered
        self.alreadyPresent = alreadyPresent
        self.failed = failed
    }
}

/// A permanently failed item, as `status` and the report list it.
public struct FailureRecord: Sendable, Equatable {
    public var outgoing: Outgoing
    public var title: String
    public var attempts: Int
    /// The HTTP status of the last answer; nil when the last attempt got no answer.
    public var lastStatus: Int?
    public var lastMessage: String?

    public init(outgoing: Outgoing, title: String, attempts: Int, lastStatus: Int?, lastMessage: String?) {
        self.outgoing = outgoing
        self.title = title
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastMessage = lastMessage
    }

    public var playKey: String { outgoing.playKey }
}

/// List writes by list and state: the report's `delivery.lists` and what `status` shows of them.
public struct ListWriteCounts: Sendable, Equatable {
    public typealias Tally = ListTally

    public var byList: [DiscovrList: Tally] = [:]
    /// Of the pending ones, those in flight; and delivered ones answered 409 (all lists together).
    public var inFlight = 0
    public var alreadyPresent = 0

    public init(byList: [DiscovrList: Tally] = [:]) {
        self.byList = byList
    }

    /// All lists together.
    public var total: Tally {
        byList.values.reduce(into: Tally()) { sum, tally in
            sum.delivered += tally.delivered
            sum.moved += tally.moved
            sum.failed += tally.failed
            sum.pending += tally.pending
        }
    }

    /// From rows of (list, state, count, moved).
    static let sql = """
        SELECT list, state, count(*), coalesce(sum(removed IS NOT NULL), 0), coalesce(sum(already_present), 0)
        FROM item WHERE lane = 1 GROUP BY list, state
        """

    mutating func add(list: String, state: String, count: Int, moved: Int, alreadyPresent: Int) {
        guard let list = DiscovrList(rawValue: list) else { return }
        var tally = byList[list, default: Tally()]
        switch ItemState(rawValue: state) {
        case .delivered: tally.delivered += count; tally.moved += moved; self.alreadyPresent += alreadyPresent
        case .failed: tally.failed += count
        case .pending: tally.pending += count
        case .inFlight: tally.pending += count; inFlight += count
        case nil: break
        }
        byList[list] = tally
    }
}

extension StateCounts {
    /// These counts without the list writes of `lists`: the plays alone.
    public func playsOnly(_ lists: ListWriteCounts) -> StateCounts {
        let l = lists.total
        return StateCounts(pending: pending - (l.pending - lists.inFlight), inFlight: inFlight - lists.inFlight,
                           delivered: delivered - l.delivered, alreadyPresent: alreadyPresent - lists.alreadyPresent,
                           failed: failed - l.failed)
    }
}
