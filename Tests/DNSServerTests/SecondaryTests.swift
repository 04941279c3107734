import DNS
import DNSServer
import Testing

/// The secondary's clock (RFC 1034 §4.3.5), its reading of AXFR and IXFR answers (RFC 1995,
/// RFC 5936), and how the responder treats NOTIFY and zones it has no copy of.
@Suite struct SecondaryTests {
    let origin: DomainName

    init() throws {
        origin = try DomainName("example.com.")
    }

    func zone(serial: UInt32, _ body: String = "www IN A 192.0.2.1\n") throws -> Zone {
        try exampleZone(serial: serial, body)
    }

    func soa(_ zone: Zone) throws -> ResourceRecord {
        let set = try #require(zone.rrset(.soa, at: origin))
        let data = try #require(set.data.first)
        return ResourceRecord(name: origin, ttl: set.ttl, data: data)
    }

    func record(_ text: String) throws -> ResourceRecord {
        try #require(try ZoneParser(origin: origin).parse("$TTL 300\n" + text).first)
    }

    func response(to query: Message, _ answers: [ResourceRecord]) -> Message {
        var message = Message(id: query.id, questions: query.questions, answers: answers)
        message.isResponse = true
        message.authoritative = true
        return message
    }

    @Test func refreshRetryAndExpireFollowTheSOA() throws {
        var secondary = SecondaryZone(origin: origin, now: 1000)
        #expect(secondary.isDue(at: 1000) && secondary.isExpired(at: 1000))
        #expect(secondary.transferQuery(id: 1).questions.first?.type == .axfr)
        secondary.transferred(try zone(serial: 7), now: 1000)
        #expect(!secondary.isDue(at: 1099) && secondary.isDue(at: 1100))
        // With a copy, the transfer question is IXFR with our SOA in the authority section.
        let ixfr = secondary.transferQuery(id: 2)
        #expect(ixfr.questions.first?.type == .ixfr)
        #expect(ixfr.authority == [try soa(try zone(serial: 7))])
        secondary.failed(now: 1100)
        #expect(secondary.nextCheck == 1120)
        #expect(!secondary.isExpired(at: 1999) && secondary.isExpired(at: 2000))
        // NOTIFY brings the next check forward, never back.
        secondary.notified(now: 1105)
        #expect(secondary.nextCheck == 1105)
    }

    @Test func theSOACheckComparesSerialsInRFC1982Arithmetic() throws {
        var secondary = SecondaryZone(origin: origin, now: 0)
        secondary.transferred(try zone(serial: 0xFFFF_FFF0), now: 0)
        let query = secondary.soaQuery(id: 9)
        let same = response(to: query, [try soa(try zone(serial: 0xFFFF_FFF0))])
        #expect(try secondary.checked(same, now: 50) == .upToDate)
        #expect(secondary.confirmedAt == 50)
        // 5 is after 0xFFFFFFF0 once the serial wraps; 0xFFFFFF00 is before it.
        #expect(try secondary.checked(response(to: query, [try soa(try zone(serial: 5))]), now: 60) == .transferNeeded)
        #expect(
            try secondary.checked(response(to: query, [try soa(try zone(serial: 0xFFFF_FF00))]), now: 70) == .upToDate)
        var refused = same
        refused.rcode = .refused
        #expect(throws: SecondaryError.self) { try secondary.checked(refused, now: 80) }
        var notAuthoritative = same
        notAuthoritative.authoritative = false
        #expect(throws: SecondaryError.self) { try secondary.checked(notAuthoritative, now: 80) }
    }

    @Test func anAXFRSpreadOverMessagesBuildsTheZone() throws {
        let secondary = SecondaryZone(origin: origin, now: 0)
        let query = secondary.transferQuery(id: 3)
        let source = try zone(serial: 4, "www IN A 192.0.2.1\nmail IN MX 10 www\n")
        let body = source.canonicalRecords.filter { $0.data.type != .soa }
        var incoming = IncomingTransfer(for: query, current: nil)
        #expect(try !incoming.add(response(to: query, [try soa(source)] + body.prefix(2))))
        #expect(try incoming.add(response(to: query, Array(body.dropFirst(2)) + [try soa(source)])))
        #expect(try incoming.zone().canonicalText == source.canonicalText)
        #expect(throws: SecondaryError.self) { try incoming.add(response(to: query, [])) }
    }

    @Test func anIXFRAppliesEachDifferenceInTurn() throws {
        var secondary = SecondaryZone(origin: origin, now: 0)
        let start = try zone(serial: 1, "www IN A 192.0.2.1\nold IN TXT \"x\"\n")
        secondary.transferred(start, now: 0)
        let query = secondary.transferQuery(id: 4)
        let two = try soa(try zone(serial: 2))
        let three = try soa(try zone(serial: 3))
        let answers = [
            three,
            try soa(start), try record("old.example.com. IN TXT \"x\""), two,
            try record("new.example.com. IN A 192.0.2.2"),
            two, try record("www.example.com. IN A 192.0.2.1"), three, try record("www.example.com. IN A 192.0.2.9"),
            three,
        ]
        var incoming = IncomingTransfer(for: query, current: start)
        #expect(try !incoming.add(response(to: query, Array(answers.prefix(8)))))
        #expect(try incoming.add(response(to: query, Array(answers.dropFirst(8)))))
        #expect(incoming.appliedDifferences)
        let expected = try zone(serial: 3, "www IN A 192.0.2.9\nnew IN A 192.0.2.2\n")
        #expect(try incoming.zone().canonicalText == expected.canonicalText)
    }

    @Test func anIXFRThatDeletesWhatWeDoNotHaveFailsSoTheCallerFallsBackToAXFR() throws {
        let start = try zone(serial: 1)
        var secondary = SecondaryZone(origin: origin, now: 0)
        secondary.transferred(start, now: 0)
        let query = secondary.transferQuery(id: 5)
        let two = try soa(try zone(serial: 2))
        var incoming = IncomingTransfer(for: query, current: start)
        #expect(
            try incoming.add(
                response(to: query, [two, try soa(start), try record("nope.example.com. IN A 192.0.2.3"), two, two])))
        #expect(throws: SecondaryError.self) { try incoming.zone() }
    }

    @Test func anIXFRAnswerWithOnlyOurSOAMeansUpToDate() throws {
        let start = try zone(serial: 8)
        var secondary = SecondaryZone(origin: origin, now: 0)
        secondary.transferred(start, now: 0)
        let query = secondary.transferQuery(id: 6)
        var incoming = IncomingTransfer(for: query, current: start)
        #expect(try incoming.add(response(to: query, [try soa(start)])))
        #expect(try incoming.zone().canonicalText == start.canonicalText)
    }

    @Test func aTransferThatDoesNotStartWithTheSOAIsRefused() throws {
        let query = SecondaryZone(origin: origin, now: 0).transferQuery(id: 7)
        var incoming = IncomingTransfer(for: query, current: nil)
        #expect(throws: SecondaryError.self) {
            try incoming.add(response(to: query, [try record("www.example.com. IN A 192.0.2.1")]))
        }
        var refused = response(to: query, [])
        refused.rcode = .notAuthoritative
        var other = IncomingTransfer(for: query, current: nil)
        #expect(throws: SecondaryError.self) { try other.add(refused) }
    }

    @Test func notifyIsAcknowledgedOnlyFromThePrimaryAndOnlyForOurZones() throws {
        var responder = Responder(authority: Authority())
        responder.secondaries[origin] = AddressPolicy([try #require(AddressPolicy.Prefix("192.0.2.1"))])
        func notify(_ name: DomainName, from address: [UInt8]) throws -> Message {
            let query = Message(
                id: 11, opcode: .notify, authoritative: true, questions: [Question(name: name, type: .soa)])
            let reply = try #require(responder.respond(to: try query.encode(), over: .udp, from: address))
            let message = try Message.decode(reply)
            if message.rcode == .noError {
                #expect(Responder.notifiedZone(inResponse: reply) == name)
            } else {
                #expect(Responder.notifiedZone(inResponse: reply) == nil)
            }
            return message
        }
        let accepted = try notify(origin, from: [192, 0, 2, 1])
        #expect(accepted.rcode == .noError && accepted.authoritative && accepted.opcode == .notify)
        #expect(try notify(origin, from: [198, 51, 100, 1]).rcode == .refused)
        #expect(try notify(try DomainName("example.org."), from: [192, 0, 2, 1]).rcode == .notAuthoritative)
        // A zone we copy but have no copy of yet: SERVFAIL, not REFUSED.
        let query = Message(id: 12, questions: [Question(name: try DomainName("www.example.com."), type: .a)])
        let reply = try Message.decode(try #require(responder.respond(to: try query.encode(), over: .udp)))
        #expect(reply.rcode == .serverFailure)
    }
}
