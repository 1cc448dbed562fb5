import Foundation
import ReaderFuzzing
import Testing

/// Replays the fuzz seeds and every input that once made the fuzzer fail (fuzz/regressions/)
/// through the same harness libFuzzer runs: a crash, a trap or a broken invariant fails the test run.
@Suite(.timeLimit(.minutes(5))) struct ReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(_ folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { dir.appendingPathComponent($0).path }
    }

    static func run(_ path: String) throws -> ReaderFuzzing.Outcome {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { ReaderFuzzing.run($0) }
    }

    @Test(arguments: files("fuzz/regressions"))
    func regressionInputStaysFixed(path: String) throws {
        // Reaching the next line is the test: the input once crashed, hung or broke an invariant.
        let outcome = try Self.run(path)
        if case .refused(let why) = outcome {
            #expect(!why.isEmpty)
        }
    }

    @Test func seedsAreThereAndTheSamplesAmongThemAreRead() throws {
        let seeds = Self.files("fuzz/seeds")
        #expect(seeds.count >= 20)
        var read = 0
        for path in seeds {
            if case .read(let records) = try Self.run(path), records > 0 { read += 1 }
        }
        // Every seed with watch data is read; the few without (stats, ratings, lists) are refused.
        #expect(read >= 15, "only \(read) of \(seeds.count) seeds were read")
    }

    @Test func refusalsNameTheProblem() throws {
        let cases: [(String, String)] = [
            ("[{\"watched_at\": \"2020-01-01T00:00:00Z\", \"type\": \"movie\"", ":1:56: malformed json"),
            ("PK\u{3}\u{4}not really a zip", "ZIP"),
            ("{\"ratings\": []}", "no trakt watch data"),
        ]
        for (input, expected) in cases {
            let outcome = Data(input.utf8).withUnsafeBytes { ReaderFuzzing.run($0) }
            guard case .refused(let why) = outcome else {
                Issue.record("\(input) was read")
                continue
            }
            #expect(why.lowercased().contains(expected.lowercased()), "\(why)")
        }
    }
}
