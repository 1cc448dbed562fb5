import ArgumentParser
import Foundation

/// The executable: parses the command line, runs the libraries, prints, and exits with the
/// contract's codes. No import or delivery logic lives here.
@main
struct Trakt2Discovr: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trakt2discovr",
        abstract: "Move your Trakt watch history into Discovr.",
        discussion: """
            Reads a Trakt export (the ZIP from Trakt's settings, its folder, or JSON files), plans one \
            Discovr history item per play, and delivers them through a resumable queue.

            Examples:
              trakt2discovr import trakt-export-me.zip --dry-run
              trakt2discovr import trakt-export-me.zip --token-file ~/.discovr-token
              trakt2discovr resume --token-file ~/.discovr-token
              trakt2discovr import samples/official/trakt-export-sample.zip --sandbox
            """,
        version: "0.1.0",
        subcommands: [ImportCommand.self, ResumeCommand.self, StatusCommand.self, RetryFailedCommand.self, VerifyCommand.self, ProfilesCommand.self, LoginCommand.self, LogoutCommand.self, SandboxCommand.self]
    )

    static func main() async {
        // Past a file-size limit (`ulimit -f`, RLIMIT_FSIZE) the kernel sends SIGXFSZ, whose default
        // kills the process in the middle of a write with no message. Ignored, the write fails with
        // EFBIG instead: SQLite rolls the transaction back and the user gets exit 74 and a message
        // that says what to do, like on a full disk.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A library's typed error says what happened and what to do; the map picks the code.
            exit(withError: Exit.code(forUncaught: error).map { fail(String(describing: error), $0) } ?? error)
        }
    }
}

/// The exit codes of the contract (sysexits).
enum Exit {
    static let ok = ExitCode(0)
    static let someFailed = ExitCode(1)
    static let usage = ExitCode(64)
    static let dataError = ExitCode(65)
    static let noInput = ExitCode(66)
    static let cantCreate = ExitCode(73)
    static let ioError = ExitCode(74)
    static let tempFail = ExitCode(75)
    static let noPermission = ExitCode(77)
}

/// Prints a one-line error to stderr and returns the exit code to throw.
func fail(_ message: String, _ code: ExitCode) -> ExitCode {
    Terminal.error(message)
    return code
}
