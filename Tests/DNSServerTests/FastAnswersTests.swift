import DNS
import DNSServer
import Testing

/// The fast path must send exactly the bytes the full responder sends, whenever it answers.
@Suite struct FastAnswersTests {
    @Test func everyFastAnswerIsByteForByteTheFullAnswer() throws {
        let origin = try DomainName("example.com.")
        let records = try ZoneParser(origin: origin).parse(AuthorityTests.zoneText + "\ntxt IN TXT \"a\" \"b\"\n")
        let authority = Authority(zones: [try Zone(origin: origin, records: records)])
        let responder = Responder(authority: authority)
        let fast = FastAnswers(authority)
        var writer = MessageWriter()
        let names = [
            "example.com.", "ns1", "mail", "MAIL", "www", "web", "WeB", "loop1", "out", "gone", "x.wild", "exact.wild",
            "sub", "ns.sub", "host.sub", "old", "x.old", "x.new", "deep.a.b", "a.b", "txt", "nothing",
        ]
        let types: [RecordType] = [.a, .aaaa, .mx, .ns, .txt, .soa, .cname, .ds, .any, .srv]
        var fastCount = 0
        var id: UInt16 = 1
        for name in names {
            let owner = try DomainName(name.hasSuffix(".") ? name : name + ".example.com.")
            for type in types {
                for recursionDesired in [false, true] {
                    id &+= 7919
                    let query = try Message(
                        id: id, recursionDesired: recursionDesired, questions: [Question(name: owner, type: type)]
                    ).encode()
                    guard fast.answer(query, into: &writer) else { continue }
                    fastCount += 1
                    let full = try #require(responder.respond(to: query, over: .udp))
                    #expect(writer.bytes == full, "\(name) \(type)")
                }
            }
        }
        // Positive answers for plain types are the common case: most of these go the fast way.
        #expect(fastCount >= 20, "only \(fastCount) fast answers")
    }

    @Test func queriesThatNeedMoreGoTheFullWay() throws {
        let origin = try DomainName("example.com.")
        let records = try ZoneParser(origin: origin).parse(AuthorityTests.zoneText)
        let fast = FastAnswers(Authority(zones: [try Zone(origin: origin, records: records)]))
        var writer = MessageWriter()
        let web = try DomainName("web.example.com.")
        var withEDNS = Message(id: 1, questions: [Question(name: web, type: .a)])
        withEDNS.edns = EDNS(udpPayloadSize: 1232)
        var checkingDisabled = Message(id: 2, questions: [Question(name: web, type: .a)])
        checkingDisabled.checkingDisabled = true
        let cases: [Message] = [
            withEDNS, checkingDisabled,
            // A CNAME to chase, then a name below a delegation.
            Message(id: 3, questions: [Question(name: try DomainName("www.example.com."), type: .a)]),
            Message(id: 4, questions: [Question(name: try DomainName("ns.sub.example.com."), type: .a)]),
            Message(id: 5, questions: [Question(name: try DomainName("mail.example.com."), type: .mx)]),
            Message(id: 6, questions: [Question(name: try DomainName("nothing.example.com."), type: .a)]),
            Message(id: 7, opcode: .notify, questions: [Question(name: web, type: .a)]),
        ]
        for message in cases {
            #expect(!fast.answer(try message.encode(), into: &writer), "\(message.questions)")
        }
        #expect(!fast.answer([0, 1, 0, 0], into: &writer))
        // Trailing bytes after the question are not a plain query.
        #expect(
            !fast.answer(try Message(id: 8, questions: [Question(name: web, type: .a)]).encode() + [0], into: &writer))
    }
}
