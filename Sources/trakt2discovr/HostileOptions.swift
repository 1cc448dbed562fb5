import ArgumentParser
import DiscovrSandbox

/// The sandbox's hostile knobs (`HostileKnobs`): answers no sane server sends, to try the importer
/// against. Shown under their own heading in `trakt2discovr sandbox --help`.
struct HostileOptions: ParsableArguments {
    @Option(name: .customLong("hostile-retry-after"), help: ArgumentHelp("Answer every write (history or list POST) 429 with this Retry-After, as written (1e20, -5).", valueName: "value"))
    var retryAfter: String?

    @Option(name: .customLong("hostile-rate-limit-reset"), help: ArgumentHelp("Send RateLimit-Remaining: 0 and this RateLimit-Reset on every write answer (1e20).", valueName: "value"))
    var rateLimitReset: String?

    @Option(name: .customLong("hostile-jwt-exp"), help: ArgumentHelp("Issue session JWTs with this exp claim (a JSON number, 1e300) and no expiresAt.", valueName: "number"))
    var jwtExp: String?

    @Option(name: .customLong("hostile-trickle"), help: ArgumentHelp("Send write answers one byte every s seconds.", valueName: "s"))
    var trickle: Double?

    @Option(name: .customLong("hostile-redirect"), help: ArgumentHelp("Answer every write 302 to this URL.", valueName: "url"))
    var redirect: String?

    @Option(name: .customLong("hostile-body-bytes"), help: ArgumentHelp("Make every write answer's body n bytes long.", valueName: "n"))
    var bodyBytes: Int?

    var knobs: HostileKnobs {
        HostileKnobs(retryAfter: retryAfter, rateLimitReset: rateLimitReset, jwtExp: jwtExp, trickleSeconds: trickle,
                     redirectTo: redirect, bodyBytes: bodyBytes)
    }

    func validate() throws {
        if let problem = knobs.problem() { throw ValidationError(problem) }
    }
}
