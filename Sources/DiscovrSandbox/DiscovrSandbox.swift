import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
// NIOCore and ServiceLifecycle come with Hummingbird: the channel lets a "dropped" answer close its
// connection, and the service group gives a graceful stop.
import NIOCore
import ServiceLifecycle
import Synchronization

/// A local stand-in for Discovr that speaks the API as `shared/spec/discovr-api.md` documents it:
/// profiles, the session-token exchange, device-code sign-in and sign-out, history that appends and
/// pages (`GET /profile/history`, `GET /profile/history/{mediaId}`), the media id forms, error bodies
/// with the documented codes; plus fault knobs (failures, lost answers, slow answers, rate limits,
/// short-lived or expired tokens) drawn from a seeded generator.
/// Used by `trakt2discovr sandbox`, by `import --sandbox` (in-process) and by the tests on a real port.
///
/// ```swift
/// let sandbox = DiscovrSandbox(configuration: SandboxConfiguration(rateLimit: 5), logger: logger)
/// try await sandbox.run { running in
///     // send to running.url with running.refreshToken
/// }
/// ```
public final class DiscovrSandbox: Sendable {
    public let configuration: SandboxConfiguration
    public let store: SandboxStore
    let logger: Logger

    /// State of one sandbox instance (not of the store): the rate limiter, the fault draws (one
    /// generator for history, one for the lists) and the writes counted towards the outage. It survives
    /// a restart of the instance's server.
    private struct Knobs {
        var limiter: SandboxRateLimiter?
        var faults: FaultSource
        var listFaults: FaultSource
        var writeRequests = 0
    }

    /// What `serve` waits for while a server runs: the outage trigger (fired by the `outageAfter`-th
    /// write, taken once) or a stop.
    private struct ServeEvents {
        /// Fired while no server waited: the next wait takes it.
        var outagePending = false
        var stopRequested = false
        /// `serve` is in the outage's pause (no server to stop: a stop cancels the pause).
        var pausing = false
        var waiter: CheckedContinuation<ServeEvent, Never>?
    }

    private enum ServeEvent { case outage, stop }

    private let knobs: Mutex<Knobs>
    private let events = Mutex(ServeEvents())

    public init(configuration: SandboxConfiguration, store: SandboxStore = SandboxStore(), logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        // The lists draw from a generator of their own, so that a seeded run's history faults do not
        // depend on how its list writes interleave with its plays.
        self.knobs = Mutex(Knobs(limiter: configuration.rateLimit.map { SandboxRateLimiter(rate: $0) },
                                 faults: FaultSource(configuration, seed: configuration.seed),
                                 listFaults: FaultSource(configuration, seed: configuration.seed ^ Self.listFaultSeed)))
        store.ensureProfiles(count: max(1, configuration.profiles), now: configuration.now())
    }

    /// Serves until `stop` returns, through the configured outage (`outageAfter`, `outageFor`): when it
    /// comes, the server is stopped (the listener closes: connections are refused, not answered 503),
    /// `pause` is awaited with `outageFor`, and a new server listens on the same port with the same
    /// store, refresh token, rate limiter and fault draws, so counts and sessions span the outage.
    /// There is one outage per instance, and `serve` is called once per instance. `listening` is called each time a server listens (with
    /// `isRestart` true after the outage). A stop during the pause cancels the pause. `stop` must
    /// return when its task is cancelled: it is when the server cannot start (or start again, if the
    /// port was taken meanwhile), and that error is thrown.
    public func serve(
        listening: @escaping @Sendable (RunningSandbox, _ isRestart: Bool) async throws -> Void,
        pause: @escaping @Sendable (Double) async throws -> Void = DiscovrSandbox.sleep(seconds:),
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await stop()
                return true
            }
            group.addTask {
                try await self.serveThroughOutage(listening: listening, pause: pause)
                return false
            }
            while let stopped = try await group.next() {
                guard stopped else { break } // the servers are done
                // A running server is stopped gracefully through its event; a pause is just cancelled.
                if requestStop() { group.cancelAll() }
            }
            group.cancelAll()
        }
    }

    /// Real time, for `serve`'s pause, a slow answer and a trickle (network behaviour, not the sandbox clock).
    @Sendable public static func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded())))
    }

    /// Runs servers one after the other until a stop: each runs until the outage or the stop.
    private func serveThroughOutage(
        listening: @escaping @Sendable (RunningSandbox, Bool) async throws -> Void,
        pause: @escaping @Sendable (Double) async throws -> Void
    ) async throws {
        var port = configuration.port
        var isRestart = false
        while true {
            let restart = isRestart
            let (event, boundPort) = try await run(onPort: port) { running in
                try await listening(running, restart)
                return (await self.nextServeEvent(), running.port)
            }
            guard event == .outage else { return }
            port = boundPort
            store.count { $0.outages += 1 }
            logger.notice("sandbox outage: stopped listening", metadata: [
                "port": .stringConvertible(port), "seconds": .stringConvertible(configuration.outageFor),
            ])
            guard events.withLock({ events in
                events.pausing = true
                return !events.stopRequested
            }) else { return }
            do {
                try await pause(configuration.outageFor)
            } catch is CancellationError where events.withLock({ $0.stopRequested }) {
                return
            }
            // Checked with the flag cleared under one lock: a stop from now on wakes the next server.
            guard events.withLock({ events in
                events.pausing = false
                return !events.stopRequested
            }) else { return }
            isRestart = true
        }
    }

    /// Waits for the outage (fired and not yet taken) or a stop. Cancellation counts as a stop.
    private func nextServeEvent() async -> ServeEvent {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ServeEvent, Never>) in
                let now = events.withLock { events -> ServeEvent? in
                    // Checked under the lock: the cancellation handler takes it after the flag is set.
                    if events.stopRequested || Task.isCancelled { return .stop }
                    if events.outagePending {
                        events.outagePending = false
                        return .outage
                    }
                    events.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = events.withLock { events in
                defer { events.waiter = nil }
                return events.waiter
            }
            waiter?.resume(returning: .stop)
        }
    }

    /// Marks the stop and wakes the running server's wait. True when `serve` is in the outage's pause.
    private func requestStop() -> Bool {
        let (waiter, pausing) = events.withLock { events in
            events.stopRequested = true
            defer { events.waiter = nil }
            return (events.waiter, events.pausing)
        }
        waiter?.resume(returning: .stop)
        return pausing
    }

    /// Counts a write (history or list POST) towards the outage and fires the trigger on the `outageAfter`-th.
    func countTowardsOutage() {
        let due = knobs.withLock { knobs -> Bool in
            knobs.writeRequests += 1
            return knobs.writeRequests == configuration.outageAfter
        }
        guard due else { return }
        let waiter = events.withLock { events -> CheckedContinuation<ServeEvent, Never>? in
            defer { events.waiter = nil }
            if events.waiter == nil { events.outagePending = true }
            return events.waiter
        }
        logger.debug("sandbox outage due", metadata: ["after": .stringConvertible(configuration.outageAfter ?? 0)])
        waiter?.resume(returning: .outage)
    }

    /// Starts the server, waits until it listens, calls `body` with the running instance (its real port
    /// and URL), and stops the server when `body` returns or throws, or when the task is cancelled.
    /// The store outlives the server: another `run` (of this or another sandbox on the same store)
    /// sees the same plays, counts and session tokens.
    public func run<T: Sendable>(_ body: @Sendable (RunningSandbox) async throws -> T) async throws -> T {
        try await run(onPort: configuration.port, body)
    }

    private func run<T: Sendable>(onPort requestedPort: Int, _ body: @Sendable (RunningSandbox) async throws -> T) async throws -> T {
        if let problem = configuration.problem() {
            throw SandboxError.invalidConfiguration(problem)
        }
        let router = Router(context: SandboxRequestContext.self)
        if !configuration.hostile.isEmpty {
            router.add(middleware: HostileMiddleware(knobs: configuration.hostile, store: store, listPaths: configuration.listPaths)) // HostileKnobs.swift
        }
        addRoutes(to: router)

        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: requestedPort),
                serverName: "discovr-sandbox"
            ),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        var groupConfiguration = ServiceGroupConfiguration(services: [app], logger: logger)
        // Graceful first (answers in flight are finished, idle connections closed); a slow answer
        // still held back after this long is cancelled.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        let host = configuration.host

        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                defer { portContinuation.finish() }
                try await serviceGroup.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                // The server ended (or we were cancelled) before it listened: collect why.
                await serviceGroup.triggerGracefulShutdown()
                do {
                    try await group.waitForAll()
                } catch {
                    try Task.checkCancellation()
                    throw SandboxError.cannotStart(host: host, port: requestedPort, reason: Self.describe(error))
                }
                try Task.checkCancellation()
                throw SandboxError.cannotStart(host: host, port: requestedPort, reason: "the server stopped before it listened")
            }
            let running = RunningSandbox(url: "http://\(Self.urlHost(host)):\(port)", port: port,
                                         refreshToken: configuration.refreshToken, store: store)
            logger.info("sandbox listening", metadata: [
                "url": .string(running.url),
                "rate-limit": .string(configuration.rateLimit.map { String($0) } ?? "none"),
                "token-ttl": .string(String(configuration.tokenTTL)),
            ])
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await body(running))
            } catch {
                outcome = .failure(error)
            }
            await serviceGroup.triggerGracefulShutdown()
            do {
                try await group.waitForAll()
            } catch {
                // The body's result matters more than how the server went down.
                logger.debug("sandbox server stopped with an error", metadata: ["error": .string(Self.describe(error))])
            }
            logger.info("sandbox stopped", metadata: ["url": .string(running.url), "stats": .string(store.stats().summary)])
            return try outcome.get()
        }
    }

    private static func urlHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0": return "127.0.0.1"
        case "::": return "[::1]"
        default: return host.contains(":") ? "[\(host)]" : host
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        return String(describing: error)
    }

    // MARK: Routes

    private func addRoutes(to router: Router<SandboxRequestContext>) {
        router.post(RouterPath(DiscovrEndpoints.sessionToken)) { [self] request, context in
            try await self.sessionToken(request, context: context)
        }
        router.get(RouterPath(DiscovrEndpoints.profiles)) { [self] request, _ in
            self.listProfiles(request)
        }
        router.delete(RouterPath(DiscovrEndpoints.session)) { [self] request, _ in
            self.revokeSession(request)
        }
        router.post(RouterPath(DiscovrEndpoints.deviceCodes)) { [self] request, context in
            try await self.startDeviceCode(request, context: context)
        }
        router.post(RouterPath(DiscovrEndpoints.devicePoll(":deviceCode"))) { [self] _, context in
            self.pollDeviceCode(context.parameters.get("deviceCode") ?? "", path: .poll)
        }
        router.post(RouterPath(DiscovrEndpoints.deviceToken(":deviceCode"))) { [self] _, context in
            self.pollDeviceCode(context.parameters.get("deviceCode") ?? "", path: .token)
        }
        router.post(RouterPath(DiscovrEndpoints.history)) { [self] request, context in
            try await self.addHistory(request, context: context)
        }
        router.get(RouterPath(DiscovrEndpoints.history)) { [self] request, _ in
            self.listHistory(request, mediaId: nil)
        }
        router.get(RouterPath(DiscovrEndpoints.history(of: ":mediaId"))) { [self] request, context in
            self.listHistory(request, mediaId: context.parameters.get("mediaId") ?? "")
        }
        for list in DiscovrList.allCases {
            router.post(RouterPath(list.path)) { [self] request, context in
                try await self.addToList(list, request, context: context)
            }
        }
        router.get("/_sandbox/lists") { [self] request, _ in
            self.inspectLists(request)
        }
        router.get("/_sandbox/stats") { [self] _, _ in
            Self.json(status: .ok, encoding: self.store.stats())
        }
        router.get("/_sandbox/items") { [self] _, _ in
            Self.json(status: .ok, encoding: self.store.storedItems())
        }
        // Test-only damage, so that tests can show `verify` finding exactly what was changed:
        // `?count=N[&seed=S][&profileId=ID]`, among entries `imported: "trakt"`; answers the entries
        // dropped or copied (docs/sandbox.md).
        router.post("/_sandbox/history/drop") { [self] request, _ in
            let (count, seed, profile) = Self.damageQuery(request)
            return Self.json(status: .ok, encoding: self.store.drop(count: count, profileId: profile, seed: seed))
        }
        router.post("/_sandbox/history/duplicate") { [self] request, _ in
            let (count, seed, profile) = Self.damageQuery(request)
            let now = self.configuration.now()
            return Self.json(status: .ok, encoding: self.store.duplicate(count: count, profileId: profile, seed: seed,
                                                                         now: now))
        }
        // Test-only: a new rate limit from now on (`?perSecond=N`; 0 or none: no limit), so that a
        // benchmark can fill a history fast and then read it at a given pace (docs/sandbox.md).
        router.post("/_sandbox/rate-limit") { [self] request, _ in
            let rate = request.uri.queryParameters["perSecond"].flatMap { Double(String($0)) }.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            self.knobs.withLock { $0.limiter = rate.map { SandboxRateLimiter(rate: $0) } }
            return Self.message(.ok, rate.map { "rate limit \($0)/s" } ?? "no rate limit")
        }
        router.get("/health") { _, _ in
            Self.message(.ok, "ok")
        }
    }

    /// `count` (default 1, at most 100,000), `seed` (default 1) and `profileId` of a damage route.
    private static func damageQuery(_ request: Request) -> (count: Int, seed: UInt64, profileId: String?) {
        let query = request.uri.queryParameters
        let count = query["count"].flatMap { Int(String($0)) }.map { min(max($0, 0), 100_000) } ?? 1
        let seed = query["seed"].flatMap { UInt64(String($0)) } ?? 1
        return (count, seed, query["profileId"].map(String.init))
    }

    /// Admits a request through the rate limiter (when one is configured): the RateLimit headers for
    /// the answer, and the 429 answer when it is refused.
    func admit(now: Timestamp) -> (headers: HTTPFields, refusal: Response?) {
        var headers = HTTPFields()
        let admission = knobs.withLock { knobs -> (SandboxRateLimiter.Decision, Int)? in
            guard let decision = knobs.limiter?.admit(nowMs: now.millisecondsSince1970), let limit = knobs.limiter?.limit else {
                return nil
            }
            return (decision, limit)
        }
        guard let (decision, limit) = admission else { return (headers, nil) }
        if configuration.rateLimitHeaders {
            let (remaining, reset) = switch decision {
            case .allowed(let remaining, let reset): (remaining, reset)
            case .limited(_, let reset): (0, reset)
            }
            headers[Self.rateLimitLimit] = String(limit)
            headers[Self.rateLimitRemaining] = String(remaining)
            headers[Self.rateLimitReset] = String(reset)
        }
        guard case .limited(let retryAfterMs, _) = decision else { return (headers, nil) }
        let waitMs = max(1000, retryAfterMs)
        let seconds = Int((Double(waitMs) / 1000).rounded(.up))
        switch configuration.retryAfterForm {
        case .seconds:
            headers[.retryAfter] = String(seconds)
        case .httpDate:
            let at = now.millisecondsSince1970 + waitMs
            // Rounded up to a whole second, so the date is never earlier than the wait.
            let rounded = (at + 999) / 1000 * 1000
            headers[.retryAfter] = HTTPDate.format(Timestamp(millisecondsSince1970: rounded))
        }
        logger.debug("sandbox rate-limited a request", metadata: ["retry-after-ms": .stringConvertible(waitMs)])
        return (headers, Self.error(.tooManyRequests, code: SandboxErrorCode.rateLimited,
                                    "rate limit exceeded: retry after \(seconds) s", headers: headers))
    }

    /// The next fault draw (fail, drop, slow) for an accepted write, from the generator of its kind.
    func nextFaults(for target: WriteTarget) -> FaultDraw {
        knobs.withLock { target == .history ? $0.faults.next() : $0.listFaults.next() }
    }

    /// Mixed into `seed` for the list writes' fault generator.
    static let listFaultSeed: UInt64 = 0x1157_FA11_1157_FA11

    /// The read-fail-rate knob's draw for one authorised history read.
    func nextReadFailure() -> Int? {
        knobs.withLock { $0.faults.nextReadFailure() }
    }

    // MARK: Helpers

    /// The body, read whole, as a JSON object (the strict reader: no NSNumber); an empty body counts
    /// as `{}` when `emptyIsObject` (the identity and device-code endpoints).
    static func readJSONObject(_ request: inout Request, context: SandboxRequestContext,
                               emptyIsObject: Bool) async -> Result<JSONObject, Refusal> {
        let bytes: [UInt8]
        do {
            bytes = Array(try await request.collectBody(upTo: context.maxUploadSize).readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return .failure(Refusal(.contentTooLarge, SandboxErrorCode.badRequest, "body too large: at most \(context.maxUploadSize) bytes"))
        } catch {
            return .failure(.badRequest("could not read the body"))
        }
        if emptyIsObject, bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .success(JSONObject(members: []))
        }
        guard let object = (try? JSONParser.parse(bytes))?.objectValue else {
            return .failure(Refusal(.unprocessableContent, SandboxErrorCode.badRequest, "body must be a JSON object"))
        }
        return .success(object)
    }

    static func bearerToken(in request: Request) -> String? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// At most the first three characters of a secret, for a log line.
    static func redacted(_ token: String?) -> String {
        guard let token, !token.isEmpty else { return "none" }
        return String(token.prefix(3)) + "…"
    }

    /// A compact JWT: base64url(header).base64url(payload).base64url(32 random bytes). The signature
    /// is random: the sandbox recognises its tokens by keeping them, not by verifying them.
    static func makeJWT(issuedAtMs: Int64, expiresAtMs: Int64, profileId: String, sessionId: String) -> String {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let payload = "{\"sub\":\"sandbox-user\",\"iat\":\(issuedAtMs / 1000),\"exp\":\(expiresAtMs / 1000),"
            + "\"sid\":" + JSONText.quote(sessionId) + ",\"profileId\":" + JSONText.quote(profileId) + "}"
        var generator = SystemRandomNumberGenerator()
        let signature = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return JWT.base64URLEncode(Data(header.utf8)) + "." + JWT.base64URLEncode(Data(payload.utf8)) + "."
            + JWT.base64URLEncode(signature)
    }

    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!

    /// `{"message": text}`: the documented success answer of `POST /profile/history`.
    static func message(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        json(status: status, text: "{\"message\":" + JSONText.quote(text) + "}", headers: headers)
    }

    /// An error answer, `{"code": ..., "message": ...}`.
    static func error(_ status: HTTPResponse.Status, code: String, _ text: String, headers: HTTPFields = [:]) -> Response {
        json(status: status, text: "{\"code\":" + JSONText.quote(code) + ",\"message\":" + JSONText.quote(text) + "}", headers: headers)
    }

    static func error(_ refusal: Refusal, headers: HTTPFields = [:]) -> Response {
        error(refusal.status, code: refusal.code, refusal.message, headers: headers)
    }

    static func json(status: HTTPResponse.Status, text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(status: HTTPResponse.Status, encoding value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        return json(status: status, text: text)
    }
}

/// A sandbox that is listening: where to send, and with which refresh token.
public struct RunningSandbox: Sendable {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    public var url: String
    /// The real port (also when 0 was asked for).
    public var port: Int
    public var refreshToken: String
    public var store: SandboxStore

    /// The account's profiles, oldest first (`GET /profiles` answers them newest first).
    public var profiles: [SandboxProfile] { store.profiles() }
}

/// The request context of the sandbox's router: the basic one plus the connection, so that a
/// "dropped" answer can close it.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.channel = source.channel
    }
}
