/// Deciding and using the media id form (`importer.md` section 5, `--media-id-form`). Pure: the
/// probe's requests and the sends happen in Delivery; what their answers mean is decided here.

extension MediaIDForm {
    /// The seed page's form: the default when nothing else is known.
    public static let seed = MediaIDForm.tmdbid

    /// `MV_TMDBID550` or `MV_550`: how a person recognises the form.
    public var example: String { MediaID.movie(550).rawValue(in: self) }
}

/// What `--media-id-form` asks for.
public enum MediaIDFormSetting: String, Sendable, CaseIterable {
    /// Decide by a read-only lookup (the default).
    case auto
    case tmdbid
    case short

    /// The form asked for, or nil for `auto`.
    public var fixed: MediaIDForm? { MediaIDForm(rawValue: rawValue) }
}

/// What one read-only lookup (`GET /profile/history/{id}?season=&episode=`) says about a form.
public enum MediaIDFormVerdict: Sendable, Equatable, CustomStringConvertible {
    /// 2xx, or 404 ("nothing there"): the server understood the id.
    case accepted(status: Int)
    /// 400 or 422: the server refused the id.
    case refused(status: Int)
    /// Any other answer, or none: says nothing about the form.
    case unknown(String)

    public init(_ answer: DiscovrAnswer) {
        switch answer.kind {
        case .delivered, .unknownMedia: self = .accepted(status: answer.status)
        case .badRequest: self = .refused(status: answer.status)
        default: self = .unknown("status \(answer.status)")
        }
    }

    public var isAccepted: Bool { if case .accepted = self { return true } else { return false } }
    public var isRefused: Bool { if case .refused = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .accepted(let status): return "accepted (\(status))"
        case .refused(let status): return "refused (\(status))"
        case .unknown(let why): return "no verdict (\(why))"
        }
    }
}

/// The probe's result: the form to use and why.
public struct MediaIDFormDecision: Sendable, Equatable {
    public var form: MediaIDForm
    /// Whether the form not chosen was refused by the server (then a switch is never tried).
    public var otherRefused: Bool
    /// For the state and the log: `auto: MV_550 refused (400), MV_TMDBID550 accepted (404)`.
    public var reason: String

    /// Only one form accepted: that one. Both or neither: the seed's form.
    public static func decide(tmdbid: MediaIDFormVerdict, short: MediaIDFormVerdict) -> MediaIDFormDecision {
        let form: MediaIDForm = short.isAccepted && !tmdbid.isAccepted ? .short : .seed
        let other = form == .short ? tmdbid : short
        let reason = "auto: \(MediaIDForm.tmdbid.example) \(tmdbid), \(MediaIDForm.short.example) \(short)"
        return MediaIDFormDecision(form: form, otherRefused: other.isRefused, reason: reason)
    }
}

/// Watches the first answers to sends in the chosen form: when the first `window` definite answers
/// are all 400 (or 422) while the other form was not refused by the probe, the form switches once.
/// Any 2xx (or 409) settles the form for good. Answers that say nothing about the body (401, 403,
/// 429, 5xx, no answer) are not counted.
public struct MediaIDFormSwitch: Sendable, Equatable {
    public private(set) var current: MediaIDForm
    /// The switch happened (it happens at most once).
    public private(set) var switched = false
    private var canSwitch: Bool
    private var refusedInARow = 0
    private var settled = false
    public let window: Int

    public static let defaultWindow = 3

    public init(form: MediaIDForm, canSwitch: Bool, window: Int = MediaIDFormSwitch.defaultWindow) {
        current = form
        self.canSwitch = canSwitch
        self.window = max(1, window)
    }

    /// Records the answer to a body sent in `form`. True when this answer made the form switch.
    public mutating func record(_ answer: HistoryAnswer, sentIn form: MediaIDForm) -> Bool {
        guard !settled, form == current else { return false }
        switch answer {
        case .delivered, .alreadyPresent, .unknownMedia:
            // Unknown media says nothing against the form (the probe counts 404 as accepted).
            settled = true
        case .badRequest:
            refusedInARow += 1
            if refusedInARow >= window {
                settled = true
                if canSwitch && !switched {
                    current = current.other
                    switched = true
                    return true
                }
            }
        default:
            break
        }
        return false
    }
}
