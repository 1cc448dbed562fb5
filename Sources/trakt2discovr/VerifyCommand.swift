import ArgumentParser
import Delivery
import DiscovrAPI
import Foundation
import ImportQueue
import Logging

/// `verify` (importer.md section 8): reads the profile's history back and holds it against every play
/// the state counts as delivered or already there.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read the profile's history back: every delivered play there exactly once.",
        discussion: """
            Reads the whole history of the profile the state delivered to (GET /profile/history, every \
            page, at the server's pace) and looks for each play the state counts as delivered or already \
            there: the same media id (either form), season, episode, imported "trakt" and updatedAt to \
            the millisecond. Exit 0 when every one is there exactly once, 1 when some are missing or \
            there more than once (named, at most 20 each; --json or --report for all).

            Missing plays can be sent again: --requeue-missing, then `resume`. Duplicates cannot be \
            removed through Discovr's documented API: remove them in the app.

            Examples:
              trakt2discovr verify --token-file ~/.discovr-token
              trakt2discovr verify --requeue-missing && trakt2discovr resume
              trakt2discovr verify --json --state my-import.sqlite
            """
    )

    @Option(name: .customLong("state"), help: ArgumentHelp("The queue database (SQLite).", valueName: "file"))
    var state = "trakt2discovr.sqlite"

    @Option(name: .customLong("api-url"), help: ArgumentHelp("Discovr API base URL (default https://api.discovr.media, or DISCOVR_API_URL).", valueName: "url"))
    var apiURL: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the Discovr refresh token (else DISCOVR_REFRESH_TOKEN, else the saved sign-in).", valueName: "file"))
    var tokenFile: String?

    @Option(name: .customLong("rate"), help: ArgumentHelp("Requests a second: auto (the server's pace) or the most to send.", valueName: "n|auto"))
    var rate: RateOption = .auto

    @Option(name: .customLong("max-attempts"), help: ArgumentHelp("Tries per page before giving up.", valueName: "n"))
    var maxAttempts: Int = 8

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for one answer.", valueName: "s"))
    var timeout: Double = 30

    @Option(name: .customLong("give-up-after"), help: ArgumentHelp("Seconds without an answer before stopping (exit 75).", valueName: "s"))
    var giveUpAfter: Double = 120

    @Flag(name: .customLong("requeue-missing"), help: "Put the missing plays back to pending, so that `resume` sends them.")
    var requeueMissing = false

    @Option(name: .customLong("report"), help: ArgumentHelp("Also write the result (JSON) to this file.", valueName: "file"))
    var report: String?

    @Flag(name: .customLong("json"), help: "Print the result JSON instead of the summary.")
    var json = false

    @Flag(name: .customLong("no-progress"), help: "No progress display.")
    var noProgress = false

    @Flag(name: .customLong("verbose"), help: "Log every request (never a token).")
    var verbose = false

    /// Findings listed in the human summary, of each kind.
    static let listed = 20

    func validate() throws {
        LogSetup.bootstrap(verbose: verbose)
        try DeliveryOptions.checkRequests(maxAttempts: maxAttempts, timeout: timeout, giveUpAfter: giveUpAfter)
    }

    func run() async throws {
        let apiURL = try TokenSource.checkedAPIURL(apiURL)
        let queue = try StateAccess.open(state)
        defer { queue.close() }
        let counts = try queue.playCounts()
        let stored = try StoredDestination(readingFrom: queue)
        let profileId = stored.profileId
        let form = stored.mediaIdForm ?? .seed
        let unsent = counts.pending + counts.inFlight + counts.failed
        guard counts.delivered > 0, let profileId else {
            if counts.total == 0 {
                Terminal.out("nothing to verify: \(state) holds no planned play (run `trakt2discovr import <export>`)\n")
                return
            }
            throw fail("nothing to verify yet: none of the \(Terminal.number(counts.total)) planned plays in \(state) has been "
                + "delivered; run `trakt2discovr resume` first", Exit.tempFail)
        }
        let token = try TokenSource.refreshToken(tokenFile: tokenFile, apiURL: apiURL)
        var settings = DeliverySettings(baseURL: apiURL, refreshToken: token, profileId: profileId, concurrency: 1,
                                        maxAttempts: maxAttempts, requestTimeout: timeout, unreachableAfter: giveUpAfter)
        rate.apply(to: &settings)

        let stop = StopSignal()
        let signals = SignalTrap(stop: stop)
        defer { signals.cancel() }
        let display = ProgressDisplay(enabled: !noProgress && !json)
        let verifier = DeliveryDriver(queue: queue, settings: settings, logger: Logger(label: "trakt2discovr"))
        let result: VerifyResult
        do {
            defer { display.finish() }
            result = try await verifier.verify(stop: stop, form: form) { progress in
                display.show(Self.progressLine(progress), nowMs: DeliveryDriver.systemWallClock())
            }
        } catch {
            throw Self.exit(for: error)
        }
        let requeued: Int
        do {
            requeued = try verifier.recordVerify(result, requeueMissing: requeueMissing)
        } catch let error as QueueError {
            throw fail(error.description + "; the profile was read, but the result could not be kept", Exit.code(for: error))
        }
        let output = VerifyOutput(result: result, requeued: requeued, notDelivered: unsent, profileId: profileId)
        if let path = report { try OutputFile.write(output.json, to: path) }
        Terminal.out(json ? output.json : output.summary(listing: Self.listed, detailsHint: report))
        if !result.isExact { throw Exit.someFailed }
    }

    static func progressLine(_ p: VerifyProgress) -> String {
        "verify: read \(Terminal.number(p.entries)) of ~\(Terminal.number(p.expected)) entries (\(Terminal.number(p.pages)) page\(p.pages == 1 ? "" : "s"))"
    }

    /// The exit for a verify that could not read the history to the end.
    static func exit(for stop: DeliveryStop) -> ExitCode {
        let again = "nothing was changed: run `trakt2discovr verify` again"
        switch stop {
        case .finished, .limitReached:
            return fail("verify ended before the history was read to the end; " + again + " later", Exit.code(for: stop))
        case .stopped:
            return fail("stopped before the history was read to the end; " + again, Exit.code(for: stop))
        case .unreachable(let why):
            return fail("the Discovr server could not be reached (\(why)); " + again + " later", Exit.code(for: stop))
        case .gaveUp(let why):
            return fail("gave up waiting (\(why)); " + again + " later, or raise --give-up-after", Exit.code(for: stop))
        case .historyUnreadable(let why):
            return fail("the profile's history could not be read (\(why)); " + again + " later", Exit.code(for: stop))
        case .credentialsRefused(let refusal):
            return fail(refusal.description, Exit.code(for: stop))
        case .unreadableSession(let why):
            return fail(why + "; " + again + " later", Exit.code(for: stop))
        case .forbidden(let why):
            return fail("Discovr refused to let this token read the profile's history (\(why)); check the account", Exit.code(for: stop))
        case .storage(let error):
            return fail(error.description, Exit.code(for: stop))
        }
    }
}

/// What `verify` prints and writes: the contract's fields (importer.md section 8) and a few more.
struct VerifyOutput: Encodable {
    var checked: Int
    var present: Int
    var missing: [VerifyFinding]
    var duplicated: [VerifyFinding]
    var unexpected: Int
    /// Missing plays put back to pending (`--requeue-missing`).
    var requeued: Int
    /// Plays of the state not delivered (pending, in flight or failed): not checked.
    var notDelivered: Int
    var entriesRead: Int
    var pages: Int
    var profileId: String

    init(result: VerifyResult, requeued: Int, notDelivered: Int, profileId: String) {
        checked = result.checked
        present = result.present
        missing = result.missing
        duplicated = result.duplicated
        unexpected = result.unexpected
        self.requeued = requeued
        self.notDelivered = notDelivered
        entriesRead = result.entries
        pages = result.pages
        self.profileId = profileId
    }

    var json: String { JSONOutput.text(self) }

    func summary(listing most: Int, detailsHint: String?) -> String {
        var lines: [String] = []
        let n = Terminal.number
        if missing.isEmpty && duplicated.isEmpty {
            lines.append("verified: all \(n(checked)) delivered play\(checked == 1 ? " is" : "s are") in the profile exactly once "
                + "(\(n(entriesRead)) entries read in \(n(pages)) page\(pages == 1 ? "" : "s"))")
        } else {
            lines.append("NOT verified: \(n(missing.count)) missing, \(n(duplicated.count)) duplicated of \(n(checked)) plays checked "
                + "(\(n(present)) there exactly once; \(n(entriesRead)) entries read)")
        }
        func list(_ name: String, _ findings: [VerifyFinding]) {
            guard !findings.isEmpty else { return }
            lines.append("\(name):")
            for f in findings.prefix(most) {
                let episode = f.season.map { s in " S\(s)E\(f.episode ?? 0)" } ?? ""
                lines.append("  - \(f.title): \(f.mediaId)\(episode) \(f.updatedAt ?? "(no date)"): \(f.found) entr\(f.found == 1 ? "y" : "ies")")
            }
            if findings.count > most {
                lines.append("  ... and \(n(findings.count - most)) more (" + (detailsHint.map { "all in \($0)" } ?? "--json or --report FILE lists all") + ")")
            }
        }
        list("missing", missing)
        list("duplicated", duplicated)
        if unexpected > 0 {
            lines.append("\(n(unexpected)) entr\(unexpected == 1 ? "y" : "ies") imported from trakt match no play of this state (another import, or another state file)")
        }
        if notDelivered > 0 {
            lines.append("\(n(notDelivered)) planned play\(notDelivered == 1 ? " was" : "s were") not delivered yet and not checked (`trakt2discovr status`)")
        }
        if requeued > 0 {
            lines.append("\(n(requeued)) missing play\(requeued == 1 ? "" : "s") put back to pending: run `trakt2discovr resume` to send \(requeued == 1 ? "it" : "them")")
        } else if !missing.isEmpty {
            lines.append("to send the missing plays again: `trakt2discovr verify --requeue-missing`, then `trakt2discovr resume`")
        }
        if !duplicated.isEmpty {
            lines.append("Discovr's API has no documented way to remove a history entry: remove the extra entries of the duplicated plays in the Discovr app")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
