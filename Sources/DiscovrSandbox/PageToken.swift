import DiscovrAPI
import Foundation

/// The sandbox's `nextPageToken`: opaque to the client (base64url), and checked by the sandbox.
/// It holds where the last page ended (the entry's sort key and arrival number, so entries appended
/// meanwhile neither repeat nor shift the next page), the listing it belongs to (profile and query), and
/// a keyed check. A token that was altered, made up, or comes from another listing or store is refused.
struct PageToken: Equatable {
    /// Sort key of the last entry served (`updatedAt` ms for a media listing, 0 for the whole history).
    var key: Int64
    /// Arrival number of the last entry served.
    var sequence: Int64

    /// The token text for `scope` (which profile, which listing).
    func encode(scope: String, secret: UInt64) -> String {
        let payload = "\(key).\(sequence)"
        let check = Self.check(payload: payload, scope: scope, secret: secret)
        return JWT.base64URLEncode(Data((payload + "." + String(check, radix: 16)).utf8))
    }

    /// Nil when the token is not one this store made for `scope`.
    static func decode(_ text: String, scope: String, secret: UInt64) -> PageToken? {
        guard text.utf8.count <= 200, let data = JWT.base64URLDecode(text),
              let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let key = Int64(parts[0]), let sequence = Int64(parts[1]),
              let check = UInt64(parts[2], radix: 16) else { return nil }
        guard check == Self.check(payload: "\(key).\(sequence)", scope: scope, secret: secret) else { return nil }
        return PageToken(key: key, sequence: sequence)
    }

    /// FNV-1a over the secret, the scope and the payload, finished by a SplitMix64 step.
    static func check(payload: String, scope: String, secret: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        withUnsafeBytes(of: secret.littleEndian) { $0.forEach(mix) }
        scope.utf8.forEach(mix)
        mix(0)
        payload.utf8.forEach(mix)
        var generator = SplitMix64(seed: hash)
        return generator.next()
    }
}
