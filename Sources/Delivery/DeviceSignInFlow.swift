import DiscovrAPI
import Logging

/// What device-code sign-in got: the refresh token and what came with it.
public struct SignedIn: Sendable, Equatable {
    public var refreshToken: String
    public var publicId: String?
    public var expiresAt: Timestamp?
}

/// Why sign-in ended without a token. Messages never contain a token or the device code.
public enum SignInError: Error, Equatable, CustomStringConvertible {
    /// The code was not confirmed in time (its `expiresIn` passed, or the poll answered 401).
    case expired(String)
    /// A stop was requested (Ctrl-C) while waiting.
    case stopped
    /// Starting the sign-in failed.
    case identity(IdentityError)
    /// The server kept failing or could not be reached until the code expired.
    case unreachable(String)

    public var description: String {
        switch self {
        case .expired(let why):
            return "the sign-in code was not confirmed (\(why)); run `trakt2discovr login` again for a new code"
        case .stopped:
            return "sign-in stopped; nothing was saved"
        case .identity(let error):
            return error.description
        case .unreachable(let why):
            return "no usable answer from Discovr while waiting for the sign-in (\(why)); run `trakt2discovr login` again"
        }
    }
}

/// Device-code sign-in (`importer.md` section 6): start it, show the code, poll every 5 seconds
/// (`/poll`; `/token` once `/poll` answers 404) until the code is confirmed, refused or expired. It
/// saves nothing: the caller keeps the token.
///
/// Time is injected: `now` (ms since 1970) and `sleep(untilMs:)`, so tests run the whole wait
/// without sleeping.
public struct DeviceSignInFlow: Sendable {
    public typealias Sleep = @Sendable (Int64) async throws -> Void

    let client: DiscovrClient
    let time: RunTime
    let stop: StopSignal
    let logger: Logger

    public init(client: DiscovrClient, now: @escaping @Sendable () -> Int64, sleep: @escaping Sleep, stop: StopSignal,
                logger: Logger) {
        self.client = client
        time = RunTime(nowMs: now, sleepUntilMs: sleep)
        self.stop = stop
        self.logger = logger
    }

    /// Starts a sign-in for `clientID`, hands the code to `show` (to print it and write the QR image),
    /// then waits for the confirmation.
    public func run(clientID: String, show: @Sendable (DeviceCode) throws -> Void) async throws -> SignedIn {
        let code: DeviceCode
        do {
            code = try await client.startDeviceSignIn(clientID: clientID)
        } catch {
            throw SignInError.identity(error)
        }
        let deadline = time.nowMs() + code.expiresInMs
        try show(code)
        return try await wait(for: code, deadline: deadline)
    }

    /// Polls until confirmed. Transient problems (no answer, 5xx, 429, an unreadable 2xx) are
    /// polled through until the code expires.
    func wait(for code: DeviceCode, deadline: Int64) async throws(SignInError) -> SignedIn {
        var path = DiscovrEndpoints.devicePoll(code.deviceCode)
        var triedFallback = false
        var lastProblem: String?
        let intervalMs = DiscovrEndpoints.devicePollInterval
        var next = time.nowMs() + intervalMs
        while true {
            // Until the next poll; Ctrl-C ends the wait at once.
            guard await time.sleep(untilMs: next, stop: stop) else { throw .stopped }
            if time.nowMs() >= deadline {
                if let lastProblem { throw .unreachable(lastProblem) }
                throw .expired("it was valid for \(code.validFor)")
            }
            next = time.nowMs() + intervalMs
            let answer: HTTPAnswer
            do {
                answer = try await client.pollDeviceCode(path: path)
            } catch {
                lastProblem = error.description
                logger.debug("sign-in poll failed", metadata: ["problem": .string(error.description)])
                continue
            }
            switch HistoryAnswer(status: answer.status) {
            case .delivered:
                switch DevicePollAnswer.parse(body: answer.body) {
                case .pending?:
                    lastProblem = nil
                    logger.debug("sign-in pending")
                case .confirmed(let token, let publicId, let expiresAt)?:
                    return SignedIn(refreshToken: token, publicId: publicId, expiresAt: expiresAt)
                case nil:
                    lastProblem = "a poll answer that is neither pending nor a token"
                }
            case .unknownMedia where !triedFallback:
                // One page names the path `/token`: try it once `/poll` is unknown (discovr-api.md).
                triedFallback = true
                path = DiscovrEndpoints.deviceToken(code.deviceCode)
                next = time.nowMs()
                logger.debug("sign-in poll path unknown, trying the /token path")
            case .sessionExpired, .forbidden, .unknownMedia, .gone:
                var body = ErrorBody.parse(body: answer.body)
                body.message = body.message.map(Redaction.redact)
                throw .expired(IdentityRefusal(kind: .refused, status: answer.status, body: body).serverSaid
                    + ": expired or refused in the app")
            default:
                lastProblem = "status \(answer.status)"
            }
        }
    }
}
