import AsyncHTTPClient
import DiscovrAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP answer, its body cut at `DiscovrClient.maximumBodyBytes`.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
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
            switch error {
            case .connectTimeout:
                return .connectFailed("no connection within the connect timeout")
            default:
                return .connectionLost(String(describing: error))
            }
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
    let base = try DiscovrClient.normalizedBaseURL(baseURL)
    let timeout = requestTimeout.isFinite && requestTimeout > 0 ? requestTimeout : 30
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

/// The thin transport to Discovr: two requests, bodies capped, failures sorted. It decides nothing.
public struct DiscovrClient: Sendable {
    /// Answers are cut at this size: the importer only needs the small JSON message.
    public static let maximumBodyBytes = 64 * 1024
    static let userAgent = "trakt2discovr"

    let http: HTTPClient
    let baseURL: String
    let timeoutSeconds: Double
    let logger: Logger
    let now: @Sendable () -> Timestamp

    static func normalizedBaseURL(_ text: String) throws -> String {
        var base = text.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false else {
            throw DeliveryError.invalidURL(Redaction.redact(text))
        }
        return base
    }

    /// `POST /auth/session-token` with the refresh token. Throws `DeliveryError`: `.credentialsRefused`
    /// for 4xx, `.sessionUnavailable` for 5xx/429, `.unreadableSession` for a 2xx without a token,
    /// `.transport` when there is no answer.
    public func exchange(refreshToken: String, profileId: String?) async throws -> SessionToken {
        let answer: HTTPAnswer
        do {
            answer = try await send(path: DiscovrEndpoints.sessionToken, body: SessionTokenRequest(profileId: profileId).jsonBody,
                                    bearer: refreshToken)
        } catch {
            throw DeliveryError.transport(error)
        }
        let message = HistoryResponse.parse(body: answer.body).message.map(Redaction.redact)
        let why = "status \(answer.status)" + (message.map { ": " + $0 } ?? "")
        switch answer.status {
        case 200..<300:
            guard let session = SessionToken.parse(responseBody: answer.body, now: now()) else {
                throw DeliveryError.unreadableSession("no token field in the answer")
            }
            return session
        case 429, 408, 500...599:
            throw DeliveryError.sessionUnavailable(why)
        default:
            throw DeliveryError.credentialsRefused(why)
        }
    }

    /// `POST /profile/history` with one item's JSON body and the session JWT.
    public func postHistory(body: String, jwt: String) async throws(TransportFailure) -> HTTPAnswer {
        try await send(path: DiscovrEndpoints.history, body: body, bearer: jwt)
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
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(format: "%02X", byte)
            }
        }
        return out
    }

    private func send(path: String, body: String, bearer: String) async throws(TransportFailure) -> HTTPAnswer {
        try await send(method: .POST, path: path, body: body, bearer: bearer)
    }

    func send(method: HTTPMethod, path: String, body: String?, bearer: String?) async throws(TransportFailure) -> HTTPAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer " + bearer) }
        if body != nil { request.headers.add(name: "Content-Type", value: "application/json") }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)), logger: logger)
            var bytes: [UInt8] = []
            // Read to the end (so the connection can be reused) but keep only the first bytes.
            for try await chunk in response.body where bytes.count < Self.maximumBodyBytes {
                bytes.append(contentsOf: chunk.readableBytesView.prefix(Self.maximumBodyBytes - bytes.count))
            }
            return HTTPAnswer(status: Int(response.status.code),
                              headers: response.headers.map { ($0.name, $0.value) },
                              body: bytes)
        } catch {
            throw TransportFailure.classify(error, timeoutSeconds: timeoutSeconds)
        }
    }
}
