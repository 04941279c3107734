import Testing
import Wire

@testable import DNS

/// A seeded generator (SplitMix64), so a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random but valid DNS values of every kind.
struct MessageGenerator {
    var random: SeededGenerator

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func bool() -> Bool { Bool.random(using: &random) }
    mutating func u8() -> UInt8 { UInt8.random(in: 0...255, using: &random) }
    mutating func u16() -> UInt16 { UInt16.random(in: 0...0xFFFF, using: &random) }
    mutating func u32() -> UInt32 { UInt32.random(in: 0...0xFFFF_FFFF, using: &random) }
    mutating func bytes(_ range: ClosedRange<Int>) -> [UInt8] { (0..<int(range)).map { _ in u8() } }

    /// Labels mostly of letters, sometimes of any byte (dots, quotes, zeros), to exercise escapes.
    mutating func name() -> DomainName {
        let pool = ["www", "Mail", "example", "COM", "a", "xn--bcher-kva", "_tcp", "*"]
        var labels: [[UInt8]] = []
        for _ in 0..<int(0...4) {
            labels.append(int(0...5) == 0 ? bytes(1...10) : Array(pool[int(0...pool.count - 1)].utf8))
        }
        return (try? DomainName(labels: labels)) ?? .root
    }

    mutating func types() -> [RecordType] {
        Set((0..<int(0...6)).map { _ in RecordType(rawValue: UInt16(int(1...1300))) }).sorted()
    }

    mutating func rdata() -> RData {
        switch int(0...31) {
        case 0: return .a(ARecord(address: IPv4Address(u32())))
        case 1: return .aaaa(AAAARecord(address: IPv6Address(high: random.next(), low: random.next())))
        case 2: return .ns(NSRecord(target: name()))
        case 3: return .cname(CNAMERecord(target: name()))
        case 4: return .dname(DNAMERecord(target: name()))
        case 5:
            return .soa(
                SOARecord(
                    primary: name(), mailbox: name(), serial: u32(), refresh: u32(), retry: u32(), expire: u32(),
                    minimum: u32()))
        case 6: return .ptr(PTRRecord(target: name()))
        case 7: return .mx(MXRecord(preference: u16(), exchange: name()))
        case 8: return .txt(TXTRecord(strings: (0..<int(1...3)).map { _ in bytes(0...40) }))
        case 9: return .spf(SPFRecord(strings: [bytes(0...20)]))
        case 10: return .srv(SRVRecord(priority: u16(), weight: u16(), port: u16(), target: name()))
        case 11:
            return .naptr(
                NAPTRRecord(
                    order: u16(), preference: u16(), flags: bytes(0...2), services: bytes(0...8), regexp: bytes(0...20),
                    replacement: name()))
        case 12:
            return .caa(CAARecord(flags: u8(), tag: Array("issuewild".utf8.prefix(int(1...9))), value: bytes(0...30)))
        case 13: return .tlsa(TLSARecord(usage: u8(), selector: u8(), matchingType: u8(), data: bytes(1...64)))
        case 14: return .sshfp(SSHFPRecord(algorithm: u8(), fingerprintType: u8(), fingerprint: bytes(1...32)))
        case 15: return .ds(DSRecord(keyTag: u16(), algorithm: u8(), digestType: u8(), digest: bytes(1...48)))
        case 16: return .cds(CDSRecord(keyTag: u16(), algorithm: u8(), digestType: u8(), digest: bytes(1...48)))
        case 17: return .dnskey(DNSKEYRecord(flags: u16(), keyProtocol: 3, algorithm: u8(), publicKey: bytes(1...100)))
        case 18:
            return .cdnskey(CDNSKEYRecord(flags: u16(), keyProtocol: u8(), algorithm: u8(), publicKey: bytes(1...64)))
        case 19:
            return .rrsig(
                RRSIGRecord(
                    typeCovered: RecordType(rawValue: u16()), algorithm: u8(), labels: u8(), originalTTL: u32(),
                    expiration: u32(), inception: u32(), keyTag: u16(), signerName: name(), signature: bytes(1...80)))
        case 20: return .nsec(NSECRecord(nextName: name(), types: types()))
        case 21:
            return .nsec3(
                NSEC3Record(
                    hashAlgorithm: u8(), flags: u8(), iterations: u16(), salt: bytes(0...8),
                    nextHashedOwner: bytes(1...20),
                    types: types()))
        case 22:
            return .nsec3param(
                NSEC3PARAMRecord(hashAlgorithm: u8(), flags: u8(), iterations: u16(), salt: bytes(0...8)))
        case 23: return .zonemd(ZONEMDRecord(serial: u32(), scheme: u8(), hashAlgorithm: u8(), digest: bytes(12...64)))
        case 24, 25:
            var parameters: [ServiceParameter] = []
            if bool() { parameters.append(ServiceParameter(key: 0, value: [0, 1, 0, 3])) }
            if bool() {
                let ids = (0..<int(1...3)).map { _ in bytes(1...6) }
                parameters.append(ServiceParameter(key: 1, value: ids.flatMap { [UInt8($0.count)] + $0 }))
            }
            if bool() { parameters.append(ServiceParameter(key: 2, value: [])) }
            if bool() { parameters.append(ServiceParameter(key: 3, value: [u8(), u8()])) }
            if bool() { parameters.append(ServiceParameter(key: 4, value: bytes(4...4) + bytes(4...4))) }
            if bool() { parameters.append(ServiceParameter(key: 5, value: bytes(1...20))) }
            if bool() { parameters.append(ServiceParameter(key: 6, value: bytes(16...16))) }
            if bool() { parameters.append(ServiceParameter(key: UInt16(int(8...65535)), value: bytes(0...10))) }
            parameters.sort { $0.key < $1.key }
            return int(0...1) == 0
                ? .svcb(SVCBRecord(priority: u16(), target: name(), parameters: parameters))
                : .https(HTTPSRecord(priority: u16(), target: name(), parameters: parameters))
        case 26:
            func precision(_ generator: inout MessageGenerator) -> UInt8 {
                UInt8(generator.int(1...9)) << 4 | UInt8(generator.int(0...9))
            }
            return .loc(
                LOCRecord(
                    size: precision(&self), horizontalPrecision: precision(&self), verticalPrecision: precision(&self),
                    latitude: UInt32(Int64(1 << 31) + Int64(int(-324_000_000...324_000_000))),
                    longitude: UInt32(Int64(1 << 31) + Int64(int(-648_000_000...648_000_000))), altitude: u32()))
        case 27: return .hinfo(HINFORecord(cpu: bytes(0...10), os: bytes(0...10)))
        case 28: return .uri(URIRecord(priority: u16(), weight: u16(), target: bytes(0...30)))
        case 29:
            return .tsig(
                TSIGRecord(
                    algorithm: name(), timeSigned: random.next() >> 16, fudge: u16(), mac: bytes(0...32),
                    originalID: u16(),
                    error: u16(), otherData: bytes(0...6)))
        default:
            // Unknown types live above every type this library names.
            return .unknown(UnknownRecord(type: RecordType(rawValue: UInt16(int(65280...65534))), bytes: bytes(0...20)))
        }
    }

    mutating func record(allowTSIG: Bool = false) -> ResourceRecord {
        var data = rdata()
        while !allowTSIG, data.type == .tsig { data = rdata() }
        return ResourceRecord(name: name(), recordClass: RecordClass(rawValue: u16()), ttl: u32(), data: data)
    }

    mutating func option() -> EDNSOption {
        switch int(0...6) {
        case 0: return .nsid(bytes(0...10))
        case 1:
            let prefix = UInt8(int(0...32))
            return .clientSubnet(
                family: 1, sourcePrefix: prefix, scopePrefix: UInt8(int(0...32)),
                address: bytes(Int(prefix + 7) / 8...Int(prefix + 7) / 8))
        case 2: return .cookie(client: bytes(8...8), server: bool() ? [] : bytes(8...32))
        case 3: return .tcpKeepalive(timeout: bool() ? nil : u16())
        case 4: return .padding(bytes(0...20))
        case 5: return .extendedError(code: u16(), text: bytes(0...20))
        default: return .unknown(code: UInt16(int(16...65535)), data: bytes(0...10))
        }
    }

    mutating func message() -> Message {
        var message = Message(
            id: u16(), isResponse: bool(), opcode: Opcode(rawValue: u8()), authoritative: bool(), truncated: bool(),
            recursionDesired: bool(), recursionAvailable: bool(), reservedBit: bool(), authenticData: bool(),
            checkingDisabled: bool())
        message.questions = (0..<int(0...2)).map { _ in
            Question(name: name(), type: RecordType(rawValue: u16()), recordClass: RecordClass(rawValue: u16()))
        }
        message.answers = (0..<int(0...6)).map { _ in record() }
        message.authority = (0..<int(0...3)).map { _ in record() }
        message.additional = (0..<int(0...3)).map { _ in record() }
        if bool() {
            message.edns = EDNS(
                udpPayloadSize: u16(), version: u8(), dnssecOK: bool(), otherFlags: u16(),
                options: (0..<int(0...4)).map { _ in option() })
            message.rcode = ResponseCode(rawValue: UInt16(int(0...4095)))
        } else {
            message.rcode = ResponseCode(rawValue: UInt16(int(0...15)))
        }
        if int(0...3) == 0 {
            message.tsig = ResourceRecord(name: name(), recordClass: .any, ttl: 0, data: record(allowTSIG: true).data)
        }
        if let tsig = message.tsig, tsig.type != .tsig { message.tsig = nil }
        return message
    }
}

@Suite struct RoundTripTests {
    @Test(arguments: 0..<400)
    func decodeOfEncodeIsIdentity(seed: Int) throws {
        var generator = MessageGenerator(random: SeededGenerator(state: UInt64(seed)))
        let message = generator.message()
        let bytes = try message.encode()
        let decoded = try Message.decode(bytes)
        #expect(decoded == message, "seed \(seed)")
        // Encoding is deterministic, so the decoded message encodes to the same bytes.
        #expect(try decoded.encode() == bytes)
    }

    @Test(arguments: 0..<400)
    func presentationParsesBackToTheSameData(seed: Int) throws {
        var generator = MessageGenerator(random: SeededGenerator(state: UInt64(seed) &+ 1_000_000))
        let data = generator.rdata()
        let text = data.presentation
        var scanner = try RDataScanner(text: text, origin: nil)
        #expect(try RData.parse(type: data.type, from: &scanner) == data, "seed \(seed): \(data.type) \(text)")
    }

    @Test(arguments: 0..<200)
    func truncatedMessagesStayWithinTheLimitAndDecode(seed: Int) throws {
        var generator = MessageGenerator(random: SeededGenerator(state: UInt64(seed) &+ 2_000_000))
        var message = generator.message()
        message.tsig = nil
        let limit = generator.int(12...700)
        guard let bytes = try? message.encode(maximumSize: limit) else { return }
        let minimum = try Message(id: message.id, questions: message.questions, edns: message.edns).encode().count
        #expect(bytes.count <= max(limit, minimum))
        let decoded = try Message.decode(bytes)
        #expect(decoded.questions == message.questions)
        #expect(decoded.edns == message.edns)
        #expect(message.answers.starts(with: decoded.answers))
    }
}
