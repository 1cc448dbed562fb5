import ArgumentParser
import Delivery
import DiscovrAPI
import Logging

/// `--timeout` and `--verbose` of the account commands (`login`, `logout`, `profiles`), and the client
/// they talk to Discovr through.
struct AccountOptions: ParsableArguments {
    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for one answer.", valueName: "s"))
    var timeout: Double = 30

    @Flag(name: .customLong("verbose"), help: "Log every request (never a token).")
    var verbose = false

    func validate() throws {
        LogSetup.bootstrap(verbose: verbose)
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be positive") }
    }

    /// Runs `body` with a client of `baseURL` (wall clock, this command's timeout and logger).
    func withClient<T>(_ baseURL: String, logger: Logger, _ body: (DiscovrClient) async throws -> T) async throws -> T {
        try await withDiscovrClient(baseURL: baseURL, requestTimeout: timeout, logger: logger,
                                    now: { Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()) }, body)
    }
}
