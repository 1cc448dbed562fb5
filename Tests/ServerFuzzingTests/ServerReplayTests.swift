import Foundation
import ServerFuzzing
import Testing

/// Replays the server fuzz seeds and every input that once made it fail (fuzz/server-regressions/)
/// through the harness libFuzzer runs: a trap or a broken invariant fails the test run.
@Suite(.timeLimit(.minutes(5))) struct ServerReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(_ folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test(arguments: files("fuzz/server-regressions") + files("fuzz/server-seeds"))
    func inputStaysFixed(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = data.withUnsafeBytes { ServerFuzzing.run($0) } // reaching this line is the test
    }

    @Test func everyReaderHasSeeds() throws {
        var seen = Set<ServerFuzzing.Reader>()
        for path in Self.files("fuzz/server-seeds") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            seen.insert(data.withUnsafeBytes { ServerFuzzing.run($0) })
        }
        #expect(seen == Set(ServerFuzzing.Reader.allCases))
    }
}
