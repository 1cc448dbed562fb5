import Delivery
@preconcurrency import Dispatch
import Foundation

/// Turns the first SIGINT/SIGTERM into a graceful stop (settle what is in flight, exit 75) and a
/// second one into an immediate exit; rows left in flight are recovered by the next run.
final class SignalTrap: @unchecked Sendable {  // the sources are only touched in init and cancel
    private let sources: [any DispatchSourceSignal]

    init(stop: StopSignal) {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if stop.isRequested {
                    FileHandle.standardError.write(Data("\ntrakt2discovr: stopped at once; `trakt2discovr resume` will resend what was in flight\n".utf8))
                    exit(75)
                }
                stop.request()
                FileHandle.standardError.write(Data("\ntrakt2discovr: stopping after the requests in flight (press Ctrl-C again to quit now)\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
