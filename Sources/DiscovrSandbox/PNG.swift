import DiscovrAPI
import Foundation

/// A tiny PNG writer (8-bit greyscale, uncompressed deflate blocks), for the device code's
/// `authQRCode`. The picture is QR-like (three finder squares and a pattern drawn from the code):
/// a real PNG a client can save and open, not a scannable QR code.
enum PNG {
    /// A `modules` x `modules` picture, each module `scale` pixels, drawn from `seed`.
    static func qrLike(seed: String, modules: Int = 21, scale: Int = 4) -> [UInt8] {
        var bits = [[Bool]](repeating: [Bool](repeating: false, count: modules), count: modules)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in seed.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var generator = SplitMix64(seed: hash)
        for y in 0..<modules {
            for x in 0..<modules { bits[y][x] = generator.next() & 1 == 1 }
        }
        for (ox, oy) in [(0, 0), (modules - 7, 0), (0, modules - 7)] {
            for y in 0..<7 {
                for x in 0..<7 {
                    let ring = max(abs(x - 3), abs(y - 3))
                    bits[oy + y][ox + x] = ring != 2
                }
            }
        }
        let quiet = 2
        let side = (modules + 2 * quiet) * scale
        var raw: [UInt8] = []
        raw.reserveCapacity((side + 1) * side)
        for py in 0..<side {
            raw.append(0) // filter: none
            for px in 0..<side {
                let mx = px / scale - quiet, my = py / scale - quiet
                let dark = (0..<modules).contains(mx) && (0..<modules).contains(my) && bits[my][mx]
                raw.append(dark ? 0 : 255)
            }
        }
        return encode(width: side, height: side, greyscale: raw)
    }

    /// The PNG file of an 8-bit greyscale image whose scanlines (each led by its filter byte) are `raw`.
    static func encode(width: Int, height: Int, greyscale raw: [UInt8]) -> [UInt8] {
        // Depth 8, greyscale, deflate, filter 0, no interlace.
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlibStored(raw))
            + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    /// A zlib stream of "stored" (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let last = offset + length == data.count
            out.append(last ? 1 : 0)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return out + bigEndian((b << 16) | a)
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
