import AsyncHTTPClient
import DiscovrAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP answer, whole: its body is at most `DiscovrClient.maximumBodyBytes` (a longer one is a
/// `TransportFailure`, never a truncated body read as if it were whole).
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    /// The answer classified, once, where it arrives: its class (`HistoryAnswer`, the one status
    /// table), its rate-limit hints read at `nowMs`, and its body's message (redacted), `added` and
    /// `removed`. A redirect's message says where it pointed. With `page`, a 2xx body is a history
    /// page, for the caller to read: it is not read as a message.
    public func classified(atMs nowMs: Int64, page: Bool = false) -> DiscovrAnswer {
        var answer = DiscovrAnswer(status: status, hints: RateLimitHints(headers: headers, now: Timestamp(millisecondsSince1970: nowMs)))
        if !(page && answer.kind == .delivered) { answer.response = HistoryResponse.parse(body: body) }
        answer.response.message = answer.kind == .redirected ? redirectNote : answer.response.message.map(Redaction.redact)
        return answer
    }

    /// For a 3xx: what to keep as the item's message. Redirects are never followed (the token would
    /// go with the request, maybe to another origin); the answer is a failed attempt. Only the origin
    /// of `Location` is shown (its path or query could carry anything).
    var redirectNote: String {
        let location = headers.first { $0.0.caseInsensitiveCompare("Location") == .orderedSame }?.1
        let origin = location.flatMap(URL.init(string:)).flatMap { url -> String? in
            guard let scheme = url.scheme, let host = url.host else { return nil }
            return scheme + "://" + host + (url.port.map { ":\($0)" } ?? "")
        }
        return "the server redirected to " + (origin.map(Redaction.redact) ?? "another address")
            + "; redirects are not followed (the token would go with them): check --api-url"
    }
}

/// Why a request got no answer, sorted by what it means for the item: `connectFailed` never reached the
/// server (not an attempt); `timedOut` and `connectionLost` may have reached it (the item may be stored).
public enum TransportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case connectFailed(String)
    case timedOut(String)
    case connectionLost(String)

    public var description: String {
        switch self {
        case .connectFailed(let why): return "could not connect: \(why)"
        case .timedOut(let why): return "timed out: \(why)"
        case .connectionLost(let why): return "connection lost: \(why)"
        }
    }

    /// Sorts an error thrown by AsyncHTTPClient / SwiftNIO. Anything not known to happen before the
    /// request is written counts as "may have reached the server", the safe side for attempts.
    public static func classify(_ error: any Error, timeoutSeconds: Double) -> TransportFailure {
        if let error = error as? TransportFailure { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return .connectFailed("no connection within the connect timeout")
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .timedOut("no answer within \(Self.seconds(timeoutSeconds)) s")
            case .remoteConnectionClosed:
                return .connectionLost("the server closed the connection before answering")
            default:
                return .connectionLost(Redaction.redact(error.description))
            }
        }
        if let error = error as? NIOConnectionError {
            // Name resolution failed or every address refused: the request was never written.
            let first = (error.connectionErrors.first?.error ?? error.dnsAError).map(Self.reason(of:)) ?? "no address"
            return .connectFailed("\(error.host):\(error.port): \(first)")
        }
        if let error = error as? IOError {
            let text = reason(of: error)
            switch error.errnoCode {
            case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN:
                return .connectFailed(text)
            case ETIMEDOUT:
                return .timedOut(text)
            default:
                return .connectionLost(text)
            }
        }
        if let error = error as? ChannelError {
            if case .connectTimeout = error { return .connectFailed("no connection within the connect timeout") }
            return .connectionLost(String(describing: error))
        }
        return .connectionLost(Redaction.redact(String(describing: error)))
    }

    /// "connection refused" rather than NIO's "connection reset (error set): Connection refused) (errno: 111)".
    static func reason(of error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return Redaction.redact(String(describing: error))
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// Starts a `DiscovrClient`, runs `body` with it, and always shuts the HTTP client down afterwards.
/// `now` is the wall clock (ms since 1970) session expiries are read against.
public func withDiscovrClient<T>(
    baseURL: String,
    requestTimeout: Double,
    maxConnections: Int = 8,
    logger: Logger,
    now: @escaping @Sendable () -> Timestamp,
    _ body: (DiscovrClient) async throws -> T
) async throws -> T {
    let base = try DiscovrClient.checkedBaseURL(baseURL)
    let timeout = DiscovrClient.usableTimeout(requestTimeout)
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .milliseconds(Int64(min(10, timeout) * 1000)))
    // Fail fast when the server is down: the driver has its own backoff and its own notion of
    // "unreachable"; the pool's retries would hide both behind the request timeout.
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, maxConnections)
    configuration.redirectConfiguration = .disallow
    return try await HTTPClient.withHTTPClient(configuration: configuration, backgroundActivityLogger: logger) { http in
        try await body(DiscovrClient(http: http, baseURL: base, timeoutSeconds: timeout, logger: logger, now: now))
    }
}

/// The thin transport to Discovr: requests with a deadline over the whole answer, bodies capped,
/// redirects never followed, https only (but to loopback), failures sorted. It decides nothing.
public struct DiscovrClient: Sendable {
    /// An answer longer than this is cut off and is a failed attempt. History pages of 50 entries are
    /// tens of KB; no answer the importer reads comes near 4 MiB.
    public static let maximumBodyBytes = 4 << 20
    /// Longest `--timeout` used (an hour); larger values, and values that are not positive numbers, are
    /// brought into `0.001...maximumTimeoutSeconds` so that no conversion can trap.
    public static let maximumTimeoutSeconds = 3_600.0
    static let userAgent = "trakt2discovr"

    let http: HTTPClient
    let baseURL: String
    let timeoutSeconds: Double
    let logger: Logger
    let now: @Sendable () -> Timestamp

    /// `text` without trailing slashes, if it may carry a token: an `https://` URL, or an `http://`
    /// one whose host is a loopback address (127.0.0.0/8, ::1, localhost: the sandbox and tests).
    /// Throws `DeliveryError.invalidURL` for anything that is not an http(s) URL with a host, and
    /// `.insecureURL` for plain http to any other host: checked before any connection is made.
    public static func checkedBaseURL(_ text: String) throws(DeliveryError) -> String {
        var base = text.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil else {
            throw DeliveryError.invalidURL(Redaction.redact(text))
        }
        if scheme == "http" && !isLoopback(host: host) {
            throw DeliveryError.insecureURL(Redaction.redact(base))
        }
        return base
    }

    /// `localhost`, an IPv4 address in 127.0.0.0/8 written as four decimal numbers, or `::1`.
    public static func isLoopback(host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "localhost." || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        let octets = parts.compactMap { part -> Int? in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part).flatMap { $0 <= 255 ? $0 : nil }
        }
        return octets.count == 4 && octets[0] == 127
    }

    /// `seconds` as a timeout the transport can use: at least 1 ms, at most `maximumTimeoutSeconds`;
    /// 30 s when it is not a positive number.
    public static func usableTimeout(_ seconds: Double) -> Double {
        guard seconds.isFinite, seconds > 0 else { return 30 }
        return min(max(seconds, 0.001), maximumTimeoutSeconds)
    }

    /// `POST /profile/history` for a play, `POST /profile/{list}` for a list write: the body written
    /// now, its media id in `form`.
    public func post(_ outgoing: Outgoing, form: MediaIDForm, jwt: String) async throws(TransportFailure) -> HTTPAnswer {
        try await send(method: .POST, path: outgoing.path, body: outgoing.jsonBody(form: form), bearer: jwt)
    }

    /// `GET /profile/history?limit=&nextPageToken=` with the session JWT: one page of the profile's
    /// history, newest created first.
    public func getHistory(limit: Int, pageToken: String?, jwt: String) async throws(TransportFailure) -> HTTPAnswer {
        try await send(method: .GET, path: DiscovrEndpoints.history
                           + Self.query([("limit", String(limit)), ("nextPageToken", pageToken)]),
                       body: nil, bearer: jwt)
    }

    /// `GET /profile/history/{mediaId}?season=&episode=&limit=&nextPageToken=` with the session JWT: one
    /// page of the entries of one media id (`mediaId` as it should go on the wire, in either form).
    public func getHistory(of mediaId: String, season: Int?, episode: Int?, limit: Int, pageToken: String?,
                           jwt: String) async throws(TransportFailure) -> HTTPAnswer {
        let query = Self.query([("season", season.map(String.init)), ("episode", episode.map(String.init)),
                                ("limit", String(limit)), ("nextPageToken", pageToken)])
        return try await send(method: .GET, path: DiscovrEndpoints.history(of: Self.percentEncoded(mediaId)) + query,
                              body: nil, bearer: jwt)
    }

    /// `?a=1&b=2` of the pairs that have a value, percent-encoded; "" when none has.
    static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { name, value in value.map { name + "=" + percentEncoded($0) } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// Everything but RFC 3986's unreserved characters percent-encoded (page tokens are opaque).
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    func send(method: HTTPMethod, path: String, body: String?, bearer: String?) async throws(TransportFailure) -> HTTPAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer " + bearer) }
        if body != nil { request.headers.add(name: "Content-Type", value: "application/json") }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        // One deadline for the whole answer: AsyncHTTPClient's covers the head only, so the body is
        // read against the same instant (a body trickling in a byte at a time times out like silence).
        let timeoutMs = Int64((Self.usableTimeout(timeoutSeconds) * 1000).rounded(.up))
        let deadline = NIODeadline.now() + .milliseconds(timeoutMs)
        do {
            let response = try await http.execute(request, deadline: deadline, logger: logger)
            let bytes = try await Self.readBody(response.body, deadline: deadline, timeoutSeconds: timeoutSeconds)
            return HTTPAnswer(status: Int(response.status.code),
                              headers: response.headers.map { ($0.name, $0.value) },
                              body: bytes)
        } catch {
            throw TransportFailure.classify(error, timeoutSeconds: timeoutSeconds)
        }
    }

    /// The whole body, by `deadline`, at most `maximumBodyBytes`. Stopping early (too long, too late)
    /// cancels the stream, which closes the connection: nothing more of that answer is read.
    static func readBody(_ body: HTTPClientResponse.Body, deadline: NIODeadline,
                         timeoutSeconds: Double) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                do {
                    return Array(buffer: try await body.collect(upTo: maximumBodyBytes))
                } catch is NIOTooManyBytesError {
                    throw TransportFailure.connectionLost("the answer was longer than \(maximumBodyBytes / (1 << 20)) MiB "
                        + "and was cut off (no Discovr answer is that long)")
                }
            }
            group.addTask {
                let left = deadline.uptimeNanoseconds > NIODeadline.now().uptimeNanoseconds
                    ? deadline.uptimeNanoseconds - NIODeadline.now().uptimeNanoseconds : 0
                try await Task.sleep(nanoseconds: left)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let bytes = result { return bytes }
                throw TransportFailure.timedOut("the whole answer did not arrive within \(TransportFailure.seconds(timeoutSeconds)) s")
            }
            throw CancellationError()
        }
    }
}
