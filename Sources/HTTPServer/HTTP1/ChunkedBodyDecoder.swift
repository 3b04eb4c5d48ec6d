/// Decodes a chunked request body (RFC 9112 §7.1), byte by byte, into the request's body.
///
/// A state machine of its own, apart from the head parser: it sees only the bytes after the
/// header section, holds no buffer (data bytes are appended to the caller's body as they
/// come), and its outcome depends only on the byte sequence, never on how it was split.
/// Extensions and trailer fields are validated and discarded, within the limits.
struct ChunkedBodyDecoder {
    enum Outcome {
        case incomplete
        case complete
        case failed(HTTPParseError.Reason)
    }

    private enum State {
        case size, sizeWhitespace, sizeLF
        // chunk-ext, RFC 9112 §7.1.1 (see ``extensionTransition(_:_:)``).
        case extensionBeforeName, extensionName, extensionAfterName, extensionBeforeValue
        case extensionToken, extensionQuoted, extensionQuotedPair, extensionQuotedEnd, extensionAfterValue
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF

        /// States in which CRLF may end the chunk-size line: right after an extension's name or
        /// value, never after whitespace (BWS only precedes ";" or "=").
        var endsChunkExtension: Bool {
            switch self {
            case .extensionName, .extensionToken, .extensionQuotedEnd: return true
            default: return false
            }
        }
    }

    /// The most hex digits of a chunk size, leading zeros included (16 digits hold any 64-bit
    /// size). RFC 9112 §7.1 sets no bound, but an endless run of zeros is not a chunk size.
    static let maxChunkSizeDigits = 16

    private var state = State.size
    private var chunkSize = 0
    private var chunkSizeDigits = 0
    private var chunkExtensionLength = 0
    private var trailerBytes = 0
    /// Data bytes of the current chunk not yet received.
    private var remaining = 0

    init() {}

    /// Decodes from the start of `input` (every byte not consumed yet), appending chunk data
    /// to `body`; returns the outcome and how many bytes it consumed.
    ///
    ///     chunked-body = *chunk last-chunk trailer-section CRLF      (RFC 9112 §7.1)
    ///     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    ///     chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    mutating func decode(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8], limits: HTTPServer.Limits
    ) -> (Outcome, Int) {
        var index = 0
        while index < input.count {
            if case .data = state {
                let count = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + count)]))
                index += count
                remaining -= count
                if remaining == 0 { state = .dataCR }
                continue
            }
            let byte = input[index]
            index += 1
            switch state {
            case .size:
                if let digit = ASCII.hexValue(byte) {
                    chunkSize = chunkSize &* 16 &+ digit
                    chunkSizeDigits += 1
                    if chunkSizeDigits > Self.maxChunkSizeDigits { return (.failed(.invalidChunkSize), index) }
                    // The size is checked digit by digit, so it can never overflow: the budget
                    // is far below Int.max / 16.
                    if chunkSize > limits.maxBodyBytes - body.count { return (.failed(.bodyTooLarge), index) }
                } else if chunkSizeDigits > 0 && ASCII.isWhitespace(byte) {
                    state = .sizeWhitespace
                    chunkExtensionLength += 1
                } else if chunkSizeDigits > 0 && byte == ASCII.semicolon {
                    state = .extensionBeforeName
                } else if chunkSizeDigits > 0 && byte == ASCII.cr {
                    state = .sizeLF
                } else {
                    return (.failed(.invalidChunkSize), index)
                }
            case .sizeWhitespace:
                // chunk = chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" ... ): whitespace
                // after the size is the BWS of an extension, so a ";" must follow. "5 \r\n" is
                // not a chunk-size line (one more way for two parsers to disagree on framing).
                chunkExtensionLength += 1
                if chunkExtensionLength > limits.maxChunkExtensionLength {
                    return (.failed(.chunkExtensionTooLong), index)
                }
                if ASCII.isWhitespace(byte) {
                } else if byte == ASCII.semicolon {
                    state = .extensionBeforeName
                } else {
                    return (.failed(.invalidChunkSize), index)
                }
            case .extensionBeforeName, .extensionName, .extensionAfterName, .extensionBeforeValue,
                 .extensionToken, .extensionQuoted, .extensionQuotedPair, .extensionQuotedEnd, .extensionAfterValue:
                // Extensions are ignored (RFC 9112 §7.1.1: "A recipient MUST ignore
                // unrecognized chunk extensions"), but they must be well-formed and bounded.
                if byte == ASCII.cr, state.endsChunkExtension {
                    state = .sizeLF
                    continue
                }
                chunkExtensionLength += 1
                if chunkExtensionLength > limits.maxChunkExtensionLength {
                    return (.failed(.chunkExtensionTooLong), index)
                }
                guard let next = Self.extensionTransition(state, byte) else {
                    return (.failed(.invalidChunkExtension), index)
                }
                state = next
            case .sizeLF:
                guard byte == ASCII.lf else { return (.failed(.invalidChunk), index) }
                if chunkSize == 0 {
                    state = .trailerLineStart  // last-chunk
                } else {
                    remaining = chunkSize
                    state = .data
                }
                chunkSize = 0
                chunkSizeDigits = 0
                chunkExtensionLength = 0
            case .data:
                break  // handled above
            case .dataCR:
                guard byte == ASCII.cr else { return (.failed(.invalidChunk), index) }
                state = .dataLF
            case .dataLF:
                guard byte == ASCII.lf else { return (.failed(.invalidChunk), index) }
                state = .size
            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
                // RFC 9112 §7.1.2: trailer fields are parsed as field lines; we validate and
                // discard them (none is meaningful to this server), within a size limit.
                trailerBytes += 1
                if trailerBytes > limits.maxTrailerBytes { return (.failed(.trailerSectionTooLarge), index) }
                switch state {
                case .trailerLineStart:
                    if byte == ASCII.cr {
                        state = .finalLF
                    } else if ASCII.isTokenChar(byte) {
                        state = .trailerName
                    } else {
                        // Includes obs-fold (leading whitespace, RFC 9112 §5.2) and bare LF.
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerName:
                    if byte == ASCII.colon {
                        state = .trailerValue
                    } else if !ASCII.isTokenChar(byte) {
                        // Includes whitespace before the colon (RFC 9112 §5.1).
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerValue:
                    if byte == ASCII.cr {
                        state = .trailerLF
                    } else if !ASCII.isFieldValueChar(byte) {
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerLF:
                    guard byte == ASCII.lf else { return (.failed(.invalidTrailer), index) }
                    state = .trailerLineStart
                case .finalLF:
                    guard byte == ASCII.lf else { return (.failed(.invalidTrailer), index) }
                    return (.complete, index)
                default:
                    break
                }
            }
        }
        return (.incomplete, index)
    }

    /// One step of the chunk-ext grammar (RFC 9112 §7.1.1), CR excluded:
    ///
    ///     chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    ///     chunk-ext-name = token
    ///     chunk-ext-val  = token / quoted-string
    ///     quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE          (RFC 9110 §5.6.4)
    ///     qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    ///     quoted-pair    = "\\" ( HTAB / SP / VCHAR / obs-text )
    ///
    /// Returns the next state, or nil when the byte cannot continue the extension. Bare CR,
    /// LF, NUL and other controls are never valid here.
    private static func extensionTransition(_ state: State, _ byte: UInt8) -> State? {
        let whitespace = ASCII.isWhitespace(byte)
        let token = ASCII.isTokenChar(byte)
        switch state {
        case .extensionBeforeName:
            if whitespace { return state }
            return token ? .extensionName : nil
        case .extensionName:
            if token { return state }
            if whitespace { return .extensionAfterName }
            if byte == ASCII.equals { return .extensionBeforeValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionAfterName:
            if whitespace { return state }
            if byte == ASCII.equals { return .extensionBeforeValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionBeforeValue:
            if whitespace { return state }
            if byte == ASCII.doubleQuote { return .extensionQuoted }
            return token ? .extensionToken : nil
        case .extensionToken:
            if token { return state }
            if whitespace { return .extensionAfterValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionQuoted:
            if byte == ASCII.doubleQuote { return .extensionQuotedEnd }
            if byte == ASCII.backslash { return .extensionQuotedPair }
            return ASCII.isFieldValueChar(byte) ? state : nil  // the rest of qdtext
        case .extensionQuotedPair:
            return ASCII.isFieldValueChar(byte) ? .extensionQuoted : nil
        case .extensionQuotedEnd:
            if whitespace { return .extensionAfterValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionAfterValue:
            if whitespace { return state }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        default:
            return nil
        }
    }
}
