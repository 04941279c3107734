import DNS
import DNSClient
import Wire

/// What of a client query shapes its answer, read without decoding the message: the header, one
/// question of class IN and at most an OPT record. A query with anything else (QR set, another
/// opcode, other sections, a compressed name, an EDNS option the decoder might refuse) has no view
/// and takes the full path, which answers it as before.
struct QueryView: Sendable, Equatable {
    var id: UInt16
    var recursionDesired: Bool
    var authenticData: Bool
    var checkingDisabled: Bool
    var hasEDNS: Bool
    var dnssecOK: Bool
    var payloadSize: UInt16
    /// The question's name is `bytes[Message.headerSize..<nameEnd]`, uncompressed.
    var nameEnd: Int
    var type: RecordType
    /// A hash of the name ignoring ASCII case, and the type.
    var nameHash: UInt64

    init?(_ bytes: [UInt8]) {
        let count = bytes.count
        guard count >= Message.headerSize + 5 else { return nil }
        // QR clear, opcode QUERY; one question, no answer or authority records, at most an OPT.
        guard bytes[2] & 0xF8 == 0, bytes[4] == 0, bytes[5] == 1, bytes[6] | bytes[7] | bytes[8] | bytes[9] == 0,
            bytes[10] == 0, bytes[11] <= 1
        else { return nil }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        recursionDesired = bytes[2] & 0x01 != 0
        authenticData = bytes[3] & 0x20 != 0
        checkingDisabled = bytes[3] & 0x10 != 0
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var position = Message.headerSize
        while true {
            guard position < count else { return nil }
            let length = Int(bytes[position])
            guard length <= DomainName.maximumLabelLength else { return nil }
            guard position + 1 + length < count else { return nil }
            for index in position...(position + length) {
                hash = (hash ^ UInt64(Self.lowercase(bytes[index]))) &* 0x100_0000_01b3
            }
            position += 1 + length
            if length == 0 { break }
        }
        guard position - Message.headerSize <= DomainName.maximumLength, position + 4 <= count else { return nil }
        nameEnd = position
        type = RecordType(rawValue: UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1]))
        guard bytes[position + 2] == 0, bytes[position + 3] == 1 else { return nil }
        nameHash = (hash ^ UInt64(type.rawValue)) &* 0x100_0000_01b3
        position += 4
        hasEDNS = bytes[11] == 1
        dnssecOK = false
        payloadSize = 0
        if hasEDNS {
            // The OPT record: owner the root, type 41, class the payload size, TTL the flags.
            guard position + 11 <= count, bytes[position] == 0, bytes[position + 1] == 0, bytes[position + 2] == 41
            else { return nil }
            payloadSize = UInt16(bytes[position + 3]) << 8 | UInt16(bytes[position + 4])
            dnssecOK = bytes[position + 7] & 0x80 != 0
            let length = Int(bytes[position + 9]) << 8 | Int(bytes[position + 10])
            position += 11
            guard position + length == count, Self.optionsDecode(bytes, from: position) else { return nil }
            position = count
        }
        guard position == count else { return nil }
    }

    /// Whether the options from `start` to the end are ones the decoder accepts whatever they
    /// hold (cookies of the lengths RFC 7873 allows, and options it keeps as bytes).
    private static func optionsDecode(_ bytes: [UInt8], from start: Int) -> Bool {
        var position = start
        while position < bytes.count {
            guard position + 4 <= bytes.count else { return false }
            let code = UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            position += 4 + length
            guard position <= bytes.count else { return false }
            switch code {
            case EDNSOption.cookieCode: guard length == 8 || (16...40).contains(length) else { return false }
            case EDNSOption.clientSubnetCode, EDNSOption.tcpKeepaliveCode, EDNSOption.extendedErrorCode: return false
            default: break
            }
        }
        return true
    }

    /// The question's name (decoded: for the block list and local zones).
    func name(in bytes: [UInt8]) -> DomainName? {
        var reader = WireReader(bytes)
        guard (try? reader.skip(Message.headerSize)) != nil else { return nil }
        return try? DomainName.decodeUncompressed(from: &reader)
    }

    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// The largest answer the client takes (as `Message.maximumResponseSize`), and the flags the
    /// answer depends on, as one number.
    func shape(over transport: DNSClient.Transport) -> UInt32 {
        let limit = transport == .udp ? (hasEDNS ? max(512, UInt32(payloadSize)) : 512) : 65535
        var flags: UInt32 = 0
        if dnssecOK { flags |= 1 }
        if checkingDisabled { flags |= 2 }
        if authenticData { flags |= 4 }
        if hasEDNS { flags |= 8 }
        return limit << 4 | flags
    }
}

/// Answers given from the cache, as encoded, by question (name ignoring case, type, and the
/// shape: the client's flags and size limit). Asked again, the cache answers by copying the bytes
/// and patching the ID, RD, the question's case and the TTLs counted down, when every cache entry
/// the answer came from is still the one a lookup would use (`ResolverCache.reuse`). Bounded in
/// bytes; emptied when full.
struct WireAnswers: Sendable {
    struct Stored: Sendable {
        /// The question's name, lowercased.
        var name: [UInt8]
        var type: RecordType
        var shape: UInt32
        /// The answer with ID 0 and RD clear.
        var bytes: [UInt8]
        var ttls: [TTLField]
        var dependencies: [CacheDependency]
        /// The cache's generation the dependencies' positions are from.
        var generation: UInt64
        var made: Double
        var size: Int { 160 + name.count + bytes.count + 24 * ttls.count + 80 * dependencies.count }
    }

    /// A TTL in the answer: where, what it was when made, and the dependency it counts down with.
    struct TTLField: Sendable {
        var offset: Int
        var ttl: UInt32
        var source: Int
    }

    private(set) var stored: [UInt64: Stored] = [:]
    private(set) var bytes = 0
    var capacity = 4 << 20

    static func key(_ view: QueryView, shape: UInt32) -> UInt64 {
        (view.nameHash ^ UInt64(shape)) &* 0x100_0000_01b3
    }

    mutating func remove(_ key: UInt64) {
        guard let old = stored.removeValue(forKey: key) else { return }
        bytes -= old.size
    }

    mutating func keep(_ answer: Stored, key: UInt64) {
        remove(key)
        if bytes + answer.size > capacity {
            stored.removeAll(keepingCapacity: true)
            bytes = 0
        }
        stored[key] = answer
        bytes += answer.size
    }

    mutating func update(_ key: UInt64, dependencies: [CacheDependency], generation: UInt64) {
        guard let index = stored.index(forKey: key) else { return }
        stored.values[index].dependencies = dependencies
        stored.values[index].generation = generation
    }

    /// Where each record's TTL is in an encoded message, section by section (OPT has none), or nil
    /// when the bytes do not walk cleanly.
    static func ttlOffsets(_ message: [UInt8]) -> (answer: [Int], authority: [Int], additional: Int)? {
        guard message.count >= Message.headerSize else { return nil }
        func count(_ at: Int) -> Int { Int(message[at]) << 8 | Int(message[at + 1]) }
        var position = Message.headerSize
        func skipName() -> Bool {
            while position < message.count {
                let length = Int(message[position])
                if length == 0 {
                    position += 1
                    return true
                }
                if length & 0xC0 == 0xC0 {
                    position += 2
                    return position <= message.count
                }
                guard length & 0xC0 == 0 else { return false }
                position += 1 + length
            }
            return false
        }
        for _ in 0..<count(4) {
            guard skipName() else { return nil }
            position += 4
        }
        var sections: [[Int]] = [[], [], []]
        for section in 0..<3 {
            for _ in 0..<count(6 + 2 * section) {
                guard skipName(), position + 10 <= message.count else { return nil }
                let type = count(position)
                let length = count(position + 8)
                if type != RecordType.opt.rawValue { sections[section].append(position + 4) }
                position += 10 + length
            }
        }
        guard position == message.count else { return nil }
        return (sections[0], sections[1], sections[2].count)
    }
}

extension ResolverCache {
    /// The answer to a question answered before from entries still current, patched for this
    /// query; nil otherwise (the caller answers the full way).
    mutating func wireAnswer(to query: [UInt8], _ view: QueryView, shape: UInt32, now: Double) -> [UInt8]? {
        let key = WireAnswers.key(view, shape: shape)
        guard let answer = wireAnswers.stored[key] else { return nil }
        guard answer.type == view.type, answer.shape == shape, now >= answer.made,
            answer.name.count == view.nameEnd - Message.headerSize, answer.bytes.count >= view.nameEnd
        else { return nil }
        for (index, byte) in answer.name.enumerated()
        where QueryView.lowercase(query[Message.headerSize + index]) != byte {
            return nil
        }
        let seen = answer.generation
        var moved: [CacheDependency] = []
        for var dependency in answer.dependencies {
            // A copy each: changing the stored array in place would copy it whole.
            guard reuse(&dependency, asked: view.type, seen: seen, now: now) else {
                wireAnswers.remove(key)
                return nil
            }
            if seen != generation { moved.append(dependency) }
        }
        if seen != generation { wireAnswers.update(key, dependencies: moved, generation: generation) }
        var reply = answer.bytes
        reply[0] = UInt8(truncatingIfNeeded: view.id >> 8)
        reply[1] = UInt8(truncatingIfNeeded: view.id)
        if view.recursionDesired { reply[2] |= 0x01 }
        for index in Message.headerSize..<view.nameEnd { reply[index] = query[index] }
        for field in answer.ttls {
            let remaining = UInt32(min(answer.dependencies[field.source].expires - now, Double(UInt32.max)))
            let ttl = min(field.ttl, remaining)
            reply[field.offset] = UInt8(truncatingIfNeeded: ttl >> 24)
            reply[field.offset + 1] = UInt8(truncatingIfNeeded: ttl >> 16)
            reply[field.offset + 2] = UInt8(truncatingIfNeeded: ttl >> 8)
            reply[field.offset + 3] = UInt8(truncatingIfNeeded: ttl)
        }
        return reply
    }

    /// Keeps an answer just given from the cache for the next time the question is asked. `trace`
    /// lists the entries the lookup used, one per link of the CNAME chain; `answer` is what the
    /// lookup gave (its counts place each record's TTL with its entry).
    mutating func keepWireAnswer(
        _ reply: [UInt8], view: QueryView, shape: UInt32, trace: [CacheDependency], generation seen: UInt64,
        records: Int, authority: Int, signatures: Int, proofs: Int, validates: Bool, now: Double
    ) {
        guard seen == generation, let final = trace.last, let offsets = WireAnswers.ttlOffsets(reply),
            offsets.additional == 0, reply.count >= view.nameEnd
        else { return }
        // The answer is what the lookup makes of these entries (one CNAME a link, then the final
        // RRset or negative answer, RRSIGs and proofs when validating), or it is not kept.
        let last = trace.count - 1
        let expected = (
            records: last + (final.negative ? 0 : final.records), authority: final.negative ? final.records : 0,
            signatures: validates ? trace.reduce(0) { $0 + $1.signatures } : 0,
            proofs: validates ? trace.reduce(0) { $0 + $1.proofs } : 0
        )
        guard trace.dropLast().allSatisfy({ !$0.negative && $0.records >= 1 }), records == expected.records,
            authority == expected.authority, signatures == expected.signatures, proofs == expected.proofs
        else { return }
        // Which entry each record of the full sections came from, in the order the lookup put them.
        var answerSources = (0..<records).map { min($0, last) }
        var authoritySources = Array(repeating: last, count: authority)
        if view.dnssecOK {
            var signatureSources: [Int] = []
            var proofSources: [Int] = []
            if validates {
                for (index, dependency) in trace.enumerated() {
                    signatureSources += repeatElement(index, count: dependency.signatures)
                    proofSources += repeatElement(index, count: dependency.proofs)
                }
            }
            answerSources += signatureSources
            authoritySources += proofSources
        }
        // The encoded sections are the full ones, or a prefix of them when truncated.
        guard offsets.answer.count <= answerSources.count, offsets.authority.count <= authoritySources.count,
            offsets.authority.isEmpty || offsets.answer.count == answerSources.count
        else { return }
        var ttls: [WireAnswers.TTLField] = []
        for (offset, source) in Array(zip(offsets.answer, answerSources)) + zip(offsets.authority, authoritySources) {
            let ttl =
                UInt32(reply[offset]) << 24 | UInt32(reply[offset + 1]) << 16 | UInt32(reply[offset + 2]) << 8
                | UInt32(reply[offset + 3])
            ttls.append(WireAnswers.TTLField(offset: offset, ttl: ttl, source: source))
        }
        var bytes = reply
        bytes[0] = 0
        bytes[1] = 0
        bytes[2] &= 0xFE
        let name = bytes[Message.headerSize..<view.nameEnd].map(QueryView.lowercase)
        wireAnswers.keep(
            WireAnswers.Stored(
                name: name, type: view.type, shape: shape, bytes: bytes, ttls: ttls, dependencies: trace,
                generation: seen, made: now),
            key: WireAnswers.key(view, shape: shape))
    }
}

extension RecursiveResolver {
    /// For the fuzzer: whether the query view of `bytes`, when it has one, reads what the full
    /// decoder reads (every query with a view decodes, to the same ID, flags, question and EDNS).
    public static func queryViewAgreesWithDecoder(_ bytes: [UInt8]) -> Bool {
        guard let view = QueryView(bytes) else { return true }
        guard let message = try? Message.decode(bytes), let question = message.questions.first else { return false }
        let name = Array(bytes[Message.headerSize..<view.nameEnd])
        let udpLimit = view.shape(over: .udp) >> 4
        return !message.isResponse && message.opcode == .query && message.id == view.id
            && message.recursionDesired == view.recursionDesired && message.authenticData == view.authenticData
            && message.checkingDisabled == view.checkingDisabled && message.questions.count == 1
            && question.name.wire == name && view.name(in: bytes) == question.name && question.type == view.type
            && question.recordClass == .internet && message.answers.isEmpty && message.authority.isEmpty
            && message.additional.isEmpty && message.tsig == nil && (message.edns != nil) == view.hasEDNS
            && (message.edns?.dnssecOK ?? false) == view.dnssecOK
            && (message.edns?.udpPayloadSize ?? 0) == view.payloadSize
            && Int(udpLimit) == message.maximumResponseSize
            && QueryView(bytes.enumerated().map { $0 < view.nameEnd ? QueryView.lowercase($1) : $1 })?.nameHash
                == view.nameHash
    }
}
