import FuzzDriver
import ReaderFuzzing

// libFuzzer calls this for every input (built with `-sanitize=fuzzer -D FUZZING`; see docs/fuzzing.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    ReaderFuzzing.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.main(testOneInput: fuzzOneInput,
                        usage: ["usage: trakt2discovr-fuzz FILE|FOLDER...   (replays inputs through the reader's fuzz harness)",
                                "the fuzzing build: scripts/fuzz.sh (docs/fuzzing.md)"]) { bytes in
            switch ReaderFuzzing.run(bytes) {
            case .read(let records): return "read, \(records) records"
            case .refused(let why): return "refused: \(why)"
            }
        }
    }
}
