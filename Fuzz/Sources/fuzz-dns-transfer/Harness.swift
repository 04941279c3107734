import DNS
import DNSServer
import FuzzSupport

// A secondary reading a primary's transfer answer: length-prefixed messages (as on TCP) fed to
// `IncomingTransfer` for an IXFR against a small copy. Whatever arrives, it never traps, and a
// transfer it calls complete either yields a zone with exactly one SOA at the origin or an error.
@_cdecl("fuzz_dns_transfer_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDNSTransfer)
}

private let copy: SecondaryZone? = {
    let text = """
        $ORIGIN example.com.
        $TTL 300
        @ IN SOA ns1 hostmaster 1 100 20 1000 60
          IN NS ns1
        ns1 IN A 192.0.2.53
        www IN A 192.0.2.1
        """
    guard let origin = try? DomainName("example.com."),
        let records = try? ZoneParser(origin: origin).parse(text),
        let zone = try? Zone(origin: origin, records: records)
    else { return nil }
    var secondary = SecondaryZone(origin: origin, now: 0)
    secondary.transferred(zone, now: 0)
    return secondary
}()

private func fuzzDNSTransfer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let copy else { fatalError("the fuzz zone does not parse") }
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    for incremental in [true, false] {
        var transfer = IncomingTransfer(for: copy.transferQuery(id: 1, incremental: incremental), current: copy.zone)
        var offset = 0
        while offset + 2 <= input.count {
            let length = Int(input[offset]) << 8 | Int(input[offset + 1])
            let end = min(input.count, offset + 2 + length)
            let bytes = Array(input[(offset + 2)..<end])
            offset = end
            guard let message = try? Message.decode(bytes) else { continue }
            guard let complete = try? transfer.add(message) else { break }
            if complete {
                if let zone = try? transfer.zone() {
                    guard zone.rrset(.soa, at: copy.origin)?.data.count == 1 else {
                        fatalError("a completed transfer produced a zone without exactly one SOA")
                    }
                }
                break
            }
        }
    }
    return 0
}
