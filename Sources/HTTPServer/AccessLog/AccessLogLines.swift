import Glibc

/// One I/O thread's access-log lines not yet handed to the ``AccessLogWriter``:
/// formatted straight into bytes (no `String` interpolation, no metadata
/// dictionary, no date formatter per line: the timestamp's text is made once a
/// second), then handed over once per loop iteration.
struct AccessLogLines {
    let format: AccessLogFormat
    /// The logger's label as it appears in a line (quoted and escaped for JSON).
    private let label: [UInt8]
    /// The event loop's index, as the loop's logger carries it (`event-loop`).
    private let loopDigits: [UInt8]
    /// The lines so far, and how many.
    var bytes: [UInt8] = []
    var count = 0
    /// The second the cached timestamp text is for.
    private var cachedSecond = Int.min
    private var cachedStamp: [UInt8] = []

    init(format: AccessLogFormat, label: String, loopIndex: Int) {
        self.format = format
        var label8: [UInt8] = []
        switch format {
        case .text: label8 = label.isEmpty ? [] : Array(" \(label)".utf8)
        case .json: JSONString.append(label, to: &label8)
        }
        self.label = label8
        var digits: [UInt8] = []
        Self.appendDecimal(UInt64(loopIndex), to: &digits)
        self.loopDigits = digits
        bytes.reserveCapacity(64 << 10)
        tick()
    }

    /// The wall-clock time lines get: read once per loop iteration (`tick()`), as the
    /// loop reads its monotonic clock, rather than once per line.
    private var now = timespec()

    /// Reads the clock for the lines of the loop iteration that begins.
    mutating func tick() {
        clock_gettime(CLOCK_REALTIME, &now)
        if now.tv_sec != cachedSecond { refreshStamp(now.tv_sec) }
    }

    /// Appends the line of one answered request.
    mutating func append(requestID: String, method: String, path: String, status: Int, durationNanos: UInt64, bytesSent: Int) {
        count += 1
        switch format {
        case .text:
            bytes.append(contentsOf: cachedStamp)
            bytes.append(contentsOf: " info".utf8)
            bytes.append(contentsOf: label)
            bytes.append(contentsOf: ": bytes=".utf8)
            Self.appendDecimal(UInt64(max(bytesSent, 0)), to: &bytes)
            bytes.append(contentsOf: " duration_ms=".utf8)
            Self.appendMilliseconds(durationNanos, to: &bytes)
            bytes.append(contentsOf: " event-loop=".utf8)
            bytes.append(contentsOf: loopDigits)
            bytes.append(contentsOf: " method=".utf8)
            bytes.append(contentsOf: method.utf8)
            bytes.append(contentsOf: " path=".utf8)
            bytes.append(contentsOf: path.utf8)
            bytes.append(contentsOf: " request-id=".utf8)
            bytes.append(contentsOf: requestID.utf8)
            bytes.append(contentsOf: " status=".utf8)
            Self.appendDecimal(UInt64(max(status, 0)), to: &bytes)
            bytes.append(contentsOf: " [HTTPServer] request\n".utf8)
        case .json:
            bytes.append(contentsOf: #"{"timestamp":""#.utf8)
            bytes.append(contentsOf: cachedStamp)
            Self.appendPadded(UInt64(now.tv_nsec / 1000), width: 6, to: &bytes)
            bytes.append(contentsOf: #"Z","level":"info","label":"#.utf8)
            bytes.append(contentsOf: label)
            bytes.append(contentsOf: #","message":"request","metadata":{"bytes":"#.utf8)
            Self.appendDecimal(UInt64(max(bytesSent, 0)), to: &bytes)
            bytes.append(contentsOf: #","duration_ms":""#.utf8)
            Self.appendMilliseconds(durationNanos, to: &bytes)
            bytes.append(contentsOf: #"","event-loop":"#.utf8)
            bytes.append(contentsOf: loopDigits)
            bytes.append(contentsOf: #","method":"#.utf8)
            JSONString.append(method, to: &bytes)
            bytes.append(contentsOf: #","path":"#.utf8)
            JSONString.append(path, to: &bytes)
            bytes.append(contentsOf: #","request-id":"#.utf8)
            JSONString.append(requestID, to: &bytes)
            bytes.append(contentsOf: #","status":"#.utf8)
            Self.appendDecimal(UInt64(max(status, 0)), to: &bytes)
            bytes.append(contentsOf: "}}\n".utf8)
        }
    }

    /// The timestamp's text up to the seconds: local time with its offset for text
    /// (`strftime`'s `%Y-%m-%dT%H:%M:%S%z`, as swift-log writes it); UTC for JSON,
    /// to which each line adds `.` and its microseconds.
    private mutating func refreshStamp(_ second: Int) {
        cachedSecond = second
        var time = time_t(second)
        var parts = tm()
        cachedStamp.removeAll(keepingCapacity: true)
        switch format {
        case .text:
            localtime_r(&time, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            cachedStamp.append(contentsOf: buffer[..<length].map { UInt8(bitPattern: $0) })
        case .json:
            gmtime_r(&time, &parts)
            Self.appendPadded(UInt64(parts.tm_year + 1900), width: 4, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: "-"))
            Self.appendPadded(UInt64(parts.tm_mon + 1), width: 2, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: "-"))
            Self.appendPadded(UInt64(parts.tm_mday), width: 2, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: "T"))
            Self.appendPadded(UInt64(parts.tm_hour), width: 2, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: ":"))
            Self.appendPadded(UInt64(parts.tm_min), width: 2, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: ":"))
            Self.appendPadded(UInt64(parts.tm_sec), width: 2, to: &cachedStamp)
            cachedStamp.append(UInt8(ascii: "."))
        }
    }

    /// "12.345": milliseconds with three decimals, without floating point.
    static func appendMilliseconds(_ nanoseconds: UInt64, to out: inout [UInt8]) {
        let micros = nanoseconds / 1000
        appendDecimal(micros / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(micros % 1000, width: 3, to: &out)
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        ResponseEncoder.appendDecimal(Int(value), to: &out)
    }

    /// `value` in decimal, zero-padded on the left to `width` digits.
    static func appendPadded(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        for _ in digits..<max(digits, width) { out.append(UInt8(ascii: "0")) }
        ResponseEncoder.appendDecimal(Int(value), to: &out)
    }
}
