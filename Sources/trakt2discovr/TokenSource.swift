import Delivery
import DiscovrAPI
import Foundation

/// Where the API URL and the refresh token come from, for every command that talks to Discovr.
enum TokenSource {
    static func apiURL(_ flag: String?) -> String {
        RefreshTokenSource.apiURL(flag, environment: ProcessInfo.processInfo.environment)
    }

    /// The API URL if a token may go there (https, or http to loopback); else exit 64 with the
    /// reason, before any connection is made.
    static func checkedAPIURL(_ flag: String?) throws -> String {
        try DiscovrClient.checkedBaseURL(apiURL(flag))
    }

    /// The refresh token (`RefreshTokenSource`), or exit with what to do. The error never shows the token.
    static func refreshToken(tokenFile: String?, apiURL: String) throws -> String {
        let found = try RefreshTokenSource.refreshToken(tokenFile: tokenFile, environment: ProcessInfo.processInfo.environment,
                                                        apiURL: apiURL, nowMs: DeliveryDriver.systemWallClock())
        if let warning = found.warning { Terminal.warn(warning) }
        return found.token
    }

    /// The credentials file's place, or exit 64 saying why there is none.
    static func store() throws -> CredentialsStore {
        do {
            return try CredentialsStore.location(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw fail(error.description, Exit.usage)
        }
    }
}
