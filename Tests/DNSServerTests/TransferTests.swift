import DNS
import DNSSecurity
import DNSServer
import Testing

@Suite struct TransferTests {
    let origin: DomainName
    let zone: Zone

    init() throws {
        origin = try DomainName("example.com.")
        var text = "$ORIGIN example.com.\n$TTL 60\n@ IN SOA ns h 42 1 1 1 60\n@ IN NS ns\nns IN A 192.0.2.1\n"
        for index in 0..<600 { text += "host\(index) IN TXT \"\(String(repeating: "t", count: 40))\"\n" }
        zone = try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
    }

    private func responder(allowing prefixes: [String]) -> Responder {
        Responder(
            authority: Authority(zones: [zone]),
            transferPolicy: AddressPolicy(prefixes.compactMap(AddressPolicy.Prefix.init)))
    }

    private func query(_ type: RecordType, name: String = "example.com.", authority: [ResourceRecord] = []) throws
        -> [UInt8]
    {
        try Message(id: 9, questions: [Question(name: try DomainName(name), type: type)], authority: authority).encode()
    }

    @Test func axfrIsTheSOAEveryRecordAndTheSOAInSeveralMessages() throws {
        let replies = responder(allowing: ["127.0.0.0/8"]).responses(
            to: try query(.axfr), over: .tcp, from: [127, 0, 0, 1])
        let messages = try replies.map(Message.decode)
        #expect(messages.count > 1)
        #expect(messages.allSatisfy { $0.id == 9 && $0.authoritative && $0.rcode == .noError })
        #expect(messages.first?.questions.count == 1)
        #expect(messages.dropFirst().allSatisfy { $0.questions.isEmpty })
        #expect(replies.allSatisfy { $0.count <= 65535 })
        let records = messages.flatMap(\.answers)
        #expect(records.first?.type == .soa)
        #expect(records.last?.type == .soa)
        #expect(records.count == 2 + 1 + 1 + 600)
        #expect(Set(records.dropFirst().dropLast()) == Set(zone.canonicalRecords.filter { $0.type != .soa }))
    }

    @Test func ixfrFromTheCurrentSerialIsJustTheSOA() throws {
        let responder = responder(allowing: ["127.0.0.1"])
        func ixfr(from serial: UInt32) throws -> [Message] {
            let soa = ResourceRecord(
                name: origin, ttl: 60,
                data: .soa(
                    SOARecord(
                        primary: origin, mailbox: origin, serial: serial, refresh: 1, retry: 1, expire: 1, minimum: 1)))
            return try responder.responses(to: try query(.ixfr, authority: [soa]), over: .tcp, from: [127, 0, 0, 1])
                .map(Message.decode)
        }
        #expect(try ixfr(from: 42).flatMap(\.answers).map(\.type) == [.soa])
        // Newer than ours (serial arithmetic wraps): nothing to send either.
        #expect(try ixfr(from: 43).flatMap(\.answers).count == 1)
        // Older: the whole zone, in AXFR form, since there is no journal yet.
        #expect(try ixfr(from: 41).flatMap(\.answers).count == 604)
    }

    @Test func transfersNeedAnAllowedAddressAndTCP() throws {
        let allowed = responder(allowing: ["192.0.2.0/24", "2001:db8::/32"])
        func rcode(_ replies: [[UInt8]]) throws -> ResponseCode? { try replies.first.map(Message.decode)?.rcode }
        #expect(try rcode(allowed.responses(to: try query(.axfr), over: .tcp, from: [192, 0, 2, 200])) == .noError)
        #expect(try rcode(allowed.responses(to: try query(.axfr), over: .tcp, from: [192, 0, 3, 1])) == .refused)
        let v6 = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        #expect(try rcode(allowed.responses(to: try query(.axfr), over: .tcp, from: v6)) == .noError)
        #expect(try rcode(allowed.responses(to: try query(.axfr), over: .udp, from: [192, 0, 2, 1])) == .refused)
        #expect(
            try rcode(responder(allowing: []).responses(to: try query(.axfr), over: .tcp, from: [127, 0, 0, 1]))
                == .refused)
        // A zone we do not have.
        #expect(
            try rcode(allowed.responses(to: try query(.axfr, name: "example.org."), over: .tcp, from: [192, 0, 2, 1]))
                == .notAuthoritative)
    }

    @Test func prefixesParseAndMatchBitByBit() throws {
        let prefix = try #require(AddressPolicy.Prefix("10.1.0.0/15"))
        #expect(AddressPolicy([prefix]).allows([10, 1, 255, 255]))
        #expect(AddressPolicy([prefix]).allows([10, 0, 0, 1]))
        #expect(!AddressPolicy([prefix]).allows([10, 2, 0, 0]))
        #expect(!AddressPolicy([prefix]).allows([0x20, 0x01] + [UInt8](repeating: 0, count: 14)))
        #expect(AddressPolicy.Prefix("10.0.0.0/33") == nil)
        #expect(AddressPolicy.Prefix("example.com") == nil)
        #expect(
            AddressPolicy.Prefix("::/0").map { AddressPolicy([$0]).allows([UInt8](repeating: 7, count: 16)) } == true)
    }
}

@Suite struct NotifyTests {
    @Test func aNotifyAnnouncesTheCurrentSOAAndReloadsReportChangedSerials() throws {
        let origin = try DomainName("example.com.")
        func zone(serial: Int, extra: String = "") throws -> Zone {
            try Zone(
                origin: origin,
                records: try ZoneParser(origin: origin).parse("@ 60 IN SOA ns h \(serial) 1 1 1 1\n\(extra)"))
        }
        let before = Authority(zones: [try zone(serial: 1)])
        let message = try #require(before.notify(origin, id: 77))
        #expect(message.opcode == .notify)
        #expect(message.authoritative)
        #expect(message.questions == [Question(name: origin, type: .soa)])
        #expect(
            message.answers.map(\.description) == ["example.com. 60 IN SOA ns.example.com. h.example.com. 1 1 1 1 1"])
        #expect(before.notify(try DomainName("example.org."), id: 1) == nil)

        var same = before
        same.add(try zone(serial: 1, extra: "www 60 IN A 192.0.2.1\n"))
        #expect(before.changedZones(in: same).isEmpty)  // as secondaries see it: same serial, nothing to fetch
        var newer = before
        newer.add(try zone(serial: 2))
        let other = try DomainName("example.net.")
        newer.add(try Zone(origin: other, records: try ZoneParser(origin: other).parse("@ 60 IN SOA ns h 1 1 1 1 1\n")))
        #expect(before.changedZones(in: newer) == [origin, other].sorted())
    }
}

@Suite struct TSIGTransferTests {
    let key: TSIGKey
    let responder: Responder
    let now: UInt32 = 1_800_000_000

    init() throws {
        key = TSIGKey(name: try DomainName("xfer."), algorithm: .hmacSHA256, secret: Array(repeating: 0x42, count: 32))
        let origin = try DomainName("example.com.")
        var text = "$ORIGIN example.com.\n$TTL 60\n@ IN SOA ns h 42 1 1 1 60\n@ IN NS ns\nns IN A 192.0.2.1\n"
        for index in 0..<500 { text += "host\(index) IN TXT \"\(String(repeating: "t", count: 40))\"\n" }
        let zone = try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
        responder = Responder(authority: Authority(zones: [zone]), keys: [key], transferKeys: [key.name])
    }

    private func signedQuery(_ type: RecordType, with key: TSIGKey, at time: UInt64) throws -> (
        bytes: [UInt8], mac: [UInt8]
    ) {
        let query = try Message(id: 11, questions: [Question(name: try DomainName("example.com."), type: type)])
            .encode()
        return try TSIG.sign(query, key: key, time: time)
    }

    @Test func aSignedTransferIsASignedSequenceFromAnyAddress() throws {
        let query = try signedQuery(.axfr, with: key, at: UInt64(now))
        let replies = responder.responses(to: query.bytes, over: .tcp, from: [198, 51, 100, 7], at: now)
        #expect(replies.count > 1)
        var verifier = TSIGSequenceVerifier(keys: [key], requestMAC: query.mac)
        var records = 0
        for reply in replies {
            let verified = try verifier.verify(reply, now: UInt64(now)).get()
            #expect(verified.signed)
            records += verified.message.answers.count
        }
        #expect(records == 2 + 2 + 500)
    }

    @Test func aSignedQueryGetsASignedAnswer() throws {
        let query = try signedQuery(.soa, with: key, at: UInt64(now))
        let reply = try #require(responder.respond(to: query.bytes, over: .udp, from: [198, 51, 100, 7], at: now))
        let verified = try TSIG.verify(reply, keys: [key], now: UInt64(now), requestMAC: query.mac).get()
        #expect(verified.message.answers.map(\.type) == [.soa])
    }

    @Test func badSignaturesKeysAndTimesAreNOTAUTHWithTheTSIGError() throws {
        func failure(_ bytes: [UInt8]) throws -> (ResponseCode, UInt16?) {
            let reply = try Message.decode(
                try #require(responder.respond(to: bytes, over: .tcp, from: [127, 0, 0, 1], at: now)))
            guard case .tsig(let record)? = reply.tsig?.data else { return (reply.rcode, nil) }
            #expect(record.mac.isEmpty)
            return (reply.rcode, record.error)
        }
        let wrongSecret = TSIGKey(name: key.name, algorithm: .hmacSHA256, secret: Array(repeating: 1, count: 32))
        #expect(
            try failure(try signedQuery(.axfr, with: wrongSecret, at: UInt64(now)).bytes) == (.notAuthoritative, 16))
        let unknown = TSIGKey(name: try DomainName("other."), algorithm: .hmacSHA256, secret: key.secret)
        #expect(try failure(try signedQuery(.axfr, with: unknown, at: UInt64(now)).bytes) == (.notAuthoritative, 17))
        #expect(try failure(try signedQuery(.axfr, with: key, at: UInt64(now) - 1000).bytes) == (.notAuthoritative, 18))
    }

    @Test func anUnsignedTransferFromAnUnlistedAddressIsRefused() throws {
        let query = try Message(id: 3, questions: [Question(name: try DomainName("example.com."), type: .axfr)])
            .encode()
        let reply = try Message.decode(
            try #require(responder.respond(to: query, over: .tcp, from: [127, 0, 0, 1], at: now)))
        #expect(reply.rcode == .refused)
    }
}
