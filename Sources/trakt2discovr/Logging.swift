import Logging
import Synchronization

/// The executable alone picks the log level: warnings by default, everything with --verbose.
/// Libraries log fixed messages with metadata and never a token.
enum LogSetup {
    private static let done = Mutex(false)

    static func bootstrap(verbose: Bool, defaultLevel: Logger.Level = .warning) {
        let first = done.withLock { d in defer { d = true }; return !d }
        guard first else { return }
        let level: Logger.Level = verbose ? .debug : defaultLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
