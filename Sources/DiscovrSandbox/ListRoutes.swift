import DiscovrAPI
import Foundation
import HTTPTypes
import Hummingbird

/// The list writes (`discovr-api.md`, Other lists; `importer.md` section 7):
/// `POST /profile/{liked,disliked,super_liked,watchlist}` with `{"mediaId": ...}`. Only
/// `/profile/disliked` is documented (`add-disliked-item`); the other three follow its pattern, and
/// `SandboxConfiguration.listPaths` can take them away.
extension DiscovrSandbox {
    /// One list POST: refused as the configuration says when the path is not served, else the steps of
    /// every write (`write`) with the list's body (`mediaId` only, either form as `mediaIDForms` allows),
    /// then the title is put in the list.
    func addToList(_ list: DiscovrList, _ request: Request, context: SandboxRequestContext) async throws -> Response {
        guard configuration.listPaths.serves(list) else {
            store.count { $0.lists.requests += 1; $0.lists.notServed += 1 }
            logger.debug("sandbox does not serve a list path", metadata: ["path": .string(list.path)])
            if configuration.listPaths == .documentedWith405 {
                var headers = HTTPFields()
                headers[.allow] = "" // no method is served on the path
                return Self.error(.methodNotAllowed, code: SandboxErrorCode.methodNotAllowed,
                                  "POST \(list.path) is not allowed on this server", headers: headers)
            }
            // Exactly what the router answers for a path it does not know.
            throw HTTPError(.notFound)
        }
        return try await write(.list(list), request, context: context, read: { object in
            mediaID(in: object)
        }, apply: { media, session, _, headers in
            let outcome = store.addToList(list, media: media, profileId: session.profileId)
            return Self.json(status: .ok, text: Self.listAnswer(list, outcome), headers: headers)
        })
    }

    /// The answer of a list write, as `add-disliked-item` documents it: `{"message", "added", "removed"}`
    /// for the exclusive lists (`removed` null unless the title moved), `{"message"}` for the watchlist.
    /// Already there: a success, "Item was already disliked — no change made" (the documented words;
    /// the other lists' words follow them, assumed).
    static func listAnswer(_ list: DiscovrList, _ outcome: ListWrite) -> String {
        let message: String
        let removed: DiscovrList?
        switch outcome {
        case .added(let from):
            message = "Item added to \(list.rawValue) list successfully"
            removed = from
        case .unchanged:
            message = list.isVerdict ? "Item was already \(list.rawValue) — no change made"
                : "Item was already in \(list.rawValue) — no change made"
            removed = nil
        }
        var text = "{\"message\":" + JSONText.quote(message)
        if list.isVerdict {
            text += ",\"added\":" + JSONText.quote(list.rawValue) + ",\"removed\":" + (removed.map { JSONText.quote($0.rawValue) } ?? "null")
        }
        return text + "}"
    }

    /// `GET /_sandbox/lists[?profileId=ID]` (test-only): the profile's lists (`ProfileLists`); without
    /// `profileId`, the first (oldest) profile's; an unknown one answers 400 `PROFILE_NOT_FOUND`.
    func inspectLists(_ request: Request) -> Response {
        let profiles = store.profiles()
        let id = request.uri.queryParameters["profileId"].map(String.init) ?? profiles.first?.id ?? ""
        guard profiles.contains(where: { $0.id == id }) else {
            return Self.error(.badRequest, code: SandboxErrorCode.profileNotFound,
                              "profileId \(id.prefix(40)) is not a profile of this account")
        }
        return Self.json(status: .ok, encoding: store.lists(profileId: id))
    }
}
