import DNS
import DNSServer
import FuzzSupport

// The authoritative server's whole input path: arbitrary datagrams and TCP messages through
// `Responder`. Whatever comes in, the answer (if any) is a well-formed response to the same ID,
// within the UDP size limit, and every well-formed query gets one.
@_cdecl("fuzz_dns_server_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDNSServer)
}

private let responder: Responder? = {
    let text = """
        $ORIGIN example.com.
        $TTL 3600
        @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
          IN NS ns1
          IN MX 10 mail
        ns1 IN A 192.0.2.53
        mail IN A 192.0.2.25
        www IN CNAME web
        web IN A 192.0.2.80
        loop IN CNAME loop
        *.wild IN TXT "w"
        sub IN NS ns.sub
        ns.sub IN A 192.0.2.99
        old IN DNAME example.com.
        """
    guard let origin = try? DomainName("example.com."),
        let records = try? ZoneParser(origin: origin).parse(text),
        let zone = try? Zone(origin: origin, records: records)
    else { return nil }
    return Responder(authority: Authority(zones: [zone]))
}()

private func fuzzDNSServer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let responder else { fatalError("the fuzz zone does not parse") }
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let query = try? Message.decode(input)
    for transport in [Transport.udp, .tcp] {
        guard let reply = responder.respond(to: input, over: transport) else {
            if let query, !query.isResponse { fatalError("a well-formed query got no answer") }
            continue
        }
        guard let response = try? Message.decode(reply) else { fatalError("the server sent a malformed message") }
        guard response.isResponse, input.count >= 2, response.id == UInt16(input[0]) << 8 | UInt16(input[1]) else {
            fatalError("the response does not answer the query's ID")
        }
        if transport == .udp, reply.count > max(512, Int(Responder.advertisedPayloadSize)) {
            fatalError("a UDP response of \(reply.count) bytes exceeds the limit")
        }
    }
    return 0
}
