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
        var text = "-----BEGIN PGP \(kind.rawValue)-----\n\n"
        let encoded = Base64.encode(bytes)
        var start = 0
        while start < encoded.count {
            let end = min(start + 64, encoded.count)
            text += String(decoding: encoded[start..<end], as: UTF8.self)
            text += "\n"
            start = end
        }
        if checksum {
            let crc = CRC24.checksum(bytes)
            let crcBytes = [
                UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8),
                UInt8(truncatingIfNeeded: crc),
            ]
            text += "=" + String(decoding: Base64.encode(crcBytes), as: UTF8.self) + "\n"
        }
        text += "-----END PGP \(kind.rawValue)-----\n"
        return text
    }

    /// Whether data looks armored rather than binary: binary OpenPGP always starts with a byte
    /// whose high bit is set, armor with text.
    public static func isArmored(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first(where: { !isWhitespace($0) }) else { return false }
        return first & 0x80 == 0
    }

    /// Decodes the first armored block in `input`, skipping any text before it.
    public static func decode(_ input: [UInt8]) throws(OpenPGPError) -> (kind: Kind, bytes: [UInt8]) {
        let lines = splitLines(input)
        var index = 0
        while index < lines.count, beginKind(lines[index]) == nil {
            index += 1
        }
        guard index < lines.count, let kind = beginKind(lines[index]) else {
            throw .armor(line: max(1, lines.count), reason: "no \"-----BEGIN PGP …-----\" line")
        }
        index += 1
        // Armor headers ("Version: …", "Comment: …") run until the first blank line.
        while index < lines.count, !lines[index].isEmpty {
            guard lines[index].contains(UInt8(ascii: ":")) else {
                // Some writers omit the blank line; then base64 starts straight away.
                break
            }
            index += 1
        }
        if index < lines.count, lines[index].isEmpty { index += 1 }
        var base64: [UInt8] = []
        var checksum: (line: Int, value: [UInt8])?
        let endLine = Array("-----END PGP \(kind.rawValue)-----".utf8)
        while true {
            guard index < lines.count else {
                throw .armor(line: lines.count, reason: "missing \"-----END PGP \(kind.rawValue)-----\"")
            }
            let line = lines[index]
            if line.elementsEqual(endLine) { break }
            if line.first == UInt8(ascii: "="), line.count == 5 {
                guard let value = Base64.decode(Array(line.dropFirst())) else {
                    throw .armor(line: index + 1, reason: "the checksum line is not base64")
                }
                checksum = (index + 1, value)
            } else if line.starts(with: Array("-----".utf8)) {
                throw .armor(line: index + 1, reason: "expected \"-----END PGP \(kind.rawValue)-----\"")
            } else {
                guard checksum == nil else { throw .armor(line: index + 1, reason: "data after the checksum") }
                guard line.allSatisfy(Base64.isAlphabetOrPadding) else {
                    throw .armor(line: index + 1, reason: "not a base64 line")
                }
                base64.append(contentsOf: line)
            }
            index += 1
        }
        guard let bytes = Base64.decode(base64) else {
            throw .armor(line: index + 1, reason: "the body is not valid base64")
        }
        if let checksum {
            let crc = CRC24.checksum(bytes)
            let expected = [
                UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8),
                UInt8(truncatingIfNeeded: crc),
            ]
            guard checksum.value == expected else {
                throw .armor(line: checksum.line, reason: "the CRC24 checksum does not match the data")
            }
        }
        return (kind, bytes)
    }

    /// Binary input as is, armored input decoded.
    public static func binary(_ input: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        isArmored(input) ? try decode(input).bytes : input
    }

    private static func beginKind(_ line: ArraySlice<UInt8>) -> Kind? {
        Kind.allCases.first { line.elementsEqual("-----BEGIN PGP \($0.rawValue)-----".utf8) }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Lines without their terminators and trailing whitespace (which armor ignores).
    private static func splitLines(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for index in input.indices where input[index] == 0x0A {
            lines.append(trimmed(input[start..<index]))
            start = index + 1
        }
        if start < input.count { lines.append(trimmed(input[start...])) }
        return lines
    }

    private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
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
    private let kind: Armor.Kind
    private let checksum: Bool
    private var crc = CRC24.checksum([UInt8]())
    private var pending: [UInt8] = []
    private var started = false

    public init(kind: Armor.Kind, checksum: Bool) {
        self.kind = kind
        self.checksum = checksum
    }

    public mutating func update(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        if !started {
            started = true
            output += Array("-----BEGIN PGP \(kind.rawValue)-----\n\n".utf8)
        }
        if checksum { crc = CRC24.update(crc, with: bytes) }
        pending += bytes
        let whole = pending.count / 48 * 48
        var start = 0
        while start < whole {
            output += Base64.encode(pending[start..<(start + 48)])
            output.append(0x0A)
            start += 48
        }
        pending.removeFirst(whole)
        return output
    }

    public mutating func finish() -> [UInt8] {
        var output = update([])
        if !pending.isEmpty {
            output += Base64.encode(pending)
            output.append(0x0A)
        }
        if checksum {
            let crcBytes = [
                UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8),
                UInt8(truncatingIfNeeded: crc),
            ]
            output += Array("=".utf8) + Base64.encode(crcBytes) + [0x0A]
        }
        output += Array("-----END PGP \(kind.rawValue)-----\n".utf8)
        return output
    }
}
