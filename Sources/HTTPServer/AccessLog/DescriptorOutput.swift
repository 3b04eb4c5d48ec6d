import Glibc

/// Log bytes written to a file descriptor with `write(2)`, retried after a partial
/// write or a signal.
public enum DescriptorOutput {
    /// Writes `bytes` whole, or with `inAtomicPieces` (a pipe, a terminal, a socket)
    /// in pieces of at most `PIPE_BUF` bytes cut after a newline, which the kernel
    /// writes atomically: no line then interleaves with another writer's (a longer
    /// line goes alone). A descriptor that fails (closed, full disk) loses the rest.
    public static func write(_ bytes: [UInt8], to fd: Int32, inAtomicPieces: Bool = false) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                var end = buffer.count
                if inAtomicPieces, end - offset > Int(PIPE_BUF) {
                    end = offset + Int(PIPE_BUF)
                    while end > offset, buffer[end - 1] != UInt8(ascii: "\n") { end -= 1 }
                    if end == offset {  // one line longer than PIPE_BUF: up to its end
                        end = offset + Int(PIPE_BUF)
                        while end < buffer.count, buffer[end - 1] != UInt8(ascii: "\n") { end += 1 }
                    }
                }
                while offset < end {
                    let written = Glibc.write(fd, buffer.baseAddress! + offset, end - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
