import DiscovrAPI
import Foundation

/// A refresh token kept by `login` (`importer.md` section 6), with the server it belongs to.
public struct SavedCredentials: Sendable, Equatable {
    public var refreshToken: String
    /// The API base URL the token was issued by: it is presented to that server only.
    public var apiURL: String
    public var publicId: String?
    /// When the refresh token expires (documented: 90 days), if the server said.
    public var expiresAt: Timestamp?
    public var savedAt: Timestamp

    public init(refreshToken: String, apiURL: String, publicId: String? = nil, expiresAt: Timestamp? = nil, savedAt: Timestamp) {
        self.refreshToken = refreshToken
        self.apiURL = apiURL
        self.publicId = publicId
        self.expiresAt = expiresAt
        self.savedAt = savedAt
    }

    /// The file's JSON (one object). The token is in it: the file is 0600 in a 0700 folder.
    var json: String {
        var out = "{\n  \"refreshToken\": " + JSONText.quote(refreshToken) + ",\n  \"apiUrl\": " + JSONText.quote(apiURL)
        if let publicId { out += ",\n  \"publicId\": " + JSONText.quote(publicId) }
        if let expiresAt { out += ",\n  \"expiresAt\": " + String(expiresAt.millisecondsSince1970 / 1000) }
        out += ",\n  \"savedAt\": " + String(savedAt.millisecondsSince1970 / 1000) + "\n}\n"
        return out
    }

    static func parse(_ bytes: [UInt8]) -> SavedCredentials? {
        guard let object = (try? JSONParser.parse(bytes))?.objectValue,
              let token = object["refreshToken"]?.stringValue, !token.isEmpty,
              let url = object["apiUrl"]?.stringValue, !url.isEmpty else { return nil }
        return SavedCredentials(refreshToken: token, apiURL: url, publicId: object["publicId"]?.stringValue,
                                expiresAt: object["expiresAt"].flatMap(SessionToken.expiry(of:)),
                                savedAt: object["savedAt"].flatMap(SessionToken.expiry(of:)) ?? Timestamp(millisecondsSince1970: 0))
    }

    /// Whether `url` names the server the token came from (trailing slashes and case of scheme and
    /// host aside).
    public func isFor(apiURL url: String) -> Bool {
        Self.normalized(url) == Self.normalized(apiURL)
    }

    static func normalized(_ url: String) -> String {
        var text = url.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard var parts = URLComponents(string: text) else { return text }
        parts.scheme = parts.scheme?.lowercased()
        parts.host = parts.host?.lowercased()
        return parts.string ?? text
    }
}

/// Problems with the credentials file. Messages name the file and never contain the token.
public enum CredentialsError: Error, Equatable, CustomStringConvertible {
    /// Neither XDG_CONFIG_HOME nor HOME says where the folder is.
    case noLocation
    /// The file is there but cannot be read or is not what `login` writes.
    case unreadable(path: String, why: String)
    /// The folder or the file cannot be written.
    case unwritable(path: String, why: String)

    public var description: String {
        switch self {
        case .noLocation:
            return "cannot tell where to keep the sign-in: set HOME or XDG_CONFIG_HOME"
        case .unreadable(let path, let why):
            return "\(path): the saved sign-in cannot be read (\(why)); run `trakt2discovr login` again"
        case .unwritable(let path, let why):
            return "\(path): the sign-in cannot be saved (\(why)); check the folder's permissions and free space"
        }
    }
}

/// The credentials file: `$XDG_CONFIG_HOME/trakt2discovr/credentials`, or
/// `~/.config/trakt2discovr/credentials`; the folder 0700, the file 0600, written whole or not at all
/// (a private temporary file in the same folder, flushed, then renamed over the old one).
public struct CredentialsStore: Sendable {
    public let directory: String
    public var path: String { directory + "/credentials" }

    public init(directory: String) {
        self.directory = directory
    }

    /// The XDG location for `environment`. XDG_CONFIG_HOME counts only when absolute (the XDG spec
    /// says a relative one is to be ignored).
    public static func location(environment: [String: String]) throws(CredentialsError) -> CredentialsStore {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return CredentialsStore(directory: trimmed(xdg) + "/trakt2discovr")
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { throw .noLocation }
        return CredentialsStore(directory: trimmed(home) + "/.config/trakt2discovr")
    }

    static func trimmed(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p == "/" ? "" : p
    }

    /// The saved sign-in; nil when there is none.
    public func load() throws(CredentialsError) -> SavedCredentials? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, why: "no permission to read it")
        }
        guard data.count <= 64 * 1024, let saved = SavedCredentials.parse(Array(data)) else {
            throw .unreadable(path: path, why: "it is not a file `trakt2discovr login` wrote")
        }
        return saved
    }

    /// Writes `credentials` atomically: after a crash the file is the old one or the new one.
    public func save(_ credentials: SavedCredentials) throws(CredentialsError) {
        try makeDirectory()
        let temporary = directory + "/.credentials-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(path: path, why: Self.errnoText()) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) } // after the error's text is read
            let bytes = Array(credentials.json.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno != EINTR { throw .unwritable(path: path, why: Self.errnoText()) }
                written += max(n, 0)
            }
            // fchmod too: a umask cannot widen 0600, but an odd file system's defaults might.
            guard fchmod(fd, 0o600) == 0, fsync(fd) == 0 else { throw .unwritable(path: path, why: Self.errnoText()) }
        }
        guard rename(temporary, path) == 0 else { throw .unwritable(path: path, why: Self.errnoText()) }
        ok = true
        // The rename itself reaches the disk with the folder.
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// Removes the file. False when there was none.
    @discardableResult
    public func delete() throws(CredentialsError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .unwritable(path: path, why: Self.errnoText())
    }

    /// The folder, 0700, and its parents as needed (parents get the usual permissions).
    private func makeDirectory() throws(CredentialsError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .unwritable(path: directory, why: "it is not a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw .unwritable(path: directory, why: error.localizedDescription)
            }
        }
        guard chmod(directory, 0o700) == 0 else { throw .unwritable(path: directory, why: Self.errnoText()) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)).lowercased() }
}
