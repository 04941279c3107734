import DNS
import DNSClient
import DNSServer
import Resolver
import Testing

/// EDNS buffer-size fallback (RFC 6891 §6.2.5): a server whose large UDP answers never arrive (lost
/// fragments) is asked again with a 512-byte buffer, gets TC, and answers over TCP.
@Suite struct TransportFallbackTests {
    @Test func aLostLargeAnswerIsAskedAgainWithASmallBufferThenOverTCP() throws {
        let strings = (1...12).map { "\"record \($0) \(String(repeating: "x", count: 50))\"" }.joined(separator: " ")
        let root = try zone(
            ".",
            """
            $TTL 3600
            @ SOA ns1. hostmaster. 1 3600 900 604800 300
            @ NS ns1.
            ns1. A 10.0.0.1
            big. TXT \(strings)
            """)
        let authority = Authority(zones: [root])
        var payloads: [(DNSClient.Transport, UInt16?)] = []
        var network = ScriptedNetwork()
        network.servers[ServerAddress(host: "10.0.0.1")] = { query, transport in
            payloads.append((transport, query.edns?.udpPayloadSize))
            let answer = authority.answer(query)
            let size = (try? answer.encode().count) ?? 0
            // Anything over 512 bytes over UDP is lost on the way.
            if transport == .udp, size > 512, (query.edns?.udpPayloadSize ?? 512) > 512 { return nil }
            return answer
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "big.", .txt)
        #expect(answer.rcode == .noError && answer.answers.count == 1)
        #expect(payloads.map(\.0) == [.udp, .udp, .tcp])
        #expect(payloads.map(\.1) == [1232, 512, 512])
        // The server stays on the small buffer: the next large answer goes straight to TC and TCP.
        _ = try network.ask(&resolver, "big.", .any)
        #expect(payloads.suffix(2).map(\.0) == [.udp, .tcp])
    }

    /// A zone whose only server has an IPv6 address: reached with `ipv6Authorities`, SERVFAIL
    /// without; an NS name without glue is looked up as AAAA once it has no A record.
    @Test func authoritiesAreAskedAtTheirIPv6AddressesWhenAllowed() throws {
        var network = ScriptedNetwork()
        network.serve(
            "10.0.0.1",
            zones: [
                try zone(
                    ".",
                    """
                    $TTL 3600
                    @ SOA ns1. hostmaster. 1 3600 900 604800 300
                    @ NS ns1.
                    ns1. A 10.0.0.1
                    ns1. AAAA fd00::1
                    v6. NS ns.v6.
                    ns.v6. AAAA fd00::53
                    other. NS ns1.v6.
                    """)
            ])
        network.serve(
            "fd00::53",
            zones: [
                try zone(
                    "v6.",
                    """
                    $TTL 3600
                    @ SOA ns hostmaster 1 3600 900 604800 300
                    @ NS ns
                    ns AAAA fd00::53
                    ns1 AAAA fd00::53
                    www A 192.0.2.6
                    """),
                try zone(
                    "other.",
                    """
                    $TTL 3600
                    @ SOA ns1.v6. hostmaster 1 3600 900 604800 300
                    @ NS ns1.v6.
                    www A 192.0.2.7
                    """),
            ])
        var ipv4Only = standardResolver()
        #expect(try network.ask(&ipv4Only, "www.v6.", .a).rcode == .serverFailure)
        var settings = ResolverSettings(rootServers: [ServerAddress(host: "10.0.0.1")])
        settings.ipv6Authorities = true
        var resolver = RecursiveResolver(settings: settings, cache: ResolverCache(capacity: 1 << 20))
        let answer = try network.ask(&resolver, "www.v6.", .a)
        #expect(answer.answers.map(\.data.presentation) == ["192.0.2.6"])
        let glueless = try network.ask(&resolver, "www.other.", .a)
        #expect(glueless.answers.map(\.data.presentation) == ["192.0.2.7"])
        #expect(network.log.contains { $0.question.name == (try? DomainName("ns1.v6.")) && $0.question.type == .aaaa })
    }
}
