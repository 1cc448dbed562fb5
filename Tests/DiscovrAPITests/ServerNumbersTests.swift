import DiscovrAPI
import Foundation
import Testing

/// Numbers from a server that no sane server sends: read without a trap, clamped to a sane range
/// (issue #10; the first three crashed the release binary with SIGILL).
@Suite struct ServerNumbersTests {
    static let now = Timestamp(iso8601: "2026-12-01T12:00:00Z")!
    static let hour: Int64 = 3_600_000

    func delta(_ ts: Timestamp?) -> Int64? { ts.map { $0.millisecondsSince1970 - Self.now.millisecondsSince1970 } }

    @Test(arguments: [
        ("1e20", hour), ("99999999999999999999999", hour), ("1.7976931348623157e308", hour), ("7200", hour),
        ("3", 3_000), ("0", 0), ("2.5", 2_500), (" 4 ", 4_000), ("0.0001", 1),
    ] as [(String, Int64)])
    func retryAfterSecondsAreClampedToAnHour(header: String, ms: Int64) {
        #expect(delta(RateLimitHints.parseRetryAfter(header, now: Self.now)) == ms)
    }

    @Test(arguments: ["-5", "-1e20", "nan", "inf", "-inf", "infinity", "0x1p3", "", "soon", "1e", "--1",
                      "Sun, 99 Nov 2026 12:00:07 GMT", "Sun, 29 Nov +2026 12:00:07 GMT", "Sun, 29 Nov 99999 12:00:07 GMT"])
    func unreadableOrNegativeRetryAfterIsIgnored(header: String) {
        #expect(RateLimitHints.parseRetryAfter(header, now: Self.now) == nil)
    }

    @Test func retryAfterDatesAreClampedBothWays() {
        #expect(delta(RateLimitHints.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: Self.now)) == Self.hour)
        #expect(delta(RateLimitHints.parseRetryAfter("Mon, 01 Jan 0001 00:00:00 GMT", now: Self.now)) == 0)
        // Near the end of what a timestamp holds: no overflow.
        let late = Timestamp(millisecondsSince1970: Int64.max - 10)
        #expect(RateLimitHints.parseRetryAfter("1e20", now: late) != nil)
    }

    @Test(arguments: [
        ("1e20", hour), ("99999999999", hour), ("30", 30_000), ("0", 0), ("1e300", hour), ("1.5", 1_500),
    ] as [(String, Int64)])
    func rateLimitResetIsClampedToAnHour(header: String, ms: Int64) {
        let hints = RateLimitHints(headers: [("RateLimit-Reset", header), ("RateLimit-Remaining", "0")], now: Self.now)
        #expect(delta(hints.resetAt) == ms)
        #expect(hints.remaining == 0)
    }

    @Test func anEpochResetIsReadAsOne() {
        let epoch = String(Self.now.millisecondsSince1970 / 1000 + 20)
        let hints = RateLimitHints(headers: [("X-RateLimit-Reset", epoch)], now: Self.now)
        #expect(delta(hints.resetAt) == 20_000)
        let past = RateLimitHints(headers: [("X-RateLimit-Reset", "1500000000")], now: Self.now)
        #expect(delta(past.resetAt) == 0)
    }

    @Test(arguments: [
        ("10", 10), ("10, 10;w=1", 10), ("10;w=1", 10), ("1e20", ServerNumbers.maximumRequestCount),
        ("99999999999999999999999", ServerNumbers.maximumRequestCount), ("-3", nil), ("2.5", nil), ("x", nil), ("nan", nil),
    ] as [(String, Int?)])
    func rateLimitCountsAreCheckedAndClamped(header: String, count: Int?) {
        let hints = RateLimitHints(headers: [("ratelimit-limit", header), ("RATELIMIT-REMAINING", header)], now: Self.now)
        #expect(hints.limit == count)
        #expect(hints.remaining == count)
    }

    @Test func headerNamesMatchInAnyCaseTheFirstOfEachHintCounting() {
        let hints = RateLimitHints(headers: [
            ("Content-Type", "application/json"), ("RateLimit-Limits", "7"), ("X-RateLimit-Limit ", "8"),
            ("RateLimit\rLimit", "9"), ("ratelimit\u{0D}limit", "9"), ("rAtElImIt-lImIt", "40"), ("X-RateLimit-Limit", "50"),
            ("x-ratelimit-REMAINING", " 12 "), ("RateLimit-Remaining", "13"),
            ("RETRY-AFTER", "3"), ("x-RateLimit-Reset", "2"),
        ], now: Self.now)
        #expect(hints.limit == 40)
        #expect(hints.remaining == 12)
        #expect(hints.retryAt == Timestamp(millisecondsSince1970: Self.now.millisecondsSince1970 + 3_000))
        #expect(hints.resetAt == Timestamp(millisecondsSince1970: Self.now.millisecondsSince1970 + 2_000))
        #expect(RateLimitHints(headers: [("Retry-After-", "3"), ("Server", "x")], now: Self.now) == RateLimitHints())
    }

    @Test func aZeroLimitIsNoLimit() {
        #expect(RateLimitHints(headers: [("RateLimit-Limit", "0")], now: Self.now).limit == nil)
    }

    static func jwt(payload: String) -> String {
        JWT.base64URLEncode(Data(#"{"alg":"HS256"}"#.utf8)) + "." + JWT.base64URLEncode(Data(payload.utf8)) + ".c2ln"
    }

    @Test(arguments: [
        (#"{"exp":1e300}"#, ServerNumbers.latestInstantMs), (#"{"exp":-1e300}"#, 0), (#"{"exp":1764590400}"#, 1_764_590_400_000),
        (#"{"exp":1764590400.5}"#, 1_764_590_400_500), (#"{"exp":99999999999999999999999999}"#, ServerNumbers.latestInstantMs),
    ] as [(String, Int64)])
    func jwtExpiryIsClampedToTheYears1970To9999(payload: String, ms: Int64) {
        #expect(JWT.expiry(of: Self.jwt(payload: payload))?.millisecondsSince1970 == ms)
    }

    @Test(arguments: [#"{"exp":"soon"}"#, #"{"exp":true}"#, #"{"exp":null}"#, "[1]", "not json", #"{"exp":1e999}"#])
    func aJWTWithoutANumericExpiryHasNone(payload: String) {
        #expect(JWT.expiry(of: Self.jwt(payload: payload)) == nil)
    }

    @Test(arguments: [
        // expiresAt wins over exp; numbers are unix seconds; everything at most a day ahead.
        (#"{"sessionToken":"T","expiresAt":1e300}"#, 86_400_000),
        (#"{"sessionToken":"T","expiresAt":1e999}"#, DiscovrEndpoints.assumedSessionLifetime), // unreadable: the documented 30 minutes
        (#"{"token":"T","expiresAt":"9999-12-31T23:59:59Z"}"#, 86_400_000),
        (#"{"token":"T","expiresAt":1796128200}"#, 1_800_000),
        (#"{"token":"T","expiresAt":"2026-12-01T12:30:00Z"}"#, 1_800_000),
        (#"{"token":"T"}"#, DiscovrEndpoints.assumedSessionLifetime),
    ] as [(String, Int64)])
    func sessionExpiryIsClampedToADay(body: String, ms: Int64) throws {
        let session = try #require(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now))
        #expect(session.token == "T")
        #expect(delta(session.expiresAt) == ms)
    }

    @Test func aSessionJWTWithAHugeExpIsClampedToADay() throws {
        let token = Self.jwt(payload: #"{"exp":1e300}"#)
        let body = Array(("{\"sessionToken\":\"" + token + "\"}").utf8)
        let session = try #require(SessionToken.parse(responseBody: body, now: Self.now))
        #expect(delta(session.expiresAt) == ServerNumbers.maximumSessionLifetimeMs)
    }

    @Test(arguments: [#"{"token":""}"#, #"{"token":5}"#, "[]", "", "{", #"{"jwt":null}"#])
    func noUsableTokenIsNil(body: String) {
        #expect(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now) == nil)
    }

    @Test func aTokenLongerThan16KiBIsRefused() {
        let body = "{\"token\":\"" + String(repeating: "a", count: SessionToken.maximumTokenLength + 1) + "\"}"
        #expect(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now) == nil)
    }

    @Test func historyResponseIsReadWithTheStrictParser() {
        let ok = HistoryResponse.parse(body: Array(#"{"message":"Item added","added":"x","removed":7}"#.utf8))
        #expect(ok == HistoryResponse(message: "Item added", added: "x", removed: nil))
        let long = HistoryResponse.parse(body: Array(("{\"error\":\"" + String(repeating: "e", count: 1000) + "\"}").utf8))
        #expect(long.message?.count == 300)
        let html = HistoryResponse.parse(body: Array("<html>bad gateway</html>".utf8))
        #expect(html.message == "<html>bad gateway</html>")
        #expect(HistoryResponse.parse(body: Array(#"{"message":1e999}"#.utf8)).message == nil)
    }

    @Test(arguments: [(301, HistoryAnswer.redirected), (302, .redirected), (307, .redirected), (308, .redirected)])
    func aRedirectIsAFailedAttempt(status: Int, answer: HistoryAnswer) {
        #expect(HistoryAnswer(status: status) == answer)
    }

    @Test func farTimestampsFormatWithoutATrap() {
        #expect(HTTPDate.format(Timestamp(millisecondsSince1970: ServerNumbers.latestInstantMs)) == "Fri, 31 Dec 9999 23:59:59 GMT")
    }
}
