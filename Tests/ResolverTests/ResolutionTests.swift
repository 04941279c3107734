import DNS
import DNSClient
import DNSServer
import Resolver
import Testing

@Suite struct ResolutionTests {
    @Test func followsReferralsFromTheRootAskingEachZoneOnlyForTheNextLabel() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "a.b.c.d.example.test.", .a)
        #expect(answer.rcode == .noError)
        #expect(answer.recursionAvailable)
        #expect(answer.answerLines == ["a.b.c.d.example.test. A 192.0.2.4"])
        // RFC 9156: the root sees test., the TLD sees example.test., the leaf learns the rest label
        // by label (empty non-terminals answer NODATA) before the full question.
        let asked = network.log.map { "\($0.server.host) \($0.question.name) \($0.question.type)" }
        #expect(
            asked == [
                "10.0.0.1 test. A", "10.0.0.2 example.test. A", "10.0.0.4 d.example.test. A",
                "10.0.0.4 c.d.example.test. A", "10.0.0.4 b.c.d.example.test. A", "10.0.0.4 a.b.c.d.example.test. A",
            ])
        #expect(network.log.allSatisfy { !$0.recursionDesired })
    }

    @Test func withoutMinimisationAsksTheFullNameEverywhere() throws {
        var network = try standardNetwork()
        var resolver = RecursiveResolver(
            settings: ResolverSettings(rootServers: [ServerAddress(host: "10.0.0.1")], qnameMinimisation: false))
        let answer = try network.ask(&resolver, "mail.example.test.", .a)
        #expect(answer.answerLines == ["mail.example.test. A 192.0.2.25"])
        #expect(network.log.map(\.question.name.description) == Array(repeating: "mail.example.test.", count: 3))
    }

    @Test func chasesACNAMEIntoAZoneWhoseNameServerLivesInAnotherTLD() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "www.example.test.", .a)
        #expect(answer.rcode == .noError)
        #expect(answer.answerLines == ["www.example.test. CNAME web.other.test.", "web.other.test. A 192.0.2.80"])
        // ns.hoster.example. had no glue: its address was looked up through the example. TLD.
        #expect(
            network.log.contains {
                $0.server.host == "10.0.0.3" && $0.question.name.description == "ns.hoster.example."
            })
        #expect(network.log.contains { $0.server.host == "10.0.0.5" })
    }

    @Test func synthesisesFromADNAME() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "web.old.example.test.", .a)
        #expect(
            answer.answerLines == [
                "old.example.test. DNAME other.test.", "web.old.example.test. CNAME web.other.test.",
                "web.other.test. A 192.0.2.80",
            ])
    }

    @Test func aCNAMELoopIsSERVFAILAfterFewQueries() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "loop1.example.test.", .a)
        #expect(answer.rcode == .serverFailure)
        #expect(network.log.count < 10)
    }

    @Test func answersAgainFromTheCacheWithTTLsCountedDown() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        _ = try network.ask(&resolver, "www.example.test.", .a, now: 1000)
        let sent = network.log.count
        let again = try network.ask(&resolver, "www.example.test.", .a, now: 1100)
        #expect(network.log.count == sent)
        #expect(again.answerLines == ["www.example.test. CNAME web.other.test.", "web.other.test. A 192.0.2.80"])
        #expect(again.answers.allSatisfy { $0.ttl == 200 })
        #expect(resolver.statistics.answeredFromCache == 1)
        // A sibling under a cached delegation goes straight to the leaf's server.
        _ = try network.ask(&resolver, "mail.example.test.", .a, now: 1100)
        #expect(network.log.dropFirst(sent).map(\.server.host) == ["10.0.0.4"])
    }

    @Test func cachesNXDOMAINAndNODATAForTheSOAMinimum() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let missing = try network.ask(&resolver, "nope.example.test.", .a, now: 1000)
        #expect(missing.rcode == .nameError)
        #expect(missing.authority.map(\.type) == [.soa])
        let nodata = try network.ask(&resolver, "mail.example.test.", .txt, now: 1000)
        #expect(nodata.rcode == .noError && nodata.answers.isEmpty && nodata.authority.map(\.type) == [.soa])
        let sent = network.log.count
        // RFC 2308: min(SOA TTL, MINIMUM) = 60 seconds; an NXDOMAIN covers every type of the name.
        #expect(try network.ask(&resolver, "nope.example.test.", .aaaa, now: 1030).rcode == .nameError)
        #expect(try network.ask(&resolver, "mail.example.test.", .txt, now: 1030).answers.isEmpty)
        #expect(network.log.count == sent)
        _ = try network.ask(&resolver, "nope.example.test.", .a, now: 1100)
        #expect(network.log.count == sent + 1)
    }

    @Test func aLameOrSilentServerCostsOneTryAndIsAvoidedAfterwards() throws {
        var network = try standardNetwork()
        // example.test. gets a second name server that refuses (lame) and a third that never answers.
        network.serve(
            "10.0.0.2",
            zones: [
                try testTLD(
                    """
                    example NS ns1.example
                    example NS ns2.example
                    example NS ns3.example
                    ns1.example A 10.0.0.4
                    ns2.example A 10.0.0.6
                    ns3.example A 10.0.0.7
                    """)
            ])
        network.servers[ServerAddress(host: "10.0.0.6")] = { query, _ in
            var refused = query
            refused.rcode = .refused
            return refused
        }
        var resolver = standardResolver()
        for round in 0..<6 {
            let answer = try network.ask(&resolver, "mail.example.test.", .mx, now: 1000 + Double(round) * 400)
            #expect(answer.rcode == .noError)
        }
        let hosts = network.log.map(\.server.host)
        #expect(hosts.filter { $0 == "10.0.0.7" }.count <= 2, "\(hosts)")
        #expect(hosts.filter { $0 == "10.0.0.6" }.count <= 2, "\(hosts)")
        #expect(resolver.smoothedRTT[ServerAddress(host: "10.0.0.7")] ?? 0 >= 1)
    }

    @Test func noReachableServerIsSERVFAILWithAnExtendedError() throws {
        var network = try standardNetwork()
        network.servers[ServerAddress(host: "10.0.0.4")] = nil
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "mail.example.test.", .a)
        #expect(answer.rcode == .serverFailure)
        #expect(
            answer.edns?.options.contains(.extendedError(code: 22, text: Array("no reachable authority".utf8))) == true)
        // Two tries of the one server (a timeout each), after the root and the TLD.
        #expect(network.log.filter { $0.server.host == "10.0.0.4" }.count == 2)
    }

    @Test func nameServersThatNeedEachOtherEndInSERVFAIL() throws {
        var network = try standardNetwork()
        network.serve(
            "10.0.0.2",
            zones: [
                try testTLD(
                    """
                    a NS ns.b.test.
                    b NS ns.a.test.
                    """)
            ])
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "www.a.test.", .a)
        #expect(answer.rcode == .serverFailure)
        #expect(network.log.count <= 20)
    }

    @Test func retriesOverTCPWhenTheAnswerIsTruncated() throws {
        var network = try standardNetwork()
        network.servers[ServerAddress(host: "10.0.0.4")] = { query, transport in
            var reply = query
            reply.authoritative = true
            if transport == .udp {
                reply.truncated = true
            } else if let question = query.questions.first {
                reply.answers = (1...3).map { index in
                    ResourceRecord(
                        name: question.name, ttl: 60, data: .txt(TXTRecord(strings: [Array("part \(index)".utf8)])))
                }
            }
            return reply
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "example.test.", .txt)
        #expect(answer.answers.count == 3)
        #expect(network.log.suffix(2).map(\.transport) == [.udp, .tcp])
    }

    @Test func asksAgainWithoutEDNSWhenAServerAnswersFORMERRWithoutOPT() throws {
        var network = try standardNetwork()
        let honest = network.servers[ServerAddress(host: "10.0.0.4")]
        var withEDNS = 0
        network.servers[ServerAddress(host: "10.0.0.4")] = { query, transport in
            guard query.edns == nil else {
                withEDNS += 1
                var refusal = query
                refusal.edns = nil
                refusal.rcode = .formatError
                return refusal
            }
            return honest?(query, transport)
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "mail.example.test.", .a)
        #expect(answer.answerLines == ["mail.example.test. A 192.0.2.25"])
        #expect(withEDNS == 1)
        #expect(network.log.filter { $0.server.host == "10.0.0.4" }.count == 2)
    }

    @Test func clientsAskingTheSameQuestionMeanwhileShareOneResolution() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let name = try DomainName("www.example.test.")
        let first = Message(id: 7, recursionDesired: true, questions: [Question(name: name, type: .a)])
        var second = Message(
            id: 8, recursionDesired: true, questions: [Question(name: try DomainName("WWW.example.test."), type: .a)])
        second.edns = EDNS(udpPayloadSize: 1232)
        let actions = resolver.receiveQuery(try first.encode(), from: ClientHandle(1), over: .udp, now: 1000)
        #expect(resolver.receiveQuery(try second.encode(), from: ClientHandle(2), over: .tcp, now: 1000).isEmpty)
        #expect(resolver.isResolving(ClientHandle(2)))
        let replies = try network.drive(&resolver, actions, now: 1000)
        #expect(replies[ClientHandle(1)]?.id == 7 && replies[ClientHandle(1)]?.edns == nil)
        #expect(replies[ClientHandle(2)]?.id == 8 && replies[ClientHandle(2)]?.edns != nil)
        #expect(replies[ClientHandle(2)]?.questions.first?.name.description == "WWW.example.test.")
        #expect(replies[ClientHandle(2)]?.answers == replies[ClientHandle(1)]?.answers)
        #expect(replies[ClientHandle(1)]?.answers.count == 2)
        #expect(!resolver.isResolving(ClientHandle(2)))
        #expect(resolver.statistics.upstreamQueries == network.log.count)
    }

    @Test func forwardModeSendsEveryQuestionWithRDToTheForwarder() throws {
        var network = ScriptedNetwork()
        let forwarder = ServerAddress(host: "10.9.9.9", port: 5300)
        network.servers[forwarder] = { query, _ in
            var reply = query
            reply.recursionAvailable = true
            reply.answers = [
                ResourceRecord(
                    name: query.questions.first?.name ?? .root, ttl: 60,
                    data: .a(ARecord(address: IPv4Address(0x0A01_0203))))
            ]
            return reply
        }
        var resolver = RecursiveResolver(settings: ResolverSettings(forwarders: [forwarder]))
        let answer = try network.ask(&resolver, "deep.name.example.", .a)
        #expect(answer.answerLines == ["deep.name.example. A 10.1.2.3"])
        #expect(network.log.count == 1)
        #expect(network.log.first?.recursionDesired == true)
        #expect(network.log.first?.question.name.description == "deep.name.example.")
    }
}
