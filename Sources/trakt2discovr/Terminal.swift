import DiscovrAPI
import Foundation
import ImportPlanner

/// Terminal output: errors and the human summary. Progress has its own type.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("trakt2discovr: error: " + message + "\n").utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data(("trakt2discovr: warning: " + message + "\n").utf8))
    }

    /// Something the user should know that is not a problem.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data(("trakt2discovr: " + message + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func number(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (k, c) in s.reversed().enumerated() {
            if k > 0 && k % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        guard s.count < width else { return s }
        let fill = String(repeating: " ", count: width - s.count)
        return right ? fill + s : s + fill
    }

    /// `profile   Sci-Fi Lover (profile_abc) at https://api.discovr.media, media ids like MV_550`.
    static func destinationLine(_ d: ImportReport.Destination) -> String {
        let name = d.profile.name.isEmpty ? "(no name)" : d.profile.name
        return "profile   \(name) (\(d.profile.id)) at \(d.apiUrl), media ids like \(MediaID.movie(550).rawValue(in: d.mediaIdForm))"
    }

    /// Ratings, favorites and watchlist: a line per list with writes planned and the skips with their
    /// reasons; nothing when the inputs hold none (so a history-only summary reads as before).
    static func listLines(_ lists: ListCounts) -> [String] {
        let r = lists.records
        guard r.total > 0 else { return [] }
        var parts: [String] = []
        if r.ratings > 0 { parts.append("\(number(r.ratings)) rating\(r.ratings == 1 ? "" : "s")") }
        if r.favorites > 0 { parts.append("\(number(r.favorites)) favorite\(r.favorites == 1 ? "" : "s")") }
        if r.watchlist > 0 { parts.append("\(number(r.watchlist)) watchlist entr\(r.watchlist == 1 ? "y" : "ies")") }
        var lines = ["lists     \(number(r.total)) record\(r.total == 1 ? "" : "s"): \(parts.joined(separator: ", ")); \(number(lists.planned.total)) planned:"]
        for list in DiscovrList.allCases where lists.planned[list] > 0 {
            lines.append("  \(list.rawValue): \(number(lists.planned[list]))")
        }
        let skippedTotal = lists.skippedTotal
        guard skippedTotal > 0 else { return lines }
        lines.append("  skipped: \(number(skippedTotal))")
        let width = ListSkipReason.allCases.map { number(lists.skipped[$0] ?? 0).count }.max() ?? 1
        for reason in ListSkipReason.allCases {
            let n = lists.skipped[reason] ?? 0
            guard n > 0 else { continue }
            lines.append(reasonLine(n, width: width, reason.rawValue, reason.explanation))
        }
        return lines
    }

    /// `          3  no-tmdb-id           Trakt has no TMDB id ...`: a skip reason's count, name and explanation.
    static func reasonLine(_ n: Int, width: Int, _ reason: String, _ explanation: String) -> String {
        "          \(pad(number(n), width, right: true))  \(pad(reason, 20)) \(explanation)"
    }

    /// The short human summary of a report.
    static func summary(_ report: ImportReport, detailsHint: String?) -> String {
        var lines: [String] = []
        let files = report.inputs.flatMap(\.files)
        let used = files.filter { $0.recordCount > 0 }.count
        let ignored = files.filter { $0.kind == .ignored }.count
        lines.append("read      \(number(report.inputs.count)) input\(report.inputs.count == 1 ? "" : "s"), \(number(files.count)) file\(files.count == 1 ? "" : "s") (\(number(used)) with records, \(number(ignored)) ignored)")
        let r = report.records
        var parts: [String] = []
        if r.history > 0 { parts.append("\(number(r.history)) history") }
        if r.playback > 0 { parts.append("\(number(r.playback)) playback") }
        if r.watchedMovies > 0 { parts.append("\(number(r.watchedMovies)) watched movies") }
        if r.watchedEpisodes > 0 { parts.append("\(number(r.watchedEpisodes)) watched episodes") }
        if r.watchedShowsWithoutEpisodes > 0 { parts.append("\(number(r.watchedShowsWithoutEpisodes)) watched shows without episodes") }
        lines.append("records   \(number(r.total))" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")))
        let p = report.planned
        var extra: [String] = []
        if p.inProgress > 0 { extra.append("\(number(p.inProgress)) in progress") }
        if p.fromSummary > 0 { extra.append("\(number(p.fromSummary)) from summaries") }
        lines.append("planned   \(number(p.total)) items: \(number(p.movies)) movies, \(number(p.episodes)) episodes" + (extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")"))
        let skippedTotal = report.skippedTotal
        lines.append("skipped   \(number(skippedTotal))" + (skippedTotal > 0 ? ":" : ""))
        let width = SkipReason.allCases.map { number(report.skipped[$0] ?? 0).count }.max() ?? 1
        for reason in SkipReason.allCases {
            let n = report.skipped[reason] ?? 0
            guard n > 0 else { continue }
            lines.append(reasonLine(n, width: width, reason.rawValue, reason.explanation))
            if let top = report.topSkippedTitles[reason], !top.isEmpty {
                // "; " between titles: a title may hold a comma.
                let names = top.map { "\($0.label): \(number($0.plays)) play\($0.plays == 1 ? "" : "s")" }
                lines.append("          \(pad("", width))  \(pad("", 20)) most: " + names.joined(separator: "; "))
            }
        }
        lines += listLines(report.lists)
        if let d = report.delivery {
            var line = "delivered \(number(d.delivered))"
            if d.alreadyPresent > 0 { line += " (\(number(d.alreadyPresent)) were already there)" }
            line += ", failed \(number(d.failed)), pending \(number(d.pending))"
            lines.append(line)
            let l = d.lists
            if l.total > 0 {
                lines.append("  lists   \(number(l.delivered)) written" + (l.moved > 0 ? " (\(number(l.moved)) moved from another list)" : "")
                    + ", failed \(number(l.failed)), pending \(number(l.pending))")
            }
        }
        if let d = report.destination { lines.append(destinationLine(d)) }
        if !report.warnings.isEmpty {
            lines.append("warnings:")
            for w in report.warnings { lines.append("  - " + w) }
        }
        if let detailsHint { lines.append(detailsHint) }
        return lines.joined(separator: "\n") + "\n"
    }
}
