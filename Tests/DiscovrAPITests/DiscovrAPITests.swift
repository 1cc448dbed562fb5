import Foundation
import Testing
@testable import DiscovrAPI

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2014-03-31T09:28:53.000Z", "2014-03-31T09:28:53.000Z"),
        ("2014-03-31T09:28:53Z", "2014-03-31T09:28:53.000Z"),
        ("2014-03-31T09:28:53.5Z", "2014-03-31T09:28:53.500Z"),
        ("2014-03-31T09:28:53.123456Z", "2014-03-31T09:28:53.123Z"),
        ("2014-03-31T11:28:53+02:00", "2014-03-31T09:28:53.000Z"),
        ("2014-03-31T04:28:53-0500", "2014-03-31T09:28:53.000Z"),
        ("2014-03-31T09:28Z", "2014-03-31T09:28:00.000Z"),
        ("2014-03-31t09:28:53z", "2014-03-31T09:28:53.000Z"),
        ("2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"),
        ("2000-01-01T00:30:00+01:00", "1999-12-31T23:30:00.000Z"),
        ("1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"),
        ("1900-01-01T00:00:00.000Z", "1900-01-01T00:00:00.000Z"),
    ])
    func parsesTraktFormsAndWritesUTCMilliseconds(input: String, output: String) throws {
        let ts = try #require(Timestamp(iso8601: input))
        #expect(ts.iso8601 == output)
    }

    @Test(arguments: ["", "yesterday", "2014-03-31", "2014-03-31T09:28:53", "2023-02-29T00:00:00Z", "2014-13-01T00:00:00Z",
                      "2014-03-31T25:00:00Z", "90000-01-01T00:00:00Z", "2014-03-31T09:28:53.Z", "2014-03-31T09:28:53Zjunk",
                      "0000-01-01T00:00:00Z", "2014-03-31T09:28:53+24:00"])
    func rejectsWhatIsNotADateTime(input: String) {
        #expect(Timestamp(iso8601: input) == nil)
    }

    @Test func roundTripsEveryDayForFourHundredYears() {
        // Every day from 1800 to 2200 formats and parses back to itself (leap years, centuries).
        var ms: Int64 = Timestamp(iso8601: "1800-01-01T12:34:56.789Z")!.millisecondsSince1970
        let end = Timestamp(iso8601: "2200-01-01T00:00:00Z")!.millisecondsSince1970
        while ms < end {
            let ts = Timestamp(millisecondsSince1970: ms)
            #expect(Timestamp(iso8601: ts.iso8601) == ts)
            ms += 86_400_000 * 7 + 3_600_001
        }
    }
}

@Suite struct WireTests {
    @Test(arguments: [
        ("MV_TMDBID949", MediaID.movie(949)), ("TV_TMDBID1396", .show(1396)),
    ])
    func mediaIDRoundTrips(raw: String, id: MediaID) {
        #expect(MediaID(rawValue: raw) == id)
        #expect(id.rawValue == raw)
    }

    @Test(arguments: ["1396", "TV_TMDBID", "TV_TMDBID0", "TV_TMDBID-5", "TV_TMDBID01", "XX_TMDBID5", "TV_TMDBID1e3", "MV_TMDBID99999999999999999999"])
    func mediaIDRejects(raw: String) {
        #expect(MediaID(rawValue: raw) == nil)
    }

    @Test(arguments: [(100.0, "100"), (57.6, "57.6"), (45.68, "45.68"), (0, "0")])
    func progressIsWrittenShortest(value: Double, text: String) {
        #expect(HistoryItem.formatProgress(value) == text)
    }

    @Test(arguments: [(45.678, 45.68), (130, 100), (-5, 0), (Double.nan, 0), (33.333, 33.33)] as [(Double, Double)])
    func progressIsClampedAndRounded(input: Double, output: Double) {
        #expect(HistoryItem.normalizedProgress(input) == output)
    }

    @Test func bodyIsValidJSONAcceptedByTheValidationRules() throws {
        let items = [
            HistoryItem(mediaId: .show(1396), season: 1, episode: 5, updatedAt: Timestamp(iso8601: "2023-01-15T00:00:00Z")),
            HistoryItem(mediaId: .movie(949), progress: 45.68, updatedAt: nil),
        ]
        for item in items {
            guard let object = try JSONParser.parse(Array(item.jsonBody.utf8)).objectValue else {
                Issue.record("not a JSON object: \(item.jsonBody)")
                continue
            }
            #expect(HistoryValidation.problem(in: object) == nil)
            #expect(object["imported"]?.stringValue == "trakt")
        }
    }

    @Test(arguments: [
        ("{}", "mediaId is required"),
        (#"{"mediaId": "1396"}"#, "mediaId must be"),
        (#"{"mediaId": "TV_TMDBID1396"}"#, "season is required"),
        (#"{"mediaId": "TV_TMDBID1396", "season": 0}"#, "season must be >= 1"),
        (#"{"mediaId": "TV_TMDBID1396", "season": 1, "episode": 0}"#, "episode must be >= 1"),
        (#"{"mediaId": "TV_TMDBID1396", "season": 1.5}"#, "season must be an integer"),
        (#"{"mediaId": "MV_TMDBID949", "progress": 101}"#, "progress must be between"),
        (#"{"mediaId": "MV_TMDBID949", "progress": true}"#, "progress must be a number"),
        (#"{"mediaId": "TV_TMDBID1396", "season": true, "episode": 1}"#, "season must be an integer"),
        (#"{"mediaId": "MV_TMDBID949", "progress": "50"}"#, "progress must be a number"),
        (#"{"mediaId": "MV_TMDBID949", "updatedAt": "yesterday"}"#, "updatedAt must be"),
    ])
    func validationRulesOfTheSeedPage(body: String, problem: String) throws {
        #expect(HistoryValidation.problem(inBody: Array(body.utf8))?.contains(problem) == true)
    }

    /// Found by the fuzzer: on Linux an NSNumber holding 0 or 1 casts to Bool, and `progress: 0`
    /// (a playback just started) or `progress: 1` was refused as "not a number".
    @Test(arguments: [
        #"{"mediaId": "MV_TMDBID949", "progress": 0}"#,
        #"{"mediaId": "MV_TMDBID949", "progress": 1}"#,
        #"{"mediaId": "MV_TMDBID949", "progress": 1.0}"#,
        #"{"mediaId": "TV_TMDBID1396", "season": 1, "episode": 1, "progress": 0}"#,
    ])
    func zeroAndOneAreNumbers(body: String) throws {
        #expect(HistoryValidation.problem(inBody: Array(body.utf8)) == nil)
    }

    @Test func retryAfterInBothForms() {
        let now = Timestamp(iso8601: "2026-11-29T12:00:00Z")!
        #expect(RateLimitHints.parseRetryAfter("3", now: now)?.iso8601 == "2026-11-29T12:00:03.000Z")
        #expect(RateLimitHints.parseRetryAfter("Sun, 29 Nov 2026 12:00:07 GMT", now: now)?.iso8601 == "2026-11-29T12:00:07.000Z")
        #expect(RateLimitHints.parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", now: now) == now) // in the past: now
        #expect(RateLimitHints.parseRetryAfter("soon", now: now) == nil)
        #expect(HTTPDate.format(Timestamp(iso8601: "1994-11-06T08:49:37Z")!) == "Sun, 06 Nov 1994 08:49:37 GMT")
        let hints = RateLimitHints(headers: [("ratelimit-limit", "10"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "2")], now: now)
        #expect(hints.limit == 10 && hints.remaining == 0 && hints.resetAt?.iso8601 == "2026-11-29T12:00:02.000Z")
    }

    @Test(arguments: [(200, HistoryAnswer.delivered), (201, .delivered), (409, .alreadyPresent), (400, .badRequest), (404, .unknownMedia),
                      (422, .badRequest), (405, .notAllowed), (410, .gone), (401, .sessionExpired), (403, .forbidden), (429, .rateLimited),
                      (500, .serverError(mayHaveStored: false)), (503, .serverError(mayHaveStored: false)),
                      (408, .serverError(mayHaveStored: false)), (502, .serverError(mayHaveStored: true)),
                      (504, .serverError(mayHaveStored: true)), (418, .rejected)])
    func statusTable(status: Int, answer: HistoryAnswer) {
        #expect(HistoryAnswer(status: status) == answer)
    }

    @Test func sessionTokenExpiryFromBodyThenJWTThenDefault() {
        let now = Timestamp(iso8601: "2026-11-29T12:00:00Z")!
        let body1 = Array(#"{"sessionToken": "a.b.c", "expiresAt": "2026-11-29T12:30:00.000Z"}"#.utf8)
        #expect(SessionToken.parse(responseBody: body1, now: now)?.expiresAt.iso8601 == "2026-11-29T12:30:00.000Z")
        let payload = JWT.base64URLEncode(Data(#"{"exp": 1796040000}"#.utf8))
        let body2 = Array("{\"jwt\": \"e30.\(payload).sig\"}".utf8)
        #expect(SessionToken.parse(responseBody: body2, now: now)?.expiresAt.millisecondsSince1970 == 1_796_040_000_000)
        let body3 = Array(#"{"token": "opaque"}"#.utf8)
        #expect(SessionToken.parse(responseBody: body3, now: now)?.expiresAt.iso8601 == "2026-11-29T12:30:00.000Z") // documented 30 minutes
        #expect(SessionToken.parse(responseBody: Array("{}".utf8), now: now) == nil)
    }
}
