/// Appends big-endian fields to a growing byte array.
///
/// Length-prefixed structures are written by reserving the prefix with `beginLength`, writing the
/// body, and closing it with `endLength`, which fails rather than truncating when the body does
/// not fit the prefix.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeUInt24(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: UInt32) {
        writeBigEndian(UInt64(value), byteCount: 4)
    }

    public mutating func writeUInt48(_ value: UInt64) {
        writeBigEndian(value, byteCount: 6)
    }

    public mutating func write(_ value: UInt64) {
        writeBigEndian(value, byteCount: 8)
    }

    private mutating func writeBigEndian(_ value: UInt64, byteCount: Int) {
        for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func writeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var remaining = value
        for _ in 0..<(T.bitWidth / 8) {
            bytes.append(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }

    public mutating func write<Bytes: Sequence>(bytes other: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Overwrites a 16-bit field written earlier (DNS section counts, for instance).
    public mutating func setUInt16(_ value: UInt16, at position: Int) throws(WireError) {
        guard position >= 0, position + 2 <= bytes.count else {
            throw WireError(offset: position, kind: .truncated(needed: 2, available: max(0, bytes.count - position)))
        }
        bytes[position] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[position + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// A reserved length prefix waiting for its body.
    public struct LengthMark: Sendable {
        fileprivate let position: Int
        fileprivate let width: LengthWidth
    }

    public mutating func beginLength(_ width: LengthWidth) -> LengthMark {
        let mark = LengthMark(position: bytes.count, width: width)
        bytes.append(contentsOf: repeatElement(0, count: width.rawValue))
        return mark
    }

    /// Fills in the prefix reserved by `mark` with the length of everything written since.
    public mutating func endLength(_ mark: LengthMark) throws(WireError) {
        let bodyStart = mark.position + mark.width.rawValue
        let length = bytes.count - bodyStart
        guard length <= mark.width.maximum else {
            throw WireError(offset: mark.position, kind: .lengthTooLarge(length: length, limit: mark.width.maximum))
        }
        for index in 0..<mark.width.rawValue {
            let shift = (mark.width.rawValue - 1 - index) * 8
            bytes[mark.position + index] = UInt8(truncatingIfNeeded: length >> shift)
        }
    }
}
