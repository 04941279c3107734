import Testing
import Wire

@testable import DNS

@Suite struct MessageTests {
    private func name(_ text: String) throws -> DomainName { try DomainName(text) }

    /// RFC 1035 §4.1.4: F.ISI.ARPA, then FOO.F.ISI.ARPA points at it, then ARPA points into it.
    @Test func compressionPointsAtEarlierSuffixes() throws {
        var writer = MessageWriter(mode: .compressed)
        writer.write(bytes: [UInt8](repeating: 0, count: 20))
        writer.writeName(try name("F.ISI.ARPA."))
        writer.writeName(try name("FOO.f.isi.arpa."))
        writer.writeName(try name("ARPA."))
        writer.writeName(.root)
        let expected: [UInt8] =
            [1, 70, 3, 73, 83, 73, 4, 65, 82, 80, 65, 0]  // F.ISI.ARPA at 20
            + [3, 70, 79, 79, 0xC0, 20]  // FOO + pointer to 20
            + [0xC0, 26]  // ARPA at 26
            + [0]
        #expect(Array(writer.bytes[20...]) == expected)

        var reader = WireReader(writer.bytes)
        try reader.skip(32)
        #expect(try DomainName.decode(from: &reader) == (try name("foo.f.isi.arpa.")))
        #expect(reader.offset == 38)
        #expect(try DomainName.decode(from: &reader) == (try name("arpa.")))
    }

    @Test func pointerLoopsAndForwardPointersAreRejected() {
        // A name at 12 that points to itself, and one that points forward.
        let header: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        let selfLoop = header + [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: WireError.self) { try Message.decode(selfLoop) }
        let forward = header + [0xC0, 14, 1, 97, 0, 0, 1, 0, 1]
        #expect(throws: WireError.self) { try Message.decode(forward) }
        // Two labels pointing at each other.
        let mutual = header + [1, 97, 0xC0, 15, 1, 98, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: WireError.self) { try Message.decode(mutual) }
    }

    @Test func countsBeyondTheInputFailCleanly() {
        let bytes: [UInt8] = [0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.self) { try Message.decode(bytes) }
    }

    /// RFC 4034 §4.3: the NSEC example's type bitmap, byte for byte.
    @Test func nsecTypeBitmapMatchesRFC4034Example() throws {
        let record = NSECRecord(
            nextName: try name("host.example.com."), types: [.a, .mx, .rrsig, .nsec, RecordType(rawValue: 1234)])
        var writer = MessageWriter(mode: .uncompressed)
        try record.encode(into: &writer)
        let bitmap = Array(writer.bytes.dropFirst((try name("host.example.com.")).wire.count))
        var expected: [UInt8] = [0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1B]
        expected += [UInt8](repeating: 0, count: 26) + [0x20]
        #expect(bitmap == expected)
        var reader = WireReader(writer.bytes)
        #expect(try NSECRecord(wire: &reader) == record)
    }

    /// RFC 6891 §6.1.3: response code 16 is 1 in the OPT TTL's top byte and 0 in the header.
    @Test func extendedResponseCodeSplitsAcrossHeaderAndOPT() throws {
        let message = Message(id: 1, isResponse: true, rcode: .badVersionOrSignature, edns: EDNS(udpPayloadSize: 1232))
        let bytes = try message.encode()
        #expect(bytes[3] & 0x0F == 0)
        // OPT: root name, type 41, class = payload, then the extended rcode byte.
        #expect(Array(bytes[12...17]) == [0, 0, 41, 0x04, 0xD0, 1])
        #expect(try Message.decode(bytes).rcode == .badVersionOrSignature)
    }

    @Test func truncationDropsWholeRRsetsAndSetsTC() throws {
        let owner = try name("many.example.")
        let answers = (0..<100).map {
            ResourceRecord(name: owner, ttl: 60, data: .a(ARecord(address: IPv4Address(10, 0, 0, UInt8($0)))))
        }
        let response = Message(id: 9, isResponse: true, questions: [Question(name: owner, type: .a)], answers: answers)
        let bytes = try response.encode(maximumSize: 512)
        #expect(bytes.count <= 512)
        let decoded = try Message.decode(bytes)
        #expect(decoded.truncated)
        // All 100 records are one RRset: none of it may be sent half.
        #expect(decoded.answers.isEmpty)

        // Additional data that does not fit is dropped without TC (RFC 2181 §9).
        let glue = try (0..<100).map {
            ResourceRecord(
                name: try DomainName("ns\($0).example."), ttl: 60, data: .a(ARecord(address: IPv4Address(UInt32($0)))))
        }
        let referral = Message(
            id: 9, isResponse: true, answers: [answers[0]], additional: glue, edns: EDNS(udpPayloadSize: 600))
        let cut = try Message.decode(try referral.encode(maximumSize: 600))
        #expect(!cut.truncated)
        #expect(cut.answers.count == 1)
        #expect(!cut.additional.isEmpty && cut.additional.count < 100)
        #expect(cut.edns?.udpPayloadSize == 600)
    }

    @Test func unknownTypesUseRFC3597() throws {
        var scanner = try RDataScanner(text: "\\# 4 0a000001")
        let data = try RData.parse(type: RecordType(rawValue: 65534), from: &scanner)
        #expect(data == .unknown(UnknownRecord(type: RecordType(rawValue: 65534), bytes: [10, 0, 0, 1])))
        #expect(data.presentation == "\\# 4 0A000001")
        // The generic form of a known type gives the known type's data.
        var known = try RDataScanner(text: "\\# 4 C0000201")
        #expect(try RData.parse(type: .a, from: &known) == .a(ARecord(address: IPv4Address(192, 0, 2, 1))))
        #expect(RecordType("TYPE65534") == RecordType(rawValue: 65534))
        #expect(RecordType(rawValue: 65534).description == "TYPE65534")
    }

    /// RFC 5952 §4 examples.
    @Test func ipv6TextFollowsRFC5952() throws {
        #expect(IPv6Address("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPv6Address("2001:0db8:0:0:0:0:2:1")?.description == "2001:db8::2:1")
        #expect(IPv6Address("2001:db8:0:1:1:1:1:1")?.description == "2001:db8:0:1:1:1:1:1")
        #expect(IPv6Address("2001:DB8::1")?.description == "2001:db8::1")
        #expect(IPv6Address("::")?.description == "::")
        #expect(IPv6Address("1::2::3") == nil)
        #expect(IPv6Address("1:2:3:4:5:6:7:8:9") == nil)
    }

    /// RFC 4034 §3.3's example times.
    @Test func dnssecTimesMatchRFC4034() {
        #expect(DNSSECTime.parse("20030322173103") == 1_048_354_263)
        #expect(DNSSECTime.format(1_048_354_263) == "20030322173103")
        #expect(DNSSECTime.parse("20031322173103") == nil)
    }

    @Test func ttlUnits() {
        #expect(parseTTL("1h30m") == 5400)
        #expect(parseTTL("1W") == 604_800)
        #expect(parseTTL("2d3s") == 172_803)
        #expect(parseTTL("3600") == 3600)
        #expect(parseTTL("1x") == nil)
        #expect(parseTTL("h") == nil)
        #expect(parseTTL("99999999999") == nil)
    }

    @Test func typedRecordMapReturnsTheKeysType() throws {
        var map = RecordMap()
        map.add(.a(ARecord(address: IPv4Address(192, 0, 2, 1))), ttl: 300)
        map.add(.a(ARecord(address: IPv4Address(192, 0, 2, 2))), ttl: 600)
        map.add(.a(ARecord(address: IPv4Address(192, 0, 2, 1))), ttl: 300)
        map.add(.mx(MXRecord(preference: 10, exchange: try name("mail.example."))), ttl: 60)
        let addresses: RRSet<ARecord>? = map[.a]
        #expect(addresses?.ttl == 300)
        #expect(addresses?.records.map(\.address) == [IPv4Address(192, 0, 2, 1), IPv4Address(192, 0, 2, 2)])
        let exchanges: RRSet<MXRecord>? = map[.mx]
        #expect(exchanges?.records.first?.preference == 10)
        #expect(map[.aaaa] == nil)
        map[.mx] = nil
        #expect(map.types == [.a])
    }
}
