import Wire

/// One signature subpacket (RFC 9580 section 5.2.3.7): a type, the critical bit and a body.
public struct Subpacket: Sendable, Equatable {
    public var type: UInt8
    public var isCritical: Bool
    public var body: [UInt8]

    public init(type: UInt8, isCritical: Bool = false, body: [UInt8]) {
        self.type = type
        self.isCritical = isCritical
        self.body = body
    }
}

/// A subpacket type together with the type of its value, so that reading the creation time
/// can only give a time and writing key flags can only take flags.
public struct SubpacketKey<Value>: Sendable {
    public let type: UInt8
    let decode: @Sendable (ArraySlice<UInt8>) -> Value?
    let encode: @Sendable (Value) -> [UInt8]
}

extension SubpacketKey where Value == UInt32 {
    private static func time(_ type: UInt8) -> SubpacketKey<UInt32> {
        SubpacketKey(
            type: type,
            decode: { body in
                body.count == 4 ? body.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : nil
            },
            encode: { bigEndian($0) })
    }
    /// Seconds since 1970 when the signature was made.
    public static let creationTime = time(2)
    /// Seconds after its creation when the signature stops being valid; 0 means never.
    public static let signatureExpirationTime = time(3)
    /// Seconds after the key's creation when the key stops being valid; 0 means never.
    public static let keyExpirationTime = time(9)
}

extension SubpacketKey where Value == [UInt8] {
    private static func bytes(_ type: UInt8, count: ClosedRange<Int> = 0...Int.max) -> SubpacketKey<[UInt8]> {
        SubpacketKey(type: type, decode: { count.contains($0.count) ? Array($0) : nil }, encode: { $0 })
    }
    public static let preferredSymmetricAlgorithms = bytes(11)
    /// The eight-byte key ID of the key that made the signature.
    public static let issuerKeyID = bytes(16, count: 8...8)
    public static let preferredHashAlgorithms = bytes(21)
    public static let preferredCompressionAlgorithms = bytes(22)
    public static let keyServerPreferences = bytes(23)
    /// Bit flags: 0x01 certify, 0x02 sign, 0x04 encrypt communications, 0x08 encrypt storage.
    public static let keyFlags = bytes(27)
    /// Bit flags: 0x01 SEIPD v1, 0x08 SEIPD v2.
    public static let features = bytes(30)
    /// The key version, then the fingerprint of the key that made the signature.
    public static let issuerFingerprint = bytes(33, count: 21...33)
    /// Pairs of (symmetric algorithm, AEAD mode).
    public static let preferredAEADCiphersuites = bytes(39)
}

extension SubpacketKey where Value == Bool {
    public static let primaryUserID = SubpacketKey(
        type: 25, decode: { $0.count == 1 ? $0.first != 0 : nil }, encode: { [$0 ? 1 : 0] })
}

extension SubpacketKey where Value == Signature {
    /// A whole signature inside a subpacket: the back signature of a signing subkey.
    public static let embeddedSignature = SubpacketKey(
        type: 32, decode: { try? Signature.parse(Array($0)) }, encode: { $0.encoded })
}

/// Key flags (RFC 9580 section 5.2.3.29).
public struct KeyFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let certify = KeyFlags(rawValue: 0x01)
    public static let sign = KeyFlags(rawValue: 0x02)
    public static let encryptCommunications = KeyFlags(rawValue: 0x04)
    public static let encryptStorage = KeyFlags(rawValue: 0x08)
}

/// The hashed or unhashed subpackets of a signature, with the exact bytes they were read from,
/// since a signature hashes those bytes and not a re-encoding.
public struct SubpacketArea: Sendable, Equatable {
    public private(set) var subpackets: [Subpacket]
    public private(set) var encoded: [UInt8]

    public init(_ subpackets: [Subpacket] = []) {
        self.subpackets = subpackets
        var writer = WireWriter(capacity: 128)
        for subpacket in subpackets {
            PacketFraming.writeLength(subpacket.body.count + 1, into: &writer)
            writer.write(subpacket.type | (subpacket.isCritical ? 0x80 : 0))
            writer.write(bytes: subpacket.body)
        }
        encoded = writer.bytes
    }

    static func read(_ reader: inout WireReader) throws(WireError) -> SubpacketArea {
        let start = reader.offset
        var subpackets: [Subpacket] = []
        while !reader.isAtEnd {
            let lengthOffset = reader.offset
            let first = try reader.readUInt8()
            let length: Int
            switch first {
            case 0..<192: length = Int(first)
            case 192..<255: length = (Int(first) - 192) << 8 + Int(try reader.readUInt8()) + 192
            default: length = Int(try reader.readUInt32())
            }
            guard length >= 1 else { throw WireError(offset: lengthOffset, kind: .invalid("empty subpacket")) }
            var body = try reader.readSubReader(length: length)
            let type = try body.readUInt8()
            subpackets.append(
                Subpacket(type: type & 0x7F, isCritical: type & 0x80 != 0, body: Array(body.readRemainingBytes())))
        }
        var area = SubpacketArea()
        area.subpackets = subpackets
        area.encoded = Array(reader.bytes[start..<reader.offset])
        return area
    }

    public subscript<Value>(key: SubpacketKey<Value>) -> Value? {
        for subpacket in subpackets where subpacket.type == key.type {
            return key.decode(subpacket.body[...])
        }
        return nil
    }
}

extension Subpacket {
    public init<Value>(_ key: SubpacketKey<Value>, _ value: Value, isCritical: Bool = false) {
        self.init(type: key.type, isCritical: isCritical, body: key.encode(value))
    }
}
