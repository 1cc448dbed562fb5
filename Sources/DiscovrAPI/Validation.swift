/// The validation rules of the documented `POST /profile/history` body, shared by the importer
/// (to never send what the server must refuse) and the sandbox (to refuse it like the server).
///
/// It reads a `JSONValue` from the strict `JSONParser`, whose numbers and booleans are different
/// cases: with Foundation's `NSNumber` a `progress: 0` cast to `Bool` on Linux and was refused as
/// "not a number" (found by the fuzzer).
public enum HistoryValidation {
    /// Checks a JSON object against the seed page. Returns nil when valid, else a message.
    public static func problem(in object: JSONObject) -> String? {
        func given(_ key: String) -> JSONValue? {
            guard let value = object[key], !value.isNull else { return nil }
            return value
        }
        guard let raw = object["mediaId"] else { return "mediaId is required" }
        guard let mediaString = raw.stringValue else { return "mediaId must be a string" }
        guard let media = MediaID(rawValue: mediaString) else {
            return "mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>, got \(mediaString.prefix(40))"
        }
        if let updated = given("updatedAt") {
            guard let text = updated.stringValue, Timestamp(iso8601: text) != nil else {
                return "updatedAt must be an ISO 8601 date-time"
            }
        }
        if let progress = given("progress") {
            guard let number = progress.doubleValue, number.isFinite else { return "progress must be a number" }
            guard (0...100).contains(number) else { return "progress must be between 0 and 100" }
        }
        for field in ["season", "episode"] {
            if let value = given(field) {
                guard let number = value.doubleValue, number.isFinite, number == number.rounded() else {
                    return "\(field) must be an integer"
                }
                guard number >= 1 else { return "\(field) must be >= 1" }
            }
        }
        if media.kind == .show, given("season") == nil {
            return "season is required for TV shows"
        }
        if let imported = given("imported"), imported.stringValue == nil {
            return "imported must be a string"
        }
        return nil
    }

    /// Parses `body` with `JSONParser` and checks it: nil when valid, else a message (a body that is
    /// not JSON says where it breaks).
    public static func problem(inBody body: [UInt8]) -> String? {
        do {
            guard let object = try JSONParser.parse(body).objectValue else { return "the body must be a JSON object" }
            return problem(in: object)
        } catch {
            return "the body is not JSON (\(error.description))"
        }
    }
}
