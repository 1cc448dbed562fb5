import ArgumentParser
import Delivery
import DiscovrAPI
import ImportQueue
import TraktExport

/// The one map from what went wrong to the exit code (importer.md section 4). Libraries say what
/// happened, with types; only the executable picks a number.
extension Exit {
    /// A library's error that no command caught to say more: its own description (it names the file or
    /// the answer, and what to do) with this map's code. Nil for any other error (ArgumentParser's own).
    static func code(forUncaught error: any Error) -> ExitCode? {
        switch error {
        case let error as QueueError: return code(for: error)
        case let error as IdentityError: return code(for: error)
        case is DeliveryError: return usage
        case let error as TraktExportError: return code(for: error)
        case let error as RefreshTokenSource.Problem: return code(for: error)
        default: return nil
        }
    }

    /// A refused refresh token, profile or account: the profile is the user's argument (64), the rest
    /// are credentials (77), whether the refusal comes before delivery or during it.
    static func code(for refusal: IdentityRefusal) -> ExitCode {
        refusal.kind == .badProfile ? usage : noPermission
    }

    static func code(for error: IdentityError) -> ExitCode {
        switch error {
        case .refused(let refusal): return code(for: refusal)
        case .unavailable, .transport, .unreadable: return tempFail
        }
    }

    static func code(for error: QueueError) -> ExitCode {
        switch error {
        case .inUse: return tempFail
        case .notAQueue: return dataError
        case .cannotOpen: return noInput  // the path names no usable file
        case .storage: return ioError     // disk full, read-only, no permission to write: the same for every command
        case .notInFlight, .closed: return ioError
        }
    }

    /// How a delivery or a verify ended, when it did not end with the work done (`finished`, or
    /// `limitReached` with nothing left, are the caller's: 0 or 1 by the failures).
    static func code(for stop: DeliveryStop) -> ExitCode {
        switch stop {
        case .finished: return ok
        case .limitReached, .stopped, .unreachable, .gaveUp, .historyUnreadable: return tempFail
        // An answer that is not Discovr's (2xx without a token), as before delivery (`IdentityError.unreadable`).
        case .unreadableSession: return tempFail
        case .credentialsRefused(let refusal): return code(for: refusal)
        case .forbidden: return noPermission
        case .storage(let error): return code(for: error)
        }
    }

    static func code(for problem: RefreshTokenSource.Problem) -> ExitCode {
        switch problem {
        case .unreadableFile: return noInput
        case .emptyFile, .none: return usage
        case .savedCredentials, .expired: return noPermission
        }
    }

    /// 66 for missing or unreadable inputs, 65 for unusable data.
    static func code(for error: TraktExportError) -> ExitCode {
        error.isMissingInput ? noInput : dataError
    }
}
