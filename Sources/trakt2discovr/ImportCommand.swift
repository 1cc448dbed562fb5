import ArgumentParser
import DiscovrAPI
import Foundation
import ImportPlanner
import TraktExport

extension UnknownDatePolicy: ExpressibleByArgument {}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read Trakt exports, plan the Discovr history items, then deliver them.",
        discussion: """
            <path> is the ZIP from Trakt's settings, an unzipped export folder, or JSON files \
            (several at once). Everything is read and planned before anything is sent, so a bad \
            file stops the run before any state or network change.

            Examples:
              trakt2discovr import trakt-export-me.zip --dry-run --skipped-out skipped.csv
              trakt2discovr import trakt-export-me.zip --token-file ~/.discovr-token \\
                  --limit 500
              trakt2discovr import samples/official/trakt-export-sample.zip --sandbox
            """
    )

    @Argument(help: ArgumentHelp("Export ZIP, folder or JSON files. With --sandbox and no path: the bundled sample export.", valueName: "path"))
    var paths: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Plan and report only: no network, no state written.")
    var dryRun = false

    @Option(name: .customLong("items-out"), help: ArgumentHelp("Write the planned items as JSON Lines (one POST body a line, in send order).", valueName: "file"))
    var itemsOut: String?

    @Option(name: .customLong("skipped-out"), help: ArgumentHelp("Write the skipped records as CSV (reason, title, year, Trakt slug, ...).", valueName: "file"))
    var skippedOut: String?

    @Option(name: .customLong("unknown-dates"), help: ArgumentHelp("Plays with an unknown date (1970 placeholders): omit the date, keep it, or skip the play.", valueName: "omit|keep|skip"))
    var unknownDates: UnknownDatePolicy = .omit

    @Flag(name: .customLong("latest-only"), help: "One play per movie or episode: the latest.")
    var latestOnly = false

    @Flag(name: .customLong("no-playback"), help: "Leave in-progress (paused) items out.")
    var noPlayback = false

    @Flag(name: .customLong("no-ratings"), help: "Leave verdicts out: ratings and favorites (liked, disliked, super_liked).")
    var noRatings = false

    @Flag(name: .customLong("no-watchlist"), help: "Leave the watchlist out.")
    var noWatchlist = false

    @Option(name: .customLong("super-liked-from"), help: ArgumentHelp("Ratings from n up are super_liked.", valueName: "n"))
    var superLikedFrom = RatingLines().superLikedFrom

    @Option(name: .customLong("liked-from"), help: ArgumentHelp("Ratings from n up (below --super-liked-from) are liked.", valueName: "n"))
    var likedFrom = RatingLines().likedFrom

    @Option(name: .customLong("disliked-up-to"), help: ArgumentHelp("Ratings up to n are disliked; those between it and --liked-from are left out.", valueName: "n"))
    var dislikedUpTo = RatingLines().dislikedUpTo

    @Option(name: .customLong("list-items-out"), help: ArgumentHelp("Write the planned list writes as JSON Lines ({\"list\": ..., \"mediaId\": ...}, in send order).", valueName: "file"))
    var listItemsOut: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var delivery: DeliveryOptions

    func validate() throws {
        if paths.isEmpty && !delivery.sandbox { throw ValidationError("give at least one export path (the ZIP from Trakt's settings, its folder, or JSON files)") }
        if let problem = ratingLines.problem { throw ValidationError(problem) }
        try delivery.check()
    }

    func run() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        var paths = self.paths
        var delivery = self.delivery
        if paths.isEmpty {
            // --sandbox with no path: the sample export bundled in the executable.
            paths = [try scratch.write(EmbeddedSample.fileName, EmbeddedSample.bytes)]
            if !output.json { Terminal.note("no export given: using the bundled sample export") }
        }
        if delivery.sandbox && !delivery.stateGiven {
            // A sandbox lives only as long as this process: so does its queue.
            delivery.state = scratch.path("sandbox-state.sqlite")
        }
        let scan = try ExportReader.read(paths: paths, lists: ListSelection(verdicts: !noRatings, watchlist: !noWatchlist))
        let plan = ImportPlanner.plan(scan, options: PlanOptions(unknownDates: unknownDates, latestOnly: latestOnly, includePlayback: !noPlayback,
                                                                 ratingLines: ratingLines))
        var report = ImportReport(scan: scan, plan: plan, dryRun: dryRun)

        try writeOutputs(scan: scan, plan: plan)
        if dryRun {
            try output.emit(report, hint: hint(dryRun: true))
            return
        }
        let code = try await DeliveryRun(options: delivery, output: output).importAndDeliver(scan: scan, plan: plan, report: &report)
        try output.emit(report, hint: hint(dryRun: false))
        if code != Exit.ok { throw code }
    }

    var ratingLines: RatingLines {
        RatingLines(superLikedFrom: superLikedFrom, likedFrom: likedFrom, dislikedUpTo: dislikedUpTo)
    }

    func hint(dryRun: Bool) -> String {
        var files: [String] = []
        if let r = output.report { files.append("report: \(r)") }
        if let i = itemsOut { files.append("items: \(i)") }
        if let l = listItemsOut { files.append("list items: \(l)") }
        if let s = skippedOut { files.append("skipped: \(s)") }
        let head = dryRun ? "dry run: nothing was sent and no state was written." : ""
        let tail = files.isEmpty ? "details: --report FILE, --items-out FILE, --skipped-out FILE" : files.joined(separator: ", ")
        return [head, tail].filter { !$0.isEmpty }.joined(separator: " ")
    }

    func writeOutputs(scan: ExportScan, plan: ImportPlan) throws {
        // The seed's form unless --media-id-form short (importer.md section 5); auto decides only when sending.
        let form: MediaIDForm = delivery.mediaIdForm == .short ? .short : .seed
        if let itemsOut {
            try OutputFile.writeLines(plan.items, bytesEach: 110, to: itemsOut) { $0.item.jsonBody(form: form) }
        }
        if let listItemsOut {
            try OutputFile.writeLines(plan.listItems, bytesEach: 48, to: listItemsOut) { $0.jsonLine(form: form) }
        }
        if let skippedOut {
            try OutputFile.write(SkippedCSV.render(scan: scan, plan: plan), to: skippedOut)
        }
    }
}

/// `--report` and `--json`, shared by the commands that end with a report.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("report"), help: ArgumentHelp("Also write the report (JSON) to this file.", valueName: "file"))
    var report: String?

    @Flag(name: .customLong("json"), help: "Print the report JSON on stdout instead of the human summary.")
    var json = false

    func emit(_ report: ImportReport, hint: String?) throws {
        if let path = self.report {
            try OutputFile.write(report.json, to: path)
        }
        if json {
            Terminal.out(report.json)
        } else {
            Terminal.out(Terminal.summary(report, detailsHint: hint))
        }
    }
}

/// Writing the files the user asked for: whole or not at all (a temporary file renamed into place).
enum OutputFile {
    static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// JSON Lines, one a value: bytes straight into the file's buffer (a String first, then its copy as
    /// Data, held a million plays' lines twice).
    static func writeLines<C: Collection>(_ values: C, bytesEach: Int, to path: String, _ line: (C.Element) -> String) throws {
        var data = Data()
        data.reserveCapacity(values.count * bytesEach)
        for value in values {
            data.append(contentsOf: line(value).utf8)
            data.append(0x0A)
        }
        try write(data, to: path)
    }

    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw fail("\(path): cannot write (\(error.localizedDescription)); check the folder exists and has space", Exit.cantCreate)
        }
    }
}

/// A private temporary folder for the run, removed at the end.
final class Scratch {
    private var url: URL?

    func path(_ name: String) -> String {
        if url == nil {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trakt2discovr-\(UUID().uuidString)")
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            url = dir
        }
        return url!.appendingPathComponent(name).path
    }

    func write(_ name: String, _ data: Data) throws -> String {
        let file = path(name)
        guard FileManager.default.createFile(atPath: file, contents: data) else {
            throw fail("cannot write a temporary file in \(FileManager.default.temporaryDirectory.path); check TMPDIR", Exit.cantCreate)
        }
        return file
    }

    func remove() {
        if let url { try? FileManager.default.removeItem(at: url) }
    }
}
