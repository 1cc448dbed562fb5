/// Device-code sign-in (documented, `importer.md` section 6): `POST /auth/device-codes` with
/// `{"clientID"}` starts it, the user types `userCode` (or scans the QR image) in a signed-in Discovr
/// app, and `POST /auth/device-codes/{deviceCode}/poll` answers the refresh token once confirmed.

/// The body of `POST /auth/device-codes`.
public struct DeviceCodeRequest: Sendable, Equatable {
    public var clientID: String
    public init(clientID: String) { self.clientID = clientID }

    public var jsonBody: String { "{\"clientID\":" + JSONText.quote(clientID) + "}" }
}

/// The answer of `POST /auth/device-codes`:
/// `{"deviceCode": "dvc_...", "userCode": "1234", "authQRCode": "data:image/png;base64,...", "expiresIn": 600000}`.
public struct DeviceCode: Sendable, Equatable {
    /// Secret-ish: whoever has it can collect the refresh token. Never printed.
    public var deviceCode: String
    /// The short code the user types.
    public var userCode: String
    /// The QR image as sent (a `data:` URL), if any.
    public var authQRCode: String?
    /// How long the code can be confirmed, in ms (documented as milliseconds), clamped to a sane range.
    public var expiresInMs: Int64

    public init(deviceCode: String, userCode: String, authQRCode: String?, expiresInMs: Int64) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.authQRCode = authQRCode
        self.expiresInMs = expiresInMs
    }

    /// Assumed when `expiresIn` is missing or unreadable: ten minutes (the documented example).
    public static let assumedLifetimeMs: Int64 = 600_000
    /// Longest wait believed: a code "valid for a year" still stops the wait after an hour.
    public static let maximumLifetimeMs: Int64 = 3_600_000
    /// Shortest: a code must give the user time to type it.
    public static let minimumLifetimeMs: Int64 = 30_000

    /// Nil unless the body is an object with a non-empty string `deviceCode` and `userCode` (a number
    /// for `userCode` is read too). `deviceCode` must be path-safe: it goes into the poll URL.
    public static func parse(body: [UInt8]) -> DeviceCode? {
        guard let object = (try? JSONParser.parse(body))?.objectValue,
              let device = object["deviceCode"]?.stringValue, !device.isEmpty, device.utf8.count <= 512,
              device.utf8.allSatisfy(isPathSafe) else { return nil }
        let user: String
        if let text = object["userCode"]?.stringValue, !text.isEmpty, text.count <= 64 {
            user = text
        } else if let number = object["userCode"]?.intValue, number >= 0 {
            user = String(number)
        } else {
            return nil
        }
        var lifetime = assumedLifetimeMs
        if let ms = object["expiresIn"]?.doubleValue, ms.isFinite, ms > 0 {
            lifetime = ms >= Double(maximumLifetimeMs) ? maximumLifetimeMs : max(minimumLifetimeMs, Int64(ms))
        }
        return DeviceCode(deviceCode: device, userCode: user, authQRCode: object["authQRCode"]?.stringValue,
                          expiresInMs: lifetime)
    }

    static func isPathSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// "10 minutes", "45 seconds": how long the code is valid, for a person.
    public var validFor: String {
        let seconds = (expiresInMs + 999) / 1000
        return seconds >= 120 ? "\((seconds + 30) / 60) minutes" : "\(seconds) seconds"
    }

    /// The PNG bytes of `authQRCode` (`data:image/png;base64,...`); nil when there is none or it is
    /// not a base64 PNG data URL.
    public var qrPNG: [UInt8]? {
        guard let text = authQRCode, let comma = text.firstIndex(of: ",") else { return nil }
        let head = text[..<comma].lowercased()
        guard head.hasPrefix("data:image/png"), head.hasSuffix(";base64") else { return nil }
        guard let bytes = Base64.decode(text[text.index(after: comma)...]),
              bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { return nil }
        return bytes
    }
}

/// One answer of the poll: still waiting, or the refresh token.
public enum DevicePollAnswer: Sendable, Equatable {
    /// `{"status": "pending"}`: not confirmed yet.
    case pending
    /// `{"refreshToken": "rt_...", "publicId": "...", "expiresAt": 1740867000}`.
    case confirmed(refreshToken: String, publicId: String?, expiresAt: Timestamp?)

    /// Reads a 2xx poll body; nil when it is neither shape.
    public static func parse(body: [UInt8]) -> DevicePollAnswer? {
        guard let object = (try? JSONParser.parse(body))?.objectValue else { return nil }
        if let token = object["refreshToken"]?.stringValue, !token.isEmpty {
            return .confirmed(refreshToken: token, publicId: object.text("publicId", limit: 200),
                              expiresAt: object["expiresAt"].flatMap(SessionToken.expiry(of:)))
        }
        if let status = object["status"]?.stringValue, status.lowercased() == "pending" { return .pending }
        return nil
    }
}

/// Standard base64 (RFC 4648, padding optional, whitespace ignored), by hand: DiscovrAPI imports nothing.
public enum Base64 {
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): padding += 1; continue
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return nil
            }
            guard padding == 0 else { return nil } // data after padding
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard bits < 6, padding <= 2 else { return nil }
        return out
    }
}
