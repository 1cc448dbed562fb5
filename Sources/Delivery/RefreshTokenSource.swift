import DiscovrAPI
import Foundation

/// Where the API URL and the refresh token come from, for every command that talks to Discovr:
/// `--api-url`, else `DISCOVR_API_URL`, else Discovr's; `--token-file`, else `DISCOVR_REFRESH_TOKEN`,
/// else the credentials `login` saved for this API URL. Nothing here prints or exits: problems are
/// typed, and never show the token.
public enum RefreshTokenSource {
    public static func apiURL(_ flag: String?, environment: [String: String]) -> String {
        if let flag { return flag }
        if let env = environment["DISCOVR_API_URL"], !env.isEmpty { return env }
        return DiscovrEndpoints.defaultBaseURL
    }

    /// Why there is no token to use.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// `--token-file` names a file that cannot be read.
        case unreadableFile(String)
        /// `--token-file` is empty.
        case emptyFile(String)
        /// The saved credentials exist but cannot be used (their text says why).
        case savedCredentials(String)
        /// The saved sign-in's refresh token is past its 90 days.
        case expired(Timestamp)
        /// No token anywhere; `elsewhere` names a saved sign-in for another API URL, if any.
        case none(elsewhere: String?, apiURL: String)

        public var description: String {
            switch self {
            case .unreadableFile(let path):
                return "\(path): cannot read the token file; check the path and its permissions"
            case .emptyFile(let path):
                return "\(path): the token file is empty; put your Discovr refresh token (rt_...) in it"
            case .savedCredentials(let why):
                return why
            case .expired(let at):
                return "the saved Discovr sign-in expired on \(at.iso8601.prefix(10)) (refresh tokens last "
                    + "\(DiscovrEndpoints.refreshTokenLifetimeDays) days): run `trakt2discovr login` to sign in again"
            case .none(let elsewhere, let apiURL):
                let other = elsewhere.map { " (the saved sign-in is for \($0), not \(apiURL))" } ?? ""
                return "no Discovr refresh token\(other): run `trakt2discovr login`, or pass --token-file FILE or set "
                    + "DISCOVR_REFRESH_TOKEN (or try --sandbox, or --dry-run)"
            }
        }
    }

    /// The token found, and a warning to show about the file it came from (too open permissions).
    public struct Found: Sendable {
        public var token: String
        public var warning: String?
    }

    public static func refreshToken(tokenFile: String?, environment: [String: String], apiURL: String,
                                    nowMs: Int64) throws(Problem) -> Found {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { throw .unreadableFile(tokenFile) }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw .emptyFile(tokenFile) }
            return Found(token: token, warning: TokenFilePermissions.warning(forFileAt: tokenFile))
        }
        if let env = environment["DISCOVR_REFRESH_TOKEN"] {
            let token = env.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return Found(token: token, warning: nil) }
        }
        guard let store = try? CredentialsStore.location(environment: environment) else { throw .none(elsewhere: nil, apiURL: apiURL) }
        let saved: SavedCredentials?
        do {
            saved = try store.load()
        } catch {
            throw .savedCredentials(error.description)
        }
        guard let saved else { throw .none(elsewhere: nil, apiURL: apiURL) }
        guard saved.isFor(apiURL: apiURL) else { throw .none(elsewhere: saved.apiURL, apiURL: apiURL) }
        if let expiresAt = saved.expiresAt, expiresAt.millisecondsSince1970 <= nowMs { throw .expired(expiresAt) }
        return Found(token: saved.refreshToken, warning: TokenFilePermissions.warning(forFileAt: store.path))
    }
}
