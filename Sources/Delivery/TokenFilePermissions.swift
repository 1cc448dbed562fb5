import Foundation

/// Whether a file holding a refresh token can be read by other users of the machine. The token is
/// used all the same (refusing would break scripts that worked), with a warning that says how to fix it.
public enum TokenFilePermissions {
    /// A warning naming the file and `chmod 600` when it is readable (or writable) by its group or by
    /// others; nil when only its owner can, or when it cannot be examined (reading it reports that).
    public static func warning(forFileAt path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & 0o777
        guard mode & 0o066 != 0 else { return nil }
        let who = mode & 0o044 == 0o044 ? "its group and every other user" : mode & 0o004 != 0 ? "every other user" : "its group"
        return "\(path) holds your Discovr refresh token and can be read or changed by \(who) on this machine "
            + "(mode \(String(mode, radix: 8))); run `chmod 600 \(path)` so that only you can"
    }
}
