import ArgumentParser
import Delivery
import DiscovrAPI
import Foundation
import Logging

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in to Discovr with a device code and keep the refresh token.",
        discussion: """
            Shows a short code to type in a signed-in Discovr app (or a QR image to scan, with \
            --qr-out), waits until it is confirmed, and keeps the refresh token in \
            $XDG_CONFIG_HOME/trakt2discovr/credentials (default ~/.config/trakt2discovr/), readable \
            by you only. import, resume and profiles then use it when neither --token-file nor \
            DISCOVR_REFRESH_TOKEN is given. The token is never printed. Ctrl-C stops the wait \
            (exit 75) and saves nothing.

            Examples:
              trakt2discovr login --client-id my-app-id
              DISCOVR_CLIENT_ID=my-app-id trakt2discovr login --qr-out code.png
            """
    )

    @Option(name: .customLong("client-id"), help: ArgumentHelp("The registered app id sign-in is for (else DISCOVR_CLIENT_ID).", valueName: "id"))
    var clientID: String?

    @Option(name: .customLong("api-url"), help: ArgumentHelp("Discovr API base URL (default https://api.discovr.media, or DISCOVR_API_URL).", valueName: "url"))
    var apiURL: String?

    @Option(name: .customLong("qr-out"), help: ArgumentHelp("Also write the sign-in QR code to this PNG file.", valueName: "file"))
    var qrOut: String?

    @OptionGroup var account: AccountOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let clientID = (clientID ?? environment["DISCOVR_CLIENT_ID"]).map({ $0.trimmingCharacters(in: .whitespaces) }),
              !clientID.isEmpty else {
            throw fail("no client id: pass --client-id <id> or set DISCOVR_CLIENT_ID (the app id registered with Discovr)", Exit.usage)
        }
        let url = try TokenSource.checkedAPIURL(apiURL)
        let store = try TokenSource.store()
        let logger = Logger(label: "trakt2discovr")
        let stop = StopSignal()
        let signals = SignalTrap(stop: stop)
        defer { signals.cancel() }
        let qrOut = self.qrOut
        let signedIn: SignedIn
        do {
            signedIn = try await account.withClient(url, logger: logger) { client in
                let flow = DeviceSignInFlow(client: client, now: DeliveryDriver.systemWallClock, sleep: Self.sleep(untilMs:),
                                            stop: stop, logger: logger)
                return try await flow.run(clientID: clientID) { code in
                    if let qrOut {
                        guard let png = code.qrPNG else {
                            throw fail("Discovr sent no usable QR image; type the code instead (leave out --qr-out)", Exit.cantCreate)
                        }
                        do {
                            try Data(png).write(to: URL(fileURLWithPath: qrOut), options: .atomic)
                        } catch {
                            throw fail("\(qrOut): cannot write the QR image (\(error.localizedDescription)); check the folder exists", Exit.cantCreate)
                        }
                    }
                    Terminal.out("To sign in, enter the code \(code.userCode) in a signed-in Discovr app (device sign-in)"
                        + (qrOut.map { ", or scan the QR image in \($0)" } ?? "") + ".\n"
                        + "The code is valid for \(code.validFor).\n")
                    Terminal.note("waiting for the code to be confirmed (Ctrl-C to stop)")
                }
            }
        } catch let error as SignInError {
            // The QR image is written once the code is shown (`.identity` fails before): a code that
            // was not confirmed is useless, so the image goes with it.
            if let qrOut, !Self.failedToStart(error) {
                try? FileManager.default.removeItem(atPath: qrOut)
            }
            switch error {
            case .stopped: throw fail(error.description, Exit.tempFail)
            case .identity(let identity): throw fail(error.description, Exit.code(for: identity))
            case .expired: throw fail(error.description, Exit.noPermission)
            case .unreachable: throw fail(error.description, Exit.tempFail)
            }
        }
        let saved = SavedCredentials(refreshToken: signedIn.refreshToken, apiURL: url, publicId: signedIn.publicId,
                                     expiresAt: signedIn.expiresAt,
                                     savedAt: Timestamp(millisecondsSince1970: DeliveryDriver.systemWallClock()))
        do {
            try store.save(saved)
        } catch {
            throw fail(error.description, Exit.cantCreate)
        }
        let until = signedIn.expiresAt.map { " until \($0.iso8601.prefix(10))" } ?? ""
        Terminal.out("Signed in\(until). The refresh token is kept in \(store.path); import, resume and profiles use it.\n")
    }

    static func failedToStart(_ error: SignInError) -> Bool {
        if case .identity = error { return true }
        return false
    }

    /// Real sleeping for the sign-in wait (the flow takes it injected).
    @Sendable static func sleep(untilMs ms: Int64) async throws {
        let delta = ms - DeliveryDriver.systemWallClock()
        if delta > 0 { try await Task.sleep(for: .milliseconds(delta)) }
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Revoke the kept refresh token and forget it.",
        discussion: """
            Signs out with DELETE /auth/session, then deletes the credentials file that login wrote. \
            When Discovr cannot be reached the file is kept (exit 75): run logout again later.

            Examples:
              trakt2discovr logout
            """
    )

    @OptionGroup var account: AccountOptions

    func run() async throws {
        let store = try TokenSource.store()
        let saved: SavedCredentials?
        do {
            saved = try store.load()
        } catch {
            // Not readable as ours: nothing can be revoked, but forgetting it is still what was asked.
            _ = try? store.delete()
            Terminal.warn(error.description)
            Terminal.out("Forgot the sign-in in \(store.path) (it could not be read, so it was not revoked).\n")
            return
        }
        guard let saved else {
            Terminal.out("Not signed in (no \(store.path)).\n")
            return
        }
        let logger = Logger(label: "trakt2discovr")
        let revoked: Bool
        do {
            revoked = try await account.withClient(saved.apiURL, logger: logger) { client in
                try await client.revoke(refreshToken: saved.refreshToken)
            }
        } catch let error as IdentityError {
            if case .refused = error {
                // Discovr will not revoke it (and does not take it either): forget it anyway.
                try forget(store)
                Terminal.warn(error.description)
                Terminal.out("Signed out here; Discovr did not confirm the revocation.\n")
                return
            }
            throw fail(error.description + "; the sign-in is kept in \(store.path): run `trakt2discovr logout` again later", Exit.tempFail)
        }
        try forget(store)
        Terminal.out(revoked ? "Signed out: the refresh token is revoked and \(store.path) is deleted.\n"
            : "Signed out: Discovr no longer accepted the token (expired or revoked already); \(store.path) is deleted.\n")
    }

    private func forget(_ store: CredentialsStore) throws {
        do {
            try store.delete()
        } catch {
            throw fail(error.description, Exit.ioError)
        }
    }
}
