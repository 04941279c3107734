import DNS
import DNSClient
import DNSServer
import Resolver

/// Authorities answering from zones (the authoritative server's own logic), reachable by address,
/// and a driver that runs the resolver's actions against them with no sockets and a fake clock.
struct ScriptedNetwork {
    /// What a server does with a query: answer it, or stay silent (a timeout).
    typealias Behaviour = (_ query: Message, _ transport: DNSClient.Transport) -> Message?

    var servers: [ServerAddress: Behaviour] = [:]
    /// Every query sent, in order.
    var log: [(server: ServerAddress, transport: DNSClient.Transport, question: Question, recursionDesired: Bool)] = []
    /// Called before each real answer with the query: bytes to deliver first (spoofs, strays).
    var before: ((OutgoingQuery, Message) -> [(bytes: [UInt8], source: ServerAddress)])?

    mutating func serve(_ address: String, zones: [Zone]) {
        let authority = Authority(zones: zones)
        servers[ServerAddress(host: address)] = { query, _ in authority.answer(query) }
    }

    var nextClient: UInt64 = 0

    /// Asks the resolver one question at `now` and runs every action until the answer comes.
    mutating func ask(
        _ resolver: inout RecursiveResolver, _ name: String, _ type: RecordType, now: Double = 1000,
        edns: Bool = true, transport: DNSClient.Transport = .udp, dnssecOK: Bool = false,
        checkingDisabled: Bool = false
    ) throws -> Message {
        nextClient += 1
        let client = ClientHandle(nextClient)
        var query = Message(
            id: 4242, recursionDesired: true, questions: [Question(name: try DomainName(name), type: type)])
        if edns { query.edns = EDNS(udpPayloadSize: 1232, dnssecOK: dnssecOK) }
        query.checkingDisabled = checkingDisabled
        let actions = resolver.receiveQuery(try query.encode(), from: client, over: transport, now: now)
        guard let reply = try drive(&resolver, actions, now: now)[client] else { throw Stuck() }
        return reply
    }

    /// Runs actions (and those they lead to) until none is left; returns the replies by client.
    mutating func drive(_ resolver: inout RecursiveResolver, _ initial: [ResolverAction], now: Double) throws
        -> [ClientHandle: Message]
    {
        var clock = now
        var actions = initial
        var replies: [ClientHandle: Message] = [:]
        var steps = 0
        while !actions.isEmpty {
            steps += 1
            guard steps < 1000 else { throw Stuck() }
            let action = actions.removeFirst()
            switch action {
            case .reply(let handle, let bytes):
                replies[handle] = try Message.decode(bytes)
            case .send(let outgoing):
                let sent = try Message.decode(outgoing.bytes)
                if let question = sent.questions.first {
                    log.append((outgoing.server, outgoing.transport, question, sent.recursionDesired))
                }
                clock += 0.01
                for (bytes, source) in before?(outgoing, sent) ?? [] {
                    let ignored = resolver.receiveResponse(bytes, for: outgoing.token, from: source, now: clock)
                    guard ignored.isEmpty, resolver.isWaiting(for: outgoing.token) else { throw Accepted() }
                }
                if let behaviour = servers[outgoing.server], var reply = behaviour(sent, outgoing.transport) {
                    reply.id = sent.id
                    reply.isResponse = true
                    let limit = outgoing.transport == .udp ? sent.maximumResponseSize : 65535
                    actions += resolver.receiveResponse(
                        try reply.encode(maximumSize: limit), for: outgoing.token, from: outgoing.server, now: clock)
                } else {
                    clock += outgoing.timeout
                    actions += resolver.timedOut(outgoing.token, now: clock)
                }
            }
        }
        return replies
    }

    struct Stuck: Error {}
    struct Accepted: Error {}
}

func zone(_ origin: String, _ text: String) throws -> Zone {
    let name = try DomainName(origin)
    return try Zone(origin: name, records: try ZoneParser(origin: name, include: nil).parse(text))
}

/// The private tree the unit tests resolve in: a root, the TLDs test. and example., and the
/// leaves example.test. (glue) and other.test. (an NS name in another TLD, no glue).
func standardNetwork() throws -> ScriptedNetwork {
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
                test. NS ns.test.
                ns.test. A 10.0.0.2
                example. NS ns.example.
                ns.example. A 10.0.0.3
                """)
        ])
    network.serve(
        "10.0.0.2",
        zones: [
            try testTLD(
                """
                example NS ns1.example
                ns1.example A 10.0.0.4
                other NS ns.hoster.example.
                """)
        ])
    network.serve(
        "10.0.0.3",
        zones: [
            try zone(
                "example.",
                """
                $TTL 3600
                @ SOA ns hostmaster 1 3600 900 604800 300
                @ NS ns
                ns A 10.0.0.3
                ns.hoster A 10.0.0.5
                """)
        ])
    network.serve(
        "10.0.0.4",
        zones: [
            try zone(
                "example.test.",
                """
                $TTL 300
                @ SOA ns1 hostmaster 1 3600 900 604800 60
                @ NS ns1
                @ MX 10 mail
                ns1 A 10.0.0.4
                mail A 192.0.2.25
                www CNAME web.other.test.
                a.b.c.d A 192.0.2.4
                old DNAME other.test.
                loop1 CNAME loop2
                loop2 CNAME loop1
                """)
        ])
    network.serve(
        "10.0.0.5",
        zones: [
            try zone(
                "other.test.",
                """
                $TTL 300
                @ SOA ns.hoster.example. hostmaster 1 3600 900 604800 300
                @ NS ns.hoster.example.
                web A 192.0.2.80
                """)
        ])
    return network
}

/// The test. TLD at 10.0.0.2 with these delegations below it.
func testTLD(_ delegations: String) throws -> Zone {
    try zone(
        "test.",
        """
        $TTL 3600
        @ SOA ns hostmaster 1 3600 900 604800 300
        @ NS ns
        ns A 10.0.0.2

        """ + delegations)
}

func standardResolver(cacheBytes: Int = 1 << 20) -> RecursiveResolver {
    let counter = Counter()
    return RecursiveResolver(
        settings: ResolverSettings(rootServers: [ServerAddress(host: "10.0.0.1")]),
        cache: ResolverCache(capacity: cacheBytes), randomID: { counter.next() })
}

/// Deterministic query IDs.
final class Counter: @unchecked Sendable {
    private var value: UInt16 = 100
    func next() -> UInt16 {
        value &+= 1
        return value
    }
}

extension Message {
    /// The answer section as `name type data` lines, without TTLs.
    var answerLines: [String] { answers.map { "\($0.name) \($0.type) \($0.data.presentation)" } }
}
