import Testing
@testable import DiscovrAPI

@Suite struct ProfileTests {
    static let three = [Profile(id: "profile_c", name: "Sci-Fi Lover"), Profile(id: "profile_b", name: "Kids"),
                        Profile(id: "profile_a", name: "Alex")]

    @Test func readsTheDocumentedListInOrder() throws {
        let body = #"{"profiles": [{"id": "profile_abc123xyz", "name": "Sci-Fi Lover", "avatarUrl": "x", "createdAt": "2026-01-01T00:00:00Z"},"#
            + #" {"id": "p2", "name": "Kids"}, {"name": "no id"}, {"id": 7, "name": "number id"}, {"id": "p3"}]}"#
        let profiles = try #require(Profile.parseList(body: Array(body.utf8)))
        #expect(profiles == [Profile(id: "profile_abc123xyz", name: "Sci-Fi Lover"), Profile(id: "p2", name: "Kids"),
                             Profile(id: "p3", name: "")])
    }

    @Test(arguments: ["", "[1", "{\"items\": []}", "\"profiles\"", "{\"profiles\": {}}"])
    func refusesBodiesThatAreNotAList(body: String) {
        #expect(Profile.parseList(body: Array(body.utf8)) == nil)
    }

    @Test(arguments: [
        (nil as String?, "profile_c" as String?),   // several, none asked: no choice
        ("profile_b", "profile_b"),                 // by id
        ("kids", "profile_b"),                      // by name, any case
        ("  SCI-FI lover ", "profile_c"),           // surrounding spaces ignored
        ("Alex", "profile_a"),
        ("profile_", nil),                          // no prefix matching
        ("Nobody", nil),
    ])
    func choosesByIdOrNameCaseInsensitively(requested: String?, expected: String?) {
        let choice = ProfileChoice.choose(from: Self.three, requested: requested)
        if requested == nil {
            #expect(choice == .needsChoice(Self.three))
            return
        }
        if let expected {
            #expect(choice == .chosen(Self.three.first { $0.id == expected }!))
        } else {
            #expect(choice == .unknown(requested!, Self.three))
        }
    }

    @Test func theOnlyProfileIsUsedWithoutAFlag() {
        let one = [Profile(id: "p1", name: "Me")]
        #expect(ProfileChoice.choose(from: one, requested: nil) == .chosen(one[0]))
        #expect(ProfileChoice.choose(from: one, requested: "someone else") == .unknown("someone else", one))
        #expect(ProfileChoice.choose(from: [], requested: nil) == .noProfiles)
        #expect(ProfileChoice.choose(from: [], requested: "x") == .noProfiles)
    }

    @Test func anIdWinsOverANameAndTwinNamesNeedAnId() {
        let tricky = [Profile(id: "p1", name: "p2"), Profile(id: "p2", name: "Two"), Profile(id: "p3", name: "two")]
        #expect(ProfileChoice.choose(from: tricky, requested: "p2") == .chosen(tricky[1]))
        let choice = ProfileChoice.choose(from: tricky, requested: "TWO")
        #expect(choice == .ambiguous("TWO", [tricky[1], tricky[2]]))
        #expect(choice.problem?.contains("--profile p3") == true)
    }

    @Test func theProblemListsEveryNameIdAndTheFlag() throws {
        let problem = try #require(ProfileChoice.choose(from: Self.three, requested: nil).problem)
        #expect(problem.contains("3 profiles"))
        for profile in Self.three {
            #expect(problem.contains(profile.name))
            #expect(problem.contains("--profile \(profile.id)"))
        }
        #expect(ProfileChoice.chosen(Self.three[0]).problem == nil)
        let unknown = try #require(ProfileChoice.choose(from: Self.three, requested: "Bob").problem)
        #expect(unknown.contains("\"Bob\"") && unknown.contains("--profile profile_a"))
    }
}

@Suite struct SessionAnswerTests {
    static let now = Timestamp(iso8601: "2025-12-01T12:00:00Z")!

    @Test func readsTheDocumentedAnswer() throws {
        let body = #"{"sessionToken": "eyJ.x.y", "sessionId": "feedface", "expiresAt": 1764592200}"#
        let session = try #require(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now))
        #expect(session.token == "eyJ.x.y")
        #expect(session.sessionId == "feedface")
        #expect(session.expiresAt.millisecondsSince1970 == 1_764_592_200_000)
    }

    static let nowMs: Int64 = 1_764_590_400_000
    static let day: Int64 = 86_400_000
    static let halfHour: Int64 = 1_800_000
    /// (expiresAt as sent, expected ms since 1970)
    static let expiries: [(String, Int64)] = [
        ("1764592200", 1_764_592_200_000),             // documented: unix seconds
        ("1764592200.5", 1_764_592_200_500),           // a fraction
        ("1764592200000", 1_764_592_200_000),          // milliseconds, read as such
        ("\"1764592200\"", 1_764_592_200_000),         // a number in a string
        ("\"2025-12-01T12:30:00.000Z\"", 1_764_592_200_000), // the old ISO form
        ("1e300", nowMs + day),                        // absurd: clamped to a day
        ("99999999999999999999999", nowMs + day),
        ("-5", nowMs + halfHour),                      // unusable: the documented 30 minutes
        ("0", nowMs + halfHour),
        ("null", nowMs + halfHour),
        ("\"soon\"", nowMs + halfHour),
        ("true", nowMs + halfHour),
        ("1764590000", 1_764_590_000_000),             // already past (clocks apart): kept, the 401 path decides
    ]

    @Test(arguments: expiries)
    func readsExpiresAtSanely(sent: String, expectedMs: Int64) throws {
        let body = "{\"sessionToken\": \"opaque\", \"expiresAt\": \(sent)}"
        let session = try #require(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now))
        #expect(session.expiresAt.millisecondsSince1970 == expectedMs)
    }

    @Test(arguments: ["sessionToken", "token", "accessToken", "jwt"])
    func oldTokenFieldNamesAreStillRead(field: String) {
        let body = "{\"\(field)\": \"t\", \"expiresAt\": 1764592200}"
        #expect(SessionToken.parse(responseBody: Array(body.utf8), now: Self.now)?.token == "t")
    }

    @Test func theExchangeAlwaysSendsTheProfile() {
        #expect(SessionTokenRequest(profileId: "profile_abc").jsonBody == #"{"profileId":"profile_abc"}"#)
        #expect(SessionTokenRequest(profileId: "a\"b").jsonBody == #"{"profileId":"a\"b"}"#)
    }
}

@Suite struct IdentityRefusalTests {
    static let listingCases: [(Int, String?, String?, IdentityRefusal.Kind)] = [
        (401, "TOKEN_EXPIRED", nil, .refreshTokenExpired),
        (401, "token_expired", nil, .refreshTokenExpired),
        (401, "TOKEN_INVALID", nil, .refreshTokenInvalid),
        (401, nil, "refresh token expired", .refreshTokenExpired),
        (401, nil, nil, .refreshTokenInvalid),
        (401, "WRONG_TOKEN_KIND", nil, .wrongTokenKind),
        (403, nil, nil, .refused),
        (400, nil, "bad request", .refused),
    ]

    @Test(arguments: listingCases)
    func sortsProfileListingRefusals(status: Int, code: String?, message: String?, kind: IdentityRefusal.Kind) {
        #expect(IdentityRefusal.classify(DiscovrAnswer(status: status), body: ErrorBody(code: code, message: message), call: .profiles).kind == kind)
    }

    static let exchangeCases: [(Int, String?, IdentityRefusal.Kind)] = [
        (400, nil, .badProfile),
        (404, nil, .badProfile),
        (422, nil, .badProfile),
        (400, "TOKEN_INVALID", .refreshTokenInvalid), // the code wins over the status
        (401, "TOKEN_EXPIRED", .refreshTokenExpired),
        (401, nil, .refreshTokenInvalid),
    ]

    @Test(arguments: exchangeCases)
    func aBadProfileOnTheExchangeIsNotABadToken(status: Int, code: String?, kind: IdentityRefusal.Kind) {
        let refusal = IdentityRefusal.classify(DiscovrAnswer(status: status), body: ErrorBody(code: code), call: .sessionExchange(profileId: "p"))
        #expect(refusal.kind == kind)
    }

    @Test func messagesSayWhatHappenedAndToRunLogin() {
        let expired = IdentityRefusal.classify(DiscovrAnswer(status: 401), body: ErrorBody(code: "TOKEN_EXPIRED", message: "refresh token expired"), call: .profiles)
        #expect(expired.description.contains("expired"))
        #expect(expired.description.contains("90 days"))
        #expect(expired.description.contains("trakt2discovr login"))
        #expect(expired.description.contains("TOKEN_EXPIRED: refresh token expired"))
        let invalid = IdentityRefusal.classify(DiscovrAnswer(status: 401), body: ErrorBody(code: "TOKEN_INVALID"), call: .profiles)
        #expect(invalid.description.contains("not valid") && invalid.description.contains("trakt2discovr login"))
        let profile = IdentityRefusal.classify(DiscovrAnswer(status: 400), body: ErrorBody(message: "unknown profileId"), call: .sessionExchange(profileId: "x"))
        #expect(!profile.needsNewSignIn)
        #expect(profile.description.contains("profile") && profile.description.contains("token is fine"))
        #expect(!profile.description.contains("login"))
    }
}

@Suite struct DeviceSignInWireTests {
    // A 1x1 PNG.
    static let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

    @Test func readsTheDocumentedStartAnswer() throws {
        let body = "{\"deviceCode\": \"dvc_abc\", \"userCode\": \"1234\", \"authQRCode\": \"data:image/png;base64,\(Self.png)\", \"expiresIn\": 600000}"
        let code = try #require(DeviceCode.parse(body: Array(body.utf8)))
        #expect(code.deviceCode == "dvc_abc" && code.userCode == "1234" && code.expiresInMs == 600_000)
        #expect(code.validFor == "10 minutes")
        let png = try #require(code.qrPNG)
        #expect(png.count == 70)
        #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    }

    @Test(arguments: [
        ("600000", Int64(600_000)), ("1e30", Int64(3_600_000)), ("5", Int64(30_000)), ("-1", Int64(600_000)),
        ("\"x\"", Int64(600_000)), ("45000", Int64(45_000)),
    ])
    func clampsTheLifetime(sent: String, expected: Int64) throws {
        let body = "{\"deviceCode\": \"dvc_1\", \"userCode\": 42, \"expiresIn\": \(sent)}"
        let code = try #require(DeviceCode.parse(body: Array(body.utf8)))
        #expect(code.expiresInMs == expected)
        #expect(code.userCode == "42")
        #expect(code.qrPNG == nil)
    }

    @Test(arguments: ["{}", "{\"deviceCode\": \"dvc/../x\", \"userCode\": \"1\"}", "{\"deviceCode\": \"d\"}", "[]",
                      "{\"deviceCode\": \"\", \"userCode\": \"1\"}"])
    func refusesUnusableStartAnswers(body: String) {
        #expect(DeviceCode.parse(body: Array(body.utf8)) == nil)
    }

    @Test(arguments: ["data:image/jpeg;base64,AAAA", "data:image/png;base64,!!!!", "data:image/png;base64,AAAA", "not a url"])
    func refusesQRCodesThatAreNotPNG(text: String) {
        #expect(DeviceCode(deviceCode: "d", userCode: "1", authQRCode: text, expiresInMs: 1).qrPNG == nil)
    }

    @Test func readsPollAnswers() {
        #expect(DevicePollAnswer.parse(body: Array(#"{"status": "pending"}"#.utf8)) == .pending)
        #expect(DevicePollAnswer.parse(body: Array(#"{"refreshToken": "rt_1", "publicId": "u1", "expiresAt": 1740867000}"#.utf8))
            == .confirmed(refreshToken: "rt_1", publicId: "u1", expiresAt: Timestamp(millisecondsSince1970: 1_740_867_000_000)))
        #expect(DevicePollAnswer.parse(body: Array(#"{"status": "done"}"#.utf8)) == nil)
        #expect(DevicePollAnswer.parse(body: Array("oops".utf8)) == nil)
    }

    @Test(arguments: [("", [UInt8]()), ("TWFu", Array("Man".utf8)), ("TWE=", Array("Ma".utf8)), ("TQ==", Array("M".utf8)),
                      ("TQ", Array("M".utf8)), ("-_8", [0xFB, 0xFF])])
    func decodesBase64(text: String, bytes: [UInt8]) {
        #expect(Base64.decode(text) == bytes)
    }
}
