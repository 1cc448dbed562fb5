import ArgumentParser
import Delivery
import DiscovrAPI
import Foundation
import Logging

struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the account's profiles (name and id), to choose one with --profile.",
        discussion: """
            History is kept per profile. When the account has several, import and resume need \
            --profile with a name (any case) or an id from this list.

            Examples:
              trakt2discovr profiles
              trakt2discovr profiles --json --token-file ~/.discovr-token
            """
    )

    @Option(name: .customLong("api-url"), help: ArgumentHelp("Discovr API base URL (default https://api.discovr.media, or DISCOVR_API_URL).", valueName: "url"))
    var apiURL: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the refresh token (else DISCOVR_REFRESH_TOKEN, else the saved sign-in).", valueName: "file"))
    var tokenFile: String?

    @Flag(name: .customLong("json"), help: "Print JSON for machines.")
    var json = false

    @OptionGroup var account: AccountOptions

    func run() async throws {
        let url = try TokenSource.checkedAPIURL(apiURL)
        let token = try TokenSource.refreshToken(tokenFile: tokenFile, apiURL: url)
        let logger = Logger(label: "trakt2discovr")
        let profiles = try await account.withClient(url, logger: logger) { client in
            try await client.profiles(refreshToken: token)
        }
        if json {
            Terminal.out(JSONOutput.text(JSONOutput.Profiles(apiUrl: url, profiles: profiles.map(JSONOutput.ProfileJSON.init))))
            return
        }
        if profiles.isEmpty {
            Terminal.out("this account has no profile; create one in the Discovr app\n")
            return
        }
        Terminal.out("\(profiles.count) profile\(profiles.count == 1 ? "" : "s") (newest first):\n" + ProfileChoice.listing(profiles) + "\n")
    }
}
