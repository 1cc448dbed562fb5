import DiscovrAPI
import Foundation
import Testing
@testable import Delivery

/// Where a token may go, and the token file's permissions (importer.md section 6).
@Suite struct TransportLimitsTests {
    @Test(arguments: [
        "https://api.discovr.media", "https://api.discovr.media/", "HTTPS://example.com:8443",
        "http://127.0.0.1:8080", "http://127.255.3.4", "http://localhost:9000", "http://LOCALHOST",
        "http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]",
    ])
    func aTokenMayGoOverHTTPSOrToLoopback(url: String) throws {
        let base = try DiscovrClient.checkedBaseURL(url)
        #expect(!base.hasSuffix("/"))
    }

    @Test(arguments: [
        "http://api.discovr.media", "http://example.com:8080", "http://10.0.0.1", "http://128.0.0.1",
        "http://127.0.0.1.evil.example", "http://localhost.evil.example", "http://[::2]", "http://0x7f.0.0.1",
        "http://127.1", "http://1270.0.0.1",
    ])
    func plainHTTPToAnotherHostIsRefused(url: String) {
        #expect(throws: DeliveryError.insecureURL(url)) { try DiscovrClient.checkedBaseURL(url) }
        let message = DeliveryError.insecureURL(url).description
        #expect(message.contains("unencrypted") && message.contains("https://"))
    }

    @Test(arguments: ["ftp://example.com", "example.com", "", "https://", "https://user:pw@example.com"])
    func whatIsNotAnHTTPURLIsRefused(url: String) {
        #expect(throws: DeliveryError.self) { try DiscovrClient.checkedBaseURL(url) }
    }

    @Test(arguments: [(0.0, 30.0), (-1, 30), (Double.nan, 30), (Double.infinity, 30), (1e300, 3600), (5, 5), (1e-9, 0.001)] as [(Double, Double)])
    func timeoutsAreBroughtIntoRange(given: Double, used: Double) {
        #expect(DiscovrClient.usableTimeout(given) == used)
    }

    @Test func redirectNoteNamesTheOriginOnly() {
        let answer = HTTPAnswer(status: 302, headers: [("location", "https://evil.example:8443/steal?rt_0123456789abcdef=1")], body: [])
        let note = answer.classified(atMs: 0).message
        #expect(note?.contains("https://evil.example:8443") == true)
        #expect(note?.contains("steal") == false)
        #expect(HTTPAnswer(status: 200, headers: [("Location", "https://x")], body: []).classified(atMs: 0).message == nil)
        #expect(HTTPAnswer(status: 301, headers: [], body: []).classified(atMs: 0).message?.contains("another address") == true)
    }

    @Test(arguments: [(0o600, false), (0o400, false), (0o700, false), (0o640, true), (0o604, true), (0o644, true), (0o660, true), (0o606, true)]
        as [(Int, Bool)])
    func aTokenFileOthersCanReadIsWarnedAbout(mode: Int, warned: Bool) throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.url.appendingPathComponent("token").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("rt_x\n".utf8)))
        #expect(chmod(path, mode_t(mode)) == 0)
        let warning = TokenFilePermissions.warning(forFileAt: path)
        #expect((warning != nil) == warned)
        if let warning {
            #expect(warning.contains(path) && warning.contains("chmod 600"))
        }
        #expect(TokenFilePermissions.warning(forFileAt: path + ".missing") == nil)
    }
}
