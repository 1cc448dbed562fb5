import Testing
@testable import DiscovrAPI

@Suite struct JSONParserTests {
    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test(arguments: [
        ("[]", JSONValue.array([])),
        ("{}", .object(JSONObject(members: []))),
        (" [1, -2, 3.5, 1e3, true, false, null] ", .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null])),
        ("{\"a\":{\"b\":[\"x\"]}}", .object(JSONObject(members: [("a", .object(JSONObject(members: [("b", .array([.string("x")]))])))]))),
        ("\"\\u00e9\\n\\\"\\\\\\/\"", .string("é\n\"\\/")),
        ("\"\\ud83c\\udfac\"", .string("🎬")),
        ("\"caf\u{e9}\"", .string("café")),
        ("12345678901", .int(12_345_678_901)),
        ("\u{FEFF}[1]", .array([.int(1)])),
    ])
    func parsesValidJSON(text: String, expected: JSONValue) throws {
        #expect(try Self.parse(text) == expected)
    }

    @Test func hugeIntegersBecomeDoublesNotTraps() throws {
        let digits = String(repeating: "9", count: 400)
        let value = try Self.parse("[\(digits), -\(digits)]")
        guard case .array(let a) = value, case .double(let d) = a[0] else { Issue.record("not a double"); return }
        #expect(d.isInfinite || d > 1e300)
        #expect(a[0].intValue == nil)
    }

    @Test(arguments: [
        ("[1, 2", 1, 6, "truncated"),
        ("[1,\n 2,\n x]", 3, 2, "expected a JSON value"),
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("[01]", 1, 2, "leading zero"),
        ("\"abc", 1, 1, "unterminated string"),
        ("[\"a\tb\"]", 1, 4, "control character"),
        ("[\"\\q\"]", 1, 3, "invalid escape"),
        ("[1] [2]", 1, 5, "after the end"),
        ("", 1, 1, "empty"),
        ("[tru]", 1, 2, "invalid literal"),
    ])
    func reportsLineAndColumn(text: String, line: Int, column: Int, reasonContains: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("parsed invalid JSON: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.column == column)
            #expect(error.reason.contains(reasonContains), "\(error.reason)")
        }
    }

    @Test func invalidUTF8IsRefusedWithItsPosition() {
        var bytes = Array("[\"ok\",\n \"b".utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: Array("d\"]".utf8))
        do {
            _ = try JSONParser.parse(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.line == 2)
            #expect(error.reason.contains("UTF-8"))
        }
    }

    @Test(arguments: [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]] as [[UInt8]])
    func rejectsOverlongSurrogateAndTruncatedSequences(sequence: [UInt8]) {
        let bytes: [UInt8] = [0x22] + sequence + [0x22]
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
    }

    @Test func absurdNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try Self.parse(deep)
            Issue.record("accepted absurd nesting")
        } catch {
            #expect(error.reason.contains("nesting"))
        }
        // Real records nest six levels; the limit leaves plenty of room.
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try Self.parse(fine) }
    }

    @Test func objectsKeepOrderAndFirstDuplicateWins() throws {
        let value = try Self.parse("{\"b\":1,\"a\":2,\"b\":3}")
        #expect(value.objectValue?.keys == ["b", "a", "b"])
        #expect(value["b"] == .int(1))
    }
}
