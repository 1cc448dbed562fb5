import ArgumentParser
import Delivery
import DiscovrAPI
import Foundation
import ImportPlanner
import ImportQueue

/// The part of a delivery run before the first send: the profile and the media id form, decided by
/// `prepareDestination` (Delivery) and kept in the state; and after the run, a form switch recorded.
extension DeliveryRun {
    /// Chooses the destination, then drives the queue to it. Signals cover both: Ctrl-C while the
    /// profiles are listed stops as cleanly as during delivery.
    func deliver(queue: ImportQueue, target: Target) async throws -> (ExitCode, ImportReport.Delivery, ImportReport.Destination) {
        let stop = StopSignal()
        let signals = SignalTrap(stop: stop)
        defer { signals.cancel() }
        let destination = try await prepare(queue: queue, target: target, stop: stop)
        try record(destination, in: queue)
        let json = output.json
        let state = MediaIDFormState(form: destination.mediaIdForm, canSwitch: destination.formCanSwitch) { form in
            if !json {
                Terminal.warn("the first items sent as \(form.other.example) were all refused (400): switching to \(form.example) "
                    + "for the rest; after this run, `trakt2discovr retry-failed` then `trakt2discovr resume` sends the refused ones again")
            }
        }
        let (code, counts) = try await drive(queue: queue, target: target, profile: destination.profile, mediaIdForm: state, stop: stop)
        if state.switched {
            var switched = destination
            switched.mediaIdForm = state.current
            switched.formCanSwitch = false
            switched.formReason = destination.formReason + "; switched to \(state.current.rawValue): the first sends were all refused (400)"
            try? record(switched, in: queue)
        }
        let lists = (try? queue.listCounts()) ?? ListWriteCounts()
        return (code, Self.delivery(counts, lists: lists),
                ImportReport.Destination(apiUrl: target.baseURL, profile: destination.profile, mediaIdForm: state.current))
    }

    private func prepare(queue: ImportQueue, target: Target, stop: StopSignal) async throws -> Destination {
        let stored = try StoredDestination(readingFrom: queue)
        let sample = try queue.firstUnsentPlay()
        let request = DestinationRequest(apiURL: target.baseURL, refreshToken: target.refreshToken, profile: options.profile,
                                         formSetting: options.mediaIdForm, stored: stored, sample: sample,
                                         unreachableAfter: options.giveUpAfter)
        let logger = self.logger
        do {
            return try await withDiscovrClient(baseURL: target.baseURL, requestTimeout: options.timeout, logger: logger,
                                               now: { Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()) }) { client in
                try await prepareDestination(client: client, request: request, stop: stop, now: DeliveryDriver.systemWallClock,
                                             sleep: LoginCommand.sleep(untilMs:), logger: logger)
            }
        } catch let error as DestinationError {
            switch error {
            case .notChosen:
                throw fail(error.description, Exit.usage)
            case .identity(let identity):
                throw fail(identity.description, Exit.code(for: identity))
            case .unreachable(let why):
                throw fail("the Discovr server could not be reached (\(why)); nothing was lost: run `trakt2discovr resume` later", Exit.tempFail)
            case .stopped:
                throw fail("stopped before anything was sent; run `trakt2discovr resume` to continue", Exit.tempFail)
            }
        }
    }

    /// Keeps the destination in the state: a later `resume` writes to the same profile in the same form.
    private func record(_ destination: Destination, in queue: ImportQueue) throws {
        try StoredDestination.record(destination, in: queue)
        logger.info("destination", metadata: ["profile": .string(destination.profile.id), "mediaIdForm": .string(destination.mediaIdForm.rawValue),
                                              "reason": .string(destination.formReason)])
    }
}
