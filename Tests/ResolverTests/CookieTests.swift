import DNS
import DNSClient
import DNSServer
import Resolver
import Testing

/// DNS cookies towards authorities (RFC 7873 §5): a client cookie per server, the server cookie
/// learned and sent back, and a reply carrying another client cookie ignored as a forgery.
@Suite struct CookieTests {
    static func cookie(_ message: Message) -> (client: [UInt8], server: [UInt8])? {
        for case .cookie(let client, let server) in message.edns?.options ?? [] { return (client, server) }
        return nil
    }

    @Test func serverCookiesAreLearnedAndSentBack() throws {
        let root = try zone(
            ".",
            """
            $TTL 3600
            @ SOA ns1. hostmaster. 1 3600 900 604800 300
            @ NS ns1.
            ns1. A 10.0.0.1
            www. A 192.0.2.1
            mail. A 192.0.2.2
            """)
        let authority = Authority(zones: [root])
        let serverCookie: [UInt8] = Array("quercus-server-1".utf8)
        var seen: [(client: [UInt8], server: [UInt8])] = []
        var network = ScriptedNetwork()
        network.servers[ServerAddress(host: "10.0.0.1")] = { query, _ in
            guard let sent = Self.cookie(query) else { return authority.answer(query) }
            seen.append(sent)
            var answer = authority.answer(query)
            answer.edns?.options.append(.cookie(client: sent.client, server: serverCookie))
            return answer
        }
        var resolver = standardResolver()
        #expect(try network.ask(&resolver, "www.", .a).answers.count == 1)
        #expect(try network.ask(&resolver, "mail.", .a).answers.count == 1)
        try #require(seen.count == 2)
        #expect(seen[0].client.count == 8 && seen[0].server.isEmpty)
        #expect(seen[1].client == seen[0].client, "one client cookie per server")
        #expect(seen[1].server == serverCookie, "the learned server cookie goes back")
    }

    @Test func aReplyWithAnotherClientCookieIsIgnored() throws {
        var network = try standardNetwork()
        network.before = { outgoing, query in
            guard let question = query.questions.first else { return [] }
            var forged = query
            forged.isResponse = true
            forged.answers = [
                ResourceRecord(name: question.name, ttl: 86400, data: .a(ARecord(address: IPv4Address(6, 6, 6, 6))))
            ]
            forged.edns = EDNS(
                udpPayloadSize: 1232, options: [.cookie(client: Array(repeating: 7, count: 8), server: [])])
            return [((try? forged.encode()) ?? [], outgoing.server)]
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "mail.example.test.", .a)
        #expect(answer.answers.map(\.data.presentation) == ["192.0.2.25"])
        #expect(resolver.statistics.ignoredResponses > 0)
    }
}
