import DiscovrAPI
import DiscovrSandbox
import Foundation
import Testing

@Suite("device-code sign-in, sign-out, expired and revoked refresh tokens")
struct SignInTests {
    static func start(_ client: SandboxClient, query: String = "") async throws -> [String: Any] {
        let answer = try await client.post(DiscovrEndpoints.deviceCodes + query, bearer: nil, body: #"{"clientID":"trakt2discovr-tests"}"#)
        #expect(answer.status == 200)
        return try #require(answer.object)
    }

    @Test("a device code answers as documented, with a real PNG as authQRCode", arguments: ["", "?format=json"])
    func deviceCode(_ query: String) async throws {
        try await withSandbox(SandboxConfiguration(deviceCodeTTL: 300)) { _, client in
            let object = try await Self.start(client, query: query)
            let code = try #require(object["deviceCode"] as? String)
            #expect(code.hasPrefix("dvc_") && code.count > 8)
            let userCode = try #require(object["userCode"] as? String)
            #expect((4...8).contains(userCode.count) && userCode.allSatisfy(\.isNumber))
            #expect((object["expiresIn"] as? NSNumber)?.int64Value == 300_000)
            let uri = try #require(object["authQRCode"] as? String)
            let prefix = "data:image/png;base64,"
            #expect(uri.hasPrefix(prefix))
            let png = try #require(Data(base64Encoded: String(uri.dropFirst(prefix.count))))
            #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
            #expect(String(decoding: png.suffix(8).prefix(4), as: UTF8.self) == "IEND")
            // The decoded image is whole: its IDAT holds exactly the scanlines IHDR announces.
            let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(width == height && width > 20)
            #expect(try Self.inflatedSize(png) == (width + 1) * height)
        }
    }

    /// The size of the image data in the PNG's IDAT chunks (stored deflate blocks only), with
    /// every chunk's CRC checked.
    static func inflatedSize(_ png: Data) throws -> Int {
        var offset = 8
        var idat: [UInt8] = []
        let bytes = Array(png)
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let crc = bytes[offset + 8 + length..<offset + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(crc == crc32(Array(bytes[offset + 4..<offset + 8 + length])), "CRC of \(type)")
            if type == "IDAT" { idat += bytes[offset + 8..<offset + 8 + length] }
            offset += 12 + length
        }
        var i = 2, total = 0
        while i < idat.count - 4 {
            let final = idat[i] & 1 == 1
            let length = Int(idat[i + 1]) | Int(idat[i + 2]) << 8
            total += length
            i += 5 + length
            if final { break }
        }
        return total
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test("a start without clientID answers 400", arguments: ["{}", #"{"clientID":""}"#, #"{"clientID":7}"#])
    func noClientID(_ body: String) async throws {
        try await withSandbox(SandboxConfiguration()) { _, client in
            let answer = try await client.post(DiscovrEndpoints.deviceCodes, bearer: nil, body: body)
            #expect(answer.status == 400)
            #expect(answer.message?.contains("clientID") == true)
        }
    }

    @Test("polls answer pending until --confirm-after polls, then a working refresh token, once", arguments: [0, 1, 3])
    func confirmAfter(_ polls: Int) async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(confirmAfter: polls, now: clock.closure)) { running, client in
            let code = try #require(try await Self.start(client)["deviceCode"] as? String)
            for _ in 0..<polls {
                let pending = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
                #expect(pending.status == 200)
                #expect(pending.body == #"{"status":"pending"}"#)
            }
            let confirmed = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
            #expect(confirmed.status == 200)
            let object = try #require(confirmed.object)
            let refreshToken = try #require(object["refreshToken"] as? String)
            #expect(refreshToken.hasPrefix("rt_") && refreshToken != running.refreshToken)
            #expect((object["publicId"] as? String)?.isEmpty == false)
            #expect((object["expiresAt"] as? NSNumber)?.int64Value == (ManualClock.start + 90 * 86_400_000) / 1000)
            // The new token is an account token: it lists the profiles and gets a session.
            #expect(try await client.profiles(refreshToken: refreshToken).count == 1)
            let session = try #require(try await client.sessionToken(refreshToken: refreshToken))
            #expect(try await client.history(movieBody(), bearer: session).status == 200)
            // The code is used up.
            let again = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
            #expect(again.status == 401)
            // After its 90 days the token has expired.
            clock.advance(milliseconds: 90 * 86_400_000)
            let expired = try await client.get(DiscovrEndpoints.profiles, bearer: refreshToken)
            #expect(expired.status == 401 && expired.code == "TOKEN_EXPIRED")
        }
    }

    @Test("an unknown or expired device code answers 401")
    func expiredCode() async throws {
        let clock = ManualClock()
        try await withSandbox(SandboxConfiguration(confirmAfter: 5, deviceCodeTTL: 60, now: clock.closure)) { _, client in
            let unknown = try await client.post(DiscovrEndpoints.devicePoll("dvc_nope"), bearer: nil, body: "")
            #expect(unknown.status == 401 && unknown.code == "TOKEN_INVALID")
            let code = try #require(try await Self.start(client)["deviceCode"] as? String)
            clock.advance(milliseconds: 59_999)
            #expect(try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "").status == 200)
            clock.advance(milliseconds: 1)
            let expired = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
            #expect(expired.status == 401 && expired.code == "TOKEN_EXPIRED")
        }
    }

    @Test("the poll path knob: only /poll, or only /token (404 on the other, for the client's fallback)",
          arguments: DevicePollPath.allCases)
    func pollPath(_ path: DevicePollPath) async throws {
        try await withSandbox(SandboxConfiguration(confirmAfter: 0, devicePollPath: path)) { _, client in
            let code = try #require(try await Self.start(client)["deviceCode"] as? String)
            let served = path == .poll ? DiscovrEndpoints.devicePoll(code) : DiscovrEndpoints.deviceToken(code)
            let other = path == .poll ? DiscovrEndpoints.deviceToken(code) : DiscovrEndpoints.devicePoll(code)
            #expect(try await client.post(other, bearer: nil, body: "").status == 404)
            let confirmed = try await client.post(served, bearer: nil, body: "")
            #expect(confirmed.status == 200 && confirmed.object?["refreshToken"] is String)
        }
    }

    @Test("DELETE /auth/session revokes the refresh token: identity calls answer TOKEN_INVALID afterwards")
    func signOut() async throws {
        try await withSandbox(SandboxConfiguration()) { running, client in
            let session = try #require(try await client.sessionToken(refreshToken: running.refreshToken))
            let wrongKind = try await client.send(.DELETE, DiscovrEndpoints.session, bearer: session)
            #expect(wrongKind.status == 401 && wrongKind.code == "WRONG_TOKEN_KIND")
            let revoked = try await client.send(.DELETE, DiscovrEndpoints.session, bearer: running.refreshToken)
            #expect(revoked.status == 200)
            #expect(revoked.object?["revoked"] as? Bool == true)
            for answer in [try await client.get(DiscovrEndpoints.profiles, bearer: running.refreshToken),
                           try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken, body: "{}"),
                           try await client.send(.DELETE, DiscovrEndpoints.session, bearer: running.refreshToken)] {
                #expect(answer.status == 401)
                #expect(answer.code == "TOKEN_INVALID")
                #expect(answer.message?.contains("revoked") == true)
            }
        }
    }

    @Test("the expired and revoked knobs refuse the refresh token on every identity call",
          arguments: [(true, false), (false, true)])
    func tokenKnobs(expired: Bool, revoked: Bool) async throws {
        try await withSandbox(SandboxConfiguration(refreshTokenExpired: expired, refreshTokenRevoked: revoked)) { running, client in
            for answer in [try await client.get(DiscovrEndpoints.profiles, bearer: running.refreshToken),
                           try await client.post(DiscovrEndpoints.sessionToken, bearer: running.refreshToken, body: "{}"),
                           try await client.send(.DELETE, DiscovrEndpoints.session, bearer: running.refreshToken)] {
                #expect(answer.status == 401)
                #expect(answer.code == (expired ? "TOKEN_EXPIRED" : "TOKEN_INVALID"))
            }
            #expect(running.store.stats().tokensIssued == 0 && running.store.stats().tokensRefused == 1)
            // Signing in again gives a token that works.
            let code = try #require(try await Self.start(client)["deviceCode"] as? String)
            _ = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
            let fresh = try await client.post(DiscovrEndpoints.devicePoll(code), bearer: nil, body: "")
            let token = try #require(fresh.object?["refreshToken"] as? String)
            #expect(try await client.sessionToken(refreshToken: token) != nil)
        }
    }
}
