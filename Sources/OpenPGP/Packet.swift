import Wire

/// Packet types (RFC 9580 section 5).
public enum PacketTag: UInt8, Sendable {
    case publicKeyEncryptedSessionKey = 1
    case signature = 2
    case symmetricKeyEncryptedSessionKey = 3
    case onePassSignature = 4
    case secretKey = 5
    case publicKey = 6
    case secretSubkey = 7
    case compressedData = 8
    case symmetricallyEncryptedData = 9
    case marker = 10
    case literalData = 11
    case trust = 12
    case userID = 13
    case publicSubkey = 14
    case userAttribute = 17
    case symmetricallyEncryptedIntegrityProtectedData = 18
    case modificationDetectionCode = 19
    case aeadEncryptedData = 20
    case padding = 21

    /// Only these may be split with partial body lengths (RFC 9580 section 4.2.1.4).
    var allowsPartialLengths: Bool {
        switch self {
        case .literalData, .compressedData, .symmetricallyEncryptedData,
            .symmetricallyEncryptedIntegrityProtectedData, .aeadEncryptedData:
            return true
        default:
            return false
        }
    }
}

/// One packet: its type and its body with the framing removed.
public struct Packet: Sendable, Equatable {
    /// The raw packet type, so that unknown types survive a round trip.
    public var tagValue: UInt8
    public var body: [UInt8]
    /// Absolute offset of the body in the input it was read from, so errors inside the body can
    /// name a position in the whole input. Bodies split with partial lengths report their start.
    public var bodyOffset: Int

    public init(_ tag: PacketTag, body: [UInt8]) {
        self.init(tagValue: tag.rawValue, body: body)
    }

    public init(tagValue: UInt8, body: [UInt8], bodyOffset: Int = 0) {
        self.tagValue = tagValue
        self.body = body
        self.bodyOffset = bodyOffset
    }

    public var tag: PacketTag? { PacketTag(rawValue: tagValue) }

    /// A reader over the body whose errors carry offsets in the original input.
    func parse<T>(_ body: (inout WireReader) throws(WireError) -> T) throws(OpenPGPError) -> T {
        var reader = WireReader(self.body)
        do {
            let value = try body(&reader)
            try reader.expectEnd()
            return value
        } catch {
            throw .malformed(WireError(offset: error.offset + bodyOffset, kind: error.kind))
        }
    }
}

/// Packet framing: the old (RFC 1991) and new (RFC 4880) header formats and partial body lengths.
public enum PacketFraming {
    /// Every packet in `bytes`, which must end at a packet boundary.
    public static func packets(_ bytes: [UInt8]) throws(OpenPGPError) -> [Packet] {
        var reader = WireReader(bytes)
        var packets: [Packet] = []
        do {
            while !reader.isAtEnd {
                packets.append(try readPacket(&reader))
            }
        } catch {
            throw .malformed(error)
        }
        return packets
    }

    public static func readPacket(_ reader: inout WireReader) throws(WireError) -> Packet {
        let headerOffset = reader.offset
        let header = try reader.readUInt8()
        guard header & 0x80 != 0 else {
            throw WireError(
                offset: headerOffset, kind: .invalid("packet header without its high bit (not OpenPGP data)"))
        }
        if header & 0x40 == 0 {
            return try readOldFormat(&reader, header: header)
        }
        let tagValue = header & 0x3F
        var body: [UInt8] = []
        var bodyOffset = reader.offset
        var isFirstChunk = true
        while true {
            let lengthOffset = reader.offset
            let first = try reader.readUInt8()
            switch first {
            case 0..<192:
                return try finish(&reader, tagValue, &body, Int(first), isFirstChunk, &bodyOffset)
            case 192..<224:
                let second = try reader.readUInt8()
                let length = (Int(first) - 192) << 8 + Int(second) + 192
                return try finish(&reader, tagValue, &body, length, isFirstChunk, &bodyOffset)
            case 255:
                let length = Int(try reader.readUInt32())
                return try finish(&reader, tagValue, &body, length, isFirstChunk, &bodyOffset)
            default:
                guard PacketTag(rawValue: tagValue)?.allowsPartialLengths == true else {
                    throw WireError(
                        offset: lengthOffset, kind: .invalid("partial body length in a packet of type \(tagValue)"))
                }
                let chunk = try reader.readBytes(1 << Int(first & 0x1F))
                if isFirstChunk { bodyOffset = chunk.startIndex }
                isFirstChunk = false
                body.append(contentsOf: chunk)
            }
        }
    }

    private static func finish(
        _ reader: inout WireReader, _ tagValue: UInt8, _ body: inout [UInt8], _ length: Int, _ isFirstChunk: Bool,
        _ bodyOffset: inout Int
    ) throws(WireError) -> Packet {
        let chunk = try reader.readBytes(length)
        if isFirstChunk { bodyOffset = chunk.startIndex }
        body.append(contentsOf: chunk)
        return Packet(tagValue: tagValue, body: body, bodyOffset: bodyOffset)
    }

    private static func readOldFormat(_ reader: inout WireReader, header: UInt8) throws(WireError) -> Packet {
        let tagValue = (header >> 2) & 0x0F
        let length: Int
        switch header & 0x03 {
        case 0: length = Int(try reader.readUInt8())
        case 1: length = Int(try reader.readUInt16())
        case 2: length = Int(try reader.readUInt32())
        default: length = reader.remaining  // indeterminate: the rest of the input
        }
        let body = try reader.readBytes(length)
        return Packet(tagValue: tagValue, body: Array(body), bodyOffset: body.startIndex)
    }

    /// Writes a packet in the new format with a definite length.
    public static func write(_ packet: Packet, into writer: inout WireWriter) {
        writer.write(0xC0 | (packet.tagValue & 0x3F))
        writeLength(packet.body.count, into: &writer)
        writer.write(bytes: packet.body)
    }

    public static func encode(_ packets: [Packet]) -> [UInt8] {
        var writer = WireWriter(capacity: packets.reduce(0) { $0 + $1.body.count + 6 })
        for packet in packets { write(packet, into: &writer) }
        return writer.bytes
    }

    /// A new-format definite length (RFC 9580 section 4.2.1).
    public static func writeLength(_ length: Int, into writer: inout WireWriter) {
        switch length {
        case 0..<192:
            writer.write(UInt8(length))
        case 192..<8384:
            let value = length - 192
            writer.write(UInt8(value >> 8 + 192))
            writer.write(UInt8(truncatingIfNeeded: value))
        default:
            writer.write(UInt8(255))
            writer.write(UInt32(truncatingIfNeeded: length))
        }
    }
}

extension WireReader {
    /// A multiprecision integer: a bit count, then the big-endian bytes (RFC 9580 section 3.2).
    mutating func readMPI() throws(WireError) -> [UInt8] {
        let bits = Int(try readUInt16())
        return Array(try readBytes((bits + 7) / 8))
    }
}

extension WireWriter {
    /// Writes a multiprecision integer, dropping leading zero bytes as the encoding requires.
    mutating func writeMPI<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        let significant = value.drop { $0 == 0 }
        guard let first = significant.first else {
            write(UInt16(0))
            return
        }
        let bits = (significant.count - 1) * 8 + (8 - first.leadingZeroBitCount)
        write(UInt16(bits))
        write(bytes: significant)
    }
}
