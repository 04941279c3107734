/// Why bytes could not be decoded or encoded, and where.
///
/// Every binary protocol in Quercus reports decoding failures as a `WireError`, so an error
/// message always names the byte offset at which the input stopped making sense.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The input ended while `needed` more bytes were expected and only `available` remained.
        case truncated(needed: Int, available: Int)
        /// A structure ended with `count` bytes not consumed.
        case trailingBytes(count: Int)
        /// A length field or an encoded length exceeds what its field or its protocol allows.
        case lengthTooLarge(length: Int, limit: Int)
        /// A protocol rule rejected a value; the reason says which.
        case invalid(String)
    }

    /// Offset from the start of the whole input (not of a sub-reader).
    public var offset: Int
    public var kind: Kind

    public init(offset: Int, kind: Kind) {
        self.offset = offset
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .truncated(let needed, let available):
            return "truncated at offset \(offset): needed \(needed) bytes, \(available) available"
        case .trailingBytes(let count):
            return "\(count) unexpected trailing bytes at offset \(offset)"
        case .lengthTooLarge(let length, let limit):
            return "length \(length) at offset \(offset) exceeds the limit of \(limit)"
        case .invalid(let reason):
            return "invalid input at offset \(offset): \(reason)"
        }
    }
}

/// How many bytes a length prefix occupies, big-endian.
public enum LengthWidth: Int, Sendable, CaseIterable {
    case uint8 = 1
    case uint16 = 2
    case uint24 = 3
    case uint32 = 4

    /// The largest length the prefix can express.
    @inlinable public var maximum: Int {
        switch self {
        case .uint8: return 0xFF
        case .uint16: return 0xFFFF
        case .uint24: return 0xFF_FFFF
        case .uint32: return 0xFFFF_FFFF
        }
    }
}
