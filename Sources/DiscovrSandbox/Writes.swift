import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird

/// A request that writes: the history POST or a list POST. Each kind has its own counts
/// (`SandboxStats`, `SandboxStats.lists`) and its own fault draws; both go through `DiscovrSandbox.write`.
enum WriteTarget: Sendable, Equatable {
    case history
    case list(DiscovrList)

    /// The write a path takes, for `POST` requests; nil for any other path, and for a list path
    /// `listPaths` does not serve.
    init?(path: String, servedBy listPaths: ListPaths) {
        if path == DiscovrEndpoints.history {
            self = .history
        } else if let list = DiscovrList.allCases.first(where: { $0.path == path }), listPaths.serves(list) {
            self = .list(list)
        } else {
            return nil
        }
    }
}

/// A step of a write's way through the sandbox, counted in `SandboxStats`.
enum WriteEvent: Sendable {
    case received, rateLimited, unauthorized, invalid, failed, droppedBeforeStore, dropped, slow
}

extension DiscovrSandbox {
    /// The way every write goes, one code path for history and lists (each request ends at the first
    /// step that answers):
    ///
    /// 1. counted (and towards the outage), then the rate limit (429, one bucket for every write and read);
    /// 2. the session (401);
    /// 3. the body: not a JSON object (422), too large (413), then `read` (400: validation, id form);
    /// 4. the fault draw of `target`'s kind: 500/503, or the connection closed before storing;
    /// 5. `apply` stores and makes the answer (it gets the RateLimit headers to send);
    /// 6. the drop draw (the connection closed after storing) or the slow draw (the answer held back).
    func write<Value>(
        _ target: WriteTarget, _ request: Request, context: SandboxRequestContext,
        read: (JSONObject) -> Result<Value, Refusal>,
        apply: (Value, IssuedSession, Timestamp, HTTPFields) -> Response
    ) async throws -> Response {
        let now = configuration.now()
        func count(_ event: WriteEvent) { store.count { $0.count(event, on: target) } }
        let path = request.uri.path
        count(.received)
        countTowardsOutage()

        let (headers, limited) = admit(now: now)
        if let limited {
            count(.rateLimited)
            return limited
        }

        let session: IssuedSession
        switch authorizeSession(in: request, now: now) {
        case .success(let value):
            session = value
        case .failure(let refusal):
            count(.unauthorized)
            logger.debug("sandbox refused a session", metadata: ["reason": .string(refusal.message), "path": .string(path)])
            return Self.error(refusal, headers: headers)
        }

        var request = request
        let value: Value
        switch await Self.readJSONObject(&request, context: context, emptyIsObject: false).flatMap(read) {
        case .success(let read):
            value = read
        case .failure(let refusal):
            count(.invalid)
            logger.debug("sandbox refused an invalid item", metadata: ["problem": .string(refusal.message), "path": .string(path)])
            return Self.error(refusal, headers: headers)
        }

        let faults = nextFaults(for: target)
        if let status = faults.failStatus {
            count(.failed)
            logger.debug("sandbox failed a request on purpose", metadata: ["status": .stringConvertible(status), "path": .string(path)])
            return Self.error(HTTPResponse.Status(code: status), code: SandboxErrorCode.serverError,
                              "sandbox failure (fail rate), try again later", headers: headers)
        }
        if faults.dropBeforeStore {
            count(.droppedBeforeStore)
            logger.debug("sandbox dropped a request before storing it", metadata: ["path": .string(path)])
            // Closed without an answer and without an entry: to the client, the same lost connection.
            try? await context.channel.close()
            return Self.message(.serviceUnavailable, "dropped before storing", headers: headers)
        }

        let response = apply(value, session, now, headers)

        if faults.drop {
            count(.dropped)
            logger.debug("sandbox dropped an answer", metadata: ["path": .string(path)])
            // Close the connection without answering: the client sees the connection end, as when an
            // answer is lost on the way back. Writing the response afterwards fails quietly.
            try? await context.channel.close()
            return response
        }
        if faults.slow {
            count(.slow)
            logger.debug("sandbox holds an answer back", metadata: ["seconds": .stringConvertible(configuration.slowDelay)])
            try await Self.sleep(seconds: configuration.slowDelay)
        }
        return response
    }

    /// The media id of a write body: `mediaId` required, a string, then as `mediaID(_:)` takes it.
    func mediaID(in object: JSONObject) -> Result<MediaID, Refusal> {
        guard let value = object["mediaId"] else { return .failure(.badRequest("mediaId is required")) }
        guard let raw = value.stringValue else { return .failure(.badRequest("mediaId must be a string")) }
        return mediaID(raw)
    }

    /// A media id of a write body or a history read: `MV_`/`TV_` in either form (`HistoryValidation`'s
    /// words), then in a form this sandbox takes (`mediaIDForms`), else the 400 that refuses it.
    func mediaID(_ raw: String) -> Result<MediaID, Refusal> {
        guard let (media, form) = MediaID.parse(raw) else {
            return .failure(.badRequest("mediaId must be MV_TMDBID<n>, TV_TMDBID<n>, MV_<n> or TV_<n>, "
                + "got \(raw.prefix(40))"))
        }
        guard configuration.mediaIDForms.accepts(form) else {
            logger.debug("sandbox refused a media id form", metadata: ["mediaId": .string(raw)])
            return .failure(.badRequest("mediaId \(raw) is in the \(form.rawValue) form, "
                + "which this server does not take: send \(media.rawValue(in: form.other))"))
        }
        return .success(media)
    }
}
