/// A point in time as milliseconds since 1970 (UTC), with the exact wire form Discovr expects:
/// `YYYY-MM-DDTHH:MM:SS.sssZ`. Parsing and formatting are done by hand: they run once per record
/// of exports with a million plays, and they must not depend on the machine's locale or time zone.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    public var description: String { iso8601 }

    /// Earliest and latest years accepted when parsing; anything else is not a plausible watch date.
    public static let yearRange = 1...9999

    /// Parses ISO 8601 date-times as Trakt writes them: `2014-03-31T09:28:53.000Z`, without
    /// fractional seconds, with any number of fraction digits, with `z`, or with a `+hh:mm`,
    /// `+hhmm` or `+hh` offset. Returns nil for anything else.
    public init?(iso8601 text: String) {
        var copy = text
        let parsed: Int64? = copy.withUTF8 { Timestamp.parse($0) }
        guard let parsed else { return nil }
        self.millisecondsSince1970 = parsed
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = b.count
        func digits(_ count: Int) -> Int? {
            guard i + count <= n else { return nil }
            var value = 0
            for k in 0..<count {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            i += count
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")),
              let month = digits(2), expect(UInt8(ascii: "-")),
              let day = digits(2) else { return nil }
        guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: "t")) || expect(UInt8(ascii: " ")) else { return nil }
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2) else { return nil }
        var second = 0
        var millis = 0
        if expect(UInt8(ascii: ":")) {
            guard let s = digits(2) else { return nil }
            second = s
            if expect(UInt8(ascii: ".")) || expect(UInt8(ascii: ",")) {
                var count = 0
                var fraction = 0
                while i < n, b[i] >= 48, b[i] <= 57 {
                    if count < 3 { fraction = fraction * 10 + Int(b[i] - 48) }
                    count += 1
                    i += 1
                }
                guard count > 0, count <= 12 else { return nil }
                millis = count >= 3 ? fraction : fraction * (count == 1 ? 100 : 10)
            }
        }
        var offsetMinutes = 0
        guard i < n else { return nil } // a zone is required: a bare local time is ambiguous
        let z = b[i]
        if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
            i += 1
        } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
            i += 1
            guard let oh = digits(2) else { return nil }
            var om = 0
            if i < n, b[i] == UInt8(ascii: ":") { i += 1 }
            if i < n { guard let m = digits(2) else { return nil }; om = m }
            guard oh <= 23, om <= 59 else { return nil }
            offsetMinutes = (oh * 60 + om) * (z == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard i == n else { return nil }
        guard yearRange.contains(year), (1...12).contains(month), day >= 1,
              day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        return secs * 1000 + Int64(millis)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, always UTC, always milliseconds.
    public var iso8601: String {
        String(unsafeUninitializedCapacity: 24) { buffer in
            var out = BodyWriter(buffer: buffer)
            out.append(timestamp: self)
            return out.count
        }
    }

    public var year: Int { Timestamp.civilFromDays(daysSince1970).0 }

    /// Whole days since 1970-01-01 (rounded down: -1 is 1969-12-31).
    var daysSince1970: Int {
        let ms = millisecondsSince1970
        return Int(ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
