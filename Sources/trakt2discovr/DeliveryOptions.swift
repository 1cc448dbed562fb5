import ArgumentParser
import Delivery
import DiscovrAPI
import Foundation

extension MediaIDFormSetting: ExpressibleByArgument {}

/// The flags of every command that delivers (`import`, `resume`) or reads the state.
struct DeliveryOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("The queue database (SQLite; default trakt2discovr.sqlite, or a temporary one with --sandbox).", valueName: "file"))
    var stateOption: String?

    var state: String {
        get { stateOption ?? "trakt2discovr.sqlite" }
        set { stateOption = newValue }
    }

    var stateGiven: Bool { stateOption != nil }

    @Option(name: .customLong("api-url"), help: ArgumentHelp("Discovr API base URL (default https://api.discovr.media, or DISCOVR_API_URL).", valueName: "url"))
    var apiURL: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the Discovr refresh token (else DISCOVR_REFRESH_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(name: .customLong("profile"), help: ArgumentHelp("Profile to write to, by name (any case) or id; needed when the account has several (see `profiles`).", valueName: "id or name"))
    var profile: String?

    @Option(name: .customLong("media-id-form"), help: ArgumentHelp("How media ids are written: MV_TMDBID550 (tmdbid) or MV_550 (short); auto looks one item up in both forms first.", valueName: "auto|tmdbid|short"))
    var mediaIdForm: MediaIDFormSetting = .auto

    @Option(name: .customLong("rate"), help: ArgumentHelp("Requests a second: auto (find the server's pace from its RateLimit headers and 429s, starting at 5) or the most to send, a ceiling.", valueName: "n|auto"))
    var rate: RateOption = .auto

    @Option(name: .customLong("concurrency"), help: ArgumentHelp("Most requests in flight.", valueName: "n"))
    var concurrency: Int = 4

    @Option(name: .customLong("max-attempts"), help: ArgumentHelp("Tries per item before it is failed.", valueName: "n"))
    var maxAttempts: Int = 8

    @Option(name: .customLong("limit"), help: ArgumentHelp("Deliver at most n items in this run, then stop (resumable).", valueName: "n"))
    var limit: Int?

    @Option(name: .customLong("existing"), help: ArgumentHelp("Before the first send to a profile: look for plays already in it (check), or send everything (ignore).", valueName: "check|ignore"))
    var existing: ExistingHistoryMode = .check

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for one answer.", valueName: "s"))
    var timeout: Double = 30

    @Option(name: .customLong("give-up-after"), help: ArgumentHelp("Seconds without any item settled (or the longest wait a server may ask for) before stopping (exit 75; resume later).", valueName: "s"))
    var giveUpAfter: Double = 120

    @Flag(name: .customLong("no-progress"), help: "No progress display.")
    var noProgress = false

    @Flag(name: .customLong("verbose"), help: "Log every request and decision (never a token).")
    var verbose = false

    @Flag(name: .customLong("sandbox"), help: "Deliver to a sandbox Discovr started in this process (no token needed).")
    var sandbox = false

    func check() throws {
        LogSetup.bootstrap(verbose: verbose)
        guard concurrency >= 1, concurrency <= 64 else { throw ValidationError("--concurrency must be between 1 and 64") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        try Self.checkRequests(maxAttempts: maxAttempts, timeout: timeout, giveUpAfter: giveUpAfter)
        if sandbox && (apiURL != nil || tokenFile != nil) {
            throw ValidationError("--sandbox starts its own server: leave out --api-url and --token-file")
        }
    }

    /// The flags every command that talks to Discovr shares (`import`, `resume`, `verify`).
    static func checkRequests(maxAttempts: Int, timeout: Double, giveUpAfter: Double) throws {
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard giveUpAfter > 0 else { throw ValidationError("--give-up-after must be positive") }
    }

    var resolvedAPIURL: String { TokenSource.apiURL(apiURL) }

    /// `resolvedAPIURL` if a token may go there (https, or http to loopback); else exit 64 with the
    /// reason, before any connection is made.
    func checkedAPIURL() throws -> String { try TokenSource.checkedAPIURL(apiURL) }

    /// The refresh token from --token-file, DISCOVR_REFRESH_TOKEN or the saved sign-in. The error never shows the token.
    func refreshToken() throws -> String { try TokenSource.refreshToken(tokenFile: tokenFile, apiURL: resolvedAPIURL) }
}
