import Foundation

/// The documented success body, and the error body the importer keeps for failed items.
public struct HistoryResponse: Sendable, Equatable {
    public var message: String?
    public var added: String?
    public var removed: String?

    public init(message: String? = nil, added: String? = nil, removed: String? = nil) {
        self.message = message
        self.added = added
        self.removed = removed
    }

    /// Reads `message` (or `error`), `added` and `removed` from a JSON object body (the strict
    /// `JSONParser`; each string cut at 300 characters). A body that is not a JSON object is kept as
    /// its first 300 characters of text, so a proxy's HTML error page still says something.
    public static func parse(body: [UInt8]) -> HistoryResponse {
        if let object = (try? JSONParser.parse(body))?.objectValue {
            func text(_ key: String) -> String? { object.text(key, limit: 300) }
            return HistoryResponse(message: text("message") ?? text("error"), added: text("added"), removed: text("removed"))
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return HistoryResponse(message: text.isEmpty ? nil : text)
    }
}

/// Rate-limit hints a server may send: `Retry-After` (seconds or an HTTP-date), the IETF draft
/// `RateLimit-Limit/Remaining/Reset`, or `X-RateLimit-*`. All optional, none trusted blindly.
public struct RateLimitHints: Sendable, Equatable {
    /// Wait until this moment before the next request (from `Retry-After`).
    public var retryAt: Timestamp?
    public var limit: Int?
    public var remaining: Int?
    /// When the current window resets.
    public var resetAt: Timestamp?

    public init(retryAt: Timestamp? = nil, limit: Int? = nil, remaining: Int? = nil, resetAt: Timestamp? = nil) {
        self.retryAt = retryAt
        self.limit = limit
        self.remaining = remaining
        self.resetAt = resetAt
    }

    /// `headers` as (name, value) pairs, names in any case (ASCII: HTTP field names are tokens).
    /// For each hint the first header that names it counts.
    public init(headers: [(String, String)], now: Timestamp) {
        self.init()
        // One look at each name (its length, then its bytes lowercased), instead of a Foundation
        // case-insensitive compare per name and hint: this runs for every answer (5 % of a fast
        // delivery's CPU time before).
        var texts: [Hint: String] = [:]
        for (name, value) in headers {
            if let hint = Self.hint(named: name), texts[hint] == nil { texts[hint] = value.trimmingCharacters(in: .whitespaces) }
        }
        if let retry = texts[.retryAfter] {
            retryAt = RateLimitHints.parseRetryAfter(retry, now: now)
        }
        limit = texts[.limit].flatMap(ServerNumbers.headerCount).flatMap { $0 > 0 ? $0 : nil }
        remaining = texts[.remaining].flatMap(ServerNumbers.headerCount)
        if let reset = texts[.reset].flatMap(ServerNumbers.headerNumber), reset >= 0 {
            resetAt = RateLimitHints.resetInstant(reset, now: now)
        }
    }

    enum Hint { case retryAfter, limit, remaining, reset }

    /// The header names read, lowercase, with the hint each gives.
    static let hintNames: [(name: [UInt8], hint: Hint)] = ([
        ("retry-after", .retryAfter),
        ("ratelimit-limit", .limit), ("x-ratelimit-limit", .limit),
        ("ratelimit-remaining", .remaining), ("x-ratelimit-remaining", .remaining),
        ("ratelimit-reset", .reset), ("x-ratelimit-reset", .reset),
    ] as [(String, Hint)]).map { (Array($0.0.utf8), $0.1) }

    /// The hint a header name gives, compared as ASCII without regard to case; nil for any other name.
    static func hint(named name: String) -> Hint? {
        let utf8 = name.utf8
        let count = utf8.count
        // The names are 11, 15, 17, 19 and 21 bytes long: most headers are ruled out by length alone.
        guard count >= 11, count <= 21, count & 1 == 1 else { return nil }
        for candidate in hintNames where candidate.name.count == count {
            var k = 0
            var same = true
            for byte in utf8 {
                let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                if lower != candidate.name[k] { same = false; break }
                k += 1
            }
            if same { return candidate.hint }
        }
        return nil
    }

    /// `RateLimit-Reset`: the draft says delta-seconds; some servers send an epoch time (a value past
    /// 10^9 is one). Either way the result lies in `now...now + ServerNumbers.maximumWaitMs`.
    static func resetInstant(_ value: Double, now: Timestamp) -> Timestamp {
        let cap = ServerNumbers.maximumWaitMs
        let deltaMs: Int64
        if value > 1_000_000_000 {
            let at = ServerNumbers.instant(unixSeconds: value) ?? now
            deltaMs = max(0, min(cap, at.millisecondsSince1970 - now.millisecondsSince1970))
        } else {
            deltaMs = ServerNumbers.milliseconds(seconds: value, maxMs: cap) ?? 0
        }
        return ServerNumbers.adding(deltaMs, to: now)
    }

    /// `Retry-After: 3` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`. Nil when unreadable or
    /// negative; a date in the past means "now". Clamped to `ServerNumbers.maximumWaitMs` (one hour):
    /// `Retry-After: 1e20` is a broken header, read as "a long wait", which the delivery loop refuses
    /// to sleep through when it is longer than `--give-up-after`.
    public static func parseRetryAfter(_ text: String, now: Timestamp) -> Timestamp? {
        let cap = ServerNumbers.maximumWaitMs
        if let seconds = ServerNumbers.headerNumber(text) {
            guard let ms = ServerNumbers.milliseconds(seconds: seconds, maxMs: cap) else { return nil }
            return ServerNumbers.adding(ms, to: now)
        }
        guard let date = HTTPDate.parse(text) else { return nil }
        let (difference, overflow) = date.millisecondsSince1970.subtractingReportingOverflow(now.millisecondsSince1970)
        let delta = overflow ? cap : max(0, min(cap, difference))
        return ServerNumbers.adding(delta, to: now)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP servers send.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"] // 1970-01-01 was a Thursday

    /// Nil for anything but a valid IMF-fixdate between the years 1 and 9999 (the weekday is not checked).
    public static func parse(_ text: String) -> Timestamp? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4,
              let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]) else { return nil }
        let time = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 3, time.allSatisfy({ $0.count == 2 }),
              let h = Int(time[0]), let m = Int(time[1]), let s = Int(time[2]) else { return nil }
        // Int("+1") is 1: only digits are a date.
        guard (parts[1] + parts[3] + time.joined()).allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let iso = parts[3] + "-" + (month + 1 < 10 ? "0" : "") + String(month + 1) + "-" + parts[1] + "T"
            + time.joined(separator: ":") + "Z"
        guard day >= 1, h <= 23, m <= 59, s <= 60, Timestamp.yearRange.contains(year) else { return nil }
        return Timestamp(iso8601: iso)
    }

    public static func format(_ ts: Timestamp) -> String {
        let iso = Array(ts.iso8601) // YYYY-MM-DDTHH:MM:SS.sssZ
        let days = ts.daysSince1970
        let (_, month, _) = Timestamp.civilFromDays(days)
        return "\(weekdays[(days % 7 + 7) % 7]), \(String(iso[8..<10])) \(months[month - 1]) \(String(iso[0..<4])) "
            + "\(String(iso[11..<19])) GMT"
    }
}
