// The request parser's fuzz target. `scripts/fuzz.sh` builds it with `-sanitize=fuzzer` (and
// AddressSanitizer) and `-D FUZZING`: libFuzzer supplies `main` and calls
// `LLVMFuzzerTestOneInput` with generated inputs. In a plain debug build it is a replay tool:
// `RequestParserFuzzer FILE|DIR...` checks the same invariants on the given inputs (for
// example a crash artifact). A release build without `FUZZING` only says how to build it.
#if DEBUG || FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func requestParserFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    ParserInvariants.check(input)
    return 0
}
#endif

#if !FUZZING
import Glibc

@main
struct RequestParserFuzzerReplay {
    static func main() {
        #if DEBUG
        var checked = 0
        for argument in CommandLine.arguments.dropFirst() {
            for path in files(at: argument) {
                guard let input = read(path) else {
                    printError("cannot read \(path)")
                    exit(2)
                }
                ParserInvariants.check(input)
                checked += 1
            }
        }
        print("request parser invariants hold for \(checked) inputs")
        #else
        printError("RequestParserFuzzer: build it with scripts/fuzz.sh (libFuzzer), or in debug to replay inputs")
        exit(2)
        #endif
    }

    static func printError(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The regular files of a directory (not recursive), or the path itself.
    static func files(at path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entry.pointee.d_type == UInt8(DT_REG) { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes.append(contentsOf: chunk[0..<count])
            if count < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }
}
#endif
