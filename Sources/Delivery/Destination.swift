import DiscovrAPI
import ImportQueue
import Logging

/// Where a run writes: the API, the profile, and the media id form (the report's `destination`).
public struct Destination: Sendable, Equatable {
    public var apiURL: String
    public var profile: Profile
    public var mediaIdForm: MediaIDForm
    /// The form may still switch once (auto-detected, the other form not refused, no switch yet).
    public var formCanSwitch: Bool
    /// How the form was decided (kept in the state).
    public var formReason: String
}

/// What a state already says about its destination (its `meta` table), if anything.
public struct StoredDestination: Sendable, Equatable {
    public var profileId: String?
    public var mediaIdForm: MediaIDForm?
    public var formCanSwitch: Bool
    public var formReason: String?

    /// What the state keeps of its destination (`StateMeta`).
    public init(readingFrom queue: ImportQueue) throws {
        profileId = try queue.meta(StateMeta.profileId)
        mediaIdForm = try queue.meta(StateMeta.mediaIdForm).flatMap(MediaIDForm.init(rawValue:))
        formCanSwitch = try queue.meta(StateMeta.mediaIdFormCanSwitch) == "1"
        formReason = try queue.meta(StateMeta.mediaIdFormReason)
    }

    /// Keeps `destination` in the state, in one transaction: a later `resume` writes to the same
    /// profile in the same form.
    public static func record(_ destination: Destination, in queue: ImportQueue) throws {
        try queue.setMeta([
            (StateMeta.profileId, destination.profile.id),
            (StateMeta.profileName, destination.profile.name),
            (StateMeta.mediaIdForm, destination.mediaIdForm.rawValue),
            (StateMeta.mediaIdFormCanSwitch, destination.formCanSwitch ? "1" : "0"),
            (StateMeta.mediaIdFormReason, destination.formReason),
        ])
    }
}

/// Why no destination could be prepared.
public enum DestinationError: Error, Equatable, CustomStringConvertible {
    /// The account's profiles were listed, and none could be chosen (several and none asked for,
    /// an unknown or ambiguous one, none at all): a usage problem (exit 64).
    case notChosen(ProfileChoice)
    /// An identity call was refused (token expired or invalid, bad profile) or unreadable.
    case identity(IdentityError)
    /// The server could not be reached (or kept failing) for the whole `unreachableAfter`.
    case unreachable(String)
    /// A stop was requested while waiting.
    case stopped

    public var description: String {
        switch self {
        case .notChosen(let choice): return choice.problem ?? "no profile chosen"
        case .identity(let error): return error.description
        case .unreachable(let why): return "no answer from Discovr (\(why))"
        case .stopped: return "stopped on request"
        }
    }
}

/// Everything `prepareDestination` needs. Time is injected (`now` in ms since 1970, `sleep(untilMs:)`).
public struct DestinationRequest: Sendable {
    public var apiURL: String
    public var refreshToken: String
    /// `--profile`, an id or a name; nil: the state's profile, else the only one.
    public var profile: String?
    public var formSetting: MediaIDFormSetting
    public var stored: StoredDestination
    /// A planned play for the form probe; nil when no play is left to send.
    public var sample: HistoryItem?
    /// Seconds of failures (no answer, 5xx, 429) before giving up.
    public var unreachableAfter: Double

    public init(apiURL: String, refreshToken: String, profile: String?, formSetting: MediaIDFormSetting,
                stored: StoredDestination, sample: HistoryItem?, unreachableAfter: Double) {
        self.apiURL = apiURL
        self.refreshToken = refreshToken
        self.profile = profile
        self.formSetting = formSetting
        self.stored = stored
        self.sample = sample
        self.unreachableAfter = unreachableAfter
    }
}

/// Before anything is sent: lists the profiles and picks one (`--profile`, else the state's, else
/// the only one), then decides the media id form (`--media-id-form`, else the state's, else a
/// read-only probe). A refused token or a missing choice stops the run before any history request
/// (`importer.md` sections 4 and 5). Transient failures are tried again with backoff until
/// `unreachableAfter` has passed without success.
public func prepareDestination(client: DiscovrClient, request: DestinationRequest, stop: StopSignal,
                               now: @escaping @Sendable () -> Int64, sleep: @escaping @Sendable (Int64) async throws -> Void,
                               logger: Logger) async throws(DestinationError) -> Destination {
    let time = RunTime(nowMs: now, sleepUntilMs: sleep)
    let retrying = IdentityRetry(unreachableAfterMs: DeliveryMachine.Configuration.ms(request.unreachableAfter),
                                 stop: stop, time: time, logger: logger)
    let profiles = try await retrying.run { () async throws(IdentityError) -> [Profile] in
        try await client.profiles(refreshToken: request.refreshToken)
    }
    logger.debug("profiles listed", metadata: ["count": .stringConvertible(profiles.count)])
    let profile: Profile
    switch ProfileChoice.choose(from: profiles, requested: request.profile ?? request.stored.profileId) {
    case .chosen(let chosen):
        profile = chosen
    case .unknown where request.profile == nil && request.stored.profileId != nil:
        // The state's profile is gone: ask as if there were none.
        switch ProfileChoice.choose(from: profiles, requested: nil) {
        case .chosen(let only): profile = only
        case let other: throw .notChosen(other)
        }
    case let other:
        throw .notChosen(other)
    }
    let form: MediaIDForm
    let canSwitch: Bool
    let reason: String
    if let fixed = request.formSetting.fixed {
        (form, canSwitch, reason) = (fixed, false, "--media-id-form \(fixed.rawValue)")
    } else if let stored = request.stored.mediaIdForm {
        (form, canSwitch, reason) = (stored, request.stored.formCanSwitch, request.stored.formReason ?? "kept in the state")
    } else if let sample = request.sample {
        let decision = try await retrying.run { () async throws(IdentityError) -> MediaIDFormDecision in
            try await probeMediaIDForm(client: client, refreshToken: request.refreshToken, profileId: profile.id,
                                       sample: sample, logger: logger, pause: { asked in
                                           // At most 1.75 s a form; a stop ends the pause, and is seen after the probe.
                                           _ = await time.sleep(untilMs: time.nowMs() + probePauseMs(afterTry: asked), stop: stop)
                                       })
        }
        (form, canSwitch, reason) = (decision.form, !decision.otherRefused, decision.reason)
    } else {
        (form, canSwitch, reason) = (.seed, true, "auto: nothing to look up yet; the seed's form")
    }
    return Destination(apiURL: request.apiURL, profile: profile, mediaIdForm: form, formCanSwitch: canSwitch, formReason: reason)
}

/// Runs an identity call again while it fails for a transient reason, with the delivery's backoff.
struct IdentityRetry: Sendable {
    let unreachableAfterMs: Int64
    let stop: StopSignal
    let time: RunTime
    let logger: Logger

    func run<T: Sendable>(_ call: () async throws(IdentityError) -> T) async throws(DestinationError) -> T {
        var policy = RetryPolicy(maxAttempts: 1, seed: 0x0D15_C0F3)
        let started = time.nowMs()
        var step = 0
        while true {
            if stop.isRequested { throw .stopped }
            let problem: String
            do {
                return try await call()
            } catch .transport(let failure) {
                problem = failure.description
            } catch .unavailable(let why) {
                problem = why
            } catch {
                throw .identity(error)
            }
            let now = time.nowMs()
            if now - started >= unreachableAfterMs {
                throw .unreachable("for \((now - started) / 1000) s; last problem: \(problem)")
            }
            let until = min(now + policy.backoffMs(step: step), started + unreachableAfterMs)
            step += 1
            logger.debug("identity request failed, trying again", metadata: ["problem": .string(problem)])
            guard await time.sleep(untilMs: until, stop: stop) else { throw .stopped }
        }
    }
}
