import DNS
import DNSServer
import Testing

/// The answers of RFC 1034 §4.3.2 and its successors, checked case by case on one zone.
@Suite struct AuthorityTests {
    static let zoneText = """
        $ORIGIN example.com.
        $TTL 3600
        @        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
                 IN NS  ns1
                 IN NS  ns.example.net.
                 IN MX  10 mail
        ns1      IN A   192.0.2.53
        mail     IN A   192.0.2.25
                 IN AAAA 2001:db8::25
        www      IN CNAME web
        web      IN A   192.0.2.80
        loop1    IN CNAME loop2
        loop2    IN CNAME loop1
        out      IN CNAME elsewhere.example.net.
        gone     IN CNAME missing
        *.wild   IN TXT "wildcard"
        *.wild   IN MX  5 mail
        exact.wild IN TXT "exact"
        sub      IN NS  ns.sub
        sub      IN DS  12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        ns.sub   IN A   192.0.2.99
        old      IN DNAME new.example.com.
        x.new    IN A   192.0.2.7
        deep.a.b IN A   192.0.2.1
        """

    let responder: Responder

    init() throws {
        let origin = try DomainName("example.com.")
        let records = try ZoneParser(origin: origin).parse(Self.zoneText)
        responder = Responder(authority: Authority(zones: [try Zone(origin: origin, records: records)]))
    }

    func ask(
        _ name: String, _ type: RecordType, edns: EDNS? = EDNS(udpPayloadSize: 1232), over transport: Transport = .udp
    ) throws -> Message {
        let query = Message(
            id: 0x1234, recursionDesired: true, questions: [Question(name: try DomainName(name), type: type)],
            edns: edns)
        let bytes = try #require(responder.respond(to: try query.encode(), over: transport))
        let response = try Message.decode(bytes)
        #expect(response.id == 0x1234)
        #expect(response.isResponse)
        #expect(response.recursionDesired)
        #expect(!response.recursionAvailable)
        #expect(response.questions == query.questions)
        return response
    }

    func texts(_ records: [ResourceRecord]) -> [String] { records.map(\.description) }

    @Test func aPositiveAnswerIsAuthoritative() throws {
        let response = try ask("web.example.com.", .a)
        #expect(response.rcode == .noError)
        #expect(response.authoritative)
        #expect(texts(response.answers) == ["web.example.com. 3600 IN A 192.0.2.80"])
        #expect(response.authority.isEmpty)
    }

    @Test func namesAreMatchedCaseInsensitivelyAndTheQuestionKeepsItsCase() throws {
        let response = try ask("WeB.ExAmple.COM.", .a)
        #expect(response.answers.map(\.data) == [.a(ARecord(address: IPv4Address(192, 0, 2, 80)))])
    }

    @Test func mailExchangersComeWithTheirAddresses() throws {
        let response = try ask("example.com.", .mx)
        #expect(texts(response.answers) == ["example.com. 3600 IN MX 10 mail.example.com."])
        #expect(
            Set(texts(response.additional))
                == ["mail.example.com. 3600 IN A 192.0.2.25", "mail.example.com. 3600 IN AAAA 2001:db8::25"])
    }

    @Test func aCNAMEIsFollowedWithinTheZone() throws {
        let response = try ask("www.example.com.", .a)
        #expect(response.authoritative)
        #expect(
            texts(response.answers) == [
                "www.example.com. 3600 IN CNAME web.example.com.", "web.example.com. 3600 IN A 192.0.2.80",
            ])
        // Asking for the CNAME itself does not follow it.
        #expect(
            texts(try ask("www.example.com.", .cname).answers) == ["www.example.com. 3600 IN CNAME web.example.com."])
        // A CNAME out of the zone is given as it is, for the resolver to follow.
        #expect(
            texts(try ask("out.example.com.", .a).answers) == ["out.example.com. 3600 IN CNAME elsewhere.example.net."])
    }

    @Test func aCNAMEToANameThatDoesNotExistIsNXDOMAINWithTheChain() throws {
        let response = try ask("gone.example.com.", .a)
        #expect(response.rcode == .nameError)  // RFC 6604: the code describes the last name
        #expect(texts(response.answers) == ["gone.example.com. 3600 IN CNAME missing.example.com."])
        #expect(response.authority.map(\.type) == [.soa])
    }

    @Test func aCNAMELoopEndsWithoutRepeating() throws {
        let response = try ask("loop1.example.com.", .a)
        #expect(
            texts(response.answers) == [
                "loop1.example.com. 3600 IN CNAME loop2.example.com.",
                "loop2.example.com. 3600 IN CNAME loop1.example.com.",
            ])
    }

    @Test func nxdomainCarriesTheSOAWithTheNegativeTTL() throws {
        let response = try ask("nope.example.com.", .a)
        #expect(response.rcode == .nameError)
        #expect(response.authoritative)
        #expect(response.answers.isEmpty)
        // RFC 2308 §3: the SOA's TTL is the smaller of its TTL (3600) and MINIMUM (300).
        #expect(
            texts(response.authority) == [
                "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
            ])
    }

    @Test func nodataAtAnExistingNameAndAtAnEmptyNonTerminal() throws {
        for name in ["web.example.com.", "a.b.example.com.", "b.example.com."] {
            let response = try ask(name, name == "web.example.com." ? .mx : .a)
            #expect(response.rcode == .noError, "\(name)")
            #expect(response.answers.isEmpty, "\(name)")
            #expect(response.authority.map(\.type) == [.soa], "\(name)")
        }
    }

    @Test func aReferralIsNotAuthoritativeAndCarriesGlue() throws {
        let response = try ask("host.sub.example.com.", .a)
        #expect(response.rcode == .noError)
        #expect(!response.authoritative)
        #expect(response.answers.isEmpty)
        #expect(texts(response.authority) == ["sub.example.com. 3600 IN NS ns.sub.example.com."])
        #expect(texts(response.additional) == ["ns.sub.example.com. 3600 IN A 192.0.2.99"])
        // The delegation point itself is a referral too, except for DS, which the parent answers.
        #expect(!(try ask("sub.example.com.", .a).authoritative))
        let ds = try ask("sub.example.com.", .ds)
        #expect(ds.authoritative)
        #expect(ds.answers.map(\.type) == [.ds])
    }

    @Test func wildcardsSynthesiseTheQueriedName() throws {
        let response = try ask("anything.wild.example.com.", .txt)
        #expect(response.authoritative)
        #expect(texts(response.answers) == [#"anything.wild.example.com. 3600 IN TXT "wildcard""#])
        #expect(
            texts(try ask("a.b.c.wild.example.com.", .mx).answers) == [
                "a.b.c.wild.example.com. 3600 IN MX 5 mail.example.com."
            ])
        // An existing name is not covered by the wildcard.
        #expect(
            texts(try ask("exact.wild.example.com.", .txt).answers) == [#"exact.wild.example.com. 3600 IN TXT "exact""#]
        )
        #expect(try ask("exact.wild.example.com.", .mx).answers.isEmpty)
        // A wildcard without the type is NODATA, not NXDOMAIN.
        let nodata = try ask("x.wild.example.com.", .a)
        #expect(nodata.rcode == .noError)
        #expect(nodata.answers.isEmpty)
        // The wildcard name itself, asked for literally, answers as itself.
        #expect(texts(try ask("*.wild.example.com.", .txt).answers) == [#"*.wild.example.com. 3600 IN TXT "wildcard""#])
    }

    @Test func aDNAMERewritesTheNameAndIsFollowedInTheZone() throws {
        let response = try ask("x.old.example.com.", .a)
        #expect(
            texts(response.answers) == [
                "old.example.com. 3600 IN DNAME new.example.com.",
                "x.old.example.com. 3600 IN CNAME x.new.example.com.",
                "x.new.example.com. 3600 IN A 192.0.2.7",
            ])
        // The DNAME's owner itself is not rewritten.
        #expect(
            texts(try ask("old.example.com.", .dname).answers) == ["old.example.com. 3600 IN DNAME new.example.com."])
    }

    @Test func namesOutsideEveryZoneAreRefusedWithAnExtendedError() throws {
        let response = try ask("example.org.", .a)
        #expect(response.rcode == .refused)
        #expect(!response.authoritative)
        #expect(response.edns?.options.contains { if case .extendedError(20, _) = $0 { true } else { false } } == true)
        // Without EDNS there is nowhere to put the extended error, but the code stays.
        #expect(try ask("example.org.", .a, edns: nil).rcode == .refused)
    }

    @Test func anyIsAnsweredWithOneRRset() throws {
        let response = try ask("example.com.", .any)
        #expect(response.rcode == .noError)
        #expect(Set(response.answers.map(\.type)).count == 1)
        #expect(!response.answers.isEmpty)
    }

    @Test func udpAnswersRespectThePayloadSizeAndSetTC() throws {
        // 40 TXT records of ~100 bytes do not fit in 512 bytes without EDNS, but do over TCP.
        let origin = try DomainName("big.test.")
        var text = "$ORIGIN big.test.\n$TTL 60\n@ IN SOA ns h 1 1 1 1 1\n"
        for index in 0..<40 { text += "txt IN TXT \"\(index) \(String(repeating: "x", count: 90))\"\n" }
        let zone = try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
        let big = Responder(authority: Authority(zones: [zone]))
        let query = try Message(id: 7, questions: [Question(name: try DomainName("txt.big.test."), type: .txt)])
            .encode()
        let udp = try Message.decode(try #require(big.respond(to: query, over: .udp)))
        #expect(udp.truncated)
        #expect(try #require(big.respond(to: query, over: .udp)).count <= 512)
        let tcp = try Message.decode(try #require(big.respond(to: query, over: .tcp)))
        #expect(!tcp.truncated)
        #expect(tcp.answers.count == 40)
    }

    @Test func malformedQueriesGetFORMERROrNoAnswer() throws {
        // A header followed by a question that runs past the end.
        let truncated: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77]
        let response = try Message.decode(try #require(responder.respond(to: truncated, over: .udp)))
        #expect(response.id == 0xABCD)
        #expect(response.rcode == .formatError)
        #expect(response.recursionDesired)
        // Shorter than a header, or a response: silence (no amplification, no loops).
        #expect(responder.respond(to: [0xAB], over: .udp) == nil)
        var answer = Message(id: 1, questions: [Question(name: try DomainName("example.com."), type: .a)])
        answer.isResponse = true
        #expect(responder.respond(to: try answer.encode(), over: .udp) == nil)
        // Two questions are a format error too.
        let two = Message(
            id: 2,
            questions: [
                Question(name: try DomainName("a.example.com."), type: .a),
                Question(name: try DomainName("b.example.com."), type: .a),
            ])
        #expect(
            try Message.decode(try #require(responder.respond(to: try two.encode(), over: .udp))).rcode == .formatError)
    }

    @Test func unknownEDNSVersionsAndOpcodesAreRefusedByTheRightCode() throws {
        let badVersion = try ask("web.example.com.", .a, edns: EDNS(udpPayloadSize: 1232, version: 1))
        #expect(badVersion.rcode == .badVersionOrSignature)
        #expect(badVersion.answers.isEmpty)
        var status = Message(id: 3, questions: [Question(name: try DomainName("example.com."), type: .soa)])
        status.opcode = Opcode(rawValue: 2)
        #expect(
            try Message.decode(try #require(responder.respond(to: try status.encode(), over: .udp))).rcode
                == .notImplemented)
        // UPDATE is implemented, and refused when unsigned.
        var update = status
        update.opcode = .update
        #expect(
            try Message.decode(try #require(responder.respond(to: try update.encode(), over: .udp))).rcode == .refused)
        #expect(try ask("example.com.", .axfr, over: .tcp).rcode == .refused)
    }

    @Test func theAnswerAdvertisesOurPayloadSizeOnlyWhenAskedWithEDNS() throws {
        #expect(try ask("web.example.com.", .a).edns?.udpPayloadSize == 1232)
        #expect(try ask("web.example.com.", .a, edns: nil).edns == nil)
    }
}

extension AuthorityTests {
    @Test func anyAndCNAMEQueriesStopAtTheFirstCNAME() throws {
        #expect(texts(try ask("www.example.com.", .any).answers) == ["www.example.com. 3600 IN CNAME web.example.com."])
        #expect(
            texts(try ask("x.old.example.com.", .cname).answers) == [
                "old.example.com. 3600 IN DNAME new.example.com.",
                "x.old.example.com. 3600 IN CNAME x.new.example.com.",
            ])
    }
}

@Suite struct ManyDelegationsTests {
    @Test func aZoneWithManyDelegationsStillRefersAndAnswers() throws {
        let origin = try DomainName("tld.")
        var text = "$ORIGIN tld.\n$TTL 60\n@ IN SOA ns h 1 1 1 1 60\n@ IN NS ns\nns IN A 192.0.2.1\n"
        for index in 0..<100 { text += "d\(index) IN NS ns.d\(index)\nns.d\(index) IN A 192.0.2.\(index + 2)\n" }
        text += "plain IN A 192.0.2.200\n"
        let zone = try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
        let authority = Authority(zones: [zone])
        let referral = authority.answer(
            Message(id: 1, questions: [Question(name: try DomainName("www.d42.tld."), type: .a)]))
        #expect(!referral.authoritative)
        #expect(referral.authority.map(\.description) == ["d42.tld. 60 IN NS ns.d42.tld."])
        #expect(referral.additional.map(\.description) == ["ns.d42.tld. 60 IN A 192.0.2.44"])
        let answer = authority.answer(
            Message(id: 2, questions: [Question(name: try DomainName("plain.tld."), type: .a)]))
        #expect(answer.authoritative)
        #expect(answer.answers.map(\.description) == ["plain.tld. 60 IN A 192.0.2.200"])
    }
}
