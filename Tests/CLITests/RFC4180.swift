/// A strict RFC 4180 reader, written for the tests so that `--skipped-out` is checked by reading it
/// back the way a spreadsheet would, not by splitting lines: fields separated by commas, records by
/// CRLF or LF, a quoted field may hold commas, line breaks and doubled quotes. Anything else (a quote
/// inside an unquoted field, text after a closing quote, an unterminated quote) is an error.
enum RFC4180 {
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "byte \(offset): \(reason)" }
    }

    static func parse(_ text: String) throws -> [[String]] {
        let bytes = Array(text.utf8)
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var i = 0
        func endField() { record.append(String(decoding: field, as: UTF8.self)); field.removeAll() }
        func endRecord() { endField(); records.append(record); record.removeAll() }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\""), field.isEmpty {
                // A quoted field: runs to the closing quote; "" is one quote.
                i += 1
                var closed = false
                while i < bytes.count {
                    if bytes[i] == UInt8(ascii: "\"") {
                        if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") { field.append(0x22); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    field.append(bytes[i])
                    i += 1
                }
                guard closed else { throw Malformed(offset: i, reason: "unterminated quoted field") }
                guard i == bytes.count || [UInt8(ascii: ","), 0x0A, 0x0D].contains(bytes[i]) else {
                    throw Malformed(offset: i, reason: "text after a closing quote")
                }
                if i == bytes.count { endRecord() }
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                endField()
                i += 1
                if i == bytes.count { endRecord() }
            case 0x0D:
                guard i + 1 < bytes.count, bytes[i + 1] == 0x0A else { throw Malformed(offset: i, reason: "a lone CR outside quotes") }
                endRecord()
                i += 2
            case 0x0A:
                endRecord()
                i += 1
            case UInt8(ascii: "\""):
                throw Malformed(offset: i, reason: "a quote inside an unquoted field")
            default:
                field.append(c)
                i += 1
                if i == bytes.count { endRecord() }
            }
        }
        return records
    }

    /// The records as dictionaries keyed by the header's column names; every record must have as
    /// many fields as the header.
    static func rows(_ text: String) throws -> (header: [String], rows: [[String: String]]) {
        let records = try parse(text)
        guard let header = records.first else { throw Malformed(offset: 0, reason: "no header") }
        var rows: [[String: String]] = []
        for (k, record) in records.dropFirst().enumerated() {
            guard record.count == header.count else {
                throw Malformed(offset: 0, reason: "record \(k + 1) has \(record.count) fields, the header \(header.count)")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(header, record)))
        }
        return (header, rows)
    }
}
