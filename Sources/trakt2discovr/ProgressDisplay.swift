import Delivery
import Foundation
import Synchronization

/// The live progress line on stderr: redrawn in place on a terminal, a plain line every ten seconds
/// otherwise (logs, CI), nothing with --no-progress.
final class ProgressDisplay: Sendable {
    private struct State {
        var lastLine: String?
        var lastPlainLine: Int64 = 0
        /// The line last written as a plain line (not on a terminal): the final line is not written twice.
        var lastWritten: String?
        var drewLine = false
    }

    private let enabled: Bool
    private let isTerminal: Bool
    private let state = Mutex(State())
    private let existing = Mutex<ExistingHistoryProgress?>(nil)

    /// The existing-history check's last progress in this run (nil when it did not run).
    var existingHistory: ExistingHistoryProgress? { existing.withLock { $0 } }

    init(enabled: Bool) {
        self.enabled = enabled
        self.isTerminal = isatty(STDERR_FILENO) == 1
    }

    func update(_ p: DeliveryProgress) {
        if let reading = p.existingHistory { existing.withLock { $0 = reading } }
        guard enabled else { return }
        show(ProgressDisplay.line(p), nowMs: p.now.millisecondsSince1970)
    }

    /// Shows `line` (the progress of any command): in place on a terminal, else every ten seconds.
    func show(_ line: String, nowMs: Int64) {
        guard enabled else { return }
        state.withLock { s in
            s.lastLine = line
            if isTerminal {
                write("\r\u{1B}[2K" + line)
                s.drewLine = true
            } else if nowMs - s.lastPlainLine >= 10_000 {
                s.lastPlainLine = nowMs
                s.lastWritten = line
                write(line + "\n")
            }
        }
    }

    func finish() {
        guard enabled else { return }
        state.withLock { s in
            if isTerminal, s.drewLine {
                write("\r\u{1B}[2K" + (s.lastLine ?? "") + "\n")
            } else if !isTerminal, let last = s.lastLine, last != s.lastWritten {
                write(last + "\n")
            }
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func line(_ p: DeliveryProgress) -> String {
        if let reading = p.existingHistory, !reading.finished { return ExistingHistoryText.progressLine(reading) }
        let done = p.delivered + p.failed
        var parts = ["\(Terminal.number(done))/\(Terminal.number(p.total)) done"]
        let percent = p.total > 0 ? Double(done) * 100 / Double(p.total) : 100
        parts[0] += String(format: " (%.0f%%)", percent)
        // Items settled per second of wall time (waits included), then the pace the rate limiter keeps
        // now (found from the server's headers and answers with --rate auto); the ETA counts the items
        // waiting out a read-back's grace (section 5).
        parts.append(String(format: "pace %.1f/s", p.pace))
        if p.currentRate > 0 { parts.append(String(format: "sending %.1f/s", p.currentRate)) }
        if let eta = p.etaSeconds {
            parts.append("ETA " + duration(eta))
        }
        if p.retries > 0 { parts.append("retries \(Terminal.number(p.retries))") }
        // Lost or late answers: the plays may be stored, so they wait out the grace and are read back
        // (the run can sit still for those seconds: this says why).
        if p.awaitingReadBack > 0 { parts.append("\(Terminal.number(p.awaitingReadBack)) to read back (answers lost)") }
        if p.readBacks > 0 { parts.append("read back \(Terminal.number(p.readBacks)), found \(Terminal.number(p.foundOnReadBack))") }
        if p.rateLimited > 0 { parts.append("rate-limited \(Terminal.number(p.rateLimited))") }
        if p.failed > 0 { parts.append("failed \(Terminal.number(p.failed))") }
        return parts.joined(separator: "  ")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
    }
}
