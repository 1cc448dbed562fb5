import ArgumentParser
import DiscovrAPI
import Foundation
import ImportPlanner
import ImportQueue

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Deliver what the state still holds (after --limit, a stop, a crash or an outage).",
        discussion: """
            Sends every item not confirmed delivered. Items that were in flight when a run died may \
            have been stored: each is read back first and sent only if it is not there.

            Examples:
              trakt2discovr resume --token-file ~/.discovr-token
              trakt2discovr resume --limit 1000 --state my-import.sqlite
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup var delivery: DeliveryOptions

    func validate() throws { try delivery.check() }

    func run() async throws {
        let (code, counts, destination) = try await DeliveryRun(options: delivery, output: output).resume()
        let summary = "delivered \(Terminal.number(counts.delivered))" + (counts.alreadyPresent > 0 ? " (+\(Terminal.number(counts.alreadyPresent)) already there)" : "")
            + ", failed \(Terminal.number(counts.failed)), pending \(Terminal.number(counts.pending))\n"
        if output.json {
            Terminal.out(JSONOutput.text(JSONOutput.Resume(delivery: JSONOutput.DeliveryJSON(counts),
                                                           destination: JSONOutput.DestinationJSON(destination))))
        } else {
            Terminal.out(summary)
            Terminal.out(Terminal.destinationLine(destination) + "\n")
            if counts.failed > 0 { Terminal.out("see the failures with `trakt2discovr status`; `trakt2discovr retry-failed` puts them back\n") }
        }
        if code != Exit.ok { throw code }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the queue: counts by state, and failures with their reasons.",
        discussion: """
            After a crash or kill -9, the first command to open the state reports how many items the \
            dead run left in flight (JSON: "recoveredInFlight"); they are pending again, and uncertain \
            (JSON: "uncertain"): their sends may have been stored, so `resume` reads each back and sends \
            only those not there.

            Examples:
              trakt2discovr status
              trakt2discovr status --json --state my-import.sqlite
            """
    )

    @Option(name: .customLong("state"), help: ArgumentHelp("The queue database (SQLite).", valueName: "file"))
    var state = "trakt2discovr.sqlite"

    @Flag(name: .customLong("json"), help: "Print JSON for machines.")
    var json = false

    @Option(name: .customLong("failures"), help: ArgumentHelp("Most failures to list (human output).", valueName: "n"))
    var maxFailures = 20

    func run() throws {
        let view = try StatusView.read(state, failureLimit: json ? nil : maxFailures)
        let counts = view.counts
        let failures = view.failures
        if json {
            var numbers = view.otherStates
            numbers["pending"] = counts.pending
            numbers["inFlight"] = counts.inFlight
            numbers["delivered"] = counts.delivered - counts.alreadyPresent
            numbers["alreadyPresent"] = counts.alreadyPresent
            numbers["failed"] = counts.failed
            numbers["total"] = view.total
            let rows = failures.map { f in
                JSONOutput.Status.Failure(title: f.title, playKey: f.playKey, attempts: f.attempts, status: f.lastStatus,
                                          reason: f.lastMessage, body: JSONOutput.Status.Body(f.outgoing), list: f.outgoing.list?.rawValue)
            }
            Terminal.out(JSONOutput.text(JSONOutput.Status(state: state, running: view.running, recoveredInFlight: view.recoveredInFlight,
                                                           uncertain: view.uncertain, counts: numbers, failures: rows,
                                                           lists: view.lists.total, lastVerify: view.lastVerify)))
            return
        }
        var lines = ["state     \(state)"]
        if view.running {
            lines.append("running   another trakt2discovr is delivering from this state now: counts as of this moment (read only)")
        }
        lines.append("total     \(Terminal.number(view.total))")
        // As the import's summary counts them: stored by this tool, and apart those that were already there.
        lines.append("delivered \(Terminal.number(counts.delivered - counts.alreadyPresent))" + (counts.alreadyPresent > 0 ? " (\(Terminal.number(counts.alreadyPresent)) were already there)" : ""))
        if view.running {
            lines.append("pending   \(Terminal.number(counts.pending))")
            lines.append("in flight \(Terminal.number(counts.inFlight))")
        } else {
            // `open` has already put rows a dead run left in flight back to pending; it says how many.
            let leftInFlight = counts.inFlight + view.recoveredInFlight
            lines.append("pending   \(Terminal.number(counts.pending + counts.inFlight))" + (leftInFlight > 0
                ? " (\(Terminal.number(leftInFlight)) were in flight when the last run stopped without settling: `resume` reads them back and sends those not there)" : ""))
        }
        if view.uncertain > 0 {
            lines.append("uncertain \(Terminal.number(view.uncertain)) of those pending or in flight: their last send got no answer "
                + "and may be stored; each is read back before it is sent again")
        }
        for (name, items) in view.otherStates.sorted(by: { $0.key < $1.key }) {
            lines.append(Terminal.pad(name, 9) + " " + Terminal.number(items))
        }
        lines.append("failed    \(Terminal.number(counts.failed))")
        for list in DiscovrList.allCases {
            guard let tally = view.lists.byList[list] else { continue }
            lines.append(Terminal.listLine(list, tally))
        }
        if let v = view.lastVerify {
            lines.append("verified  \(v.at): " + (v.missing == 0 && v.duplicated == 0
                ? "all \(Terminal.number(v.checked)) delivered plays in the profile exactly once"
                : "\(Terminal.number(v.missing)) missing, \(Terminal.number(v.duplicated)) duplicated of \(Terminal.number(v.checked)) checked"
                    + (v.requeued > 0 ? " (\(Terminal.number(v.requeued)) put back to pending)" : "")))
        } else if counts.delivered > 0 && !view.running {
            lines.append("verified  never: `trakt2discovr verify` reads the profile back and checks every delivered play")
        }
        for f in failures {
            let status = f.lastStatus.map { "HTTP \($0)" } ?? "no answer"
            lines.append("  - \(f.title): \(status): \(f.lastMessage ?? "no message") (\(f.attempts) attempt\(f.attempts == 1 ? "" : "s"))")
        }
        if counts.failed > failures.count { lines.append("  ... and \(Terminal.number(counts.failed - failures.count)) more (--json lists all)") }
        let left = counts.pending + counts.inFlight + view.otherStates.values.reduce(0, +)
        if view.running { lines.append("the run goes on; run `trakt2discovr status` again to see it move") }
        else if view.total == 0 { lines.append("nothing planned in this state file (an import that stopped before its plan was saved?): run `trakt2discovr import <export>`") }
        else if counts.failed > 0 { lines.append("retry them with `trakt2discovr retry-failed`, then `trakt2discovr resume`") }
        else if left > 0 { lines.append("continue with `trakt2discovr resume`") }
        Terminal.out(lines.joined(separator: "\n") + "\n")
    }
}

struct RetryFailedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-failed",
        abstract: "Move failed items back to pending (then run resume).",
        discussion: """
            Examples:
              trakt2discovr retry-failed && trakt2discovr resume --token-file \\
                  ~/.discovr-token
            """
    )

    @Option(name: .customLong("state"), help: ArgumentHelp("The queue database (SQLite).", valueName: "file"))
    var state = "trakt2discovr.sqlite"

    func run() throws {
        let queue = try StateAccess.open(state)
        defer { queue.close() }
        let n = try queue.retryFailed()
        Terminal.out("\(Terminal.number(n)) failed item\(n == 1 ? "" : "s") moved back to pending; run `trakt2discovr resume` to send \(n == 1 ? "it" : "them")\n")
    }
}

enum StateAccess {
    /// With `allowInUse`, a state another process holds throws `StatusView.InUse.inUse` instead of exiting 75.
    static func open(_ path: String, allowInUse: Bool = false) throws -> ImportQueue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("\(path): no state file; run `trakt2discovr import <export>` first (or pass --state)", Exit.noInput)
        }
        do {
            return try ImportQueue.open(path: path)
        } catch QueueError.inUse where allowInUse {
            throw StatusView.InUse.inUse
        }
    }
}
