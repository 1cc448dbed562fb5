#if os(Linux)
import Foundation
import Testing
@testable import ImportQueue

/// Cross-process behaviour with the real code on both sides: the test binary runs itself again as a
/// child, filtered to `queueChild`, which opens the queue and then dies by SIGKILL or holds the lock.
@Suite(.timeLimit(.minutes(5))) struct ChildProcessTests {
    static let modeVariable = "T2D_QUEUE_CHILD_MODE"
    static let pathVariable = "T2D_QUEUE_CHILD_PATH"
    static let marker = "T2D-CHILD-READY"

    /// Not a test of its own: the body of the child process (skipped unless started as the child).
    @Test(.enabled(if: ProcessInfo.processInfo.environment[modeVariable] != nil, "runs only as a child process"))
    func queueChild() throws {
        let environment = ProcessInfo.processInfo.environment
        let queue = try ImportQueue.open(path: try #require(environment[Self.pathVariable]))
        let claimed = try queue.claim(max: 2, nowMs: 0)
        try queue.markDelivered(id: claimed[0].id, status: 200, message: nil, added: nil, removed: nil)
        let line = Self.marker + "\n"
        _ = line.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        if environment[Self.modeVariable] == "crash" {
            kill(getpid(), SIGKILL)  // no close, no deinit, no atexit: a crash as real as it gets
        }
        while !FileHandle.standardInput.availableData.isEmpty {}  // hold the lock until the parent closes stdin
        queue.close()
    }

    /// Starts the child and returns once it has claimed two items and delivered one.
    private func startChild(mode: String, path: String) throws -> (Process, Pipe) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["--testing-library", "swift-testing", "--filter", "queueChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.modeVariable] = mode
        environment[Self.pathVariable] = path
        child.environment = environment
        let output = Pipe(), input = Pipe()
        child.standardOutput = output
        child.standardInput = input
        child.standardError = FileHandle.nullDevice
        try child.run()
        var said = ""
        while !said.contains(Self.marker) {
            let chunk = output.fileHandleForReading.availableData  // blocks until the child writes: no sleeping
            if chunk.isEmpty { break }
            said += String(decoding: chunk, as: UTF8.self)
        }
        #expect(said.contains(Self.marker), "the child stopped before claiming: \(said)")
        return (child, input)
    }

    private func makeQueue(in folder: String) throws -> String {
        let path = folder + "/state.sqlite"
        let queue = try ImportQueue.open(path: path)
        _ = try queue.enqueue([entry("a", 1), entry("b", 2), entry("c", 3)])
        queue.close()
        return path
    }

    @Test func aRunKilledWithSIGKILLLosesNothing() throws {
        try withTemporaryFolder { folder throws in
            let path = try makeQueue(in: folder)
            let (child, input) = try startChild(mode: "crash", path: path)
            child.waitUntilExit()
            try? input.fileHandleForWriting.close()
            #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL)

            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            #expect(queue.recoveredInFlight == 1)
            #expect(try queue.counts() == StateCounts(pending: 2, delivered: 1))
            #expect(try queue.claim(max: 5, nowMs: 0).playKeys == ["b@2", "c@3"])
        }
    }

    @Test func anotherProcessHoldingTheQueueIsRefused() throws {
        try withTemporaryFolder { folder throws in
            let path = try makeQueue(in: folder)
            let (child, input) = try startChild(mode: "hold", path: path)
            #expect(throws: QueueError.inUse(path: path)) { try ImportQueue.open(path: path) }
            try input.fileHandleForWriting.close()
            child.waitUntilExit()
            #expect(child.terminationReason == .exit)

            let queue = try ImportQueue.open(path: path)
            defer { queue.close() }
            #expect(queue.recoveredInFlight == 1)  // the child closed without settling its second item
            #expect(try queue.counts() == StateCounts(pending: 2, delivered: 1))
        }
    }
}
#endif
