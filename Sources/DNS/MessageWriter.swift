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

    public private(set) var wire: WireWriter
    public let mode: Mode
    /// Offsets of label starts already written that later names may point to (below 0x4000).
    private var compressionTargets: [UInt16] = []

    public init(mode: Mode = .compressed, capacity: Int = 512) {
        wire = WireWriter(capacity: capacity)
        self.mode = mode
        if mode == .compressed { compressionTargets.reserveCapacity(32) }
    }

    public var bytes: [UInt8] { wire.bytes }
    public var count: Int { wire.count }

    public mutating func write(_ value: UInt8) { wire.write(value) }
    public mutating func write(_ value: UInt16) { wire.write(value) }
    public mutating func write(_ value: UInt32) { wire.write(value) }
    public mutating func writeUInt48(_ value: UInt64) { wire.writeUInt48(value) }
    public mutating func write<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 { wire.write(bytes: bytes) }
    public mutating func beginLength(_ width: LengthWidth) -> WireWriter.LengthMark { wire.beginLength(width) }
    public mutating func endLength(_ mark: WireWriter.LengthMark) throws(WireError) { try wire.endLength(mark) }
    public mutating func setUInt16(_ value: UInt16, at position: Int) throws(WireError) {
        try wire.setUInt16(value, at: position)
    }

    /// Drops everything written from `count` on (truncation backs out a record that does not fit).
    mutating func rewind(to count: Int) {
        var trimmed = WireWriter(capacity: wire.bytes.capacity)
        trimmed.write(bytes: wire.bytes[..<count])
        wire = trimmed
        compressionTargets.removeAll { Int($0) >= count }
    }

    /// Writes a length-prefixed character string (at most 255 bytes).
    public mutating func writeCharacterString(_ bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= 255 else {
            throw WireError(offset: count, kind: .lengthTooLarge(length: bytes.count, limit: 255))
        }
        wire.write(UInt8(bytes.count))
        wire.write(bytes: bytes)
    }

    /// Writes a name. `compressible` says whether this position may use a pointer (owner names,
    /// and names in the RDATA of the RFC 1035 types); `canonicalLowercase` whether canonical form
    /// lowercases it.
    public mutating func writeName(_ name: DomainName, compressible: Bool = true, canonicalLowercase: Bool = true) {
        switch mode {
        case .uncompressed:
            wire.write(bytes: name.wire)
        case .canonical:
            if canonicalLowercase {
                for byte in name.wire { wire.write(asciiLowercase(byte)) }
            } else {
                wire.write(bytes: name.wire)
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
                wire.write(0xC000 | target)
                return
            }
            if wire.count < 0x4000 { compressionTargets.append(UInt16(wire.count)) }
            let length = Int(labels[position])
            wire.write(bytes: labels[position...(position + length)])
            position += 1 + length
        }
        wire.write(UInt8(0))
    }

    /// An earlier offset whose name equals `labels[from...]`, ignoring case.
    private func findSuffix(_ labels: [UInt8], from start: Int, among candidates: Int) -> UInt16? {
        for target in compressionTargets[..<candidates] where nameAt(Int(target), equals: labels, from: start) {
            return target
        }
        return nil
    }

    private func nameAt(_ offset: Int, equals labels: [UInt8], from start: Int) -> Bool {
        let output = wire.bytes
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
