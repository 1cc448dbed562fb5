import DiscovrAPI
import Logging
import Synchronization

/// The media id form a delivery run sends in, shared by its send tasks: each body is written in the
/// current form at send time (the queue keeps typed facts), and each play's answer is recorded so that
/// a run whose first sends are all refused for the form switches once (`MediaIDFormSwitch`).
public final class MediaIDFormState: Sendable {
    private let state: Mutex<MediaIDFormSwitch>
    private let onSwitch: @Sendable (MediaIDForm) -> Void

    /// `canSwitch`: auto-detected, and the other form was not refused by the probe. `onSwitch` is
    /// called once, from the send task whose answer made the switch (to say so; the caller records it).
    public init(form: MediaIDForm, canSwitch: Bool, onSwitch: @escaping @Sendable (MediaIDForm) -> Void = { _ in }) {
        state = Mutex(MediaIDFormSwitch(form: form, canSwitch: canSwitch))
        self.onSwitch = onSwitch
    }

    public var current: MediaIDForm { state.withLock { $0.current } }
    public var switched: Bool { state.withLock { $0.switched } }

    /// The answer to a body sent in `form`.
    public func record(_ answer: HistoryAnswer, sentIn form: MediaIDForm) {
        let switchedNow = state.withLock { $0.record(answer, sentIn: form) }
        if switchedNow { onSwitch(current) }
    }
}

/// Finds the form the server takes: one planned item looked up read-only in both forms
/// (`GET /profile/history/{id}?season=&episode=`, `importer.md` section 5). A refused token or
/// profile is thrown (as for the session). An answer that says nothing about the form (408, 429, 5xx,
/// no answer) is asked again, up to `probeTries` times in all with `pause(n)` after the n-th (a passing
/// 503 must not decide the form of a whole import: with the seed's form unknown and the other
/// accepted, the other would be chosen); after that the form is left without a verdict. `pause` is
/// the caller's clock (`probePauseMs(afterTry: n)` long, and a stop ends it).
public func probeMediaIDForm(client: DiscovrClient, refreshToken: String, profileId: String, sample: HistoryItem,
                             logger: Logger,
                             pause: @Sendable (Int) async -> Void) async throws(IdentityError) -> MediaIDFormDecision {
    var session = try await client.session(refreshToken: refreshToken, profileId: profileId)
    var verdicts: [MediaIDForm: MediaIDFormVerdict] = [:]
    for form in [MediaIDForm.tmdbid, .short] {
        var refreshed = false
        var asked = 0
        while true {
            asked += 1
            var answer: DiscovrAnswer?
            var problem = ""
            do {
                answer = try await client.getHistory(of: sample.mediaId.rawValue(in: form), season: sample.season,
                                                     episode: sample.episode, limit: 1, pageToken: nil, jwt: session.token)
                    .classified(atMs: client.now().millisecondsSince1970, page: true)
            } catch {
                problem = error.description
            }
            if answer?.kind == .sessionExpired && !refreshed {
                refreshed = true
                session = try await client.session(refreshToken: refreshToken, profileId: profileId)
                continue
            }
            let verdict = answer.map(MediaIDFormVerdict.init) ?? .unknown(problem)
            if case .unknown(let why) = verdict, asked < probeTries {
                logger.debug("media id form probe got no verdict, asking again", metadata: ["form": .string(form.rawValue),
                                                                                             "problem": .string(why)])
                await pause(asked)
                continue
            }
            verdicts[form] = verdict
            break
        }
    }
    let decision = MediaIDFormDecision.decide(tmdbid: verdicts[.tmdbid] ?? .unknown("not asked"),
                                              short: verdicts[.short] ?? .unknown("not asked"))
    logger.info("media id form probed", metadata: ["form": .string(decision.form.rawValue), "reason": .string(decision.reason)])
    return decision
}

/// How often the probe asks about one form before leaving it without a verdict.
public let probeTries = 4

/// The probe's wait after its n-th try of a form, in ms: 250, 500, 1,000.
public func probePauseMs(afterTry asked: Int) -> Int64 { 250 << Int64(min(max(asked - 1, 0), 4)) }
