import Wire

public struct Question: Hashable, Sendable, CustomStringConvertible {
    public var name: DomainName
    public var type: RecordType
    public var recordClass: RecordClass

    public init(name: DomainName, type: RecordType, recordClass: RecordClass = .internet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }

    public var description: String { "\(name) \(recordClass) \(type)" }
}

public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DomainName
    public var recordClass: RecordClass
    public var ttl: UInt32
    public var data: RData

    public init(name: DomainName, recordClass: RecordClass = .internet, ttl: UInt32, data: RData) {
        self.name = name
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    public var type: RecordType { data.type }

    /// One line of presentation format: absolute owner, TTL, class, type, data.
    public var description: String { "\(name) \(ttl) \(recordClass) \(type) \(data.presentation)" }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.writeName(name)
        writer.write(type.rawValue)
        writer.write(recordClass.rawValue)
        writer.write(ttl)
        let mark = writer.beginLength(.uint16)
        try data.encode(into: &writer)
        try writer.endLength(mark)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> ResourceRecord {
        let name = try DomainName.decode(from: &reader)
        let type = RecordType(rawValue: try reader.readUInt16())
        let recordClass = RecordClass(rawValue: try reader.readUInt16())
        let ttl = try reader.readUInt32()
        var body = try reader.readLengthPrefixed(.uint16)
        // RFC 2136: class ANY and NONE records in updates and prerequisites may carry no data
        // whatever their type says.
        if body.isAtEnd && (recordClass == .any || recordClass == .none) && type != .opt {
            return ResourceRecord(
                name: name, recordClass: recordClass, ttl: ttl, data: .unknown(UnknownRecord(type: type, bytes: [])))
        }
        let data = try RData.decode(type: type, from: &body)
        return ResourceRecord(name: name, recordClass: recordClass, ttl: ttl, data: data)
    }
}

public struct Opcode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0xF }
    public static let query = Opcode(rawValue: 0)
    public static let notify = Opcode(rawValue: 4)
    public static let update = Opcode(rawValue: 5)
}

/// A DNS message (RFC 1035 §4): header, four sections, and the EDNS and TSIG pseudo-records lifted
/// out of the additional section.
public struct Message: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: Opcode
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    /// The reserved Z bit, kept so a message re-encodes to the same bytes.
    public var reservedBit: Bool
    public var authenticData: Bool
    public var checkingDisabled: Bool
    /// The full response code: the header's 4 bits plus EDNS's 8 extension bits.
    public var rcode: ResponseCode
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    /// The additional section without OPT and TSIG.
    public var additional: [ResourceRecord]
    public var edns: EDNS?
    /// A TSIG record, always last on the wire; `name` is the key's name.
    public var tsig: ResourceRecord?

    public init(
        id: UInt16 = 0, isResponse: Bool = false, opcode: Opcode = .query, authoritative: Bool = false,
        truncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
        reservedBit: Bool = false, authenticData: Bool = false, checkingDisabled: Bool = false,
        rcode: ResponseCode = .noError, questions: [Question] = [], answers: [ResourceRecord] = [],
        authority: [ResourceRecord] = [], additional: [ResourceRecord] = [], edns: EDNS? = nil,
        tsig: ResourceRecord? = nil
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.authoritative = authoritative
        self.truncated = truncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.reservedBit = reservedBit
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcode = rcode
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
        self.tsig = tsig
    }

    public static let headerSize = 12

    /// The largest response a requester accepts over UDP: 512 bytes, or its EDNS payload size.
    public var maximumResponseSize: Int {
        guard let edns else { return 512 }
        return max(512, Int(edns.udpPayloadSize))
    }

    var flags: UInt16 {
        var flags: UInt16 = UInt16(opcode.rawValue) << 11 | (rcode.rawValue & 0xF)
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if reservedBit { flags |= 0x0040 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        return flags
    }

    // MARK: Decoding

    /// Decodes a whole message; every byte must belong to it.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Message {
        try decodeLocatingTSIG(bytes).message
    }

    /// Decodes a message and also returns where its TSIG record starts, which TSIG verification needs.
    public static func decodeLocatingTSIG(_ bytes: [UInt8]) throws(WireError) -> (message: Message, tsigStart: Int?) {
        var reader = WireReader(bytes)
        var message = Message()
        message.id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        message.isResponse = flags & 0x8000 != 0
        message.opcode = Opcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11))
        message.authoritative = flags & 0x0400 != 0
        message.truncated = flags & 0x0200 != 0
        message.recursionDesired = flags & 0x0100 != 0
        message.recursionAvailable = flags & 0x0080 != 0
        message.reservedBit = flags & 0x0040 != 0
        message.authenticData = flags & 0x0020 != 0
        message.checkingDisabled = flags & 0x0010 != 0
        var rcode = flags & 0xF
        let questionCount = Int(try reader.readUInt16())
        let answerCount = Int(try reader.readUInt16())
        let authorityCount = Int(try reader.readUInt16())
        let additionalCount = Int(try reader.readUInt16())

        // Each question takes at least 5 bytes and each record 11, so the counts cannot ask for more
        // memory than the input justifies.
        message.questions.reserveCapacity(min(questionCount, reader.remaining / 5))
        for _ in 0..<questionCount {
            let name = try DomainName.decode(from: &reader)
            let type = RecordType(rawValue: try reader.readUInt16())
            let recordClass = RecordClass(rawValue: try reader.readUInt16())
            message.questions.append(Question(name: name, type: type, recordClass: recordClass))
        }
        message.answers = try decodeSection(count: answerCount, from: &reader)
        message.authority = try decodeSection(count: authorityCount, from: &reader)
        var tsigStart: Int? = nil
        message.additional.reserveCapacity(min(additionalCount, reader.remaining / 11))
        for index in 0..<additionalCount {
            let start = reader.offset
            if tsigStart != nil { throw WireError(offset: start, kind: .invalid("TSIG is not the last record")) }
            let record = try ResourceRecord.decode(from: &reader)
            switch record.type {
            case .opt:
                guard message.edns == nil else { throw WireError(offset: start, kind: .invalid("second OPT record")) }
                guard record.name.isRoot else {
                    throw WireError(offset: start, kind: .invalid("OPT owner is not the root"))
                }
                guard case .opt(let opt) = record.data else { break }
                rcode |= UInt16(record.ttl >> 24) << 4
                message.edns = EDNS(
                    udpPayloadSize: record.recordClass.rawValue, version: UInt8(truncatingIfNeeded: record.ttl >> 16),
                    dnssecOK: record.ttl & 0x8000 != 0, otherFlags: UInt16(truncatingIfNeeded: record.ttl),
                    options: opt.options)
            case .tsig:
                guard index == additionalCount - 1 else {
                    throw WireError(offset: start, kind: .invalid("TSIG is not the last record"))
                }
                tsigStart = start
                message.tsig = record
            default:
                message.additional.append(record)
            }
        }
        try reader.expectEnd()
        message.rcode = ResponseCode(rawValue: rcode)
        return (message, tsigStart)
    }

    private static func decodeSection(count: Int, from reader: inout WireReader) throws(WireError)
        -> [ResourceRecord]
    {
        var records: [ResourceRecord] = []
        records.reserveCapacity(min(count, reader.remaining / 11))
        for _ in 0..<count {
            let start = reader.offset
            let record = try ResourceRecord.decode(from: &reader)
            if record.type == .opt || record.type == .tsig {
                throw WireError(offset: start, kind: .invalid("\(record.type) outside the additional section"))
            }
            records.append(record)
        }
        return records
    }

    // MARK: Encoding

    /// Encodes with name compression. Records that do not fit `maximumSize` are left out whole
    /// RRset by RRset; when that cuts the answer or authority section the TC bit is set (RFC 2181 §9).
    /// OPT always fits, because its room is kept back first; TSIG is added by the signer.
    public func encode(maximumSize: Int = 65535) throws(WireError) -> [UInt8] {
        var writer = MessageWriter(mode: .compressed, capacity: min(maximumSize, 4096))
        try encode(into: &writer, maximumSize: maximumSize)
        return writer.bytes
    }

    public func encode(into writer: inout MessageWriter, maximumSize: Int = 65535) throws(WireError) {
        let headerStart = writer.count
        writer.write(id)
        let flagsPosition = writer.count
        writer.write(flags)
        let counts = [questions.count, answers.count, authority.count, additional.count + (edns == nil ? 0 : 1)]
        for count in counts {
            guard count <= 0xFFFF else {
                throw WireError(offset: writer.count, kind: .lengthTooLarge(length: count, limit: 0xFFFF))
            }
            writer.write(UInt16(count))
        }
        for question in questions {
            writer.writeName(question.name)
            writer.write(question.type.rawValue)
            writer.write(question.recordClass.rawValue)
        }
        let reserved = edns?.encodedSize ?? 0
        let limit = max(maximumSize - reserved, writer.count)
        var written = [0, 0, 0]
        var truncatedRequiredData = false
        sections: for (sectionIndex, section) in [answers, authority, additional].enumerated() {
            var rrsetStart = writer.count
            var rrsetStartIndex = 0
            for (index, record) in section.enumerated() {
                if index == 0 || !sameRRset(section[index - 1], record) {
                    rrsetStart = writer.count
                    rrsetStartIndex = index
                }
                try record.encode(into: &writer)
                if writer.count > limit {
                    writer.rewind(to: rrsetStart)
                    written[sectionIndex] = rrsetStartIndex
                    truncatedRequiredData = sectionIndex < 2
                    break sections
                }
                written[sectionIndex] = index + 1
            }
        }
        try writer.setUInt16(UInt16(written[0]), at: headerStart + 6)
        try writer.setUInt16(UInt16(written[1]), at: headerStart + 8)
        try writer.setUInt16(UInt16(written[2] + (edns == nil ? 0 : 1)), at: headerStart + 10)
        if truncatedRequiredData { try writer.setUInt16(flags | 0x0200, at: flagsPosition) }
        if let edns {
            try edns.encode(into: &writer, extendedRcode: UInt8(truncatingIfNeeded: rcode.rawValue >> 4))
        }
        if let tsig {
            try tsig.encode(into: &writer)
            try writer.setUInt16(UInt16(written[2] + (edns == nil ? 1 : 2)), at: headerStart + 10)
        }
    }

    private func sameRRset(_ lhs: ResourceRecord, _ rhs: ResourceRecord) -> Bool {
        lhs.type == rhs.type && lhs.recordClass == rhs.recordClass && lhs.name == rhs.name
    }
}
