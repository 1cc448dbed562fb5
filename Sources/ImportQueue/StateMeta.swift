import GRDB

/// Every key of the state file's `meta` table, in one place.
public enum StateMeta {
    /// The profile a state delivers to, and its name when it was chosen (for a person reading the file).
    public static let profileId = "profileId"
    public static let profileName = "profileName"
    /// The media id form the state's bodies are written in (`MediaIDForm` raw value), how it was
    /// decided, and whether the one automatic switch may still happen ("1" or "0").
    public static let mediaIdForm = "mediaIdForm"
    public static let mediaIdFormReason = "mediaIdFormReason"
    public static let mediaIdFormCanSwitch = "mediaIdFormCanSwitch"
    /// The last `verify`'s result (a JSON object, `status` shows it).
    public static let lastVerify = "last-verify"

    /// The record that the existing-history check ran against a profile.
    public static func existingHistoryChecked(profileId: String?) -> String {
        "existing-history-checked:" + (profileId ?? "(the account's only profile)")
    }
}

extension ImportQueue {
    /// Stores several meta values in one transaction: all of them or none.
    public func setMeta(_ values: [(key: String, value: String)]) throws {
        try write { db in
            for (key, value) in values { try Self.storeMeta(key, value, in: db) }
        }
    }
}
