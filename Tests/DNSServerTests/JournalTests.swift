import DNS
import DNSServer
import Testing

/// IXFR out from the journal the authority keeps as zones are replaced, read back by our own
/// secondary code.
@Suite struct JournalTests {
    let origin: DomainName

    init() throws {
        origin = try DomainName("example.com.")
    }

    func zone(serial: UInt32, _ body: String = "www IN A 192.0.2.1\n") throws -> Zone {
        try exampleZone(serial: serial, body)
    }

    func ixfr(_ authority: Authority, from old: Zone) throws -> (messages: [Message], query: Message) {
        var secondary = SecondaryZone(origin: origin, now: 0)
        secondary.transferred(old, now: 0)
        let query = secondary.transferQuery(id: 9)
        return (try #require(authority.transfer(query)), query)
    }

    func apply(_ messages: [Message], for query: Message, to old: Zone) throws -> (Zone, Bool) {
        var incoming = IncomingTransfer(for: query, current: old)
        for message in messages { _ = try incoming.add(message) }
        return (try incoming.zone(), incoming.appliedDifferences)
    }

    @Test func anIXFRCarriesEveryChangeSinceTheClientsSerial() throws {
        let one = try zone(serial: 1, "www IN A 192.0.2.1\nold IN TXT \"x\"")
        let two = try zone(serial: 2, "www IN A 192.0.2.2\nold IN TXT \"x\"")
        let three = try zone(serial: 3, "www IN A 192.0.2.2\nnew IN A 192.0.2.3")
        var authority = Authority(zones: [one])
        authority.add(two)
        authority.add(two)  // a reload of the same version keeps the chain
        authority.add(three)
        for start in [one, two] {
            let (messages, query) = try ixfr(authority, from: start)
            let (result, incremental) = try apply(messages, for: query, to: start)
            #expect(incremental, "from serial \(String(describing: start[.soa, at: origin]?.records.first?.serial))")
            #expect(result.canonicalText == three.canonicalText)
        }
        // Only the changed records travel: from serial 2, the TXT out and the new A in.
        let (messages, _) = try ixfr(authority, from: two)
        #expect(messages.flatMap(\.answers).count == 6)
    }

    @Test func aSerialTheJournalDoesNotReachGetsTheWholeZone() throws {
        let one = try zone(serial: 1, "www IN A 192.0.2.1")
        let five = try zone(serial: 5, "www IN A 192.0.2.5")
        let six = try zone(serial: 6, "www IN A 192.0.2.6")
        var authority = Authority(zones: [five])
        authority.add(six)
        let (messages, query) = try ixfr(authority, from: one)
        let (result, incremental) = try apply(messages, for: query, to: one)
        #expect(!incremental)
        #expect(result.canonicalText == six.canonicalText)
    }

    @Test func newDataUnderTheSameSerialBreaksTheChain() throws {
        let one = try zone(serial: 1, "www IN A 192.0.2.1")
        let two = try zone(serial: 2, "www IN A 192.0.2.2")
        let twoAgain = try zone(serial: 2, "www IN A 192.0.2.9")
        var authority = Authority(zones: [one])
        authority.add(two)
        authority.add(twoAgain)
        let (messages, query) = try ixfr(authority, from: one)
        let (result, incremental) = try apply(messages, for: query, to: one)
        #expect(!incremental)
        #expect(result.canonicalText == twoAgain.canonicalText)
    }
}
