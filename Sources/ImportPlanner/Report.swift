import Foundation
import DiscovrAPI
import TraktExport

/// The report of the contract (section 3), written by hand so the key order is stable and the
/// output is the same on every machine.
public struct ImportReport: Sendable {
    public struct FileEntry: Sendable, Equatable {
        public var name: String
        public var kind: FileKind
        public var records: Int
        public var note: String?
    }

    public struct InputEntry: Sendable, Equatable {
        public var path: String
        public var files: [FileEntry]
    }

    public struct Delivery: Sendable, Equatable {
        public var delivered: Int
        public var alreadyPresent: Int
        public var failed: Int
        public var pending: Int

        public init(delivered: Int, alreadyPresent: Int, failed: Int, pending: Int) {
            self.delivered = delivered
            self.alreadyPresent = alreadyPresent
            self.failed = failed
            self.pending = pending
        }
    }

    /// Where a delivery wrote (absent on a dry run).
    public struct Destination: Sendable, Equatable {
        public var apiUrl: String
        public var profile: Profile
        public var mediaIdForm: MediaIDForm

        public init(apiUrl: String, profile: Profile, mediaIdForm: MediaIDForm) {
            self.apiUrl = apiUrl
            self.profile = profile
            self.mediaIdForm = mediaIdForm
        }
    }

    public static let schemaVersion = 1
    public var dryRun: Bool
    public var inputs: [InputEntry]
    public var records: RecordCounts
    public var planned: PlannedCounts
    public var skipped: [SkipReason: Int]
    public var warnings: [String]
    public var delivery: Delivery?
    public var destination: Destination?

    public init(scan: ExportScan, plan: ImportPlan, dryRun: Bool) {
        self.dryRun = dryRun
        self.inputs = scan.inputs.map { input in
            InputEntry(path: input.path, files: input.sectionIndices.map { k in
                let s = scan.sections[k]
                return FileEntry(name: s.name, kind: s.kind, records: s.recordCount, note: s.note)
            })
        }
        self.records = plan.records
        self.planned = plan.planned
        self.skipped = plan.skippedCounts
        self.warnings = plan.warnings
        self.delivery = nil
        self.destination = nil
    }

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// The report as pretty-printed JSON (two-space indent), keys in the contract's order.
    public var json: String {
        var out = "{\n"
        out += "  \"schemaVersion\": \(ImportReport.schemaVersion),\n"
        out += "  \"dryRun\": \(dryRun),\n"
        out += "  \"inputs\": ["
        out += inputs.map { input in
            var s = "\n    {\"path\": \(JSONText.quote(input.path)), \"files\": ["
            s += input.files.map { f in
                var e = "\n      {\"name\": \(JSONText.quote(f.name)), \"kind\": \"\(f.kind.rawValue)\", \"records\": \(f.records)"
                if let note = f.note { e += ", \"note\": \(JSONText.quote(note))" }
                return e + "}"
            }.joined(separator: ",")
            s += input.files.isEmpty ? "]}" : "\n    ]}"
            return s
        }.joined(separator: ",")
        out += inputs.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"records\": {\"history\": \(records.history), \"playback\": \(records.playback), \"watchedMovies\": \(records.watchedMovies), \"watchedEpisodes\": \(records.watchedEpisodes), \"watchedShowsWithoutEpisodes\": \(records.watchedShowsWithoutEpisodes)},\n"
        out += "  \"planned\": {\"total\": \(planned.total), \"movies\": \(planned.movies), \"episodes\": \(planned.episodes), \"inProgress\": \(planned.inProgress), \"fromSummary\": \(planned.fromSummary)},\n"
        out += "  \"skipped\": {"
        out += SkipReason.allCases.map { "\"\($0.rawValue)\": \(skipped[$0] ?? 0)" }.joined(separator: ", ")
        out += "},\n"
        out += "  \"warnings\": ["
        out += warnings.map { "\n    " + JSONText.quote($0) }.joined(separator: ",")
        out += warnings.isEmpty ? "]" : "\n  ]"
        if let d = delivery {
            out += ",\n  \"delivery\": {\"delivered\": \(d.delivered), \"alreadyPresent\": \(d.alreadyPresent), \"failed\": \(d.failed), \"pending\": \(d.pending)}"
        }
        if let d = destination {
            out += ",\n  \"destination\": {\"apiUrl\": \(JSONText.quote(d.apiUrl)), \"profile\": \(d.profile.json), \"mediaIdForm\": \"\(d.mediaIdForm.rawValue)\"}"
        }
        out += "\n}\n"
        return out
    }
}

/// The skipped records as CSV a person can act on (`--skipped-out`).
public enum SkippedCSV {
    public static let header = "reason,kind,title,year,trakt_slug,season,episode,date,file"

    public static func render(scan: ExportScan, plan: ImportPlan) -> String {
        var out = header + "\n"
        for s in plan.skipped {
            let record = scan.records[s.recordIndex]
            let play = record.play
            let media = play.type == .movie ? play.movie : play.show
            let fields: [String] = [
                s.reason.rawValue,
                record.kind.rawValue,
                media?.title ?? "",
                media?.year.map(String.init) ?? "",
                media?.slug ?? "",
                play.episode?.season.map(String.init) ?? "",
                play.episode?.number.map(String.init) ?? "",
                play.timestamp ?? "",
                scan.sections[record.fileIndex].name,
            ]
            out += fields.map(field).joined(separator: ",") + "\n"
        }
        return out
    }

    static func field(_ s: String) -> String {
        // Quote when needed; neutralise a leading = + - @ so a spreadsheet does not run it as a formula.
        var value = s
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }
}
