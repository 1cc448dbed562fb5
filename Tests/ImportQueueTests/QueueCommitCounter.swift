import GRDB
@testable import ImportQueue
import Synchronization

// A hook for the tests: how many transactions a call commits.
extension ImportQueue {
    /// Runs `body` and returns its result with the number of write transactions committed meanwhile.
    func countingCommits<T>(_ body: () throws -> T) throws -> (T, commits: Int) {
        let counter = CommitCounter()
        try withDatabase { database in database.add(transactionObserver: counter, extent: .observerLifetime) }
        defer { try? withDatabase { database in database.remove(transactionObserver: counter) } }
        let result = try body()
        return (result, counter.commits.load(ordering: .relaxed))
    }
}

private final class CommitCounter: TransactionObserver, Sendable {
    let commits = Atomic<Int>(0)
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.add(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}
