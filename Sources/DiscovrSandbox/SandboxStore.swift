import DiscovrAPI
import Foundation
import Synchronization

/// What the sandbox saw, counted by the store (so the counts survive a restart on the same store).
///
/// `requests` counts `POST /profile/history` requests only, and every one of them ends in exactly one of
/// `stored`, `duplicates`, `rateLimited`, `failed`, `unauthorized` or `invalid`, so
/// `requests == stored + duplicates + rateLimited + failed + unauthorized + invalid`.
/// `dropped` and `slow` are subsets of `stored + duplicates` (the play was decided, then its answer was
/// lost or held back). `tokensIssued` and `tokensRefused` count `POST /auth/session-token` answers.
public struct SandboxStats: Sendable, Codable, Equatable {
    /// `POST /profile/history` requests received.
    public var requests: Int
    /// Plays stored (answered 200, or dropped/slowed after storing).
    public var stored: Int
    /// Plays already in the history, answered 409 and not stored again.
    public var duplicates: Int
    /// Answered 429.
    public var rateLimited: Int
    /// Answered 500 or 503 by the fail-rate knob (not stored).
    public var failed: Int
    /// Stored (or found duplicate), then the connection was closed without an answer.
    public var dropped: Int
    /// Stored (or found duplicate), then answered after `slowDelay` seconds.
    public var slow: Int
    /// History requests answered 401 (no token, unknown or expired session, refresh token used).
    public var unauthorized: Int
    /// History requests answered 400, 413 or 422 (the body was refused).
    public var invalid: Int
    /// Session JWTs issued by `POST /auth/session-token`.
    public var tokensIssued: Int
    /// `POST /auth/session-token` requests refused (wrong token, session JWT used, bad body).
    public var tokensRefused: Int
    /// Times `DiscovrSandbox.serve` stopped the server for the configured outage (0 or 1).
    public var outages: Int

    public init(requests: Int = 0, stored: Int = 0, duplicates: Int = 0, rateLimited: Int = 0, failed: Int = 0,
                dropped: Int = 0, slow: Int = 0, unauthorized: Int = 0, invalid: Int = 0,
                tokensIssued: Int = 0, tokensRefused: Int = 0, outages: Int = 0) {
        self.requests = requests
        self.stored = stored
        self.duplicates = duplicates
        self.rateLimited = rateLimited
        self.failed = failed
        self.dropped = dropped
        self.slow = slow
        self.unauthorized = unauthorized
        self.invalid = invalid
        self.tokensIssued = tokensIssued
        self.tokensRefused = tokensRefused
        self.outages = outages
    }

    /// One line for a terminal or a log, for example
    /// `requests 12: stored 9, duplicates 1, 429 1, 5xx 1, 401 0, invalid 0 (dropped 0, slow 0); tokens issued 1, refused 0`.
    public var summary: String {
        "requests \(requests): stored \(stored), duplicates \(duplicates), 429 \(rateLimited), 5xx \(failed), "
            + "401 \(unauthorized), invalid \(invalid) (dropped \(dropped), slow \(slow)); "
            + "tokens issued \(tokensIssued), refused \(tokensRefused)"
            + (outages > 0 ? "; outages \(outages)" : "")
    }
}

/// A play as the sandbox stored it: the fields of the POST body, as sent.
public struct StoredHistoryItem: Sendable, Codable, Equatable {
    public var mediaId: String
    public var season: Int?
    public var episode: Int?
    public var progress: Double?
    public var updatedAt: String?
    public var imported: String?

    public init(mediaId: String, season: Int? = nil, episode: Int? = nil, progress: Double? = nil,
                updatedAt: String? = nil, imported: String? = nil) {
        self.mediaId = mediaId
        self.season = season
        self.episode = episode
        self.progress = progress
        self.updatedAt = updatedAt
        self.imported = imported
    }

    /// Reads a body that `HistoryValidation.problem(in:)` accepted.
    init(validBody object: [String: Any]) {
        self.mediaId = object["mediaId"] as? String ?? ""
        self.season = (object["season"] as? NSNumber)?.intValue
        self.episode = (object["episode"] as? NSNumber)?.intValue
        self.progress = (object["progress"] as? NSNumber)?.doubleValue
        self.updatedAt = object["updatedAt"] as? String
        self.imported = object["imported"] as? String
    }

    /// What makes two plays the same: media, season, episode and the instant of `updatedAt`
    /// (compared as a moment, so `...00Z` and `...00.000Z` are one play).
    var playIdentity: PlayIdentity {
        PlayIdentity(mediaId: mediaId, season: season, episode: episode,
                     updatedAtMs: updatedAt.flatMap { Timestamp(iso8601: $0)?.millisecondsSince1970 })
    }
}

struct PlayIdentity: Hashable, Sendable {
    var mediaId: String
    var season: Int?
    var episode: Int?
    var updatedAtMs: Int64?
}

/// A session JWT the sandbox issued.
struct IssuedSession: Sendable, Equatable {
    var expiresAtMs: Int64
    var profileId: String?
}

/// Storage that can outlive one server: stop a sandbox and start another on the same store to emulate
/// an outage. Holds the stored plays, the counts and the issued session tokens. Thread-safe.
public final class SandboxStore: Sendable {
    struct State {
        var items: [StoredHistoryItem] = []
        var identities: Set<PlayIdentity> = []
        var stats = SandboxStats()
        var sessions: [String: IssuedSession] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The counts so far.
    public func stats() -> SandboxStats {
        state.withLock { $0.stats }
    }

    /// The stored plays, in arrival order.
    public func storedItems() -> [StoredHistoryItem] {
        state.withLock { $0.items }
    }

    func count(_ update: (inout SandboxStats) -> Void) {
        state.withLock { update(&$0.stats) }
    }

    /// Stores the play unless an identical one is there; counts `stored` or `duplicates`.
    /// Returns false for a duplicate.
    func insert(_ item: StoredHistoryItem) -> Bool {
        state.withLock { state in
            guard state.identities.insert(item.playIdentity).inserted else {
                state.stats.duplicates += 1
                return false
            }
            state.items.append(item)
            state.stats.stored += 1
            return true
        }
    }

    func issue(token: String, session: IssuedSession) {
        state.withLock { state in
            state.sessions[token] = session
            state.stats.tokensIssued += 1
        }
    }

    func session(for token: String) -> IssuedSession? {
        state.withLock { $0.sessions[token] }
    }
}
