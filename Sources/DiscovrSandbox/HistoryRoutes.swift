import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird

/// The session tier's history (`discovr-api.md`, History): `POST` appends, `GET` pages.
extension DiscovrSandbox {
    /// Documented: `GET /profile/history` answers 10 entries when no `limit` is given.
    static let defaultPageLimit = 10

    /// The session of a session-tier request, or the 401 that refuses it.
    func authorizeSession(in request: Request, now: Timestamp) -> Result<IssuedSession, Refusal> {
        guard let token = Self.bearerToken(in: request) else {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenInvalid, "missing bearer token: send a session token"))
        }
        if token.hasPrefix("rt_") || isKnownRefreshToken(token) {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.wrongTokenKind,
                                    "a refresh token is not accepted here: exchange it at \(DiscovrEndpoints.sessionToken)"))
        }
        guard let session = store.session(for: token) else {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.tokenInvalid, "invalid session token"))
        }
        if now.millisecondsSince1970 >= session.expiresAtMs {
            return .failure(Refusal(.unauthorized, SandboxErrorCode.sessionExpired, "session expired"))
        }
        return .success(session)
    }

    /// `POST /profile/history`: the steps of every write (`write`: rate limit, session, body, faults),
    /// with the history's own validation (`HistoryValidation`, then the id form); then the entry is
    /// appended (a repeat is appended too: history appends).
    func addHistory(_ request: Request, context: SandboxRequestContext) async throws -> Response {
        try await write(.history, request, context: context, read: { object -> Result<(JSONObject, MediaID), Refusal> in
            if let problem = HistoryValidation.problem(in: object) {
                return .failure(.badRequest(problem))
            }
            return mediaID(in: object).map { (object, $0) }
        }, apply: { body, session, now, headers in
            let (object, media) = body
            let item = StoredHistoryItem(validBody: object, profileId: session.profileId, createdAt: now)
            if store.append(item, media: media, now: now, unlessRepeat: configuration.conflictOnRepeat) || !configuration.conflictOnRepeat {
                return Self.message(.ok, "Item added to history list successfully", headers: headers)
            }
            return Self.message(.conflict, "already in history", headers: headers)
        })
    }

    /// `GET /profile/history` (`mediaId` nil: every entry of the profile, newest created first) and
    /// `GET /profile/history/{mediaId}?season=&episode=` (that media's entries, newest `updatedAt` first).
    /// Both take `limit` (1...50, default 10) and `nextPageToken`.
    func listHistory(_ request: Request, mediaId: String?) -> Response {
        let now = configuration.now()
        store.count { $0.reads += 1 }
        let (headers, limited) = admit(now: now)
        if let limited {
            store.count { $0.readsRateLimited += 1 }
            return limited
        }
        let session: IssuedSession
        switch authorizeSession(in: request, now: now) {
        case .success(let value): session = value
        case .failure(let refusal): return Self.error(refusal, headers: headers)
        }
        if let status = nextReadFailure() {
            store.count { $0.readsFailed += 1 }
            logger.debug("sandbox failed a history read on purpose", metadata: ["status": .stringConvertible(status)])
            return Self.error(HTTPResponse.Status(code: status), code: SandboxErrorCode.serverError,
                              "sandbox failure (read fail rate), try again later", headers: headers)
        }
        // The first value of each parameter.
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) },
                               uniquingKeysWith: { first, _ in first })
        do throws(Refusal) {
            let body = try historyPage(query, mediaId: mediaId, profileId: session.profileId)
            return Self.json(status: .ok, text: body, headers: headers)
        } catch {
            return Self.error(error, headers: headers)
        }
    }

    private func historyPage(_ query: [String: String], mediaId: String?, profileId: String) throws(Refusal) -> String {
        func positive(_ name: String) throws(Refusal) -> Int? {
            guard let text = query[name], !text.isEmpty else { return nil }
            guard let value = Int(text), value >= 1 else { throw Refusal.badRequest("\(name) must be an integer >= 1") }
            return value
        }
        var limit = Self.defaultPageLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...DiscovrEndpoints.historyPageLimit).contains(value) else {
                throw Refusal.badRequest("limit must be an integer from 1 to \(DiscovrEndpoints.historyPageLimit), "
                    + "got \(text.prefix(20))")
            }
            limit = value
        }

        // Which entries, in which order, and the scope a page token is bound to.
        let scope: String
        let include: (Entry) -> Bool
        let sortKey: (Entry) -> Int64
        if let mediaId {
            let media = try self.mediaID(mediaId).get()
            var season: Int?
            var episode: Int?
            if media.kind == .show {
                season = try positive("season")
                guard season != nil else { throw Refusal.badRequest("season is required for TV shows") }
                episode = try positive("episode")
            }
            scope = "\(profileId)|\(media.rawValue)|\(season ?? 0)|\(episode ?? 0)"
            include = { entry in
                entry.media == media && (season == nil || entry.item.season == season)
                    && (episode == nil || entry.item.episode == episode)
            }
            sortKey = { $0.updatedAtMs }
        } else {
            scope = "\(profileId)|all"
            include = { _ in true }
            sortKey = { $0.createdAtMs }
        }
        // Newest first; entries made in the same millisecond: the later arrival first.
        let order: (Entry, Entry) -> Bool = { a, b in
            let (ka, kb) = (sortKey(a), sortKey(b))
            return ka != kb ? ka > kb : a.sequence > b.sequence
        }
        let ordered = mediaId == nil
            ? store.listing(profileId: profileId, order: order)
            : store.entries(profileId: profileId, where: include, order: order)

        var start = 0
        if let text = query["nextPageToken"], !text.isEmpty {
            guard let token = PageToken.decode(String(text), scope: scope, secret: store.pageTokenKey) else {
                throw Refusal.badRequest("nextPageToken is not one this listing gave: start again without it")
            }
            // The first entry that comes after the last one served.
            start = ordered.firstIndex { entry in
                let key = sortKey(entry)
                return key < token.key || (key == token.key && entry.sequence < token.sequence)
            } ?? ordered.count
        }
        let page = ordered[start..<min(ordered.count, start + limit)]
        let hasMore = start + limit < ordered.count

        // watched_count: completed entries of the same media, season and episode in the listing.
        struct WatchKey: Hashable { var media: MediaID, season: Int?, episode: Int? }
        func key(_ entry: Entry) -> WatchKey { WatchKey(media: entry.media, season: entry.item.season, episode: entry.item.episode) }
        var watched = Dictionary(uniqueKeysWithValues: Set(page.map(key)).map { ($0, 0) })
        for entry in ordered where Self.progress(of: entry) >= 80 {
            watched[key(entry)]? += 1
        }

        var body = "{\"items\":[" + page.map { Self.historyJSON($0, watchedCount: watched[key($0)] ?? 0) }.joined(separator: ",")
        body += "],\"hasMore\":\(hasMore),\"nextPageToken\":"
        if hasMore, let last = page.last {
            body += JSONText.quote(PageToken(key: sortKey(last), sequence: last.sequence).encode(scope: scope, secret: store.pageTokenKey))
        } else {
            body += "null"
        }
        return body + "}"
    }

    /// A body sent without `progress` counts as a whole watch (assumed: no page says).
    static func progress(of entry: Entry) -> Double { entry.item.progress ?? 100 }

    /// One entry as `get-history-items` documents it; the id in the short form, as documented.
    static func historyJSON(_ entry: Entry, watchedCount: Int) -> String {
        let item = entry.item
        let movie = entry.media.kind == .movie
        let progress = progress(of: entry)
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        var out = "{\"id\":" + JSONText.quote(entry.media.rawValue(in: .short))
        out += ",\"mediaType\":" + (movie ? "\"movie\"" : "\"tv\"")
        out += ",\"title\":" + JSONText.quote((movie ? "Sandbox movie " : "Sandbox show ") + String(entry.media.tmdb))
        out += ",\"poster_path\":null,\"backdrop_path\":null"
        out += ",\"updatedAt\":\"" + Timestamp(millisecondsSince1970: entry.updatedAtMs).iso8601 + "\""
        out += ",\"createdAt\":\"" + Timestamp(millisecondsSince1970: entry.createdAtMs).iso8601 + "\""
        out += ",\"progress\":" + (progress == progress.rounded() ? String(Int(progress)) : String(progress))
        out += ",\"completed\":\(progress >= 80),\"watched_count\":\(watchedCount)"
        out += ",\"season\":" + number(item.season) + ",\"episode\":" + number(item.episode)
        out += ",\"imported\":" + (item.imported.map(JSONText.quote) ?? "null")
        return out + "}"
    }
}
