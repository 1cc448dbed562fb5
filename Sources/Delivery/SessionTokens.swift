import DiscovrAPI

/// Holds the session JWT for the whole run and refreshes it: ahead of expiry, and when a request is
/// answered 401. One refresh at a time: concurrent callers wait for the same refresh.
///
/// Refresh ahead: a token is refreshed `DiscovrEndpoints.refreshAhead` before it expires, or at half its
/// lifetime when it lives less than twice that (so a short-lived session is not refreshed on every call).
///
/// A 401 on a token fetched *because of* a 401, before any request succeeded with it, means the account
/// may not write: `invalidate` throws `DeliveryStop.forbidden` instead of refreshing forever.
public actor SessionTokens {
    public typealias Refresh = @Sendable () async throws -> SessionToken

    private let now: @Sendable () -> Int64
    private let refresh: Refresh
    private var current: SessionToken?
    private var refreshAtMs: Int64 = .min
    /// The current token came from a refresh forced by a 401 and has not been accepted yet.
    private var currentIsUnproven = false
    private var forceRefresh = true
    private var refreshing = false
    private var waiters: [CheckedContinuation<SessionToken, any Error>] = []
    /// Refreshes done so far (the first session included).
    public private(set) var refreshes = 0
    /// Callers waiting for the refresh under way (for tests).
    var waitingForRefresh: Int { waiters.count }

    /// `now` gives the wall time in ms since 1970 (the clock `expiresAt` is read against); `refresh`
    /// exchanges the refresh token for a new session.
    public init(now: @escaping @Sendable () -> Int64, refresh: @escaping Refresh) {
        self.now = now
        self.refresh = refresh
    }

    /// A session JWT that is not about to expire. Throws what `refresh` throws.
    public func token() async throws -> String {
        if let current, !forceRefresh, now() < refreshAtMs { return current.token }
        return try await refreshed().token
    }

    /// A request sent with `token` was answered 401. The next `token()` refreshes, unless a newer token
    /// is already there. Throws `DeliveryStop.forbidden` on a second 401 in a row right after a refresh.
    public func invalidate(_ token: String) throws(DeliveryStop) {
        guard let current, current.token == token else { return } // stale: a newer session exists
        if currentIsUnproven {
            throw .forbidden("a fresh session was refused (401 twice in a row)")
        }
        forceRefresh = true
    }

    /// A request sent with `token` was accepted: the session works.
    public func accepted(_ token: String) {
        if current?.token == token { currentIsUnproven = false }
    }

    private func refreshed() async throws -> SessionToken {
        // One refresh at a time, run by the first caller in its own task (so that cancelling the run
        // cancels it too); the others wait for its result.
        if refreshing {
            return try await withCheckedThrowingContinuation { waiters.append($0) }
        }
        refreshing = true
        let afterUnauthorized = forceRefresh && current != nil
        let result: Result<SessionToken, any Error>
        do {
            result = .success(try await refresh())
        } catch {
            result = .failure(error)
        }
        refreshing = false
        let waiting = waiters
        waiters = []
        if case .success(let session) = result {
            let issuedAt = now()
            let lifetime = session.expiresAt.millisecondsSince1970 - issuedAt
            // A session that looks expired on arrival (clocks apart) is used for a second; the server decides.
            refreshAtMs = lifetime > 0
                ? session.expiresAt.millisecondsSince1970 - min(DiscovrEndpoints.refreshAhead, lifetime / 2)
                : issuedAt + 1_000
            current = session
            currentIsUnproven = afterUnauthorized
            forceRefresh = false
            refreshes += 1
        }
        for waiter in waiting { waiter.resume(with: result) }
        return try result.get()
    }
}
