import Foundation
import ZIPFoundation

/// Thrown by a consumer when an entry inflates to more than the cap (its header may lie).
struct ReadCapExceeded: Error {}

/// Reads the bytes of one ZIP entry with every read bounded by the entry's own compressed data.
///
/// ZIPFoundation 0.9.20's `Archive.extract` reads a deflated entry until the deflate stream ends: when
/// the stream is cut short at the end of the file, its loop reads empty chunks forever (the fuzzer
/// found such a 5 KB archive: fuzz/regressions/truncated-deflate-hangs.zip). Here ZIPFoundation still
/// lists the entries and inflates, but the compressed bytes come from us: the local header is read
/// and checked, the data must lie inside the file, and asking for input past its end is an error.
enum ZipEntryReader {
    struct Corrupt: Error, CustomStringConvertible {
        var description: String
    }

    /// Where an entry's local header is, from ZIPFoundation's parsed central directory (its fields are
    /// internal, so they are read by reflection; Package.swift pins ZIPFoundation exactly, and a test
    /// fails if the layout moves). Nil when the layout is not the expected one (another ZIPFoundation
    /// version, or a ZIP64 offset): then the entry is refused, never handed to ZIPFoundation's own
    /// reader, which can loop forever on a cut-short deflate stream.
    static func localHeaderOffset(of entry: Entry) -> UInt64? {
        guard let offset = Mirror(reflecting: entry).descendant("centralDirectoryStructure", "relativeOffsetOfLocalHeader") as? UInt32,
              offset != UInt32.max else { return nil }
        return UInt64(offset)
    }

    /// The entry's bytes (at most `cap`, else `ReadCapExceeded`) and their CRC-32.
    static func read(_ entry: Entry, of archive: Archive, path: String, cap: Int, reserve: Int) throws -> (Data, CRC32) {
        var data = Data()
        data.reserveCapacity(reserve)
        let consumer: (Data) throws -> Void = { chunk in
            if data.count + chunk.count > cap { throw ReadCapExceeded() }
            data.append(chunk)
        }
        guard let offset = localHeaderOffset(of: entry) else {
            throw Corrupt(description: "its data cannot be located safely (a ZIP64 archive over 4 GiB, or a ZIP library "
                + "version this build does not know); unzip it and pass the folder")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Corrupt(description: "cannot open the archive again") }
        defer { try? handle.close() }
        let fileSize = try handle.seekToEnd()

        // Local file header: signature, version, flags, method (offset 8), ..., name length (26), extra length (28).
        guard offset <= fileSize, fileSize - offset >= 30 else { throw Corrupt(description: "its header lies past the end of the file") }
        try handle.seek(toOffset: offset)
        let header = try handle.read(upToCount: 30) ?? Data()
        guard header.count == 30, header.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw Corrupt(description: "its local header is missing")
        }
        func u16(_ at: Int) -> UInt64 { UInt64(header[header.startIndex + at]) | UInt64(header[header.startIndex + at + 1]) << 8 }
        let method = u16(8)
        let dataStart = offset + 30 + u16(26) + u16(28)
        let compressedSize = entry.compressedSize
        guard dataStart <= fileSize, compressedSize <= fileSize - dataStart else {
            throw Corrupt(description: "its data runs past the end of the file (the ZIP is truncated: download it again)")
        }
        guard compressedSize <= UInt64(cap) else { throw ReadCapExceeded() }
        try handle.seek(toOffset: dataStart)
        let compressed = try handle.read(upToCount: Int(compressedSize)) ?? Data()
        guard compressed.count == Int(compressedSize) else { throw Corrupt(description: "its data could not be read in full") }

        switch method {
        case 0:
            try consumer(compressed)
            return (data, compressed.crc32(checksum: 0))
        case 8:
            let chunkSize = 64 * 1024
            let checksum = try Data.decompress(size: Int64(compressed.count), bufferSize: chunkSize, skipCRC32: false,
                                               provider: { position, size in
                // The deflate stream wants more than the entry holds: it is cut short.
                guard position >= 0, position < Int64(compressed.count) else {
                    throw Corrupt(description: "its compressed data ends before the deflate stream does")
                }
                let start = Int(position), end = min(compressed.count, start + size)
                // ZIPFoundation tells zlib every chunk is `size` bytes long: pad the last one with zeros
                // (an invalid deflate block, never read past the real data into memory that is not ours).
                var chunk = Data(compressed[start..<end])
                if chunk.count < size { chunk.append(Data(count: size - chunk.count)) }
                return chunk
            }, consumer: consumer)
            return (data, checksum)
        default:
            throw Corrupt(description: "it uses compression method \(method); only stored and deflate are supported")
        }
    }
}
