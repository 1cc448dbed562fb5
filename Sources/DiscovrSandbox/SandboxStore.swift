import DiscovrAPI
import Foundation
import Synchronization

/// What the sandbox saw, counted by the store (so the counts survive a restart on the same store).
///
/// `requests` counts `POST /profile/history` requests only, and every one of them ends in exactly one of
/// `stored`, `repeats`, `rateLimited`, `failed`, `unauthorized`, `invalid` or `droppedBeforeStore`, so
/// `requests == stored + repeats + rateLimited + failed + unauthorized + invalid + droppedBeforeStore`.
/// History appends (`discovr-api.md`): `stored` and `repeats` are both new entries, `stored` for a play
/// the profile did not hold yet, `repeats` for one it did (the same play sent again: a duplicate entry).
/// `dropped` and `slow` are subsets of `stored + repeats` (the entry was made, then its answer was
/// lost or held back). `reads` counts `GET /profile/history` and `GET /profile/history/{mediaId}`.
/// `tokensIssued` and `tokensRefused` count `POST /auth/session-token` answers. The list POSTs have
/// counts of their own, `lists`.
public struct SandboxStats: Sendable, Codable, Equatable {
    /// `POST /profile/history` requests received.
    public var requests = 0
    /// Entries of a play the profile did not hold yet (answered 200, or dropped/slowed after storing).
    public var stored = 0
    /// Entries of a play the profile already held (same media id in either form, season, episode and
    /// `updatedAt` instant): appended all the same, answered 200. A client that delivers exactly once
    /// makes none, except where it could not know (an answer lost, and no read-back).
    public var repeats = 0
    /// Answered 429.
    public var rateLimited = 0
    /// Answered 500 or 503 by the fail-rate knob (not stored).
    public var failed = 0
    /// Stored, then the connection was closed without an answer.
    public var dropped = 0
    /// Stored, then answered after `slowDelay` seconds.
    public var slow = 0
    /// Closed without an answer before anything was stored (`dropBeforeStoreRate`).
    public var droppedBeforeStore = 0
    /// History requests answered 401 (no token, unknown or expired session, refresh token used).
    public var unauthorized = 0
    /// History requests answered 400, 413 or 422 (the body was refused, or the id form).
    public var invalid = 0
    /// `GET /profile/history` and `GET /profile/history/{mediaId}` requests received (all answers).
    public var reads = 0
    /// Of `reads`, the ones answered 429.
    public var readsRateLimited = 0
    /// Of `reads`, the ones answered 500 or 503 by the read-fail-rate knob.
    public var readsFailed = 0
    /// Session JWTs issued by `POST /auth/session-token`.
    public var tokensIssued = 0
    /// `POST /auth/session-token` requests refused (wrong token, session JWT used, bad body or profile).
    public var tokensRefused = 0
    /// Times `DiscovrSandbox.serve` stopped the server for the configured outage (0 or 1).
    public var outages = 0
    /// The list POSTs' own counts (`POST /profile/{liked,disliked,super_liked,watchlist}`).
    public var lists = ListWriteStats()

    public init() {}

    /// Every history entry made: `stored + repeats`.
    public var entries: Int { stored + repeats }

    /// One line for a terminal or a log, for example
    /// `requests 12: stored 9, repeats 1, 429 1, 5xx 1, 401 0, invalid 0 (dropped 0, slow 0); reads 3; tokens issued 1, refused 0`.
    public var summary: String {
        "requests \(requests): stored \(stored), repeats \(repeats), 429 \(rateLimited), 5xx \(failed), "
            + "401 \(unauthorized), invalid \(invalid)"
            + (droppedBeforeStore > 0 ? ", dropped before storing \(droppedBeforeStore)" : "")
            + " (dropped \(dropped), slow \(slow)); reads \(reads)"
            + (readsFailed > 0 ? " (5xx \(readsFailed))" : "") + "; "
            + "tokens issued \(tokensIssued), refused \(tokensRefused)"
            + (outages > 0 ? "; outages \(outages)" : "")
            + (lists.requests > 0 ? "; " + lists.summary : "")
    }

    /// Counts one step of a write's way through the sandbox (`DiscovrSandbox.write`).
    mutating func count(_ event: WriteEvent, on target: WriteTarget) {
        let history = target == .history
        let count: WritableKeyPath<SandboxStats, Int>
        switch event {
        case .received: count = history ? \.requests : \.lists.requests
        case .rateLimited: count = history ? \.rateLimited : \.lists.rateLimited
        case .unauthorized: count = history ? \.unauthorized : \.lists.unauthorized
        case .invalid: count = history ? \.invalid : \.lists.invalid
        case .failed: count = history ? \.failed : \.lists.failed
        case .droppedBeforeStore: count = history ? \.droppedBeforeStore : \.lists.droppedBeforeStore
        case .dropped: count = history ? \.dropped : \.lists.dropped
        case .slow: count = history ? \.slow : \.lists.slow
        }
        self[keyPath: count] += 1
    }
}

/// What the sandbox saw of the list POSTs. Every request ends in exactly one of `stored`,
/// `unchanged`, `rateLimited`, `failed`, `unauthorized`, `invalid`, `droppedBeforeStore` or
/// `notServed`, so `requests == stored + unchanged + rateLimited + failed + unauthorized + invalid +
/// droppedBeforeStore + notServed`. `moved` is a subset of `stored`; `dropped` and `slow` are subsets of
/// `stored + unchanged` (the list was written, or found to hold the title, then the answer was lost or
/// held back).
public struct ListWriteStats: Sendable, Codable, Equatable {
    /// List POSTs received, on all four paths (served or not).
    public var requests = 0
    /// Changes: the title was not in that list and now is (answered "Item added to ... successfully").
    public var stored = 0
    /// The title was in that list already: answered "... no change made", nothing changed.
    public var unchanged = 0
    /// Of `stored`, the titles moved out of another exclusive list (the answer's `removed`).
    public var moved = 0
    /// Answered 429 (the rate limit is shared with history).
    public var rateLimited = 0
    /// Answered 500 or 503 by the fail-rate knob (nothing changed).
    public var failed = 0
    /// Answered 401.
    public var unauthorized = 0
    /// Answered 400, 413 or 422.
    public var invalid = 0
    /// Closed without an answer before anything was stored (`dropBeforeStoreRate`).
    public var droppedBeforeStore = 0
    /// Written, then the connection was closed without an answer (`dropRate`).
    public var dropped = 0
    /// Written, then answered after `slowDelay` seconds.
    public var slow = 0
    /// Answered 404 or 405 because `SandboxConfiguration.listPaths` does not serve the path.
    public var notServed = 0

    public init() {}

    /// `lists 6: stored 4 (moved 1), unchanged 1, 429 0, 5xx 0, 401 0, invalid 1, not served 0 (dropped 0, slow 0)`.
    public var summary: String {
        "lists \(requests): stored \(stored) (moved \(moved)), unchanged \(unchanged), 429 \(rateLimited), 5xx \(failed), "
            + "401 \(unauthorized), invalid \(invalid), not served \(notServed)"
            + (droppedBeforeStore > 0 ? ", dropped before storing \(droppedBeforeStore)" : "")
            + " (dropped \(dropped), slow \(slow))"
    }
}

/// A profile's lists as `/_sandbox/lists` serves them: each a sorted array of media ids in the seed
/// form (`MV_TMDBID550`), whichever form was sent.
public struct ProfileLists: Sendable, Codable, Equatable {
    public var liked: [String]
    public var disliked: [String]
    public var superLiked: [String]
    public var watchlist: [String]

    public init(liked: [String] = [], disliked: [String] = [], superLiked: [String] = [], watchlist: [String] = []) {
        self.liked = liked
        self.disliked = disliked
        self.superLiked = superLiked
        self.watchlist = watchlist
    }

    private enum CodingKeys: String, CodingKey {
        case liked, disliked, watchlist
        case superLiked = "super_liked"
    }

    public subscript(list: DiscovrList) -> [String] {
        switch list {
        case .liked: return liked
        case .disliked: return disliked
        case .superLiked: return superLiked
        case .watchlist: return watchlist
        }
    }
}

/// What one list write did (`SandboxStore.addToList`).
enum ListWrite: Equatable, Sendable {
    /// The title is now in the list; `removed` is the exclusive list it left, if any.
    case added(removed: DiscovrList?)
    /// The title was in the list already.
    case unchanged
}

/// One profile's lists: the exclusive verdict of each title (at most one of liked, disliked,
/// super_liked) and the watchlist (a set, apart from the verdicts).
struct StoredLists: Sendable {
    var verdicts: [MediaID: DiscovrList] = [:]
    var watchlist: Set<MediaID> = []
}

/// A history entry as the sandbox stored it: the fields of the POST body as sent, plus the profile
/// it belongs to and when it was created (the sandbox clock). `/_sandbox/items` serves these.
public struct StoredHistoryItem: Sendable, Codable, Equatable {
    public var mediaId: String
    public var season: Int?
    public var episode: Int?
    public var progress: Double?
    /// As sent; nil when the body had none (the history answers then say `createdAt`).
    public var updatedAt: String?
    public var imported: String?
    /// The profile whose history holds it.
    public var profileId: String
    /// When the sandbox made the entry, `YYYY-MM-DDTHH:MM:SS.sssZ`.
    public var createdAt: String

    public init(mediaId: String, season: Int? = nil, episode: Int? = nil, progress: Double? = nil,
                updatedAt: String? = nil, imported: String? = nil, profileId: String, createdAt: String) {
        self.mediaId = mediaId
        self.season = season
        self.episode = episode
        self.progress = progress
        self.updatedAt = updatedAt
        self.imported = imported
        self.profileId = profileId
        self.createdAt = createdAt
    }

    /// Reads a body that `HistoryValidation.problem(in:)` accepted.
    init(validBody object: JSONObject, profileId: String, createdAt: Timestamp) {
        self.mediaId = object["mediaId"]?.stringValue ?? ""
        self.season = object["season"]?.intValue.flatMap { Int(exactly: $0) }
        self.episode = object["episode"]?.intValue.flatMap { Int(exactly: $0) }
        self.progress = object["progress"]?.doubleValue
        self.updatedAt = object["updatedAt"]?.stringValue
        self.imported = object["imported"]?.stringValue
        self.profileId = profileId
        self.createdAt = createdAt.iso8601
    }

    /// The same play: profile, media (in either id form), season, episode and the instant of
    /// `updatedAt` (compared as a moment, so `...00Z` and `...00.000Z` are one play).
    var playIdentity: PlayIdentity {
        PlayIdentity(profileId: profileId, media: MediaID(rawValue: mediaId), season: season, episode: episode,
                     updatedAtMs: updatedAt.flatMap { Timestamp(iso8601: $0)?.millisecondsSince1970 })
    }
}

struct PlayIdentity: Hashable, Sendable {
    var profileId: String
    var media: MediaID?
    var season: Int?
    var episode: Int?
    var updatedAtMs: Int64?
}

/// One viewer of the sandbox's account (`GET /profiles`).
public struct SandboxProfile: Sendable, Equatable {
    /// `profile_` and 12 random lower-case letters and digits.
    public var id: String
    public var name: String
    public var avatarUrl: String
    /// ISO 8601 with milliseconds.
    public var createdAt: Timestamp

    /// The names profiles get, in creation order; past the list, "Profile 9", "Profile 10"...
    public static let names = ["Main", "Kids", "Sci-Fi Lover", "Film Club", "Night Owl", "Guest", "Grandma", "Weekend"]

    static func name(at index: Int) -> String {
        index < names.count ? names[index] : "Profile \(index + 1)"
    }
}

/// A session JWT the sandbox issued.
struct IssuedSession: Sendable, Equatable {
    var expiresAtMs: Int64
    var profileId: String
}

/// A device code handed out by `POST /auth/device-codes`.
struct DeviceCode: Sendable {
    var userCode: String
    var expiresAtMs: Int64
    var polls = 0
    /// Confirmed and answered once: later polls are refused.
    var used = false
}

/// A stored entry with its place in the history.
struct Entry: Sendable {
    /// Arrival number in the store, from 1 (the order of `createdAt` when the clock stands still).
    var sequence: Int64
    var item: StoredHistoryItem
    var media: MediaID
    var createdAtMs: Int64
    /// `updatedAt` as sent, else `createdAt`.
    var updatedAtMs: Int64
}

/// Storage that can outlive one server: stop a sandbox and start another on the same store to emulate
/// an outage. Holds the profiles, each profile's history, the counts, the issued session tokens, the
/// refresh tokens issued or revoked, and the device codes. Thread-safe.
public final class SandboxStore: Sendable {
    struct State {
        var profiles: [SandboxProfile] = []
        var entries: [Entry] = []
        /// Each profile's entries (positions in `entries`), in arrival order.
        var byProfile: [String: [Int]] = [:]
        /// Each profile's whole history in listing order, made on the first read after an append (so
        /// paging through 20,000 entries sorts them once, not once a page).
        var listingCache: [String: [Entry]] = [:]
        var identities: Set<PlayIdentity> = []
        var stats = SandboxStats()
        var sessions: [String: IssuedSession] = [:]
        /// Refresh tokens handed out by device-code sign-in, with their expiry.
        var issuedRefreshTokens: [String: Int64] = [:]
        var revokedRefreshTokens: Set<String> = []
        var deviceCodes: [String: DeviceCode] = [:]
        var sequence: Int64 = 0
        /// Each profile's lists.
        var lists: [String: StoredLists] = [:]
    }

    private let state = Mutex(State())
    /// Keys the page tokens' check, so a token cannot be made up or carried to another store.
    let pageTokenKey: UInt64
    /// The account's public id (`publicId` of a confirmed device code).
    public let publicId: String

    public init() {
        var generator = SystemRandomNumberGenerator()
        pageTokenKey = generator.next()
        publicId = "usr_" + SandboxRandom.hex(16)
    }

    /// The counts so far.
    public func stats() -> SandboxStats {
        state.withLock { $0.stats }
    }

    /// Every stored entry, of every profile, in arrival order.
    public func storedItems() -> [StoredHistoryItem] {
        state.withLock { $0.entries.map(\.item) }
    }

    /// The stored entries of one profile, in arrival order.
    public func storedItems(profileId: String) -> [StoredHistoryItem] {
        state.withLock { state in (state.byProfile[profileId] ?? []).map { state.entries[$0].item } }
    }

    /// The profiles, oldest first (the first is the one a session request without `profileId` gets
    /// while the sandbox still serves those, `SandboxConfiguration.profileIdRequired`).
    public func profiles() -> [SandboxProfile] {
        state.withLock { $0.profiles }
    }

    /// Makes `count` profiles unless the store has some already (a second sandbox on the same store
    /// keeps the first one's). The first is created a day before `now` per profile, one day apart.
    func ensureProfiles(count: Int, now: Timestamp) {
        state.withLock { state in
            guard state.profiles.isEmpty else { return }
            let day: Int64 = 86_400_000
            state.profiles = (0..<count).map { index in
                let name = SandboxProfile.name(at: index)
                let slug = name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
                return SandboxProfile(id: "profile_" + SandboxRandom.alphanumeric(12), name: name,
                                      avatarUrl: "https://sandbox.discovr.invalid/avatars/\(slug).png",
                                      createdAt: Timestamp(millisecondsSince1970: now.millisecondsSince1970 - Int64(count - index) * day))
            }
        }
    }

    func profile(id: String) -> SandboxProfile? {
        state.withLock { $0.profiles.first { $0.id == id } }
    }

    func count(_ update: (inout SandboxStats) -> Void) {
        state.withLock { update(&$0.stats) }
    }

    /// Appends the entry; counts `stored`, or `repeats` when the profile already held the play.
    /// Returns false for a repeat. With `unlessRepeat`, a repeat is counted and not appended.
    @discardableResult
    func append(_ item: StoredHistoryItem, media: MediaID, now: Timestamp, unlessRepeat: Bool = false) -> Bool {
        state.withLock { state in
            if unlessRepeat, state.identities.contains(item.playIdentity) {
                state.stats.repeats += 1
                return false
            }
            state.sequence += 1
            let updated = item.updatedAt.flatMap { Timestamp(iso8601: $0)?.millisecondsSince1970 } ?? now.millisecondsSince1970
            state.byProfile[item.profileId, default: []].append(state.entries.count)
            state.listingCache[item.profileId] = nil
            state.entries.append(Entry(sequence: state.sequence, item: item, media: media,
                                       createdAtMs: now.millisecondsSince1970, updatedAtMs: updated))
            if state.identities.insert(item.playIdentity).inserted {
                state.stats.stored += 1
                return true
            }
            state.stats.repeats += 1
            return false
        }
    }

    /// Test-only damage (`/_sandbox/history/drop`, `verify`'s tests): removes `count` entries of
    /// `profileId` (every profile when nil), chosen by a generator seeded with `seed` among the entries
    /// `imported: "trakt"`, and returns them in arrival order. Not counted in the stats.
    func drop(count: Int, profileId: String?, seed: UInt64) -> [StoredHistoryItem] {
        state.withLock { state in
            let chosen = Set(Self.choose(count, from: Self.candidates(in: state, profileId: profileId), seed: seed))
            guard !chosen.isEmpty else { return [] }
            let removed = chosen.sorted().map { state.entries[$0].item }
            state.entries = state.entries.enumerated().filter { !chosen.contains($0.offset) }.map(\.element)
            state.byProfile = [:]
            for (index, entry) in state.entries.enumerated() { state.byProfile[entry.item.profileId, default: []].append(index) }
            state.listingCache = [:]
            state.identities = Set(state.entries.map(\.item.playIdentity))
            return removed
        }
    }

    /// Test-only damage (`/_sandbox/history/duplicate`): appends a second entry, made now, for each of
    /// `count` entries chosen as `drop` chooses them, and returns the entries copied. Not counted in the stats.
    func duplicate(count: Int, profileId: String?, seed: UInt64, now: Timestamp) -> [StoredHistoryItem] {
        state.withLock { state in
            let chosen = Self.choose(count, from: Self.candidates(in: state, profileId: profileId), seed: seed).sorted()
            for index in chosen {
                var copy = state.entries[index]
                state.sequence += 1
                copy.sequence = state.sequence
                copy.createdAtMs = now.millisecondsSince1970
                copy.item.createdAt = now.iso8601
                state.byProfile[copy.item.profileId, default: []].append(state.entries.count)
                state.listingCache[copy.item.profileId] = nil
                state.entries.append(copy)
            }
            return chosen.map { state.entries[$0].item }
        }
    }

    /// The positions of the entries the importer made (`imported: "trakt"`), of one profile or all.
    private static func candidates(in state: State, profileId: String?) -> [Int] {
        state.entries.indices.filter { index in
            let item = state.entries[index].item
            return (profileId == nil || item.profileId == profileId) && item.imported == HistoryItem.importSource
        }
    }

    /// `count` of `positions` (all when there are fewer), drawn without repeats by a seeded generator.
    private static func choose(_ count: Int, from positions: [Int], seed: UInt64) -> [Int] {
        var pool = positions
        var generator = SplitMix64(seed: seed)
        var chosen: [Int] = []
        while chosen.count < count, !pool.isEmpty {
            chosen.append(pool.remove(at: Int(generator.next() % UInt64(pool.count))))
        }
        return chosen
    }

    /// The entries of one profile that `include` keeps, sorted by `order` (a "comes first" test).
    func entries(profileId: String, where include: (Entry) -> Bool,
                 order: (Entry, Entry) -> Bool) -> [Entry] {
        state.withLock { state in
            let all = state.entries
            return (state.byProfile[profileId] ?? []).map { all[$0] }.filter(include)
        }.sorted(by: order)
    }

    /// Every entry of one profile sorted by `order`, cached until the profile's next append (`order`
    /// must be the same on every call: it is the whole-history listing's).
    func listing(profileId: String, order: (Entry, Entry) -> Bool) -> [Entry] {
        state.withLock { state in
            if let cached = state.listingCache[profileId] { return cached }
            let sorted = (state.byProfile[profileId] ?? []).map { state.entries[$0] }.sorted(by: order)
            state.listingCache[profileId] = sorted
            return sorted
        }
    }

    // MARK: Lists

    /// Puts the title in `list` of the profile, out of the other exclusive list it was in (for
    /// liked/disliked/super_liked); counts `lists.stored` (and `moved`) or `lists.unchanged`.
    func addToList(_ list: DiscovrList, media: MediaID, profileId: String) -> ListWrite {
        state.withLock { state in
            let outcome: ListWrite
            if list.isVerdict {
                let before = state.lists[profileId]?.verdicts[media]
                if before == list {
                    outcome = .unchanged
                } else {
                    state.lists[profileId, default: StoredLists()].verdicts[media] = list
                    outcome = .added(removed: before)
                }
            } else {
                let inserted = state.lists[profileId, default: StoredLists()].watchlist.insert(media).inserted
                outcome = inserted ? .added(removed: nil) : .unchanged
            }
            switch outcome {
            case .added(let removed):
                state.stats.lists.stored += 1
                if removed != nil { state.stats.lists.moved += 1 }
            case .unchanged:
                state.stats.lists.unchanged += 1
            }
            return outcome
        }
    }

    /// The lists of one profile, each sorted, ids in the seed form (empty for an unknown profile).
    public func lists(profileId: String) -> ProfileLists {
        let stored = state.withLock { $0.lists[profileId] } ?? StoredLists()
        func ids(_ list: DiscovrList) -> [String] {
            stored.verdicts.compactMap { $0.value == list ? $0.key.rawValue : nil }.sorted()
        }
        return ProfileLists(liked: ids(.liked), disliked: ids(.disliked), superLiked: ids(.superLiked),
                            watchlist: stored.watchlist.map(\.rawValue).sorted())
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

    // MARK: Refresh tokens

    func issueRefreshToken(_ token: String, expiresAtMs: Int64) {
        state.withLock { $0.issuedRefreshTokens[token] = expiresAtMs }
    }

    /// The expiry of a refresh token issued by device-code sign-in; nil for any other token.
    func issuedRefreshTokenExpiry(_ token: String) -> Int64? {
        state.withLock { $0.issuedRefreshTokens[token] }
    }

    func revoke(refreshToken: String) {
        state.withLock { _ = $0.revokedRefreshTokens.insert(refreshToken) }
    }

    func isRevoked(refreshToken: String) -> Bool {
        state.withLock { $0.revokedRefreshTokens.contains(refreshToken) }
    }

    // MARK: Device codes

    func addDeviceCode(_ code: String, _ value: DeviceCode) {
        state.withLock { $0.deviceCodes[code] = value }
    }

    /// Counts one poll of `code` and returns the code as it is after it; nil when unknown.
    func poll(deviceCode code: String) -> DeviceCode? {
        state.withLock { state in
            guard var value = state.deviceCodes[code] else { return nil }
            value.polls += 1
            state.deviceCodes[code] = value
            return value
        }
    }

    func markUsed(deviceCode code: String) {
        state.withLock { $0.deviceCodes[code]?.used = true }
    }
}

/// Random identifiers (not reproducible: ids and tokens, not fault draws).
enum SandboxRandom {
    static func hex(_ count: Int) -> String { string(count, of: "0123456789abcdef") }

    static func alphanumeric(_ count: Int) -> String { string(count, of: "abcdefghijklmnopqrstuvwxyz0123456789") }

    static func digits(_ count: Int) -> String { string(count, of: "0123456789") }

    private static func string(_ count: Int, of alphabet: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
