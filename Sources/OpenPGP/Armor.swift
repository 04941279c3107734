import Wire

/// ASCII armor (RFC 9580 section 6): base64 between BEGIN and END lines, with an optional CRC24.
public enum Armor {
    public enum Kind: String, Sendable, CaseIterable {
        case message = "MESSAGE"
        case publicKey = "PUBLIC KEY BLOCK"
        case privateKey = "PRIVATE KEY BLOCK"
        case signature = "SIGNATURE"
    }

    /// Armors binary data. RFC 9580 drops the checksum, but GnuPG 2.2 and older Sequoia
    /// expect it on v4 data, so callers ask for it unless the data is v6 only.
    public static func encode(_ bytes: [UInt8], kind: Kind, checksum: Bool = true) -> String {
        var writer = ArmorWriter(kind: kind, checksum: checksum)
        var text: [UInt8] = []
        writer.update(bytes[...], into: &text)
        writer.finish(into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether data looks armored rather than binary: binary OpenPGP always starts with a byte
    /// whose high bit is set, armor with text.
    public static func isArmored(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first(where: { !isWhitespace($0) }) else { return false }
        return first & 0x80 == 0
    }

    /// Decodes the first armored block in `input`, skipping any text before it. This is
    /// `ArmorReader` fed the whole input.
    public static func decode(_ input: [UInt8]) throws(OpenPGPError) -> (kind: Kind, bytes: [UInt8]) {
        var reader = ArmorReader(acceptsBinary: false)
        let bytes = try reader.update(input[...]) + reader.finish()
        guard let kind = reader.kind else { throw .armor(line: 1, reason: "no \"-----BEGIN PGP …-----\" line") }
        return (kind, bytes)
    }

    /// Binary input as is, armored input decoded.
    public static func binary(_ input: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        isArmored(input) ? try decode(input).bytes : input
    }

    static func beginKind(_ line: ArraySlice<UInt8>) -> Kind? {
        Kind.allCases.first { line.elementsEqual("-----BEGIN PGP \($0.rawValue)-----".utf8) }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The index of the first line feed in `bytes`, looked for eight bytes at a time (armor is
    /// read line by line, so this scan touches every byte of the input).
    static func firstLineFeed(in bytes: ArraySlice<UInt8>) -> Int? {
        let found: Int? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            var offset = 0
            let ones: UInt64 = 0x0101_0101_0101_0101
            while offset + 8 <= buffer.count {
                // A zero byte in word ^ 0x0A… is a line feed; the lowest flagged byte is exact.
                let word =
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) ^ (ones &* 0x0A)
                let flags = (word &- ones) & ~word & (ones &* 0x80)
                if flags != 0 { return offset + flags.trailingZeroBitCount / 8 }
                offset += 8
            }
            while offset < buffer.count {
                if buffer[offset] == 0x0A { return offset }
                offset += 1
            }
            return nil
        }
        return found.map { bytes.startIndex + $0 }
    }

    static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = line.endIndex
        while end > line.startIndex, isWhitespace(line[end - 1]) { end -= 1 }
        return line[line.startIndex..<end]
    }
}

extension Armor {
    /// The armor kind for binary OpenPGP data, from its first packet.
    public static func kind(of bytes: [UInt8]) -> Kind {
        var reader = WireReader(bytes)
        guard let first = try? PacketFraming.readPacket(&reader) else { return .message }
        switch first.tag {
        case .secretKey: return .privateKey
        case .publicKey: return .publicKey
        case .signature: return .signature
        default: return .message
        }
    }

    /// Armors binary data with the label its first packet calls for, with a CRC24 unless that
    /// packet is a v6 key or signature (whose readers all follow RFC 9580).
    public static func encode(_ bytes: [UInt8]) -> String {
        var reader = WireReader(bytes)
        var isV6 = false
        if let first = try? PacketFraming.readPacket(&reader),
            [.secretKey, .publicKey, .signature].contains(first.tag)
        {
            isV6 = first.body.first == 6
        }
        return encode(bytes, kind: kind(of: bytes), checksum: !isV6)
    }
}

/// Armor written while the data is still arriving: whole 64-character lines as soon as there are
/// 48 bytes for them, the rest, the checksum and the END line at the end.
public struct ArmorWriter {
    private static let lineBytes = 48
    private let kind: Armor.Kind
    private let checksum: Bool
    private var crc = CRC24.checksum([UInt8]())
    /// Fewer than a line's bytes, waiting for the rest.
    private var pending: [UInt8] = []
    private var started = false

    public init(kind: Armor.Kind, checksum: Bool) {
        self.kind = kind
        self.checksum = checksum
    }

    public mutating func update(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        update(bytes[...], into: &output)
        return output
    }

    /// Appends the armor for `bytes` that can be written yet to `output`.
    public mutating func update(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        if !started {
            started = true
            output += "-----BEGIN PGP \(kind.rawValue)-----\n\n".utf8
        }
        if checksum { crc = CRC24.update(crc, with: bytes) }
        var rest = bytes
        if !pending.isEmpty {
            let take = min(Self.lineBytes - pending.count, rest.count)
            pending += rest.prefix(take)
            rest = rest.dropFirst(take)
            guard pending.count == Self.lineBytes else { return }
            Base64.encode(pending[...], into: &output)
            output.append(0x0A)
            pending.removeAll(keepingCapacity: true)
        }
        rest = rest.dropFirst(Base64.encodeLines(rest, lineBytes: Self.lineBytes, into: &output))
        pending += rest
    }

    public mutating func finish() -> [UInt8] {
        var output: [UInt8] = []
        finish(into: &output)
        return output
    }

    /// Appends the last line, the checksum and the END line to `output`.
    public mutating func finish(into output: inout [UInt8]) {
        update([], into: &output)
        if !pending.isEmpty {
            Base64.encode(pending[...], into: &output)
            output.append(0x0A)
            pending = []
        }
        if checksum {
            output.append(UInt8(ascii: "="))
            Base64.encode(
                [
                    UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8),
                    UInt8(truncatingIfNeeded: crc),
                ],
                into: &output)
            output.append(0x0A)
        }
        output += "-----END PGP \(kind.rawValue)-----\n".utf8
    }
}

/// Armor read while it is still arriving: the first armored block of the input, decoded line by
/// line (any text before it skipped, headers, CRLF and trailing spaces accepted, a CRC24 line
/// read past unchecked: RFC 9580 section 6.1 forbids rejecting data for its checksum, and the
/// packets carry their own integrity), or binary input passed through as it is when
/// `acceptsBinary`.
public struct ArmorReader {
    private enum State {
        case detect
        case binary
        case preamble
        case headers
        case body
        case done
    }

    /// Lines longer than this are refused, so that memory stays bounded.
    static let lineLimit = 1 << 20
    private let acceptsBinary: Bool
    private var state: State
    private var line: [UInt8] = []
    private var lineNumber = 0
    /// Leading whitespace of input not yet known to be armor or binary.
    private var held: [UInt8] = []
    private var base64: [UInt8] = []
    private var padded = false
    private var sawChecksum = false
    private var endLine: [UInt8] = []
    /// The kind named by the BEGIN line, once it has been read.
    public private(set) var kind: Armor.Kind?

    public init(acceptsBinary: Bool = true) {
        self.acceptsBinary = acceptsBinary
        state = acceptsBinary ? .detect : .preamble
    }

    /// Takes input; returns the binary data decoded so far.
    public mutating func update(_ bytes: ArraySlice<UInt8>) throws(OpenPGPError) -> [UInt8] {
        var rest = bytes
        if case .detect = state {
            guard let first = rest.firstIndex(where: { !Armor.isWhitespace($0) }) else {
                held += rest
                return []
            }
            if rest[first] & 0x80 != 0 {
                state = .binary
                let output = held + rest
                held = []
                return output
            }
            state = .preamble
            rest = held + rest
            held = []
        }
        switch state {
        case .binary: return Array(rest)
        case .done: return []
        default: break
        }
        var output: [UInt8] = []
        while let newline = Armor.firstLineFeed(in: rest) {
            if line.isEmpty {
                try endOfLine(rest[..<newline], &output)
            } else {
                line += rest[..<newline]
                try endOfLine(line[...], &output)
                line.removeAll(keepingCapacity: true)
            }
            rest = rest[(newline + 1)...]
            if case .done = state { return output }
        }
        line += rest
        guard line.count <= Self.lineLimit else {
            throw .armor(line: lineNumber + 1, reason: "a line longer than \(Self.lineLimit) bytes")
        }
        return output
    }

    /// Ends the input; throws unless a whole armored block (or binary data) was read.
    public mutating func finish() throws(OpenPGPError) -> [UInt8] {
        var output: [UInt8] = []
        switch state {
        case .detect:
            output = held
            held = []
        case .binary, .done:
            break
        case .preamble, .headers, .body:
            if !line.isEmpty { try endOfLine(line[...], &output) }
        }
        switch state {
        case .preamble:
            throw .armor(line: max(1, lineNumber), reason: "no \"-----BEGIN PGP …-----\" line")
        case .headers, .body:
            throw .armor(line: max(1, lineNumber), reason: "missing \"-----END PGP \(kind?.rawValue ?? "")-----\"")
        case .detect, .binary, .done:
            return output
        }
    }

    private mutating func endOfLine(_ line: ArraySlice<UInt8>, _ output: inout [UInt8]) throws(OpenPGPError) {
        lineNumber += 1
        let current = Armor.trimmed(line)
        switch state {
        case .detect, .binary, .done:
            return
        case .preamble:
            if let kind = Armor.beginKind(current) {
                self.kind = kind
                endLine = Array("-----END PGP \(kind.rawValue)-----".utf8)
                state = .headers
            }
        case .headers:
            // Armor headers ("Version: …", "Comment: …") run until the first blank line; some
            // writers omit the blank line, and then base64 starts straight away.
            if current.isEmpty {
                state = .body
            } else if !current.contains(UInt8(ascii: ":")) {
                state = .body
                try bodyLine(current, &output)
            }
        case .body:
            try bodyLine(current, &output)
        }
    }

    private mutating func bodyLine(_ current: ArraySlice<UInt8>, _ output: inout [UInt8]) throws(OpenPGPError) {
        if current.first == UInt8(ascii: "-") && current.elementsEqual(endLine) {
            try decodeBase64(&output)
            guard base64.isEmpty else { throw .armor(line: lineNumber, reason: "the body is not valid base64") }
            state = .done
        } else if current.first == UInt8(ascii: "="), current.count == 5 {
            try decodeBase64(&output)
            sawChecksum = true
        } else if current.starts(with: "-----".utf8) {
            throw .armor(line: lineNumber, reason: "expected \"-----END PGP \(kind?.rawValue ?? "")-----\"")
        } else {
            guard !sawChecksum else { throw .armor(line: lineNumber, reason: "data after the checksum") }
            guard !padded || current.isEmpty else {
                throw .armor(line: lineNumber, reason: "the body is not valid base64")
            }
            // The common case: whole groups on the line and none carried over, decoded straight
            // into the output (which checks them); otherwise the line waits for the rest.
            if base64.isEmpty, current.count % 4 == 0, Base64.decode(current, into: &output) {
                padded = current.last == UInt8(ascii: "=")
                return
            }
            guard Base64.isAlphabetOrPadding(current) else {
                throw .armor(line: lineNumber, reason: "not a base64 line")
            }
            base64 += current
            if base64.count >= 1 << 16 { try decodeBase64(&output) }
        }
    }

    /// Decodes the whole base64 groups collected so far.
    private mutating func decodeBase64(_ output: inout [UInt8]) throws(OpenPGPError) {
        let whole = base64.count / 4 * 4
        guard whole > 0 else { return }
        guard Base64.decode(base64[..<whole], into: &output) else {
            throw .armor(line: lineNumber, reason: "the body is not valid base64")
        }
        padded = base64[whole - 1] == UInt8(ascii: "=")
        base64.removeFirst(whole)
    }
}
