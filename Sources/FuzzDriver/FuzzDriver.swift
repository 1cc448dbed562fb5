import Foundation

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

/// The `main` of both fuzz executables (`trakt2discovr-fuzz`, `trakt2discovr-server-fuzz`; see
/// docs/fuzzing.md). Built with `-sanitize=fuzzer -D FUZZING` it runs libFuzzer on `testOneInput`
/// (the program's own `LLVMFuzzerTestOneInput`); otherwise it replays files and folders through
/// `replay`, which says in a few words what the harness made of one input.
public enum FuzzDriver {
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    public static func main(testOneInput: TestOneInput, usage: [String],
                            replay: (UnsafeRawBufferPointer) -> String) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
        #else
        replayFiles(usage: usage, replay)
        exit(0)
        #endif
    }

    /// Without libFuzzer: replays files (a crash input, a corpus folder) through the same harness.
    static func replayFiles(usage: [String], _ replay: (UnsafeRawBufferPointer) -> String) {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty, !arguments.contains("--help") else {
            usage.forEach { print($0) }
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
            print("\(file): " + data.withUnsafeBytes { replay($0) })
        }
    }
}
