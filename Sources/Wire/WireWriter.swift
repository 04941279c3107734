/// Appends big-endian fields to a growing byte array.
///
/// Length-prefixed structures are written by reserving the prefix with `beginLength`, writing the
/// body, and closing it with `endLength`, which fails rather than truncating when the body does
/// not fit the prefix.
///
/// Writes are `@inlinable` for the same reason as `WireReader`'s reads: encoders in other modules
/// inline them into their loops.
public struct WireWriter: Sendable {
    @usableFromInline var storage: [UInt8]

    /// Everything written so far.
    @inlinable public var bytes: [UInt8] { storage }

    public init(capacity: Int = 512) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { storage.count }

    @inlinable
    public mutating func write(_ value: UInt8) {
        storage.append(value)
    }

    @inlinable
    public mutating func write(_ value: UInt16) {
        storage.append(UInt8(truncatingIfNeeded: value >> 8))
        storage.append(UInt8(truncatingIfNeeded: value))
    }

    @inlinable
    public mutating func writeUInt24(_ value: UInt32) {
        storage.append(UInt8(truncatingIfNeeded: value >> 16))
        storage.append(UInt8(truncatingIfNeeded: value >> 8))
        storage.append(UInt8(truncatingIfNeeded: value))
    }

    @inlinable
    public mutating func write(_ value: UInt32) {
        writeBigEndian(UInt64(value), byteCount: 4)
    }

    @inlinable
    public mutating func writeUInt48(_ value: UInt64) {
        writeBigEndian(value, byteCount: 6)
    }

    @inlinable
    public mutating func write(_ value: UInt64) {
        writeBigEndian(value, byteCount: 8)
    }

    @inlinable
    mutating func writeBigEndian(_ value: UInt64, byteCount: Int) {
        for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
            storage.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    @inlinable
    public mutating func writeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var remaining = value
        for _ in 0..<(T.bitWidth / 8) {
            storage.append(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }

    @inlinable
    public mutating func write<Bytes: Sequence>(bytes other: Bytes) where Bytes.Element == UInt8 {
        storage.append(contentsOf: other)
    }

    /// Overwrites a 16-bit field written earlier (DNS section counts, for instance).
    @inlinable
    public mutating func setUInt16(_ value: UInt16, at position: Int) throws(WireError) {
        guard position >= 0, position + 2 <= storage.count else {
            throw WireError(offset: position, kind: .truncated(needed: 2, available: max(0, storage.count - position)))
        }
        storage[position] = UInt8(truncatingIfNeeded: value >> 8)
        storage[position + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// A reserved length prefix waiting for its body.
    public struct LengthMark: Sendable {
        @usableFromInline let position: Int
        @usableFromInline let width: LengthWidth

        @usableFromInline init(position: Int, width: LengthWidth) {
            self.position = position
            self.width = width
        }
    }

    @inlinable
    public mutating func beginLength(_ width: LengthWidth) -> LengthMark {
        let mark = LengthMark(position: storage.count, width: width)
        storage.append(contentsOf: repeatElement(0, count: width.rawValue))
        return mark
    }

    /// Fills in the prefix reserved by `mark` with the length of everything written since.
    @inlinable
    public mutating func endLength(_ mark: LengthMark) throws(WireError) {
        let bodyStart = mark.position + mark.width.rawValue
        let length = storage.count - bodyStart
        guard length <= mark.width.maximum else {
            throw WireError(offset: mark.position, kind: .lengthTooLarge(length: length, limit: mark.width.maximum))
        }
        for index in 0..<mark.width.rawValue {
            let shift = (mark.width.rawValue - 1 - index) * 8
            storage[mark.position + index] = UInt8(truncatingIfNeeded: length >> shift)
        }
    }
}
