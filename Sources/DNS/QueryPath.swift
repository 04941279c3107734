import Wire

/// A query read in place: the header and its one question, located in the input rather than
/// copied, so that answering a query needs no heap allocation. Anything unusual (several
/// questions, a compressed question name) is refused; the full `Message` decoder handles it.
public struct QueryView: Sendable {
    public let id: UInt16
    public let flags: UInt16
    /// Where the question's name (uncompressed wire form) sits in the input.
    public let nameRange: Range<Int>
    public let type: RecordType
    public let recordClass: RecordClass
    /// One past the question: where the answer section would start.
    public let questionEnd: Int
    public let answerCount: UInt16
    public let authorityCount: UInt16
    public let additionalCount: UInt16

    public init(_ bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        id = try reader.readUInt16()
        flags = try reader.readUInt16()
        let questionCount = try reader.readUInt16()
        answerCount = try reader.readUInt16()
        authorityCount = try reader.readUInt16()
        additionalCount = try reader.readUInt16()
        guard questionCount == 1 else { throw WireError(offset: 4, kind: .invalid("\(questionCount) questions")) }
        let start = reader.offset
        while true {
            let position = reader.offset
            let length = try reader.readUInt8()
            if length == 0 { break }
            guard length & 0xC0 == 0 else {
                throw WireError(offset: position, kind: .invalid("compressed or extended label in the question"))
            }
            try reader.skip(Int(length))
            guard reader.offset - start < DomainName.maximumLength else {
                throw WireError(offset: position, kind: .lengthTooLarge(length: reader.offset - start, limit: 255))
            }
        }
        nameRange = start..<reader.offset
        type = RecordType(rawValue: try reader.readUInt16())
        recordClass = RecordClass(rawValue: try reader.readUInt16())
        questionEnd = reader.offset
    }
}

/// A zone's names in one open-addressed hash table keyed by lowercased wire bytes, so a question
/// name can be looked up straight from the query's bytes.
public struct NameIndex: Sendable {
    private let keys: [UInt8]
    private let keyStarts: [Int]
    private let maps: [RecordMap]
    /// Indexes into `maps`, or -1; the size is a power of two at least twice the name count.
    private let slots: [Int32]

    public init(_ zone: Zone) {
        self.init(entries: zone.nodes.map { ($0.key, $0.value) })
    }

    /// An index of any names (several zones' names, or only those a fast path may answer).
    public init(entries: [(DomainName, RecordMap)]) {
        var keys: [UInt8] = []
        var starts: [Int] = []
        var maps: [RecordMap] = []
        for (name, map) in entries {
            starts.append(keys.count)
            keys.append(contentsOf: name.wire.map(asciiLowercase))
            maps.append(map)
        }
        starts.append(keys.count)
        var size = 16
        while size < maps.count * 2 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for index in maps.indices {
            var slot = Self.hash(keys, starts[index]..<starts[index + 1]) & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        self.keys = keys
        self.keyStarts = starts
        self.maps = maps
        self.slots = slots
    }

    /// FNV-1a over lowercased bytes.
    @inline(__always)
    private static func hash(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for index in range {
            hash = (hash ^ UInt64(asciiLowercase(bytes[index]))) &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: hash)
    }

    /// The record map of the name at `range` of `bytes` (uncompressed wire form), any case.
    public func records(nameIn bytes: [UInt8], range: Range<Int>) -> RecordMap? {
        let mask = slots.count - 1
        var slot = Self.hash(bytes, range) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            let start = keyStarts[index]
            if keyStarts[index + 1] - start == range.count {
                var equal = true
                for offset in 0..<range.count
                where keys[start + offset] != asciiLowercase(bytes[range.lowerBound + offset]) {
                    equal = false
                    break
                }
                if equal { return maps[index] }
            }
            slot = (slot + 1) & mask
        }
    }
}

extension MessageWriter {
    /// Writes an authoritative answer to `query`: its header and question copied, then `answers`
    /// owned by the question name (as compression pointers to it).
    public mutating func writeAnswer(to query: QueryView, queryBytes: [UInt8], answers: AnyRRSet) throws(WireError) {
        guard answers.data.count <= 0xFFFF, query.questionEnd <= queryBytes.count else {
            throw WireError(offset: 0, kind: .lengthTooLarge(length: answers.data.count, limit: 0xFFFF))
        }
        let start = count
        write(query.id)
        // QR and AA set, opcode and RD kept, everything else clear.
        write(0x8400 | (query.flags & 0x7900))
        write(UInt16(1))
        write(UInt16(answers.data.count))
        write(UInt16(0))
        write(UInt16(0))
        write(bytes: queryBytes[12..<query.questionEnd])
        registerName(at: start + 12)
        let pointer = UInt16(0xC000 | (start + 12))
        for data in answers.data {
            write(pointer)
            write(answers.type.rawValue)
            write(query.recordClass.rawValue)
            write(answers.ttl)
            let mark = beginLength(.uint16)
            try data.encode(into: &self)
            try endLength(mark)
        }
    }
}
