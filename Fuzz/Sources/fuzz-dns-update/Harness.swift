import DNS
import DNSServer
import FuzzSupport

// Dynamic updates with a policy that allows everything: whatever the message, processing never
// traps, and a change yields a zone whose text (what is written to disk) parses back to the
// same zone, with one SOA whose serial moved forward.
@_cdecl("fuzz_dns_update_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDNSUpdate)
}

private let fixture: (authority: Authority, origin: DomainName, key: DomainName)? = {
    let text = """
        $ORIGIN example.com.
        $TTL 300
        @ IN SOA ns1 hostmaster 7 100 20 1000 60
          IN NS ns1
        ns1 IN A 192.0.2.53
        www IN A 192.0.2.1
        alias IN CNAME www
        *.wild IN TXT "w"
        """
    guard let origin = try? DomainName("example.com."), let key = try? DomainName("k."),
        let records = try? ZoneParser(origin: origin).parse(text),
        let zone = try? Zone(origin: origin, records: records)
    else { return nil }
    return (Authority(zones: [zone]), origin, key)
}()

private func fuzzDNSUpdate(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let fixture else { fatalError("the fuzz zone does not parse") }
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard var message = try? Message.decode(input) else { return 0 }
    message.opcode = .update
    let policy = UpdatePolicy([UpdatePolicy.Rule(key: fixture.key)])
    guard case .changed(let zone, _) = fixture.authority.update(message, signedBy: fixture.key, policy: policy) else {
        return 0
    }
    guard let soa = zone[.soa, at: fixture.origin], soa.records.count == 1, let serial = soa.records.first?.serial,
        serial != 7
    else { fatalError("a changed zone without one SOA of a new serial") }
    guard let reparsed = try? ZoneParser(origin: fixture.origin).parse(zone.canonicalText),
        let again = try? Zone(origin: fixture.origin, records: reparsed)
    else { fatalError("the stored text of an updated zone does not parse:\n\(zone.canonicalText)") }
    guard again.canonicalText == zone.canonicalText else { fatalError("the stored zone reads back differently") }
    return 0
}
