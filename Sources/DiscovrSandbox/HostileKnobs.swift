import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Behaviour no sane server has, one knob each, so that tests can show the client survives it
/// (issue #10): no crash, no hang, the documented exit code, a message a person can act on. All off
/// by default; each one changes every answer of the endpoint it names ("history answers" are those
/// of the writes: `POST /profile/history` and the list POSTs the sandbox serves; the history reads
/// stay sane).
public struct HostileKnobs: Sendable, Equatable {
    /// Every write (`POST /profile/history`, a served list POST) is answered 429 with this
    /// `Retry-After`, as written (`1e20`, `-5`); nothing is stored.
    public var retryAfter: String?
    /// Every history answer carries `RateLimit-Limit: 10`, `RateLimit-Remaining: 0` and this
    /// `RateLimit-Reset`, as written (`1e20`).
    public var rateLimitReset: String?
    /// The session JWT's `exp` claim is this JSON number, as written (`1e300`), and the session
    /// answer has no `expiresAt` (so the claim is all the client has).
    public var jwtExp: String?
    /// History answers are sent one byte every this many seconds (with the full Content-Length).
    public var trickleSeconds: Double?
    /// Every write is answered `302 Found` with this `Location`; nothing is stored.
    public var redirectTo: String?
    /// History answers carry a JSON body of this many bytes (the play or list change is stored first).
    public var bodyBytes: Int?

    public init(retryAfter: String? = nil, rateLimitReset: String? = nil, jwtExp: String? = nil,
                trickleSeconds: Double? = nil, redirectTo: String? = nil, bodyBytes: Int? = nil) {
        self.retryAfter = retryAfter
        self.rateLimitReset = rateLimitReset
        self.jwtExp = jwtExp
        self.trickleSeconds = trickleSeconds
        self.redirectTo = redirectTo
        self.bodyBytes = bodyBytes
    }

    public var isEmpty: Bool { self == HostileKnobs() }

    /// Nil when usable, else what is wrong.
    public func problem() -> String? {
        for (name, value) in [("hostile retry-after", retryAfter), ("hostile rate-limit-reset", rateLimitReset),
                              ("hostile redirect", redirectTo)] {
            if let value, value.isEmpty || value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                return "\(name) must be a non-empty header value without control characters"
            }
        }
        if let jwtExp {
            switch try? JSONParser.parse(Array(jwtExp.utf8)) {
            case .int?, .double?: break
            default: return "hostile jwt-exp must be a JSON number (like 1e300)"
            }
        }
        if let trickleSeconds, !(trickleSeconds.isFinite && trickleSeconds > 0 && trickleSeconds <= 60) {
            return "hostile trickle must be more than 0 and at most 60 seconds a byte"
        }
        if let bodyBytes, !(16...(256 << 20)).contains(bodyBytes) {
            return "hostile body size must be 16 bytes to 256 MiB"
        }
        return nil
    }
}

/// Applies `HostileKnobs` around the sandbox's own routes: a 429 or a redirect instead of the
/// history handler, or the handler's answer changed on the way out.
struct HostileMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext
    let knobs: HostileKnobs
    let store: SandboxStore
    /// The list paths served: a path taken away answers as it would without the knobs.
    let listPaths: ListPaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if request.method == .post && path == DiscovrEndpoints.sessionToken, let exp = knobs.jwtExp {
            return try await withExpiry(exp, try await next(request, context))
        }
        // Only the writes: the history reads (existing-history check, read-back) stay sane, so each
        // knob hits the one code path it is about.
        guard request.method == .post, let target = WriteTarget(path: path, servedBy: listPaths) else {
            return try await next(request, context)
        }
        if let location = knobs.redirectTo {
            store.count { $0.count(.received, on: target) }
            var headers = HTTPFields()
            headers[.location] = location
            return DiscovrSandbox.message(.found, "moved to \(location)", headers: headers)
        }
        if let retryAfter = knobs.retryAfter {
            store.count { $0.count(.received, on: target); $0.count(.rateLimited, on: target) }
            var headers = HTTPFields()
            headers[.retryAfter] = retryAfter
            return DiscovrSandbox.message(.tooManyRequests, "rate limit exceeded", headers: headers)
        }
        var response = try await next(request, context)
        if let reset = knobs.rateLimitReset {
            response.headers[DiscovrSandbox.rateLimitLimit] = "10"
            response.headers[DiscovrSandbox.rateLimitRemaining] = "0"
            response.headers[DiscovrSandbox.rateLimitReset] = reset
        }
        if let size = knobs.bodyBytes {
            response.body = Self.largeBody(size)
        }
        if let seconds = knobs.trickleSeconds {
            let bytes = try await Self.collect(response.body)
            response.body = ResponseBody(contentLength: bytes.count) { writer in
                for byte in bytes {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await DiscovrSandbox.sleep(seconds: seconds)
                }
                try await writer.finish(nil)
            }
        }
        return response
    }

    /// `{"message":"xxxx..."}` of exactly `size` bytes, written in 64 KiB chunks.
    static func largeBody(_ size: Int) -> ResponseBody {
        ResponseBody(contentLength: size) { writer in
            let head = Array(#"{"message":""#.utf8), tail = Array(#""}"#.utf8)
            var left = size - head.count - tail.count
            try await writer.write(ByteBuffer(bytes: head))
            while left > 0 {
                let n = min(left, 65_536)
                try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: n))
                left -= n
            }
            try await writer.write(ByteBuffer(bytes: tail))
            try await writer.finish(nil)
        }
    }

    /// The session answer again, its JWT re-issued with `"exp": <exp>` (registered like the original,
    /// so history accepts it until the sandbox's own expiry) and without `expiresAt`.
    func withExpiry(_ exp: String, _ response: Response) async throws -> Response {
        let body = try await Self.collect(response.body)
        guard response.status == .ok, let object = (try? JSONParser.parse(body))?.objectValue,
              let token = object["sessionToken"]?.stringValue, let session = store.session(for: token),
              let claims = JWT.payload(of: token) else {
            var copy = response
            copy.body = ResponseBody(byteBuffer: ByteBuffer(bytes: body))
            return copy
        }
        var payload = "{"
        for (key, value) in claims.members where key != "exp" {
            if let text = value.stringValue {
                payload += JSONText.quote(key) + ":" + JSONText.quote(text) + ","
            } else if let number = value.intValue {
                payload += JSONText.quote(key) + ":" + String(number) + ","
            }
        }
        payload += "\"exp\":" + exp + "}"
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let jwt = parts[0] + "." + JWT.base64URLEncode(Data(payload.utf8)) + "." + parts[2]
        store.issue(token: jwt, session: session)
        var text = "{\"sessionToken\":" + JSONText.quote(jwt)
        if let sessionId = object["sessionId"]?.stringValue { text += ",\"sessionId\":" + JSONText.quote(sessionId) }
        text += "}"
        return DiscovrSandbox.json(status: .ok, text: text)
    }

    /// The bytes of a response body (the sandbox's own answers are small).
    static func collect(_ body: ResponseBody) async throws -> [UInt8] {
        let collector = Collector()
        try await body.write(collector)
        return collector.bytes
    }

    /// A class, so that the bytes written through the copy `ResponseBody.write` consumes are kept.
    final class Collector: ResponseBodyWriter {
        var bytes: [UInt8] = []
        func write(_ buffer: ByteBuffer) async throws { bytes.append(contentsOf: buffer.readableBytesView) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
