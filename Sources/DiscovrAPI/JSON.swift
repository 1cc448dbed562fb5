/// The one strict JSON reader of the project: Trakt export files (TraktExport) and every body a server
/// sends (Delivery) are read with it. Line and column in errors, UTF-8 checked, a depth limit, no traps.
///
/// A parsed JSON value. Objects keep their keys in order (duplicates allowed, the first one wins on
/// lookup); numbers keep whether they were written as integers, because Trakt ids must be integers.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// A number with a fraction or exponent, or an integer too large for Int64.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// An integer: written as one, or an integral number written with a fraction (`3.0`).
    public var intValue: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let d) where d.isFinite && d == d.rounded() && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: return nil
        }
    }
}

/// A JSON object as an ordered list of members. Trakt records have a handful of keys, so a linear
/// scan beats hashing and keeps the parser allocation-light.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    public var keys: [String] { members.map(\.key) }

    /// The member as an `Int` when it is an integer in `Int32`'s range (a season or an episode number).
    public func int32(_ key: String) -> Int? {
        guard let value = self[key]?.intValue, value >= Int64(Int32.min), value <= Int64(Int32.max) else { return nil }
        return Int(value)
    }

    /// The member when it is a string, cut at `limit` characters (text from a server, kept or shown).
    public func text(_ key: String, limit: Int) -> String? {
        self[key]?.stringValue.map { String($0.prefix(limit)) }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.elementsEqual(rhs.members) { $0.key == $1.key && $0.value == $1.value }
    }
}

/// Where and why a JSON text could not be read. Line and column are 1-based; the column counts bytes.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// A strict RFC 8259 parser over bytes, written for this tool because Foundation's decoders are
/// several times slower on large exports and do not report line and column. It validates UTF-8
/// inside strings, refuses nesting deeper than `maxDepth`, and never traps on any input.
public struct JSONParser {
    public static let defaultMaxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i: Int
    private let maxDepth: Int
    private var depth = 0
    private var scratch: [UInt8] = []

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in try parse(buffer, maxDepth: maxDepth) }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        // A UTF-8 byte order mark is allowed at the start (Windows tools write one).
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 } else { i = 0 }
    }

    private mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard i < bytes.count else { throw error("the file is empty, expected a JSON value") }
        let value = try parseValue()
        skipWhitespace()
        guard i == bytes.count else { throw error("unexpected \(describe(bytes[i])) after the end of the JSON value") }
        return value
    }

    private func error(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = min(offset ?? i, bytes.count)
        var line = 1
        var lineStart = 0
        var k = 0
        while k < at {
            if bytes[k] == 0x0A { line += 1; lineStart = k + 1 }
            k += 1
        }
        return JSONSyntaxError(line: line, column: at - lineStart + 1, reason: reason)
    }

    private func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of file: the JSON is truncated") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describe(bytes[i])), expected a JSON value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected end of file: the JSON is truncated") }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] {
            throw error("invalid literal, expected \(word)")
        }
        i += n
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels; this is not a Trakt export") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(JSONObject(members: members))
        }
        while true {
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of file inside an object: the JSON is truncated") }
            guard bytes[i] == UInt8(ascii: "\"") else { throw error("unexpected \(describe(bytes[i])), expected a quoted key") }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of file inside an object: the JSON is truncated") }
            guard bytes[i] == UInt8(ascii: ":") else { throw error("unexpected \(describe(bytes[i])), expected ':' after a key") }
            i += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of file inside an object: the JSON is truncated") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; break }
            throw error("unexpected \(describe(bytes[i])), expected ',' or '}'")
        }
        depth -= 1
        return .object(JSONObject(members: members))
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        i += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of file inside an array: the JSON is truncated") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; break }
            throw error("unexpected \(describe(bytes[i])), expected ',' or ']'")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = i
        i += 1
        let contentStart = i
        var sawHigh = false
        // Fast path: no escapes.
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[contentStart..<i])
                i += 1
                guard sawHigh else { return String(decoding: slice, as: UTF8.self) }
                guard let text = String(validating: slice, as: UTF8.self) else {
                    let at = contentStart + Self.validUTF8Prefix(slice)
                    throw error("invalid UTF-8 in a string (the file is not UTF-8 text?)", at: at)
                }
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character inside a string (a raw line break?)") }
            if c >= 0x80 { sawHigh = true }
            i += 1
        }
        guard i < bytes.count else { throw error("unterminated string: the JSON is truncated", at: start) }
        // Slow path: unescape into scratch.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<i]))
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard sawHigh else { return String(decoding: scratch, as: UTF8.self) }
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                return text
            }
            if c < 0x20 { throw error("control character inside a string (a raw line break?)") }
            if c >= 0x80 { sawHigh = true }
            if c != UInt8(ascii: "\\") {
                scratch.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                // A high surrogate pairs with an escaped low one that follows; any other surrogate is
                // not a scalar (`Unicode.Scalar` refuses it) and reads as U+FFFD.
                if (0xD800...0xDBFF).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                   bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    scalar = (0xDC00...0xDFFF).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                }
                scratch.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string", at: i - 2)
            }
        }
        throw error("unterminated string: the JSON is truncated", at: start)
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("unexpected end of file in a \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// The length of the longest well-formed UTF-8 start of `bytes`: where its first bad sequence begins.
    static func validUTF8Prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes.makeIterator()
        var length = 0
        while case .valid(let scalar) = parser.parseScalar(from: &input) { length += scalar.count }
        return length
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { throw error("invalid number") }
        if bytes[i] == 48, i + 1 < bytes.count, bytes[i + 1] >= 48, bytes[i + 1] <= 57 {
            throw error("invalid number: leading zero")
        }
        var value: Int64 = 0
        var overflow = false
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 48))
                if o1 || o2 { overflow = true } else { value = a }
            }
            i += 1
        }
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { throw error("invalid number: digits expected after '.'") }
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { throw error("invalid number: digits expected in the exponent") }
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        }
        if isInteger && !overflow {
            return .int(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        return .double(Double(text) ?? (negative ? -.infinity : .infinity))
    }
}
