import DNS
import DNSClient
import DNSServer
import Resolver
import Testing

@Suite struct BadInputTests {
    @Test func spoofedAndStrayResponsesAreIgnoredAndTheRealOneWins() throws {
        var network = try standardNetwork()
        let poison = ResourceRecord(
            name: try DomainName("mail.example.test."), ttl: 86400, data: .a(ARecord(address: IPv4Address(6, 6, 6, 6))))
        network.before = { outgoing, query in
            var forged = query
            forged.isResponse = true
            forged.answers = [poison]
            var wrongID = forged
            wrongID.id = query.id &+ 1
            var wrongQuestion = forged
            wrongQuestion.questions = [Question(name: poison.name, type: .mx)]
            let otherSource = ServerAddress(host: "10.6.6.6", port: outgoing.server.port)
            return [
                ((try? wrongID.encode()) ?? [], outgoing.server),
                ((try? wrongQuestion.encode()) ?? [], outgoing.server),
                ((try? forged.encode()) ?? [], otherSource),
                ([0x12, 0x34, 0xFF], outgoing.server),
                (query.id == 0 ? [] : (try? query.encode()) ?? [], outgoing.server),
            ]
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "mail.example.test.", .a)
        #expect(answer.answerLines == ["mail.example.test. A 192.0.2.25"])
        #expect(resolver.statistics.ignoredResponses == 5 * network.log.count)
    }

    @Test func unrelatedAndOutOfBailiwickRecordsAreNeverCached() throws {
        var network = try standardNetwork()
        // The example.test. server answers with extras: an address for a name in another zone in
        // the answer section, an NS hijack of test. and records for unrelated names.
        let honest = network.servers[ServerAddress(host: "10.0.0.4")]
        network.servers[ServerAddress(host: "10.0.0.4")] = { query, transport in
            guard var reply = honest?(query, transport) else { return nil }
            let evil = IPv4Address(6, 6, 6, 6)
            if let web = try? DomainName("web.other.test."), reply.answers.contains(where: { $0.type == .cname }) {
                reply.answers.append(ResourceRecord(name: web, ttl: 86400, data: .a(ARecord(address: evil))))
            }
            if let victim = try? DomainName("victim.test."), let test = try? DomainName("test."),
                let target = try? DomainName("ns.evil.test.")
            {
                reply.additional.append(ResourceRecord(name: victim, ttl: 86400, data: .a(ARecord(address: evil))))
                reply.authority.append(ResourceRecord(name: test, ttl: 86400, data: .ns(NSRecord(target: target))))
                reply.additional.append(ResourceRecord(name: target, ttl: 86400, data: .a(ARecord(address: evil))))
            }
            return reply
        }
        var resolver = standardResolver()
        let answer = try network.ask(&resolver, "www.example.test.", .a)
        #expect(answer.answerLines == ["www.example.test. CNAME web.other.test.", "web.other.test. A 192.0.2.80"])
        _ = try network.ask(&resolver, "mail.example.test.", .a)
        // Nothing of it stuck: the next questions go to the real servers and get real answers.
        let sent = network.log.count
        let victim = try network.ask(&resolver, "victim.test.", .a)
        #expect(victim.rcode == .nameError)
        #expect(network.log.dropFirst(sent).map(\.server.host) == ["10.0.0.2"])
        var cache = resolver.cache
        #expect(cache.records(try DomainName("ns.evil.test."), .a, now: 1000) == nil)
        #expect(cache.records(try DomainName("test."), .ns, now: 1000)?.count ?? 0 <= 1)
    }

    @Test func malformedClientQueriesGetFORMERROrNothing() throws {
        var resolver = standardResolver()
        let header: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xFF]
        guard
            case .reply(_, let bytes)? = resolver.receiveQuery(header, from: ClientHandle(1), over: .udp, now: 0).first
        else {
            Issue.record("no FORMERR")
            return
        }
        let reply = try Message.decode(bytes)
        #expect(reply.id == 0xABCD && reply.rcode == .formatError)
        #expect(resolver.receiveQuery([1, 2, 3], from: ClientHandle(2), over: .udp, now: 0).isEmpty)
        let transfer = Message(id: 1, questions: [Question(name: try DomainName("example.test."), type: .axfr)])
        guard
            case .reply(_, let refused)? = resolver.receiveQuery(
                try transfer.encode(), from: ClientHandle(3), over: .tcp, now: 0
            ).first
        else {
            Issue.record("no REFUSED")
            return
        }
        #expect(try Message.decode(refused).rcode == .refused)
    }

    @Test func beyondTheLimitOfQuestionsInFlightOnlyTheCacheAnswers() throws {
        var network = try standardNetwork()
        var resolver = RecursiveResolver(
            settings: ResolverSettings(rootServers: [ServerAddress(host: "10.0.0.1")], maximumOutstandingRequests: 1))
        _ = try network.ask(&resolver, "mail.example.test.", .a)
        // One question left waiting for its authority fills the table.
        let waiting = Message(id: 1, questions: [Question(name: try DomainName("www.example.test."), type: .a)])
        let first = resolver.receiveQuery(try waiting.encode(), from: ClientHandle(100), over: .udp, now: 1000)
        guard case .send? = first.first else {
            Issue.record("the first question was not sent upstream")
            return
        }
        #expect(resolver.outstandingRequests == 1)
        let other = Message(id: 2, questions: [Question(name: try DomainName("other.example.test."), type: .a)])
        guard
            case .reply(_, let refused)? = resolver.receiveQuery(
                try other.encode(), from: ClientHandle(101), over: .udp, now: 1000
            ).first
        else {
            Issue.record("no immediate answer beyond the limit")
            return
        }
        #expect(try Message.decode(refused).rcode == .serverFailure)
        let cached = Message(id: 3, questions: [Question(name: try DomainName("mail.example.test."), type: .a)])
        guard
            case .reply(_, let bytes)? = resolver.receiveQuery(
                try cached.encode(), from: ClientHandle(102), over: .udp, now: 1000
            ).first
        else {
            Issue.record("no answer from the cache beyond the limit")
            return
        }
        #expect(try Message.decode(bytes).answerLines == ["mail.example.test. A 192.0.2.25"])
    }

    @Test func responsesForUnknownTokensAreDropped() throws {
        var resolver = standardResolver()
        #expect(
            resolver.receiveResponse(
                [0, 0], for: QueryToken(rawValue: 99), from: ServerAddress(host: "10.0.0.1"), now: 0
            ).isEmpty)
        #expect(resolver.timedOut(QueryToken(rawValue: 99), now: 0).isEmpty)
    }
}

@Suite struct CacheTests {
    func records(_ name: String, _ count: Int) throws -> [ResourceRecord] {
        try (0..<count).map { index in
            ResourceRecord(name: try DomainName(name), ttl: 300, data: .a(ARecord(address: IPv4Address(UInt32(index)))))
        }
    }

    @Test func staysWithinItsBoundByEvictingTheLeastRecentlyUsed() throws {
        var cache = ResolverCache(capacity: 8192)
        let keep = try DomainName("keep.example.")
        cache.insert(
            .records(try records("keep.example.", 2)), name: keep, type: .a, ttl: 300, credibility: .answer, now: 0)
        for index in 0..<200 {
            let name = try DomainName("n\(index).example.")
            cache.insert(
                .records(try records("n\(index).example.", 2)), name: name, type: .a, ttl: 300, credibility: .answer,
                now: 0)
            // Using an entry keeps it young.
            #expect(cache.records(keep, .a, now: 1) != nil)
        }
        #expect(cache.bytes <= 8192)
        #expect(cache.evictions > 100)
        #expect(cache.records(try DomainName("n0.example."), .a, now: 1) == nil)
        #expect(cache.records(try DomainName("n199.example."), .a, now: 1) != nil)
    }

    /// Many uses in a shuffled order (the usage list is compacted several times on the way), then
    /// new entries: what is evicted is always the entries least recently used, in that order.
    @Test func evictionFollowsTheOrderOfLastUseAcrossCompactions() throws {
        var cache = ResolverCache(capacity: 8192)
        var names: [DomainName] = []
        for index in 0..<100 {
            let name = try DomainName("n\(index + 100).example.")
            cache.insert(
                .records(try records("n\(index + 100).example.", 2)), name: name, type: .a, ttl: 300,
                credibility: .answer, now: 0)
            names.append(name)
        }
        let survivors = names.filter { cache.peek($0, .a, now: 1) != nil }
        #expect(cache.evictions > 0 && survivors.count > 10)
        var generator = SystemRandomNumberGenerator()
        var order = survivors
        for _ in 0..<40 {
            order.shuffle(using: &generator)
            for name in order { #expect(cache.records(name, .a, now: 1) != nil) }
        }
        for index in 0..<(survivors.count / 2) {
            cache.insert(
                .records(try records("m\(index + 100).example.", 2)), name: try DomainName("m\(index + 100).example."),
                type: .a, ttl: 300, credibility: .answer, now: 2)
            let gone = order.prefix { cache.peek($0, .a, now: 2) == nil }.count
            #expect(gone > 0)
            #expect(order[gone...].allSatisfy { cache.peek($0, .a, now: 2) != nil })
        }
    }

    @Test func lowerCredibilityDoesNotReplaceLiveData() throws {
        var cache = ResolverCache(capacity: 1 << 20)
        let name = try DomainName("ns.example.")
        let real = try records("ns.example.", 1)
        cache.insert(.records(real), name: name, type: .a, ttl: 300, credibility: .answer, now: 0)
        let glue = [ResourceRecord(name: name, ttl: 300, data: .a(ARecord(address: IPv4Address(6, 6, 6, 6))))]
        cache.insert(.records(glue), name: name, type: .a, ttl: 300, credibility: .glue, now: 1)
        #expect(
            cache.records(name, .a, now: 2)
                == real.map {
                    var r = $0
                    r.ttl = 298
                    return r
                })
        cache.insert(.records(glue), name: name, type: .a, ttl: 300, credibility: .glue, now: 400)
        #expect(cache.records(name, .a, now: 400)?.first?.data == glue.first?.data)
    }

    @Test func aQuestionAskedInTheLastTenthOfItsTTLIsRefreshedInTheBackground() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        _ = try network.ask(&resolver, "www.example.test.", .a, now: 1000)
        let sent = network.log.count
        // TTL 300: at 1100 nothing happens; at 1280 the answer still comes from the cache at once,
        // and a refresh of the chain runs behind it.
        _ = try network.ask(&resolver, "www.example.test.", .a, now: 1100)
        #expect(network.log.count == sent && resolver.statistics.prefetches == 0)
        let late = try network.ask(&resolver, "www.example.test.", .a, now: 1280)
        #expect(late.answers.allSatisfy { $0.ttl == 20 })
        #expect(resolver.statistics.prefetches == 1)
        #expect(network.log.dropFirst(sent).map(\.server.host) == ["10.0.0.4", "10.0.0.5"])
        // Past the first answer's expiry the refreshed one is there: no query.
        let refreshed = try network.ask(&resolver, "www.example.test.", .a, now: 1400)
        #expect(refreshed.answerLines == ["www.example.test. CNAME web.other.test.", "web.other.test. A 192.0.2.80"])
        #expect(network.log.count == sent + 2)
        #expect(resolver.outstandingRequests == 0)
    }

    @Test func servesStaleAnswersWhenEveryAuthorityIsGone() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        _ = try network.ask(&resolver, "www.example.test.", .a, now: 1000)
        for address in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"] {
            network.servers[ServerAddress(host: address)] = nil
        }
        // An hour later every TTL (300) has run out; RFC 8767: answer with the stale data, TTL 30.
        let stale = try network.ask(&resolver, "www.example.test.", .a, now: 4600)
        #expect(stale.rcode == .noError)
        #expect(stale.answerLines == ["www.example.test. CNAME web.other.test.", "web.other.test. A 192.0.2.80"])
        #expect(stale.answers.allSatisfy { $0.ttl == 30 })
        #expect(stale.edns?.options.contains(.extendedError(code: 3, text: Array("stale answer".utf8))) == true)
        #expect(resolver.statistics.staleAnswers == 1)
        // Past the stale window (a day) there is nothing left to serve.
        #expect(try network.ask(&resolver, "www.example.test.", .a, now: 200_000).rcode == .serverFailure)
    }
}

@Suite struct PolicyAndFileTests {
    @Test func blockedNamesAndEverythingBelowAreNXDOMAIN() throws {
        let list = try BlockList.parse("# ads\nads.example.\n0.0.0.0 tracker.example # hosts style\n\n")
        #expect(list.names.count == 2)
        var network = try standardNetwork()
        var resolver = standardResolver()
        resolver.blockList = list
        let blocked = try network.ask(&resolver, "x.ADS.example.", .a)
        #expect(blocked.rcode == .nameError)
        #expect(network.log.isEmpty)
        #expect(throws: ResolverFileError.self) { try BlockList.parse("ok.example\nbad..name\n") }
        do {
            _ = try BlockList.parse("ok.example\none two three\n")
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test func aLocalZoneIsAnsweredWithoutAskingAnyone() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        resolver.localZones = Authority(zones: [
            try zone(
                "home.arpa.",
                """
                $TTL 60
                @ SOA ns hostmaster 1 3600 900 604800 60
                @ NS ns
                ns A 192.168.1.1
                printer A 192.168.1.20
                """)
        ])
        let answer = try network.ask(&resolver, "printer.home.arpa.", .a)
        #expect(answer.answerLines == ["printer.home.arpa. A 192.168.1.20"])
        #expect(answer.recursionAvailable && answer.authoritative)
        #expect(try network.ask(&resolver, "scanner.home.arpa.", .a).rcode == .nameError)
        #expect(network.log.isEmpty)
    }

    @Test func rootHintsGiveTheRootServersAddresses() throws {
        let hints = """
            ; formerly NS.INTERNIC.NET
            .                        3600000      NS    A.ROOT-SERVERS.NET.
            A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
            A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
            .                        3600000      NS    B.ROOT-SERVERS.NET.
            B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
            unrelated.example.       3600000      A     192.0.2.1
            """
        #expect(try RootHints.parse(hints).map(\.host) == ["198.41.0.4", "170.247.170.2"])
        #expect(try RootHints.parse(hints, includeIPv6: true).count == 3)
        #expect(throws: ResolverFileError.self) { try RootHints.parse("example. 60 A 192.0.2.1") }
        #expect(throws: ResolverFileError.self) { try RootHints.parse(". 60 NS a.root.\n") }
        #expect(throws: ResolverFileError.self) { try RootHints.parse(". 60 IN NS\n") }
    }
}
