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

/// One planned item as the planner hands it to the queue.
public struct QueueEntry: Sendable, Equatable {
    /// `HistoryItem.playKey`, unique in the queue.
    public var playKey: String
    /// `HistoryItem.itemKey`; plays of one key are sent one at a time, in order.
    public var itemKey: String
    /// `HistoryItem.jsonBody`, the exact POST body.
    public var body: String
    /// `updatedAt` in ms since 1970; nil (unknown date) sorts first.
    public var sortAt: Int64?
    /// Human label for status and failures, e.g. "Breaking Bad S01E05" (no secrets).
    public var title: String

    public init(playKey: String, itemKey: String, body: String, sortAt: Int64?, title: String) {
        self.playKey = playKey
        self.itemKey = itemKey
        self.body = body
        self.sortAt = sortAt
        self.title = title
    }
}

/// An item handed out by `claim`, now in flight.
public struct QueuedItem: Sendable, Equatable {
    public var id: Int64
    public var playKey: String
    public var itemKey: String
    public var body: String
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

    public init(id: Int64, playKey: String, itemKey: String, body: String, title: String, attempts: Int,
                uncertain: Bool = false, sentAtMs: Int64? = nil, lastSendMs: Int64? = nil) {
        self.id = id
        self.playKey = playKey
        self.itemKey = itemKey
        self.body = body
        self.title = title
        self.attempts = attempts
        self.uncertain = uncertain
        self.sentAtMs = sentAtMs
        self.lastSendMs = lastSendMs
    }
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
public struct FailureRecord: Sendable, Equatable, Codable {
    public var playKey: String
    public var title: String
    public var body: String
    public var attempts: Int
    /// The HTTP status of the last answer; nil when the last attempt got no answer.
    public var lastStatus: Int?
    public var lastMessage: String?

    public init(playKey: String, title: String, body: String, attempts: Int, lastStatus: Int?, lastMessage: String?) {
        self.playKey = playKey
        self.title = title
        self.body = body
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastMessage = lastMessage
    }
}
