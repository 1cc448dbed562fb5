import FuzzDriver
import ServerFuzzing

// libFuzzer calls this for every input (built with `-sanitize=fuzzer -D FUZZING`; docs/fuzzing.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    ServerFuzzing.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main
enum ServerFuzzMain {
    static func main() {
        FuzzDriver.main(testOneInput: fuzzOneInput,
                        usage: ["usage: trakt2discovr-server-fuzz FILE|FOLDER...   (replays inputs through the server-answer fuzz harness)",
                                "the fuzzing build: scripts/fuzz.sh --target server (docs/fuzzing.md)"]) { bytes in
            "\(ServerFuzzing.run(bytes)) read, invariants hold"
        }
    }
}
