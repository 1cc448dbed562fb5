import ArgumentParser
import Delivery
import DiscovrAPI
import DiscovrSandbox
import Foundation
import ImportPlanner
import ImportQueue
import Logging
import TraktExport

/// Connects the queue, the delivery driver, the optional in-process sandbox, signals and the
/// progress display for `import` and `resume`.
struct DeliveryRun {
    var options: DeliveryOptions
    var output: OutputOptions

    /// `import` after planning: queue the plan, choose the profile and the media id form, then deliver.
    func importAndDeliver(scan: ExportScan, plan: ImportPlan, report: inout ImportReport) async throws -> ExitCode {
        let apiURL = options.sandbox ? nil : try options.checkedAPIURL()
        let token = options.sandbox ? nil : try options.refreshToken()
        let (code, counts, destination) = try await withTarget(apiURL: apiURL, refreshToken: token) { target in
            let queue = try openQueue()
            defer { queue.close() }
            try enqueue(plan: plan, scan: scan, into: queue)
            return try await deliver(queue: queue, target: target)
        }
        report.delivery = counts
        report.destination = destination
        return code
    }

    private func enqueue(plan: ImportPlan, scan: ExportScan, into queue: ImportQueue) throws {
        let planned = plan.items.count + plan.listItems.count
        do {
            // One transaction: a run killed before it commits leaves no plan at all (import again),
            // never a part of one. The pages are written while they are saved (QueuePages); the list
            // writes (a few thousand at most) are rows of the same transaction.
            logger.info("enqueue started", metadata: ["items": .stringConvertible(plan.items.count),
                                                     "listWrites": .stringConvertible(plan.listItems.count)])
            let lists = plan.listItems.map { QueueEntry(list: $0.item, sortAt: $0.sortAt, title: $0.title) }
            let summary = try queue.enqueue(parts: { save in try QueuePages.write(plan: plan, scan: scan, to: save) }, lists: lists)
            logger.info("enqueue committed", metadata: [
                "added": .stringConvertible(summary.added), "alreadyQueued": .stringConvertible(summary.alreadyQueued),
            ])
            if summary.alreadyQueued > 0 && !output.json {
                Terminal.note("\(Terminal.number(summary.alreadyQueued)) of the \(Terminal.number(planned)) planned items were queued by an earlier import; \(Terminal.number(summary.added)) are new")
            }
        } catch let error as QueueError {
            // The transaction was rolled back: no plan was saved, so `resume` would find nothing.
            throw fail(error.description + "; the plan was not saved and nothing was sent: run this import again "
                + "once the state file can be written", Exit.code(for: error))
        }
    }

    /// `resume`: deliver what the state holds.
    func resume() async throws -> (ExitCode, ImportReport.Delivery, ImportReport.Destination) {
        guard FileManager.default.fileExists(atPath: options.state) else {
            throw fail("\(options.state): no state file; run `trakt2discovr import <export>` first (or pass --state)", Exit.noInput)
        }
        let apiURL = options.sandbox ? nil : try options.checkedAPIURL()
        let token = options.sandbox ? nil : try options.refreshToken()
        let (code, counts, destination) = try await withTarget(apiURL: apiURL, refreshToken: token) { target in
            let queue = try openQueue()
            defer { queue.close() }
            return try await deliver(queue: queue, target: target)
        }
        return (code, counts, destination)
    }

    /// The server a run talks to and the refresh token it presents.
    struct Target: Sendable {
        var baseURL: String
        var refreshToken: String
    }

    /// Runs `body` against the API URL, or against an in-process sandbox with `--sandbox`.
    private func withTarget<T: Sendable>(apiURL: String?, refreshToken: String?,
                                         _ body: @Sendable (Target) async throws -> T) async throws -> T {
        guard options.sandbox else {
            return try await body(Target(baseURL: apiURL ?? options.resolvedAPIURL, refreshToken: refreshToken ?? ""))
        }
        let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(), logger: logger)
        let json = output.json
        return try await sandbox.run { running in
            if !json {
                Terminal.note("delivering to a sandbox Discovr at \(running.url) (nothing leaves this machine)")
            }
            let result = try await body(Target(baseURL: running.url, refreshToken: running.refreshToken))
            if !json {
                let stats = running.store.stats()
                Terminal.note("sandbox received \(stats.requests) requests: \(stats.stored) stored, \(stats.repeats) repeats, \(stats.rateLimited) rate-limited")
            }
            return result
        }
    }

    /// The report's delivery section: of the plays, stored now, already there (found by the
    /// existing-history check or a read-back), failed, and everything else still to send (rows a killed
    /// run left in flight count as pending); the list writes apart, in `lists`.
    static func delivery(_ counts: StateCounts, lists: ListWriteCounts) -> ImportReport.Delivery {
        let l = lists.total
        let plays = counts.playsOnly(lists)
        var delivery = ImportReport.Delivery(delivered: plays.delivered - plays.alreadyPresent, alreadyPresent: plays.alreadyPresent,
                                             failed: plays.failed, pending: plays.pending + plays.inFlight)
        delivery.lists = l
        return delivery
    }

    /// Only the executable's own messages; the libraries get their own loggers.
    var logger: Logger { Logger(label: "trakt2discovr") }

    /// Opens the state, and says so when a run that died (crash, kill -9, power loss) left items in
    /// flight: those are read back before anything is sent, so the user knows why some plays count as
    /// "already there".
    func openQueue() throws -> ImportQueue {
        let queue = try ImportQueue.open(path: options.state)
        logger.info("state opened", metadata: ["recoveredInFlight": .stringConvertible(queue.recoveredInFlight)])
        if queue.recoveredInFlight > 0 && !output.json {
            Terminal.note(Self.recoveredNote(queue.recoveredInFlight))
        }
        return queue
    }

    static func recoveredNote(_ n: Int) -> String {
        "\(Terminal.number(n)) item\(n == 1 ? " was" : "s were") in flight when the last run stopped without settling "
            + "(crash, kill or power loss): \(n == 1 ? "its send" : "their sends") may have been stored, so "
            + "\(n == 1 ? "it is" : "each is") read back first and sent only if not there (found ones count as already there)"
    }

    func drive(queue: ImportQueue, target: Target, profile: Profile, mediaIdForm: MediaIDFormState,
               stop: StopSignal) async throws -> (ExitCode, StateCounts) {
        var settings = DeliverySettings(baseURL: target.baseURL, refreshToken: target.refreshToken)
        settings.profileId = profile.id
        settings.mediaIdForm = mediaIdForm
        options.rate.apply(to: &settings)
        settings.concurrency = options.concurrency
        settings.maxAttempts = options.maxAttempts
        settings.limit = options.limit
        settings.requestTimeout = options.timeout
        settings.unreachableAfter = options.giveUpAfter
        settings.existingHistory = options.existing
        let display = ProgressDisplay(enabled: !options.noProgress)
        let driver = DeliveryDriver(queue: queue, settings: settings, logger: logger)
        let result = await driver.run(stop: stop) { progress in display.update(progress) }
        display.finish()
        if !output.json, let note = ExistingHistoryText.summary(display.existingHistory) { Terminal.note(note) }
        let counts = result.counts
        for (list, why) in result.refusedLists.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            Terminal.warn("\(list.rawValue): " + why)
        }
        let again = "nothing was lost: run `trakt2discovr resume`"
        switch result.stop {
        case .finished:
            return (counts.failed > 0 ? Exit.someFailed : Exit.ok, counts)
        case .limitReached:
            if counts.pending + counts.inFlight == 0 { return (counts.failed > 0 ? Exit.someFailed : Exit.ok, counts) }
            Terminal.note("--limit reached: \(Terminal.number(counts.pending + counts.inFlight)) items left; run `trakt2discovr resume` to continue")
        case .stopped:
            Terminal.warn("stopped: \(Terminal.number(counts.pending + counts.inFlight)) items left; run `trakt2discovr resume` to continue")
        case .unreachable(let why):
            Terminal.error("the Discovr server could not be reached (\(why)); \(again) later")
        case .credentialsRefused(let refusal):
            Terminal.error(refusal.description)
        case .unreadableSession(let why):
            Terminal.error(why + "; \(again) later")
        case .forbidden(let why):
            Terminal.error("Discovr refused to let this token write history (\(why)); check the account and --profile")
        case .storage(let error):
            // The queue's error names the file and says how to fix it; what to run next is ours to say.
            Terminal.error(error.description + "; \(again) once it can be written")
        case .gaveUp(let why):
            Terminal.error("gave up waiting (\(why)); \(again) later, or raise --give-up-after")
        case .historyUnreadable(let why):
            Terminal.error("the profile's history could not be read to look for plays already there (\(why)); nothing was sent: "
                + "run `trakt2discovr resume` later, or pass --existing ignore to send without looking (plays already there are then added again)")
        }
        return (Exit.code(for: result.stop), counts)
    }
}
