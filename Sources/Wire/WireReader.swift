/// A cursor over bytes that checks every read against the end of its window and never traps.
///
/// A reader sees a window `[offset, end)` of shared storage. Length-prefixed structures are read
/// through sub-readers whose window is the prefixed body, so a malformed inner length can never
/// read past its outer structure. Offsets are always absolute (from the start of the storage), so
/// errors point at the byte a person would look at in a hex dump.
public struct WireReader: Sendable {
    public let bytes: [UInt8]
    /// Absolute position of the next byte to read.
    public private(set) var offset: Int
    /// Absolute position one past the last byte this reader may read.
    public let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    private init(bytes: [UInt8], offset: Int, end: Int) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    /// An error at the current position, for protocol rules the reader itself cannot know.
    public func invalid(_ reason: String) -> WireError {
        WireError(offset: offset, kind: .invalid(reason))
    }

    @inline(__always)
    private func require(_ count: Int) throws(WireError) {
        guard count >= 0, count <= end - offset else {
            throw WireError(offset: offset, kind: .truncated(needed: count, available: end - offset))
        }
    }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public func peekUInt8() throws(WireError) -> UInt8 {
        try require(1)
        return bytes[offset]
    }

    /// Reads a big-endian (network order) unsigned integer of `byteCount` bytes, at most 8.
    @inline(__always)
    private mutating func readBigEndian(byteCount: Int) throws(WireError) -> UInt64 {
        try require(byteCount)
        var value: UInt64 = 0
        for index in offset..<(offset + byteCount) {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += byteCount
        return value
    }

    public mutating func readUInt16() throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(byteCount: 2))
    }

    public mutating func readUInt24() throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(byteCount: 3))
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(byteCount: 4))
    }

    /// Reads a 48-bit big-endian integer (TSIG and other time fields).
    public mutating func readUInt48() throws(WireError) -> UInt64 {
        try readBigEndian(byteCount: 6)
    }

    public mutating func readUInt64() throws(WireError) -> UInt64 {
        try readBigEndian(byteCount: 8)
    }

    /// Reads a little-endian unsigned integer (the few protocols that use that order).
    public mutating func readLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(WireError) -> T {
        let size = T.bitWidth / 8
        try require(size)
        var value: T = 0
        for index in (offset..<(offset + size)).reversed() {
            value = value << 8 | T(bytes[index])
        }
        offset += size
        return value
    }

    /// The next `count` bytes, without copying the storage.
    public mutating func readBytes(_ count: Int) throws(WireError) -> ArraySlice<UInt8> {
        try require(count)
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// All bytes left in this reader's window.
    public mutating func readRemainingBytes() -> ArraySlice<UInt8> {
        defer { offset = end }
        return bytes[offset..<end]
    }

    public mutating func skip(_ count: Int) throws(WireError) {
        try require(count)
        offset += count
    }

    /// Reads a length of the given width, then returns a reader over exactly that many bytes and
    /// moves past them. The sub-reader cannot see beyond the body.
    /// Like every read, it leaves the reader unmoved when it throws.
    public mutating func readLengthPrefixed(_ width: LengthWidth) throws(WireError) -> WireReader {
        var copy = self
        let length = Int(try copy.readBigEndian(byteCount: width.rawValue))
        let body = try copy.readSubReader(length: length)
        self = copy
        return body
    }

    /// A reader over the next `length` bytes; this reader moves past them.
    public mutating func readSubReader(length: Int) throws(WireError) -> WireReader {
        try require(length)
        let sub = WireReader(bytes: bytes, offset: offset, end: offset + length)
        offset += length
        return sub
    }

    /// Throws unless every byte of the window has been read.
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
