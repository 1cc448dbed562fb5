import Foundation
import ServerFuzzing

// libFuzzer calls this for every input (built with `-sanitize=fuzzer -D FUZZING`; docs/fuzzing.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    ServerFuzzing.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif

@main
enum ServerFuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        replay()
        #endif
    }

    /// Without libFuzzer: replays files (a crash input, a corpus folder) through the same harness.
    static func replay() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty, !arguments.contains("--help") else {
            print("usage: trakt2discovr-server-fuzz FILE|FOLDER...   (replays inputs through the server-answer fuzz harness)")
            print("the fuzzing build: scripts/fuzz.sh --target server (docs/fuzzing.md)")
            exit(arguments.isEmpty ? 64 : 0)
        }
        var files: [String] = []
        for path in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(path): no such file or folder\n".utf8))
                exit(66)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let reader = data.withUnsafeBytes { ServerFuzzing.run($0) }
            print("\(file): \(reader) read, invariants hold")
        }
    }
}
