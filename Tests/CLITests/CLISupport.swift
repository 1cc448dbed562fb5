import Foundation
import Testing

/// Runs the built `trakt2discovr` binary as a subprocess, as a user would.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["T2D_BINARY"] { return path }
        for candidate in [".build/debug/trakt2discovr", ".build/x86_64-unknown-linux-gnu/debug/trakt2discovr",
                          ".build/aarch64-unknown-linux-gnu/debug/trakt2discovr"] {
            let path = root.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/trakt2discovr").path
    }

    static func sample(_ path: String) -> String { root.appendingPathComponent("samples").appendingPathComponent(path).path }
    static let realworld = root.appendingPathComponent("Tests/Fixtures/realworld").path

    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs to completion (or kills it after `timeout` seconds, which fails the test).
    @discardableResult
    static func run(_ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], timeout: Double = 120) throws -> Result {
        let process = try start(arguments, cwd: cwd, environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        while process.process.isRunning {
            if Date() > deadline {
                process.process.interrupt()
                kill(process.process.processIdentifier, SIGKILL)
                Issue.record("trakt2discovr \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
                break
            }
            usleep(5_000)
        }
        process.process.waitUntilExit()
        return process.result()
    }

    final class Running: @unchecked Sendable {
        let process: Process
        let outURL: URL
        let errURL: URL

        init(process: Process, outURL: URL, errURL: URL) {
            self.process = process
            self.outURL = outURL
            self.errURL = errURL
        }

        var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

        func result() -> Result {
            process.waitUntilExit()
            defer {
                try? FileManager.default.removeItem(at: outURL)
                try? FileManager.default.removeItem(at: errURL)
            }
            return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
    }

    /// Starts the binary in the background; output goes to temporary files (pipes could fill up).
    static func start(_ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DISCOVR_REFRESH_TOKEN")
        env.removeValue(forKey: "DISCOVR_API_URL")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let tmp = FileManager.default.temporaryDirectory
        let out = tmp.appendingPathComponent("t2d-out-\(UUID().uuidString)")
        let err = tmp.appendingPathComponent("t2d-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, outURL: out, errURL: err)
    }

    /// Waits (polling, bounded) until `condition` holds; used only for process coordination, never for timing claims.
    static func waitFor(_ what: String, timeout: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        Issue.record("timed out waiting for \(what)")
        return false
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

/// A temporary folder removed at the end of the test.
final class TempDir: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("t2d-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }
    var files: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
}

/// A `trakt2discovr sandbox` server in its own process, on a free port.
final class SandboxProcess: @unchecked Sendable {
    let running: CLI.Running
    let url: String
    let tokenFile: String
    let dir: TempDir

    init(_ extra: [String] = []) throws {
        dir = try TempDir()
        tokenFile = dir.path("token")
        running = try CLI.start(["sandbox", "--port", "0", "--quiet", "--token-out", tokenFile] + extra)
        var found: String?
        let running = self.running
        let tokenFile = self.tokenFile
        _ = CLI.waitFor("the sandbox to print its URL", timeout: 60) {
            // The URL's line is whole once the next one (the token's) has begun.
            let out = running.stdout
            if out.contains("refresh token: "),
               let line = out.split(separator: "\n").first(where: { $0.contains("listening on ") }) {
                found = line.components(separatedBy: "listening on ").last.map { $0.trimmingCharacters(in: .whitespaces) }
            }
            return found != nil && FileManager.default.fileExists(atPath: tokenFile)
        }
        url = found ?? "http://127.0.0.1:1"
    }

    /// The sandbox's own counters (GET /_sandbox/stats).
    func stats() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: try HTTPGet.body(url + "/_sandbox/stats"))) as? [String: Any] ?? [:]
    }

    func items() throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: try HTTPGet.body(url + "/_sandbox/items"))) as? [[String: Any]] ?? []
    }

    /// A profile's lists (GET /_sandbox/lists): `liked`, `disliked`, `super_liked`, `watchlist`, each
    /// the sorted media ids in the seed form (`MV_TMDBID550`); the first profile's when `profileId` is nil.
    func lists(profileId: String? = nil) throws -> [String: [String]] {
        let query = profileId.map { "?profileId=" + $0 } ?? ""
        let object = (try JSONSerialization.jsonObject(with: try HTTPGet.body(url + "/_sandbox/lists" + query))) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? [String] }
    }

    /// Test-only damage: drops (`drop`) or duplicates (`duplicate`) `count` trakt entries chosen by
    /// `seed`; returns the entries affected.
    func damage(_ what: String, count: Int, seed: Int) throws -> [[String: Any]] {
        let body = try HTTPGet.body(url + "/_sandbox/history/\(what)?count=\(count)&seed=\(seed)", method: "POST")
        return (try JSONSerialization.jsonObject(with: body)) as? [[String: Any]] ?? []
    }

    var token: String { ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    deinit { running.stop() }
}

/// A minimal HTTP/1.0 GET over a loopback socket, to read the sandbox's counters without pulling an
/// HTTP client into the CLI tests.
enum HTTPGet {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func body(_ urlString: String, method: String = "GET") throws -> Data {
        guard let url = URL(string: urlString), let port = url.port, let host = url.host else { throw Failure(description: "bad url \(urlString)") }
        let fd = connectTCP(host: host, port: port)
        guard fd >= 0 else { throw Failure(description: "cannot connect to \(urlString)") }
        defer { close(fd) }
        // A receive timeout so a server that never answers fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let target = url.query.map { url.path + "?" + $0 } ?? url.path
        let request = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
            // Stop as soon as the whole body is here: the server may keep the connection open.
            if let split = response.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: response[..<split.lowerBound], as: UTF8.self).lowercased()
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                   let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
                   response.count - split.upperBound >= length {
                    break
                }
                if head.contains("transfer-encoding: chunked"), response.suffix(5) == Data("0\r\n\r\n".utf8) { break }
            }
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw Failure(description: "no HTTP answer") }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        let payload = Data(response[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { return dechunk(payload) }
        return payload
    }

    /// A connected IPv4 TCP socket (the caller closes it), or -1. A refused connect returns at once on loopback.
    static func connectTCP(host: String, port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let end = rest.index(start, offsetBy: size)
            out.append(rest[start..<end])
            rest = rest[min(rest.index(end, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex, rest.endIndex)...]
        }
        return out
    }
}
