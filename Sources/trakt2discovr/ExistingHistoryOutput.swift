import ArgumentParser
import Delivery

// The executable's side of `--existing check|ignore` (docs/delivery.md, "Existing history"): the flag's
// values, the progress line while the profile's history is read, and the summary note.

extension ExistingHistoryMode: ExpressibleByArgument {}

enum ExistingHistoryText {
    /// The progress line while the check reads, for example
    /// `reading the profile's history for plays already there: page 3, 150 entries`.
    static func progressLine(_ reading: ExistingHistoryProgress) -> String {
        if reading.pages == 0 { return "reading the profile's history for plays already there..." }
        return "reading the profile's history for plays already there: page \(Terminal.number(reading.pages)), "
            + "\(Terminal.number(reading.entries)) entr\(reading.entries == 1 ? "y" : "ies")"
    }

    /// The note after a check that read the profile's whole history in this run; nil when none did
    /// (not run, done before, or its first page showed nothing to look for: then nothing was found).
    static func summary(_ reading: ExistingHistoryProgress?) -> String? {
        guard let reading, let found = reading.found, reading.readingAll else { return nil }
        let pages = "\(Terminal.number(reading.pages)) page\(reading.pages == 1 ? "" : "s")"
        let read = "\(Terminal.number(reading.entries)) entr\(reading.entries == 1 ? "y" : "ies") in \(pages), "
            + "\(Terminal.number(reading.requests)) request\(reading.requests == 1 ? "" : "s")"
        if found == 0 { return "existing history: none of the planned plays is in the profile yet (read \(read))" }
        return "existing history: \(Terminal.number(found)) of the planned plays \(found == 1 ? "is" : "are") already "
            + "in the profile (read \(read)): counted as already there, not sent again"
    }
}
