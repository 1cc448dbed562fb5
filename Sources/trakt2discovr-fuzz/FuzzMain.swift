import Foundation
import ReaderFuzzing

// libFuzzer calls this for every input (built with `-sanitize=fuzzer -D FUZZING`; see docs/fuzzing.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    ReaderFuzzing.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if FUZZING
// libFuzzer's own driver (in the runtime linked by -sanitize=fuzzer). SwiftPM names the program's
// entry point itself, so libFuzzer's `main` cannot be used: ours hands the command line to the driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif

@main
enum FuzzMain {
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
            print("usage: trakt2discovr-fuzz FILE|FOLDER...   (replays inputs through the reader's fuzz harness)")
            print("the fuzzing build: scripts/fuzz.sh (docs/fuzzing.md)")
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
            let outcome = data.withUnsafeBytes { ReaderFuzzing.run($0) }
            switch outcome {
            case .read(let records): print("\(file): read, \(records) records")
            case .refused(let why): print("\(file): refused: \(why)")
            }
        }
    }
}
