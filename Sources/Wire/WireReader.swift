/// A cursor over bytes that checks every read against the end of its window and never traps.
///
/// A reader sees a window `[offset, end)` of shared storage. Length-prefixed structures are read
/// through sub-readers whose window is the prefixed body, so a malformed inner length can never
/// read past its outer structure. Offsets are always absolute (from the start of the storage), so
/// errors point at the byte a person would look at in a hex dump.
///
/// The reads are `@inlinable` so that a decoder in another module compiles them into its own loop:
/// measured with `quercus-bench wire`, an opaque call per field cost four times an unchecked walk.
public struct WireReader: Sendable {
    public let bytes: [UInt8]
    /// Absolute position one past the last byte this reader may read.
    public let end: Int
    @usableFromInline var position: Int

    /// Absolute position of the next byte to read.
    @inlinable public var offset: Int { position }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    @usableFromInline
    init(bytes: [UInt8], offset: Int, end: Int) {
        self.bytes = bytes
        self.position = offset
        self.end = end
    }

    @inlinable public var remaining: Int { end - offset }
    @inlinable public var isAtEnd: Bool { offset >= end }

    /// An error at the current position, for protocol rules the reader itself cannot know.
    public func invalid(_ reason: String) -> WireError {
        WireError(offset: offset, kind: .invalid(reason))
    }

    @inlinable @inline(__always)
    func require(_ count: Int) throws(WireError) {
        guard count >= 0, count <= end - offset else {
            throw WireError(offset: offset, kind: .truncated(needed: count, available: end - offset))
        }
    }

    @inlinable
    public mutating func readUInt8() throws(WireError) -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[offset]
    }

    @inlinable
    public func peekUInt8() throws(WireError) -> UInt8 {
        try require(1)
        return bytes[offset]
    }

    /// Reads a big-endian (network order) unsigned integer of `byteCount` bytes, at most 8.
    @inlinable @inline(__always)
    mutating func readBigEndian(byteCount: Int) throws(WireError) -> UInt64 {
        try require(byteCount)
        var value: UInt64 = 0
        for index in offset..<(offset + byteCount) {
            value = value << 8 | UInt64(bytes[index])
        }
        position += byteCount
        return value
    }

    @inlinable
    public mutating func readUInt16() throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(byteCount: 2))
    }

    @inlinable
    public mutating func readUInt24() throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(byteCount: 3))
    }

    @inlinable
    public mutating func readUInt32() throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(byteCount: 4))
    }

    /// Reads a 48-bit big-endian integer (TSIG and other time fields).
    @inlinable
    public mutating func readUInt48() throws(WireError) -> UInt64 {
        try readBigEndian(byteCount: 6)
    }

    @inlinable
    public mutating func readUInt64() throws(WireError) -> UInt64 {
        try readBigEndian(byteCount: 8)
    }

    /// Reads a little-endian unsigned integer (the few protocols that use that order).
    @inlinable
    public mutating func readLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(WireError) -> T {
        let size = T.bitWidth / 8
        try require(size)
        var value: T = 0
        for index in (offset..<(offset + size)).reversed() {
            value = value << 8 | T(bytes[index])
        }
        position += size
        return value
    }

    /// The next `count` bytes, without copying the storage.
    @inlinable
    public mutating func readBytes(_ count: Int) throws(WireError) -> ArraySlice<UInt8> {
        try require(count)
        defer { position += count }
        return bytes[offset..<(offset + count)]
    }

    /// All bytes left in this reader's window.
    @inlinable
    public mutating func readRemainingBytes() -> ArraySlice<UInt8> {
        defer { position = end }
        return bytes[offset..<end]
    }

    @inlinable
    public mutating func skip(_ count: Int) throws(WireError) {
        try require(count)
        position += count
    }

    /// Reads a length of the given width, then returns a reader over exactly that many bytes and
    /// moves past them. The sub-reader cannot see beyond the body.
    /// Like every read, it leaves the reader unmoved when it throws.
    @inlinable
    public mutating func readLengthPrefixed(_ width: LengthWidth) throws(WireError) -> WireReader {
        let prefix = width.rawValue
        try require(prefix)
        var length = 0
        for index in offset..<(offset + prefix) {
            length = length << 8 | Int(bytes[index])
        }
        guard length <= end - offset - prefix else {
            throw WireError(
                offset: offset + prefix, kind: .truncated(needed: length, available: end - offset - prefix))
        }
        let body = WireReader(bytes: bytes, offset: offset + prefix, end: offset + prefix + length)
        position += prefix + length
        return body
    }

    /// A reader over the next `length` bytes; this reader moves past them.
    @inlinable
    public mutating func readSubReader(length: Int) throws(WireError) -> WireReader {
        try require(length)
        let sub = WireReader(bytes: bytes, offset: offset, end: offset + length)
        position += length
        return sub
    }

    /// Throws unless every byte of the window has been read.
    @inlinable
    public func expectEnd() throws(WireError) {
        guard offset == end else {
            throw WireError(offset: offset, kind: .trailingBytes(count: end - offset))
        }
    }

    /// A reader over the same storage positioned at an absolute offset earlier in the input, with
    /// the same end as the whole storage. DNS name compression pointers need this: they may only
    /// point backwards, and the caller enforces that rule.
    public func reader(atAbsoluteOffset target: Int) throws(WireError) -> WireReader {
        guard target >= 0, target < bytes.count else {
            throw WireError(offset: offset, kind: .invalid("offset \(target) is outside the input"))
        }
        return WireReader(bytes: bytes, offset: target, end: bytes.count)
    }
}
