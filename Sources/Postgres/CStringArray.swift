#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Calls `body` with a C array of C strings (nil entries stay NULL), optionally
/// followed by a terminating NULL.
///
/// The strings are laid out in one NUL-separated buffer and the pointers point into
/// it; both the buffer and the pointer array live only for the duration of their
/// `withUnsafeBufferPointer` scopes, which enclose `body`. That is the whole point:
/// libpq reads the pointers during the call, and nothing can keep them afterwards.
/// Callers must have rejected strings containing NUL bytes (they would be cut short).
func withCStringArray<Result, Failure: Error>(
    _ strings: [String?],
    nullTerminated: Bool,
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws(Failure) -> Result
) throws(Failure) -> Result {
    var buffer: [CChar] = []
    buffer.reserveCapacity(strings.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 1 })
    var offsets: [Int?] = []
    offsets.reserveCapacity(strings.count)
    for string in strings {
        guard let string else {
            offsets.append(nil)
            continue
        }
        offsets.append(buffer.count)
        var contiguous = string
        contiguous.withUTF8 { bytes in
            buffer.append(contentsOf: UnsafeRawBufferPointer(bytes).bindMemory(to: CChar.self))
        }
        buffer.append(0)
    }
    let outcome: Swift.Result<Result, Failure> = buffer.withUnsafeBufferPointer { characters in
        var pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
            offset.map { characters.baseAddress! + $0 }
        }
        if nullTerminated { pointers.append(nil) }
        return pointers.withUnsafeBufferPointer { array in
            do throws(Failure) {
                return .success(try body(array.baseAddress))
            } catch {
                return .failure(error)
            }
        }
    }
    return try outcome.get()
}

/// Whether `string` holds a NUL byte, which a C string would cut short there.
/// (`memchr` over the UTF-8 bytes: statements run to kilobytes, checked on every execution.)
func containsNUL(_ string: String) -> Bool {
    var contiguous = string
    return contiguous.withUTF8 { bytes in
        guard let base = bytes.baseAddress else { return false }
        return memchr(base, 0, bytes.count) != nil
    }
}
