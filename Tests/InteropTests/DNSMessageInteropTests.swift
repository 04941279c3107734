import DNS
import Foundation
import TestSupport
import Testing

/// Messages carrying every record type, encoded by dnspython and decoded here, and the other way.
@Suite struct DNSMessageInteropTests {
    static func origin() throws -> DomainName { try DomainName("example.com.") }

    /// dnspython reads the corpus as a zone, puts every RRset in the answer section with EDNS
    /// options of each kind, and prints the compressed wire form in hex.
    static let encodeScript = """
        import sys, dns.zone, dns.message, dns.flags, dns.edns, dns.rdatatype, dns.name, dns.rdataclass
        z = dns.zone.from_text(sys.stdin.read(), origin='example.com.', relativize=False, check_origin=False)
        m = dns.message.Message(id=0x1234)
        m.flags = dns.flags.QR | dns.flags.AA | dns.flags.RD
        m.find_rrset(m.question, dns.name.from_text('example.com.'), dns.rdataclass.IN, dns.rdatatype.ANY, create=True)
        for name, node in z.nodes.items():
            for rds in node.rdatasets:
                m.find_rrset(m.answer, name, rds.rdclass, rds.rdtype, rds.covers, create=True).update(rds)
        m.use_edns(0, dns.flags.DO, 1232, options=[
            dns.edns.ECSOption('192.0.2.0', 24, 0),
            dns.edns.CookieOption(b'12345678', b'abcdefgh'),
            dns.edns.NSIDOption(b'ns1'),
            dns.edns.EDEOption(18, 'prohibited'),
            dns.edns.GenericOption(11, b'\\x00\\x64'),
            dns.edns.GenericOption(65001, b'xyz'),
        ])
        sys.stdout.write(m.to_wire(max_size=65535).hex())
        """

    /// dnspython decodes our bytes and prints every record as a zone-file line, then its view of the header and EDNS.
    static let decodeScript = """
        import sys, dns.message, dns.flags
        m = dns.message.from_wire(bytes.fromhex(sys.stdin.read()))
        for section in (m.answer, m.authority, m.additional):
            for rrset in section:
                print(rrset.to_text())
        print(';id', m.id, 'flags', m.flags, 'payload', m.payload, 'edns', m.edns, 'ednsflags', m.ednsflags)
        for option in m.options:
            print(';option', option.otype, option.to_wire().hex())
        """

    private func corpusRecords() throws -> [ResourceRecord] {
        try ZoneParser(origin: Self.origin()).parse(DNSCorpus.everyType)
    }

    @Test func dnspythonEncodedMessageDecodesToTheSameRecords() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let result = try run(python, ["-c", Self.encodeScript], stdin: Data(DNSCorpus.everyType.utf8))
        try #require(result.status == 0, "\(result.stderr)")
        let bytes = try #require(TextEncoding.decodeHex(result.stdout))
        let message = try Message.decode(bytes)

        #expect(message.id == 0x1234)
        #expect(message.isResponse && message.authoritative && message.recursionDesired)
        #expect(message.questions == [Question(name: try Self.origin(), type: .any)])
        // dnspython gives one TTL per RRset; so does the corpus.
        #expect(Set(message.answers) == Set(try corpusRecords()))
        #expect(message.answers.count == (try corpusRecords()).count)

        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.dnssecOK)
        #expect(
            edns.options == [
                .clientSubnet(family: 1, sourcePrefix: 24, scopePrefix: 0, address: [192, 0, 2]),
                .cookie(client: Array("12345678".utf8), server: Array("abcdefgh".utf8)),
                .nsid(Array("ns1".utf8)),
                .extendedError(code: 18, text: Array("prohibited".utf8)),
                .tcpKeepalive(timeout: 100),
                .unknown(code: 65001, data: Array("xyz".utf8)),
            ])
    }

    @Test func ourEncodedMessageDecodesInDnspythonToTheSameRecords() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let records = try corpusRecords()
        let message = Message(
            id: 0xBEEF, isResponse: true, authoritative: true,
            questions: [Question(name: try Self.origin(), type: .any)],
            answers: records,
            edns: EDNS(
                udpPayloadSize: 4096, dnssecOK: true,
                options: [
                    .cookie(client: Array("ABCDEFGH".utf8), server: []), .padding([0, 0, 0, 0]),
                    .extendedError(code: 6, text: []),
                ]))
        let bytes = try message.encode()
        let result = try run(python, ["-c", Self.decodeScript], stdin: Data(TextEncoding.hex(bytes).utf8))
        try #require(result.status == 0, "\(result.stderr)")

        let theirs = try ZoneParser(origin: .root).parse(result.stdout)
        #expect(Set(theirs) == Set(records))
        #expect(theirs.count == records.count)
        #expect(result.stdout.contains(";id 48879 flags 33792 payload 4096 edns 0 ednsflags 32768"), "\(result.stdout)")
        #expect(result.stdout.contains(";option 10 4142434445464748"))
        #expect(result.stdout.contains(";option 12 00000000"))
        #expect(result.stdout.contains(";option 15 0006"))
        // Compression made it smaller than the names alone would need.
        let uncompressed = records.reduce(0) { $0 + $1.name.wire.count }
        #expect(bytes.count < uncompressed + records.reduce(0) { $0 + 10 + $1.data.wireBytes().count })
    }

    @Test func dnspythonAcceptsOurTruncatedResponse() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let records = try corpusRecords()
        let message = Message(
            id: 7, isResponse: true, questions: [Question(name: try Self.origin(), type: .any)], answers: records)
        let bytes = try message.encode(maximumSize: 512)
        #expect(bytes.count <= 512)
        let result = try run(python, ["-c", Self.decodeScript], stdin: Data(TextEncoding.hex(bytes).utf8))
        try #require(result.status == 0, "\(result.stderr)")
        // 0x8200: QR and TC.
        #expect(result.stdout.contains(";id 7 flags 33280 "), "\(result.stdout)")
        let theirs = try ZoneParser(origin: .root).parse(result.stdout)
        #expect(!theirs.isEmpty && theirs.count < records.count)
        #expect(Set(theirs).isSubset(of: Set(records)))
    }
}
