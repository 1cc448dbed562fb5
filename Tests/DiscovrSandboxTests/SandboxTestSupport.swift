import AsyncHTTPClient
import DiscovrAPI
import DiscovrSandbox
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A clock the test moves by hand, so expiry and rate limits are exercised without sleeping.
final class ManualClock: Sendable {
    /// 2026-01-01T00:00:00.000Z, a whole second (the HTTP-date form of Retry-After has second resolution).
    static let start: Int64 = 1_767_225_600_000

    private let milliseconds = Mutex<Int64>(ManualClock.start)

    var now: Timestamp { Timestamp(millisecondsSince1970: milliseconds.withLock { $0 }) }

    func advance(milliseconds delta: Int64) {
        milliseconds.withLock { $0 += delta }
    }

    /// For `SandboxConfiguration.now`.
    var closure: @Sendable () -> Timestamp { { [self] in self.now } }
}

/// Keeps every log line so a test can prove no secret reaches the log.
final class RecordingLogHandler: LogHandler, Sendable {
    static let lines = Mutex<[String: [String]]>([:])

    let label: String
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    init(label: String) { self.label = label }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let text = "\(event.level) \(event.message) \(event.metadata.map { String(describing: $0) } ?? "")"
        RecordingLogHandler.lines.withLock { $0[label, default: []].append(text) }
    }

    static func lines(of label: String) -> [String] {
        lines.withLock { $0[label] ?? [] }
    }
}

/// A logger that says nothing (the tests would otherwise print every start and stop).
let quietLogger = Logger(label: "sandbox-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// One HTTP answer, read whole.
struct Answer: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    var object: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    var message: String? { object?["message"] as? String }
    var code: String? { object?["code"] as? String }
}

/// Runs a sandbox on a free port and an HTTP client, and closes both whatever happens.
func withSandbox<T: Sendable>(
    _ configuration: SandboxConfiguration,
    store: SandboxStore = SandboxStore(),
    logger: Logger = quietLogger,
    _ body: @Sendable (RunningSandbox, SandboxClient) async throws -> T
) async throws -> T {
    let sandbox = DiscovrSandbox(configuration: configuration, store: store, logger: logger)
    return try await sandbox.run { running in
        let client = SandboxClient(url: running.url)
        do {
            let result = try await body(running, client)
            try await client.http.shutdown()
            return result
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }
}

/// Real HTTP to a running sandbox.
struct SandboxClient: Sendable {
    let url: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)

    func send(_ method: HTTPMethod, _ path: String, bearer: String? = nil, body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let bearer {
            request.headers.add(name: "Authorization", value: "Bearer " + bearer)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(15))
        let buffer = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code),
                      headers: response.headers.map { ($0.name, $0.value) },
                      body: String(buffer: buffer))
    }

    func post(_ path: String, bearer: String?, body: String) async throws -> Answer {
        try await send(.POST, path, bearer: bearer, body: body)
    }

    func get(_ path: String, bearer: String? = nil) async throws -> Answer {
        try await send(.GET, path, bearer: bearer)
    }

    /// The profiles `GET /profiles` answers, in its order (newest first); empty when refused.
    func profiles(refreshToken: String) async throws -> [(id: String, name: String)] {
        let answer = try await get(DiscovrEndpoints.profiles, bearer: refreshToken)
        let list = answer.object?["profiles"] as? [[String: Any]] ?? []
        return list.compactMap { entry in
            guard let id = entry["id"] as? String, let name = entry["name"] as? String else { return nil }
            return (id, name)
        }
    }

    /// Exchanges the refresh token for a session of `profileId`, or, when nil, of the oldest profile
    /// `GET /profiles` lists (as a client picks one); nil when refused. `body` overrides the body.
    func sessionToken(refreshToken: String, profileId: String? = nil, body: String? = nil) async throws -> String? {
        var sent = body
        if sent == nil {
            var id = profileId
            if id == nil { id = try await profiles(refreshToken: refreshToken).last?.id }
            guard let id else { return nil }
            sent = #"{"profileId":"# + JSONText.quote(id) + "}"
        }
        let answer = try await post(DiscovrEndpoints.sessionToken, bearer: refreshToken, body: sent ?? "{}")
        guard answer.status == 200 else { return nil }
        return SessionToken.parse(responseBody: Array(answer.body.utf8), now: Timestamp(millisecondsSince1970: 0))?.token
    }

    /// Every page of a history listing (`path` with its query, without `limit`/`nextPageToken`),
    /// `limit` entries a page: the items in order and the number of pages. Stops after 1000 pages.
    func allPages(_ path: String, limit: Int, bearer: String) async throws -> (items: [[String: Any]], pages: Int, statuses: [Int]) {
        var items: [[String: Any]] = []
        var statuses: [Int] = []
        var token: String?
        var pages = 0
        let separator = path.contains("?") ? "&" : "?"
        repeat {
            var query = path + separator + "limit=\(limit)"
            if let token { query += "&nextPageToken=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token) }
            let answer = try await get(query, bearer: bearer)
            statuses.append(answer.status)
            guard answer.status == 200, let object = answer.object else { break }
            pages += 1
            items += object["items"] as? [[String: Any]] ?? []
            token = (object["hasMore"] as? Bool == true) ? object["nextPageToken"] as? String : nil
        } while token != nil && pages < 1000
        return (items, pages, statuses)
    }

    func history(_ body: String, bearer: String?) async throws -> Answer {
        try await post(DiscovrEndpoints.history, bearer: bearer, body: body)
    }
}

/// A valid episode play with a given episode number and date.
func episodeBody(episode: Int = 5, updatedAt: String = "2023-01-15T00:00:00.000Z") -> String {
    HistoryItem(mediaId: .show(1396), season: 1, episode: episode, progress: 100,
                updatedAt: Timestamp(iso8601: updatedAt)).jsonBody
}

func movieBody(tmdb: Int64 = 603, updatedAt: String = "2023-02-01T20:00:00.000Z") -> String {
    HistoryItem(mediaId: .movie(tmdb), updatedAt: Timestamp(iso8601: updatedAt)).jsonBody
}

/// Whether something accepts TCP connections on 127.0.0.1:port. A plain connect, because
/// AsyncHTTPClient keeps retrying a refused connection until the request's deadline.
func isListening(port: Int) async -> Bool {
    do {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: "127.0.0.1", port: port)
            .get()
        try? await channel.close()
        return true
    } catch {
        return false
    }
}
