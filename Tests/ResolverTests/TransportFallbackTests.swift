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
}
