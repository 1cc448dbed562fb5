import Delivery
import DiscovrAPI
import Foundation

/// Where the API URL and the refresh token come from, for every command that talks to Discovr.
enum TokenSource {
    static func apiURL(_ flag: String?) -> String {
        if let flag { return flag }
        if let env = ProcessInfo.processInfo.environment["DISCOVR_API_URL"], !env.isEmpty { return env }
        return DiscovrEndpoints.defaultBaseURL
    }

    /// The API URL if a token may go there (https, or http to loopback); else exit 64 with the
    /// reason, before any connection is made.
    static func checkedAPIURL(_ flag: String?) throws -> String {
        do {
            return try DiscovrClient.checkedBaseURL(apiURL(flag))
        } catch {
            throw fail(error.description, Exit.usage)
        }
    }

    /// The refresh token from --token-file, else DISCOVR_REFRESH_TOKEN, else the credentials `login`
    /// saved for this API URL. The error never shows the token.
    static func refreshToken(tokenFile: String?, apiURL: String) throws -> String {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw fail("\(tokenFile): cannot read the token file; check the path and its permissions", Exit.noInput)
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw fail("\(tokenFile): the token file is empty; put your Discovr refresh token (rt_...) in it", Exit.usage)
            }
            if let warning = TokenFilePermissions.warning(forFileAt: tokenFile) { Terminal.warn(warning) }
            return token
        }
        if let env = ProcessInfo.processInfo.environment["DISCOVR_REFRESH_TOKEN"] {
            let token = env.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return token }
        }
        var elsewhere = ""
        if let store = try? CredentialsStore.location(environment: ProcessInfo.processInfo.environment) {
            let saved: SavedCredentials?
            do {
                saved = try store.load()
            } catch {
                throw fail(error.description, Exit.noPermission)
            }
            if let saved {
                if saved.isFor(apiURL: apiURL) {
                    if let expiresAt = saved.expiresAt, expiresAt.millisecondsSince1970 <= DeliveryDriver.systemWallClock() {
                        throw fail("the saved Discovr sign-in expired on \(expiresAt.iso8601.prefix(10)) (refresh tokens last "
                            + "\(DiscovrEndpoints.refreshTokenLifetimeDays) days): run `trakt2discovr login` to sign in again", Exit.noPermission)
                    }
                    if let warning = TokenFilePermissions.warning(forFileAt: store.path) { Terminal.warn(warning) }
                    return saved.refreshToken
                }
                elsewhere = " (the saved sign-in is for \(saved.apiURL), not \(apiURL))"
            }
        }
        throw fail("no Discovr refresh token\(elsewhere): run `trakt2discovr login`, or pass --token-file FILE or set DISCOVR_REFRESH_TOKEN (or try --sandbox, or --dry-run)", Exit.usage)
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
