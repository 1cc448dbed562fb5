import Delivery
import DiscovrAPI
import Foundation
import ImportPlanner
import ImportQueue

/// The commands' JSON for machines, written by `JSONEncoder` from these types (pretty, keys sorted),
/// never by hand. (`import`'s report is `ImportReport.json`, the contract's layout.)
enum JSONOutput {
    static func text(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Numbers, strings, booleans and lists of them: encoding cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    /// A profile as reports show it.
    struct ProfileJSON: Encodable {
        var id: String
        var name: String
        init(_ profile: Profile) { id = profile.id; name = profile.name }
    }

    /// Where a run wrote.
    struct DestinationJSON: Encodable {
        var apiUrl: String
        var profile: ProfileJSON
        var mediaIdForm: String
        init(_ d: ImportReport.Destination) {
            apiUrl = d.apiUrl
            profile = ProfileJSON(d.profile)
            mediaIdForm = d.mediaIdForm.rawValue
        }
    }

    /// The plays' counts and the list writes' (`delivery`, as in the import report).
    struct DeliveryJSON: Encodable {
        var delivered: Int
        var alreadyPresent: Int
        var failed: Int
        var pending: Int
        var lists: ListTally
        init(_ d: ImportReport.Delivery) {
            (delivered, alreadyPresent, failed, pending) = (d.delivered, d.alreadyPresent, d.failed, d.pending)
            lists = d.lists
        }
    }

    /// `resume --json`.
    struct Resume: Encodable {
        var delivery: DeliveryJSON
        var destination: DestinationJSON
    }

    /// `profiles --json`.
    struct Profiles: Encodable {
        var apiUrl: String
        var profiles: [ProfileJSON]
    }

    /// `status --json`.
    struct Status: Encodable {
        var state: String
        var running: Bool
        var recoveredInFlight: Int
        var uncertain: Int
        /// pending, inFlight, delivered (stored by this tool), alreadyPresent, failed, total, and any
        /// state this version does not name.
        var counts: [String: Int]
        var failures: [Failure]
        var lists: ListWriteCounts.Tally
        var lastVerify: VerifyRecord?

        struct Failure: Encodable {
            var title: String
            var playKey: String
            var attempts: Int
            var status: Int?
            var reason: String?
            /// What is sent: the POST body's fields, the media id in the seed's form.
            var body: Body
            /// For a list write: which list.
            var list: String?
        }

        struct Body: Encodable {
            var mediaId: String
            var season: Int?
            var episode: Int?
            var progress: Double?
            var updatedAt: String?
            var imported: String?

            init(_ outgoing: Outgoing) {
                mediaId = outgoing.mediaId.rawValue
                guard let play = outgoing.play else { return }
                (season, episode, progress) = (play.season, play.episode, play.progress)
                (updatedAt, imported) = (play.updatedAt?.iso8601, play.imported)
            }
        }

        // `lastVerify` is written as null when no verify ran (absent keys are for optional extras).
        private enum CodingKeys: String, CodingKey {
            case state, running, recoveredInFlight, uncertain, counts, failures, lists, lastVerify
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(state, forKey: .state)
            try c.encode(running, forKey: .running)
            try c.encode(recoveredInFlight, forKey: .recoveredInFlight)
            try c.encode(uncertain, forKey: .uncertain)
            try c.encode(counts, forKey: .counts)
            try c.encode(failures, forKey: .failures)
            try c.encode(lists, forKey: .lists)
            try c.encode(lastVerify, forKey: .lastVerify)
        }
    }
}
