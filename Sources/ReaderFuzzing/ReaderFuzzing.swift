import DiscovrAPI
import Foundation
import ImportPlanner
import TraktExport

/// The fuzz harness of the export reader: one input of bytes goes through everything a user's file
/// goes through in a dry run (the ZIP reader or the JSON parser, classification and the decoding of
/// every record kind, planning, the report and every request body), and the invariants that must
/// hold for any input are checked. A violated invariant traps, so that libFuzzer reports it like a
/// crash. Used by the `trakt2discovr-fuzz` executable (libFuzzer, or replaying files) and by the
/// regression tests over `fuzz/regressions/`.
public enum ReaderFuzzing {
    /// Names a JSON input is read under, picked by the input's length: a few files are recognised by
    /// name (`_errors.json`), and an empty array is classified by its file name.
    static let names = [
        "watched-history-1.json", "watched-movies.json", "watched-shows.json", "playback-1.json",
        "user-stats.json", "_errors.json", "trakt-export.json", "history.json", "ratings-movies.json",
    ]

    /// Small limits so that a hostile input is refused (as a real one would be, at 512 MiB) long
    /// before the fuzzer's memory limit.
    static let limits: ReadLimits = {
        var limits = ReadLimits()
        limits.maxFileBytes = 8 << 20
        limits.ratioFloorBytes = 1 << 20
        limits.maxFiles = 2_000
        return limits
    }()

    /// Runs one input. Never throws: a refused input is a normal outcome. Returns what happened, for
    /// the replay tool and the tests.
    @discardableResult
    public static func run(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let data = Data(bytes)
        let scan: ExportScan
        do throws(TraktExportError) {
            if data.starts(with: [0x50, 0x4B]) {
                scan = try readZip(data)
            } else {
                scan = try ExportReader.read(document: data, name: names[data.count % names.count], limits: limits)
            }
        } catch {
            // Every refusal must carry a message a person can act on.
            require(!error.description.isEmpty, "an error without a message")
            return .refused(error.description)
        }
        check(scan)
        return .read(records: scan.records.count)
    }

    public enum Outcome: Equatable, Sendable {
        case refused(String)
        case read(records: Int)
    }

    /// Writes the bytes to a temporary file (ZIPFoundation reads archives from files) and reads it.
    static func readZip(_ data: Data) throws(TraktExportError) -> ExportScan {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("trakt2discovr-fuzz-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).zip")
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            try data.write(to: url)
        } catch {
            // Not the reader's fault: a full temporary folder. Treat the input as refused.
            throw .unreadable(path: url.path, reason: "cannot write the fuzz input: \(error)")
        }
        return try ExportReader.read(paths: [url.path], limits: limits)
    }

    /// What must hold for any input that was read: every record accounted for exactly once under
    /// every planning policy, the report consistent, and every planned body valid for Discovr.
    static func check(_ scan: ExportScan) {
        for policy in UnknownDatePolicy.allCases {
            for latestOnly in [false, true] {
                let plan = ImportPlanner.plan(scan, options: PlanOptions(unknownDates: policy, latestOnly: latestOnly))
                let skipped = plan.skippedCounts.values.reduce(0, +)
                require(plan.records.total == scan.records.count, "records counted \(plan.records.total) != read \(scan.records.count)")
                require(plan.planned.total + skipped == scan.records.count, "planned + skipped != records")
                require(plan.planned.movies + plan.planned.episodes == plan.planned.total, "movies + episodes != total")
                require(plan.items.count == plan.planned.total, "items != planned.total")
                require(Set(plan.items.map(\.item.playKey)).count == plan.items.count, "a play planned twice")
                require(SkipReason.allCases.allSatisfy { plan.skippedCounts[$0] != nil }, "a reason missing from the counts")
                for s in plan.skipped where s.reason == .zeroProgress {
                    require(scan.records[s.recordIndex].kind == .playback, "zero-progress given to a record that is not playback")
                }
                for planned in plan.items {
                    let body = planned.item.jsonBody
                    guard foundationObject(body) != nil else {
                        fatalError("a planned body is not a JSON object: \(body)")
                    }
                    if let problem = HistoryValidation.problem(inBody: Array(body.utf8)) {
                        fatalError("a planned body breaks the Discovr rules (\(problem)): \(body)")
                    }
                    // A playback paused at 0% is never sent (zero-progress); anything planned has progress > 0.
                    require(planned.item.progress > 0 && planned.item.progress <= 100, "a planned item with progress \(planned.item.progress)")
                    _ = ImportPlanner.label(scan.records[planned.recordIndex].play)
                }
                if policy == .omit && !latestOnly {
                    checkLists(scan, plan)
                    let report = ImportReport(scan: scan, plan: plan, dryRun: true)
                    require(foundationObject(report.json) != nil, "the report is not a JSON object")
                    let csv = SkippedCSV.render(scan: scan, plan: plan)
                    require(csv.split(separator: "\n", omittingEmptySubsequences: false).count >= plan.skipped.count + 1,
                                 "a skipped record missing from the CSV")
                    for s in plan.skipped {
                        if let url = SkippedCSV.traktURL(scan.records[s.recordIndex].play) {
                            require(url.hasPrefix("https://trakt.tv/") && url.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\"") },
                                    "a trakt_url that is not a plain URL: \(url)")
                        }
                    }
                }
            }
        }
    }
}

extension ReaderFuzzing {
    /// Ratings, favorites and watchlist (importer.md section 7): every list record one item or one
    /// skip, under the default rating lines and the narrowest and widest ones; one verdict and one
    /// watchlist entry per title at most; send order by date, unknown dates first.
    static func checkLists(_ scan: ExportScan, _ plan: ImportPlan) {
        let n = scan.listRecords.count
        let runs: [(ListCounts, [PlannedListItem])] = [(plan.lists, plan.listItems)]
            + [RatingLines(superLikedFrom: 10, likedFrom: 10, dislikedUpTo: 9), RatingLines(superLikedFrom: 2, likedFrom: 2, dislikedUpTo: 1)]
                .map { let r = ListPlanner.plan(scan.listRecords, lines: $0); return (r.counts, r.items) }
        for (counts, items) in runs {
            require(counts.records.total == n, "list records counted \(counts.records.total) != read \(n)")
            require(counts.planned.total + counts.skippedTotal == n, "lists: planned + skipped != records")
            require(items.count == counts.planned.total, "list items != lists.planned.total")
            require(ListSkipReason.allCases.allSatisfy { counts.skipped[$0] != nil }, "a list reason missing from the counts")
            let verdicts = items.filter { $0.item.list.isVerdict }.map(\.item.mediaId)
            require(Set(verdicts).count == verdicts.count, "two verdicts for one title")
            let watchlist = items.filter { !$0.item.list.isVerdict }.map(\.item.mediaId)
            require(Set(watchlist).count == watchlist.count, "a title on the watchlist twice")
            for (a, b) in zip(items, items.dropFirst()) {
                require((a.sortAt ?? Int64.min) <= (b.sortAt ?? Int64.min), "list items out of send order")
            }
            for p in items {
                require(p.item.mediaId.tmdb > 0, "a list item without a TMDB id")
                require(foundationObject(p.item.jsonBody(form: .seed)) != nil, "a list body is not a JSON object")
                require(foundationObject(p.jsonLine(form: .short)) != nil, "a --list-items-out line is not a JSON object")
            }
        }
    }
}

/// Like `precondition`, but the message survives an optimised build (libFuzzer runs one), so the
/// crash report says which invariant broke.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// `text` read by Foundation's JSON reader, an independent check of the JSON we write.
func foundationObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
