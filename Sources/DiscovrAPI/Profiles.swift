/// One viewer of a Discovr account (documented, `get-profiles`). History is per profile.
public struct Profile: Sendable, Equatable, Hashable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// Longest id or name kept; a longer one is cut (it is shown to a person and sent back as is).
    public static let maximumFieldLength = 200

    /// Reads `{"profiles": [{"id", "name", ...}]}` (documented; newest first, kept in that order).
    /// Entries without a string `id` are dropped; a missing name reads as "". Nil when the body is not
    /// such an object. A bare array of profiles is read too (some SDK pages show one).
    public static func parseList(body: [UInt8]) -> [Profile]? {
        guard let value = try? JSONParser.parse(body), let list = value["profiles"]?.arrayValue ?? value.arrayValue else {
            return nil
        }
        return list.compactMap { entry in
            guard let id = entry["id"]?.stringValue, !id.isEmpty, id.utf8.count <= maximumFieldLength else { return nil }
            let name = entry["name"]?.stringValue ?? ""
            return Profile(id: id, name: String(name.prefix(maximumFieldLength)))
        }
    }

    /// `{"id": "...", "name": "..."}`, for reports.
    public var json: String { "{\"id\": " + JSONText.quote(id) + ", \"name\": " + JSONText.quote(name) + "}" }
}

/// Which profile a run writes to (`--profile`, `importer.md` section 2), decided from the account's
/// profiles and what the user asked for. Pure: the caller lists the profiles and acts on the answer.
public enum ProfileChoice: Sendable, Equatable {
    /// Use this one.
    case chosen(Profile)
    /// The account has several profiles and none was asked for.
    case needsChoice([Profile])
    /// No profile has this id or name.
    case unknown(String, [Profile])
    /// Several profiles have this name (case-insensitively); pass an id instead.
    case ambiguous(String, [Profile])
    /// The account has no profile at all.
    case noProfiles

    /// `requested` is an id (matched exactly) or a name (matched case-insensitively, ignoring
    /// surrounding spaces). An id wins over a name. With nothing requested, the only profile is chosen.
    public static func choose(from profiles: [Profile], requested: String?) -> ProfileChoice {
        guard !profiles.isEmpty else { return .noProfiles }
        guard let requested else {
            return profiles.count == 1 ? .chosen(profiles[0]) : .needsChoice(profiles)
        }
        if let byId = profiles.first(where: { $0.id == requested }) { return .chosen(byId) }
        let wanted = fold(requested)
        let byName = profiles.filter { fold($0.name) == wanted }
        switch byName.count {
        case 0: return .unknown(requested, profiles)
        case 1: return .chosen(byName[0])
        default: return .ambiguous(requested, byName)
        }
    }

    /// Case- and width-insensitive, trimmed; no Foundation (DiscovrAPI does no I/O and stays portable).
    static func fold(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return scalars.lowercased()
    }

    /// What to tell a person when no profile could be chosen; nil for `.chosen`. Names every profile
    /// with its id and the flag to pass.
    public var problem: String? {
        switch self {
        case .chosen:
            return nil
        case .noProfiles:
            return "this Discovr account has no profile to write history to; create one in the Discovr app, then run this again"
        case .needsChoice(let profiles):
            return "this Discovr account has \(profiles.count) profiles; choose the one to write to with --profile <name or id>:\n"
                + Self.listing(profiles)
        case .unknown(let requested, let profiles):
            return "no profile named or with the id \"\(requested)\" in this account; choose one with --profile <name or id>:\n"
                + Self.listing(profiles)
        case .ambiguous(let requested, let matches):
            return "\(matches.count) profiles are named \"\(requested)\"; choose one by its id with --profile <id>:\n"
                + Self.listing(matches)
        }
    }

    /// One line a profile: `  Sci-Fi Lover    --profile profile_abc123xyz`.
    public static func listing(_ profiles: [Profile]) -> String {
        let width = min(40, profiles.map { displayName($0).count }.max() ?? 0)
        return profiles.map { profile in
            let name = displayName(profile)
            let pad = String(repeating: " ", count: max(0, width - name.count))
            return "  " + name + pad + "  --profile " + profile.id
        }.joined(separator: "\n")
    }

    static func displayName(_ profile: Profile) -> String { profile.name.isEmpty ? "(no name)" : profile.name }
}
