import Foundation

/// The validation rules of the documented `POST /profile/history` body, shared by the importer
/// (to never send what the server must refuse) and the sandbox (to refuse it like the server).
public enum HistoryValidation {
    /// Checks a decoded JSON object against the seed page. Returns nil when valid, else a message.
    public static func problem(in object: [String: Any]) -> String? {
        guard let raw = object["mediaId"] else { return "mediaId is required" }
        guard let mediaString = raw as? String else { return "mediaId must be a string" }
        guard let media = MediaID(rawValue: mediaString) else {
            return "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>, got \(mediaString.prefix(40))"
        }
        if let updated = object["updatedAt"], !(updated is NSNull) {
            guard let text = updated as? String, Timestamp(iso8601: text) != nil else {
                return "updatedAt must be an ISO 8601 date-time"
            }
        }
        if let progress = object["progress"], !(progress is NSNull) {
            guard let number = progress as? NSNumber, !isBoolean(progress), number.doubleValue.isFinite else {
                return "progress must be a number"
            }
            guard (0...100).contains(number.doubleValue) else { return "progress must be between 0 and 100" }
        }
        for field in ["season", "episode"] {
            if let value = object[field], !(value is NSNull) {
                guard let number = value as? NSNumber, !isBoolean(value), number.doubleValue == number.doubleValue.rounded() else {
                    return "\(field) must be an integer"
                }
                guard number.doubleValue >= 1 else { return "\(field) must be >= 1" }
            }
        }
        if media.kind == .show, object["season"] == nil || object["season"] is NSNull {
            return "season is required for TV shows"
        }
        if let imported = object["imported"], !(imported is NSNull), !(imported is String) {
            return "imported must be a string"
        }
        return nil
    }

    /// True for a JSON `true`/`false`. Not `value is Bool`: on Linux every NSNumber holding 0 or 1
    /// casts to Bool, so that test refused `"progress": 0` (found by the fuzzer). JSONSerialization
    /// gives booleans the `c` (char) type code and never uses it for a number.
    static func isBoolean(_ value: Any) -> Bool {
        if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
        return value is Bool
    }
}
