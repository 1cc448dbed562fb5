import DiscovrAPI
import Foundation

/// The fuzz harness of everything the client reads from a server (issue #10): response headers
/// (`Retry-After` in both forms, `RateLimit-*`, `X-RateLimit-*`), session and device-code answers, JWT
/// payloads, profile lists, history pages, history answers and error bodies. The first byte of an
/// input picks the reader and the instant "now" is read against; the rest is the server's bytes. The
/// invariants of issue #10 are checked (a broken one traps, so libFuzzer reports it like a crash):
/// every wait and expiry lies in its sane range, every kept string is bounded, nothing traps.
/// Used by `trakt2discovr-server-fuzz` (libFuzzer, or replaying files) and by the regression tests
/// over `fuzz/server-regressions/`.
public enum ServerFuzzing {
    /// Instants the answers are read at: the epoch, a realistic one, and one day before the latest
    /// instant a `Timestamp` prints (so clamping at the top is exercised).
    static let instants: [Int64] = [0, 1_796_126_400_000, ServerNumbers.latestInstantMs - 86_400_000]

    public enum Reader: UInt8, CaseIterable, Sendable {
        case headers, session, jwt, historyPage, errorBody, historyAnswer, deviceCode, devicePoll, profiles, validation
    }

    /// Runs one input. Returns the reader it went to, for the replay tool and the tests.
    @discardableResult
    public static func run(_ input: UnsafeRawBufferPointer) -> Reader {
        guard let first = input.first else { return .headers }
        let reader = Reader.allCases[Int(first & 0x0F) % Reader.allCases.count]
        let now = Timestamp(millisecondsSince1970: instants[Int(first >> 4) % instants.count])
        let body = Array(input.dropFirst())
        switch reader {
        case .headers: checkHeaders(body, now: now)
        case .session: checkSession(body, now: now)
        case .jwt: checkJWT(String(decoding: body, as: UTF8.self))
        case .historyPage: checkHistoryPage(body)
        case .errorBody:
            let error = ErrorBody.parse(body: body)
            require((error.code?.count ?? 0) <= 300 && (error.message?.count ?? 0) <= 300, "error body fields not cut at 300")
        case .historyAnswer:
            let answer = HistoryResponse.parse(body: body)
            for field in [answer.message, answer.added, answer.removed] {
                require((field?.count ?? 0) <= 300, "history answer field not cut at 300")
            }
        case .deviceCode:
            if let code = DeviceCode.parse(body: body) {
                require((DeviceCode.minimumLifetimeMs...DeviceCode.maximumLifetimeMs).contains(code.expiresInMs),
                        "device code lifetime \(code.expiresInMs) out of range")
                require(!code.deviceCode.isEmpty && code.deviceCode.utf8.count <= 512, "device code not bounded")
                _ = code.validFor
                _ = code.qrPNG
            }
        case .devicePoll:
            if case .confirmed(let token, let publicId, let expiresAt)? = DevicePollAnswer.parse(body: body) {
                require(!token.isEmpty, "an empty refresh token confirmed")
                require((publicId?.count ?? 0) <= 200, "publicId not bounded")
                if let expiresAt { checkInstant(expiresAt, "refresh token expiresAt") }
            }
        case .profiles:
            for profile in Profile.parseList(body: body) ?? [] {
                require(!profile.id.isEmpty && profile.id.utf8.count <= Profile.maximumFieldLength, "profile id not bounded")
                require(profile.name.count <= Profile.maximumFieldLength, "profile name not bounded")
                _ = profile.json
            }
        case .validation:
            _ = HistoryValidation.problem(inBody: body)
        }
        return reader
    }

    /// Lines `Name: value`; every hint in range, whatever the values.
    static func checkHeaders(_ body: [UInt8], now: Timestamp) {
        let text = String(decoding: body, as: UTF8.self)
        var headers: [(String, String)] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let hints = RateLimitHints(headers: headers, now: now)
        let latest = ServerNumbers.adding(ServerNumbers.maximumWaitMs, to: now)
        for (name, at) in [("retryAt", hints.retryAt), ("resetAt", hints.resetAt)] {
            if let at { require(at >= now && at <= latest, "\(name) \(at.millisecondsSince1970) outside now...now+1h") }
        }
        if let limit = hints.limit { require((1...ServerNumbers.maximumRequestCount).contains(limit), "limit \(limit) out of range") }
        if let remaining = hints.remaining {
            require((0...ServerNumbers.maximumRequestCount).contains(remaining), "remaining \(remaining) out of range")
        }
        // Each value alone (spaces and tabs trimmed), through both Retry-After readers and the HTTP-date round trip.
        for (_, value) in headers {
            let trimmed = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            if let at = RateLimitHints.parseRetryAfter(trimmed, now: now) {
                require(at >= now && at <= latest, "Retry-After \(value) read as \(at.millisecondsSince1970)")
            }
            if let date = HTTPDate.parse(trimmed) {
                require(HTTPDate.parse(HTTPDate.format(date)) == date, "HTTP date \(value) does not round-trip")
            }
        }
    }

    static func checkSession(_ body: [UInt8], now: Timestamp) {
        guard let session = SessionToken.parse(responseBody: body, now: now) else { return }
        require(!session.token.isEmpty && session.token.utf8.count <= SessionToken.maximumTokenLength, "session token not bounded")
        require(session.expiresAt <= ServerNumbers.adding(ServerNumbers.maximumSessionLifetimeMs, to: now),
                "session expiry \(session.expiresAt.millisecondsSince1970) more than a day ahead")
        checkInstant(session.expiresAt, "session expiresAt")
        _ = session.needsRefresh(at: now)
        checkJWT(session.token)
    }

    static func checkJWT(_ token: String) {
        if let exp = JWT.expiry(of: token) { checkInstant(exp, "JWT exp") }
        _ = JWT.payload(of: token)
    }

    static func checkHistoryPage(_ body: [UInt8]) {
        guard let page = HistoryPage.parse(body: body) else { return }
        require(page.items.count <= body.count, "more entries than bytes")
        if let token = page.nextPageToken {
            require(!token.isEmpty && token.utf8.count <= HistoryPage.maximumPageTokenLength, "page token not bounded")
            require(page.hasMore, "a next page token on the last page")
        }
        for entry in page.items {
            for number in [entry.season, entry.episode] {
                if let number { require(Int64(number) >= Int64(Int32.min) && Int64(number) <= Int64(Int32.max), "season/episode not Int32") }
            }
            if let progress = entry.progress { require(progress.isFinite, "progress not finite") }
            // Entry times are dates as written (years 1...9999, before 1970 too): they must round-trip.
            for ts in [entry.updatedAt, entry.createdAt] {
                if let ts { require(Timestamp(iso8601: ts.iso8601) == ts, "entry time \(ts.millisecondsSince1970) does not round-trip") }
            }
        }
    }

    static func checkInstant(_ ts: Timestamp, _ what: String) {
        require(ts.millisecondsSince1970 >= 0 && ts.millisecondsSince1970 <= ServerNumbers.latestInstantMs,
                "\(what) \(ts.millisecondsSince1970) outside the years 1970...9999")
        _ = ts.iso8601
        _ = HTTPDate.format(ts)
    }
}

/// Like `precondition`, but the message survives an optimised build (libFuzzer runs one).
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
