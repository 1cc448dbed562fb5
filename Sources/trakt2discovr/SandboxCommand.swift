import ArgumentParser
import DiscovrSandbox
import Foundation
import Logging

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a local Discovr stand-in to try imports against (Ctrl-C to stop).",
        discussion: """
            Speaks Discovr's documented API: profiles, session tokens, device-code sign-in, history \
            that appends and pages, the media id forms, error codes, the lists (liked, disliked, \
            super_liked, watchlist: only disliked is documented, --lists takes the others away); \
            plus rate limits and faults, on history and list writes alike. \
            It prints its URL, its refresh token and its profiles; pass them to import with \
            --api-url, --token-file and --profile.

            Examples:
              trakt2discovr sandbox --port 8080 --rate-limit 10
              trakt2discovr sandbox --port 0 --fail-rate 0.2 --token-ttl 30
              trakt2discovr sandbox --port 0 --drop-rate 0.1 --retry-after http-date \\
                  --rate-limit 5
              trakt2discovr sandbox --port 0 --fail-rate 0.05 --fail-burst 4
              trakt2discovr sandbox --port 0 --rate-limit 10 --no-rate-limit-headers
              trakt2discovr sandbox --port 0 --outage-after 50 --outage-for 3
              trakt2discovr sandbox --port 0 --profiles 3 --media-id-form short
              trakt2discovr sandbox --port 0 --confirm-after 2 --device-poll-path token
              trakt2discovr sandbox --port 0 --lists documented
            """
    )

    @Option(name: .customLong("port"), help: ArgumentHelp("Port to listen on; 0 picks a free one.", valueName: "n"))
    var port = 0

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Most history and list requests a second before answering 429.", valueName: "n/s"))
    var rateLimit: Double?

    @Option(name: .customLong("fail-rate"), help: ArgumentHelp("Share of writes (history and list POSTs) answered with a 5xx error.", valueName: "0...1"))
    var failRate: Double = 0

    @Option(name: .customLong("fail-burst"), help: ArgumentHelp("Failures come in runs of n writes: a drawn failure fails the next n-1 of the same kind too.", valueName: "n"))
    var failBurst = 1

    @Option(name: .customLong("read-fail-rate"), help: ArgumentHelp("Share of history reads (GET) answered with a 5xx error.", valueName: "0...1"))
    var readFailRate: Double = 0

    @Flag(name: .customLong("no-rate-limit-headers"), help: "Send no RateLimit-* headers: a 429 says only Retry-After.")
    var noRateLimitHeaders = false

    @Option(name: .customLong("outage-after"), help: ArgumentHelp("Once, at the n-th write (history or list POST): stop listening (connections refused) for --outage-for seconds, then listen again on the same port with the same data.", valueName: "n"))
    var outageAfter: Int?

    @Option(name: .customLong("outage-for"), help: ArgumentHelp("Seconds the server stays away in the --outage-after outage.", valueName: "s"))
    var outageFor: Double = 3

    @Option(name: .customLong("token-ttl"), help: ArgumentHelp("Seconds a session token lives (Discovr: 30 minutes).", valueName: "s"))
    var tokenTTL: Double = 1800

    @Option(name: .customLong("profiles"), help: ArgumentHelp("Profiles of the account (named Main, Kids, Sci-Fi Lover...).", valueName: "n"))
    var profiles = 1

    @Option(name: .customLong("media-id-form"), help: ArgumentHelp("Media id form history and list requests may use; the other answers 400.", valueName: "tmdbid|short|both"))
    var mediaIDForm: String = "both"

    @Option(name: .customLong("lists"), help: ArgumentHelp("List paths served: all; documented (only /profile/disliked: liked, super_liked and watchlist answer 404 like an unknown path); documented-405 (they answer 405).", valueName: "all|documented|documented-405"))
    var lists: String = "all"

    @Option(name: .customLong("confirm-after"), help: ArgumentHelp("Device-code sign-in: polls answered pending before the code is confirmed.", valueName: "n"))
    var confirmAfter = 1

    @Option(name: .customLong("device-code-ttl"), help: ArgumentHelp("Seconds a device code stays valid.", valueName: "s"))
    var deviceCodeTTL: Double = 600

    @Option(name: .customLong("device-poll-path"), help: ArgumentHelp("Path device codes are polled on; the other answers 404.", valueName: "poll|token"))
    var devicePollPath: String = "poll"

    @Flag(name: .customLong("conflict-on-repeat"), help: "Not Discovr's behaviour: answer 409 to a play already there instead of appending it (tests a client's 409 handling).")
    var conflictOnRepeat = false

    @Flag(name: .customLong("refresh-token-expired"), help: "The refresh token has expired: identity calls answer 401 TOKEN_EXPIRED.")
    var refreshTokenExpired = false

    @Flag(name: .customLong("refresh-token-revoked"), help: "The refresh token was revoked: identity calls answer 401 TOKEN_INVALID.")
    var refreshTokenRevoked = false

    @Option(name: .customLong("drop-rate"), help: ArgumentHelp("Share of writes stored and then left unanswered (the connection is closed).", valueName: "0...1"))
    var dropRate: Double = 0

    @Option(name: .customLong("drop-before-store-rate"), help: ArgumentHelp("Share of writes whose connection is closed before anything is stored (no answer, no entry).", valueName: "0...1"))
    var dropBeforeStoreRate: Double = 0

    @Option(name: .customLong("slow-rate"), help: ArgumentHelp("Share of writes answered only after --slow-delay seconds.", valueName: "0...1"))
    var slowRate: Double = 0

    @Option(name: .customLong("slow-delay"), help: ArgumentHelp("Seconds a slow answer takes.", valueName: "s"))
    var slowDelay: Double = 0

    @Option(name: .customLong("retry-after"), help: ArgumentHelp("Form of Retry-After on 429: seconds or http-date.", valueName: "seconds|http-date"))
    var retryAfter: String = "seconds"

    @Option(name: .customLong("seed"), help: ArgumentHelp("Seed of the fault draws (a run is reproducible).", valueName: "n"))
    var seed: UInt64 = 1

    @Option(name: .customLong("refresh-token"), help: ArgumentHelp("The refresh token to accept (default: a random one, printed).", valueName: "rt_..."))
    var refreshToken: String?

    @Option(name: .customLong("token-out"), help: ArgumentHelp("Also write the refresh token to this file (for --token-file).", valueName: "file"))
    var tokenOut: String?

    @OptionGroup(title: "Hostile behaviour (to try the importer against)") var hostile: HostileOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard (0...1).contains(failRate) else { throw ValidationError("--fail-rate must be between 0 and 1") }
        guard (0...1).contains(readFailRate) else { throw ValidationError("--read-fail-rate must be between 0 and 1") }
        guard (0...1).contains(dropRate) else { throw ValidationError("--drop-rate must be between 0 and 1") }
        guard (0...1).contains(dropBeforeStoreRate) else { throw ValidationError("--drop-before-store-rate must be between 0 and 1") }
        guard (0...1).contains(slowRate) else { throw ValidationError("--slow-rate must be between 0 and 1") }
        // Seconds are kept to what a test can mean: a larger number would overflow the milliseconds the
        // server sleeps or stamps on a token (a trap, not an error).
        guard slowDelay >= 0, slowDelay <= Self.longestWait else { throw ValidationError("--slow-delay must be 0...\(Int(Self.longestWait)) seconds") }
        guard failBurst >= 1 else { throw ValidationError("--fail-burst must be at least 1") }
        if let outageAfter, outageAfter < 1 { throw ValidationError("--outage-after must be at least 1") }
        guard outageFor >= 0, outageFor <= Self.longestWait else { throw ValidationError("--outage-for must be 0...\(Int(Self.longestWait)) seconds") }
        guard ["seconds", "http-date"].contains(retryAfter) else { throw ValidationError("--retry-after must be seconds or http-date") }
        if let rateLimit, !(rateLimit >= 0.001 && rateLimit <= 1_000_000) { throw ValidationError("--rate-limit must be 0.001...1000000 a second") }
        guard tokenTTL > 0, tokenTTL <= Self.longestLifetime else { throw ValidationError("--token-ttl must be more than 0 and at most \(Int(Self.longestLifetime)) seconds") }
        guard (1...1000).contains(profiles) else { throw ValidationError("--profiles must be 1...1000") }
        guard AcceptedMediaIDForms(rawValue: mediaIDForm) != nil else { throw ValidationError("--media-id-form must be tmdbid, short or both") }
        guard ListPaths(rawValue: lists) != nil else { throw ValidationError("--lists must be all, documented or documented-405") }
        guard confirmAfter >= 0 else { throw ValidationError("--confirm-after must not be negative") }
        guard deviceCodeTTL > 0, deviceCodeTTL <= Self.longestLifetime else { throw ValidationError("--device-code-ttl must be more than 0 and at most \(Int(Self.longestLifetime)) seconds") }
        guard DevicePollPath(rawValue: devicePollPath) != nil else { throw ValidationError("--device-poll-path must be poll or token") }
        if let refreshToken, !refreshToken.hasPrefix("rt_") { throw ValidationError("--refresh-token must start with rt_") }
    }

    /// The longest wait a flag may ask the sandbox for (a day), and the longest token or code lifetime (ten years).
    static let longestWait: Double = 86_400
    static let longestLifetime: Double = 315_360_000

    @Flag(name: .customLong("quiet"), help: "Log only warnings, not every server event.")
    var quiet = false

    func run() async throws {
        LogSetup.bootstrap(verbose: false, defaultLevel: quiet ? .warning : .info)
        var configuration = SandboxConfiguration()
        configuration.port = port
        configuration.rateLimit = rateLimit
        configuration.failRate = failRate
        configuration.failBurst = failBurst
        configuration.readFailRate = readFailRate
        configuration.rateLimitHeaders = !noRateLimitHeaders
        configuration.outageAfter = outageAfter
        configuration.outageFor = outageFor
        configuration.tokenTTL = tokenTTL
        configuration.profiles = profiles
        configuration.mediaIDForms = AcceptedMediaIDForms(rawValue: mediaIDForm) ?? .both
        configuration.listPaths = ListPaths(rawValue: lists) ?? .all
        configuration.confirmAfter = confirmAfter
        configuration.deviceCodeTTL = deviceCodeTTL
        configuration.devicePollPath = DevicePollPath(rawValue: devicePollPath) ?? .poll
        configuration.conflictOnRepeat = conflictOnRepeat
        configuration.refreshTokenExpired = refreshTokenExpired
        configuration.refreshTokenRevoked = refreshTokenRevoked
        configuration.dropRate = dropRate
        configuration.dropBeforeStoreRate = dropBeforeStoreRate
        configuration.slowRate = slowRate
        configuration.slowDelay = slowDelay
        configuration.retryAfterForm = retryAfter == "http-date" ? .httpDate : .seconds
        configuration.seed = seed
        configuration.hostile = hostile.knobs
        if let refreshToken { configuration.refreshToken = refreshToken }
        let tokenOut = self.tokenOut
        let sandbox = DiscovrSandbox(configuration: configuration, logger: Logger(label: "discovr-sandbox"))
        // Serve until SIGINT/SIGTERM, through the outage if one is configured.
        try await sandbox.serve(listening: { running, isRestart in
            if isRestart {
                Terminal.out("sandbox Discovr listening again on \(running.url) after the outage\n")
                return
            }
            if let tokenOut {
                guard FileManager.default.createFile(atPath: tokenOut, contents: Data((running.refreshToken + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600]) else {
                    throw fail("\(tokenOut): cannot write the token file; check the folder exists", Exit.cantCreate)
                }
            }
            Terminal.out("sandbox Discovr listening on \(running.url)\nrefresh token: \(running.refreshToken)\n")
            let profiles = running.profiles
            Terminal.out("profiles (\(profiles.count)):\n" + profiles.map { "  \($0.name)  \($0.id)\n" }.joined())
            let profileHint = profiles.count > 1 ? " --profile \"\(profiles[0].name)\"" : ""
            Terminal.out("try: trakt2discovr import <export> --api-url \(running.url) --token-file <file holding the token>\(profileHint)\n")
        }, until: {
            await SandboxCommand.waitForSignal()
        })
        let stats = sandbox.store.stats()
        Terminal.out("stopped: \(stats.requests) requests, \(stats.stored) items stored"
            + (stats.lists.requests > 0 ? "; \(stats.lists.requests) list writes, \(stats.lists.stored) list changes" : "") + "\n")
    }

    /// Returns on the first SIGINT or SIGTERM, or when the task is cancelled.
    static func waitForSignal() async {
        let (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        SignalSources.keep(sources)
        // The iteration ends on cancellation as well.
        for await _ in signals { return }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var kept: [any DispatchSourceSignal] = []
    static func keep(_ sources: [any DispatchSourceSignal]) { kept.append(contentsOf: sources) }
}
