import Foundation

/// Numbers a server sends (headers, expiries, JWT claims), read without trusting them: every
/// conversion is checked (no `Int64(Double)` that traps on `1e20`), and every value is clamped to a
/// range a working server would stay in. A broken or hostile server gets a bounded wait, never a
/// crash or a wait until the end of time.
public enum ServerNumbers {
    /// Longest wait a `Retry-After` or a `RateLimit-Reset` is read as (one hour). Longer asks are
    /// clamped to it, so the delivery loop still sees "longer than --give-up-after" and stops.
    public static let maximumWaitMs: Int64 = 3_600_000
    /// Largest `RateLimit-Limit` / `RateLimit-Remaining` believed.
    public static let maximumRequestCount = 1_000_000
    /// Latest expiry believed for a session (30 minutes is documented): one day after `now`.
    public static let maximumSessionLifetimeMs: Int64 = 86_400_000
    /// Latest instant a wall-clock value may name: the year 9999 (what `Timestamp` can print).
    public static let latestInstantMs: Int64 = 253_402_300_799_999

    /// `seconds` as whole milliseconds (rounded up), clamped to `0...maxMs`. Nil when it is not a
    /// finite number at least 0.
    public static func milliseconds(seconds: Double, maxMs: Int64) -> Int64? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        let ms = (seconds * 1000).rounded(.up)
        guard ms < Double(maxMs) else { return max(0, maxMs) }
        return Int64(exactly: ms) ?? max(0, maxMs)
    }

    /// A unix time in seconds (a JWT's `exp`, `expiresAt`) as a `Timestamp`, clamped to
    /// `0...latestInstantMs`. Nil when not a finite number.
    public static func instant(unixSeconds: Double) -> Timestamp? {
        guard unixSeconds.isFinite else { return nil }
        let ms = (unixSeconds * 1000).rounded(.down)
        if ms <= 0 { return Timestamp(millisecondsSince1970: 0) }
        if ms >= Double(latestInstantMs) { return Timestamp(millisecondsSince1970: latestInstantMs) }
        return Int64(exactly: ms).map { Timestamp(millisecondsSince1970: $0) }
    }

    /// `now + ms`, never past `latestInstantMs` and never overflowing.
    public static func adding(_ ms: Int64, to now: Timestamp) -> Timestamp {
        let (sum, overflow) = now.millisecondsSince1970.addingReportingOverflow(ms)
        return Timestamp(millisecondsSince1970: overflow ? latestInstantMs : min(latestInstantMs, sum))
    }

    /// A number in a header: the first member of a list (`10, 10;w=1`), its first parameter cut
    /// off, spaces trimmed, then read as a decimal (`3`, `2.5`, also `1e20`). Nil when unreadable.
    public static func headerNumber(_ text: String) -> Double? {
        let first = text.split(separator: ",", omittingEmptySubsequences: false).first ?? ""
        let value = (first.split(separator: ";", omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: .whitespaces)
        // Only what a number is written with: no "nan", "inf" or hexadecimal floats.
        guard !value.isEmpty, value.utf8.count <= 64,
              value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }),
              let number = Double(value), number.isFinite else { return nil }
        return number
    }

    /// A count in a header (`RateLimit-Limit`, `-Remaining`): a whole number in `0...maximumRequestCount`
    /// (larger ones are clamped). Nil when negative, fractional or unreadable.
    public static func headerCount(_ text: String) -> Int? {
        guard let number = headerNumber(text), number >= 0, number == number.rounded() else { return nil }
        return number >= Double(maximumRequestCount) ? maximumRequestCount : Int(exactly: number)
    }
}
