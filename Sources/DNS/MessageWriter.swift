import Wire

/// Writes DNS wire format with name compression (RFC 1035 §4.1.4), or in the canonical form
/// DNSSEC signs (RFC 4034 §6.2: no compression, names in the classic types lowercased).
public struct MessageWriter: Sendable {
    public enum Mode: Sendable {
        /// Names may be compressed against names written earlier.
        case compressed
        /// No compression, case as given.
        case uncompressed
        /// No compression, and names inside RDATA of the types RFC 4034 §6.2 lists lowercased.
        case canonical
    }

    /// The bytes written so far. Owned here rather than by a `WireWriter` so that `reset()` can
    /// reuse the storage: a server answering query after query allocates nothing.
    public private(set) var bytes: [UInt8]
    public let mode: Mode
    /// Offsets of label starts already written that later names may point to (below 0x4000).
    private var compressionTargets: [UInt16] = []

    public init(mode: Mode = .compressed, capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        self.mode = mode
        if mode == .compressed { compressionTargets.reserveCapacity(64) }
    }

    public var count: Int { bytes.count }

    /// Empties the writer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        compressionTargets.removeAll(keepingCapacity: true)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeUInt48(_ value: UInt64) {
        for shift in stride(from: 40, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func write<Bytes: Sequence>(bytes other: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// A reserved length prefix waiting for its body.
    public struct LengthMark: Sendable {
        fileprivate let position: Int
        fileprivate let width: LengthWidth
    }

    public mutating func beginLength(_ width: LengthWidth) -> LengthMark {
        let mark = LengthMark(position: bytes.count, width: width)
        for _ in 0..<width.rawValue { bytes.append(0) }
        return mark
    }

    /// Fills in the prefix reserved by `mark`; fails rather than truncating when the body is too long.
    public mutating func endLength(_ mark: LengthMark) throws(WireError) {
        let length = bytes.count - mark.position - mark.width.rawValue
        guard length <= mark.width.maximum else {
            throw WireError(offset: mark.position, kind: .lengthTooLarge(length: length, limit: mark.width.maximum))
        }
        for index in 0..<mark.width.rawValue {
            bytes[mark.position + index] = UInt8(truncatingIfNeeded: length >> ((mark.width.rawValue - 1 - index) * 8))
        }
    }

    /// Overwrites a 16-bit field written earlier (section counts, flags).
    public mutating func setUInt16(_ value: UInt16, at position: Int) throws(WireError) {
        guard position >= 0, position + 2 <= bytes.count else {
            throw WireError(offset: position, kind: .truncated(needed: 2, available: max(0, bytes.count - position)))
        }
        bytes[position] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[position + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Drops everything written from `count` on (truncation backs out a record that does not fit).
    mutating func rewind(to count: Int) {
        bytes.removeSubrange(count...)
        compressionTargets.removeAll { Int($0) >= count }
    }

    /// Makes an uncompressed name already in the output (a question copied from the query)
    /// available as a compression target.
    public mutating func registerName(at offset: Int) {
        guard mode == .compressed else { return }
        var position = offset
        while position < bytes.count, position < 0x4000, bytes[position] != 0, bytes[position] & 0xC0 == 0 {
            compressionTargets.append(UInt16(position))
            position += 1 + Int(bytes[position])
        }
    }

    /// Writes a length-prefixed character string (at most 255 bytes).
    public mutating func writeCharacterString(_ string: [UInt8]) throws(WireError) {
        guard string.count <= 255 else {
            throw WireError(offset: count, kind: .lengthTooLarge(length: string.count, limit: 255))
        }
        write(UInt8(string.count))
        write(bytes: string)
    }

    /// Writes a name. `compressible` says whether this position may use a pointer (owner names,
    /// and names in the RDATA of the RFC 1035 types); `canonicalLowercase` whether canonical form
    /// lowercases it.
    public mutating func writeName(_ name: DomainName, compressible: Bool = true, canonicalLowercase: Bool = true) {
        switch mode {
        case .uncompressed:
            bytes.append(contentsOf: name.wire)
        case .canonical:
            if canonicalLowercase {
                for byte in name.wire { bytes.append(asciiLowercase(byte)) }
            } else {
                bytes.append(contentsOf: name.wire)
            }
        case .compressed:
            writeCompressed(name, usePointer: compressible)
        }
    }

    private mutating func writeCompressed(_ name: DomainName, usePointer: Bool) {
        let labels = name.wire
        // Only names complete before this one are candidates: this name's own labels are not
        // fully written until it ends.
        let candidates = compressionTargets.count
        var position = 0
        while labels[position] != 0 {
            if usePointer, let target = findSuffix(labels, from: position, among: candidates) {
                write(0xC000 | target)
                return
            }
            if bytes.count < 0x4000 { compressionTargets.append(UInt16(bytes.count)) }
            let length = Int(labels[position])
            bytes.append(contentsOf: labels[position...(position + length)])
            position += 1 + length
        }
        bytes.append(0)
    }

    /// An earlier offset whose name equals `labels[from...]`, ignoring case.
    private func findSuffix(_ labels: [UInt8], from start: Int, among candidates: Int) -> UInt16? {
        for target in compressionTargets[..<candidates] where nameAt(Int(target), equals: labels, from: start) {
            return target
        }
        return nil
    }

    private func nameAt(_ offset: Int, equals labels: [UInt8], from start: Int) -> Bool {
        let output = bytes
        var outputPosition = offset
        var position = start
        while true {
            var length = output[outputPosition]
            // Our own pointers always point backwards, so this terminates.
            while length & 0xC0 == 0xC0 {
                outputPosition = Int(length & 0x3F) << 8 | Int(output[outputPosition + 1])
                length = output[outputPosition]
            }
            guard length == labels[position] else { return false }
            if length == 0 { return true }
            for index in 1...Int(length)
            where asciiLowercase(output[outputPosition + index]) != asciiLowercase(labels[position + index]) {
                return false
            }
            outputPosition += 1 + Int(length)
            position += 1 + Int(length)
        }
    }
}
