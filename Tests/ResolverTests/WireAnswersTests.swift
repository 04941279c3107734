import DNS
import DNSClient
import Testing

@testable import Resolver

/// Answers the cache gave before, kept as bytes and patched (ID, RD, the question's case, TTLs):
/// byte for byte what the full path (decode, look up, encode) gives at the same moment.
@Suite struct WireAnswersTests {
    struct Shape {
        var edns = true
        var payload: UInt16 = 1232
        var dnssecOK = false
        var checkingDisabled = false
        var authenticData = false
        var recursionDesired = true
        var transport = DNSClient.Transport.udp
    }

    static let shapes: [Shape] = [
        Shape(), Shape(edns: false), Shape(recursionDesired: false), Shape(dnssecOK: true),
        Shape(dnssecOK: true, checkingDisabled: true), Shape(authenticData: true), Shape(payload: 4096),
        Shape(edns: false, transport: .tcp), Shape(payload: 512, dnssecOK: true),
    ]

    /// The name with its letters' case flipped where `seed`'s bits say (0x20, as clients do).
    static func scrambled(_ name: String, seed: Int) -> String {
        String(
            name.enumerated().map { index, character in
                seed >> (index % 16) & 1 == 1 ? Character(character.uppercased()) : character
            })
    }

    static func query(_ name: String, _ type: RecordType, _ shape: Shape, id: UInt16, seed: Int) throws -> [UInt8] {
        var query = Message(
            id: id, recursionDesired: shape.recursionDesired, authenticData: shape.authenticData,
            checkingDisabled: shape.checkingDisabled,
            questions: [Question(name: try DomainName(scrambled(name, seed: seed)), type: type)])
        if shape.edns { query.edns = EDNS(udpPayloadSize: shape.payload, dnssecOK: shape.dnssecOK) }
        return try query.encode()
    }

    static func reply(_ actions: [ResolverAction]) -> [UInt8]? {
        for case .reply(let client, let bytes) in actions where client == ClientHandle(99) { return bytes }
        return nil
    }

    /// Asks every question in every shape at each time: the full path (a copy of the resolver with
    /// no wire answers) and the resolver itself must answer the same bytes. Returns how many of the
    /// resolver's answers came from wire answers.
    static func compare(
        _ resolver: inout RecursiveResolver, _ questions: [(String, RecordType)], times: [Double]
    ) throws -> Int {
        var served = 0
        var id: UInt16 = 7
        for now in times {
            for (seed, (name, type)) in questions.enumerated() {
                for shape in shapes {
                    id &+= 1
                    let bytes = try query(name, type, shape, id: id, seed: seed &* 7919 &+ Int(id))
                    var reference = resolver
                    reference.cache.wireAnswers = WireAnswers()
                    let expected = reference.receiveQuery(
                        bytes, from: ClientHandle(99), over: shape.transport, now: now)
                    var probe = resolver
                    let view = try #require(QueryView(bytes))
                    let wire = probe.cache.wireAnswer(
                        to: bytes, view, shape: view.shape(over: shape.transport), now: now)
                    if wire != nil { served += 1 }
                    let actual = resolver.receiveQuery(bytes, from: ClientHandle(99), over: shape.transport, now: now)
                    let expectedReply = try #require(reply(expected), "\(name) \(type)")
                    #expect(reply(actual) == expectedReply, "\(name) \(type) \(shape) at \(now)")
                    if let wire { #expect(wire == expectedReply, "\(name) \(type) \(shape) at \(now)") }
                }
            }
        }
        return served
    }

    @Test func answersCNAMEChainsAndNegativeAnswersMatchTheFullPath() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        let questions: [(String, RecordType)] = [
            ("mail.example.test.", .a), ("www.example.test.", .a), ("example.test.", .mx),
            ("nothing.example.test.", .a), ("mail.example.test.", .aaaa), ("x.old.example.test.", .a),
            ("web.other.test.", .a), ("example.test.", .ns),
        ]
        for (name, type) in questions { _ = try network.ask(&resolver, name, type, now: 1000) }
        let served = try Self.compare(&resolver, questions, times: [1000.5, 1001, 1002.25, 1030.9, 1040, 1059.5])
        #expect(served > questions.count * Self.shapes.count * 3)
    }

    @Test func validatedAnswersMatchTheFullPath() throws {
        var root = try ValidationTests.signedRoot()
        var resolver = ValidationTests.resolver(root.anchors)
        let questions: [(String, RecordType)] = [
            ("www.", .a), ("www.", .txt), ("nope.", .a), ("www.", .mx), ("ns1.", .a),
        ]
        for (name, type) in questions { _ = try root.network.ask(&resolver, name, type, now: 1000, dnssecOK: true) }
        let served = try Self.compare(&resolver, questions, times: [1000.5, 1001, 1100.3, 1250])
        #expect(served > questions.count * Self.shapes.count * 2)
        // Bogus data: SERVFAIL, and the data without AD for CD, the same both ways.
        var tampered = try ValidationTests.signedRoot(tamperWith: "www. A")
        var bogus = ValidationTests.resolver(tampered.anchors)
        _ = try tampered.network.ask(&bogus, "www.", .a, now: 1000, dnssecOK: true)
        _ = try Self.compare(&bogus, [("www.", .a)], times: [1001, 1002])
    }

    @Test func truncatedAnswersMatchTheFullPath() throws {
        var network = ScriptedNetwork()
        let text = (0..<40).map { "big. TXT \"record \($0) with some words to make the set large\"" }
        network.serve(
            "10.0.0.1",
            zones: [
                try zone(
                    ".",
                    "$TTL 3600\n@ SOA ns1. hostmaster. 1 3600 900 604800 300\n@ NS ns1.\nns1. A 10.0.0.1\n"
                        + text.joined(separator: "\n"))
            ])
        var resolver = standardResolver()
        _ = try network.ask(&resolver, "big.", .txt, now: 1000, transport: .tcp)
        let served = try Self.compare(&resolver, [("big.", .txt)], times: [1001, 1002.5])
        #expect(served > 0)
    }

    @Test func newerDataExpiryAndPrefetchAreNeverPassedOver() throws {
        var network = try standardNetwork()
        var resolver = standardResolver()
        _ = try network.ask(&resolver, "mail.example.test.", .a, now: 1000)
        _ = try Self.compare(&resolver, [("mail.example.test.", .a)], times: [1001])
        // Replaced in the cache: the next answer has the new address.
        let name = try DomainName("mail.example.test.")
        resolver.cache.insert(
            .records([ResourceRecord(name: name, ttl: 600, data: .a(ARecord(address: IPv4Address(192, 0, 2, 99))))]),
            name: name,
            type: .a, ttl: 600, credibility: .answer, now: 1002)
        _ = try Self.compare(&resolver, [("mail.example.test.", .a)], times: [1003, 1004])
        let bytes = try Self.query("mail.example.test.", .a, Shape(), id: 1, seed: 0)
        let answer = try Message.decode(
            try #require(Self.reply(resolver.receiveQuery(bytes, from: ClientHandle(99), over: .udp, now: 1005))))
        #expect(answer.answerLines == ["mail.example.test. A 192.0.2.99"] && answer.answers.first?.ttl == 597)
        // Near expiry the full path answers and prefetches; after it, nothing is served from bytes.
        let near = resolver.receiveQuery(bytes, from: ClientHandle(99), over: .udp, now: 1545)
        #expect(near.contains { if case .send = $0 { return true } else { return false } })
        var expired = resolver
        let view = try #require(QueryView(bytes))
        #expect(expired.cache.wireAnswer(to: bytes, view, shape: view.shape(over: .udp), now: 1603) == nil)
    }

    @Test func theQueryViewReadsWhatTheDecoderReads() throws {
        let plain = try Self.query(
            "www.example.test.", .a, Shape(dnssecOK: true, checkingDisabled: true), id: 9, seed: 3)
        let view = try #require(QueryView(plain))
        #expect(view.id == 9 && view.dnssecOK && view.checkingDisabled && view.hasEDNS && view.type == .a)
        #expect(view.payloadSize == 1232 && view.nameEnd == 12 + 18)
        var cookie = Message(id: 1, questions: [Question(name: try DomainName("a."), type: .a)])
        cookie.edns = EDNS(udpPayloadSize: 1232, options: [.cookie(client: Array(repeating: 1, count: 8), server: [])])
        #expect(QueryView(try cookie.encode()) != nil)
        var two = cookie
        two.questions.append(Question(name: .root, type: .a))
        #expect(QueryView(try two.encode()) == nil)
        #expect(QueryView(Array(plain.dropLast())) == nil)
        #expect(QueryView(plain + [0]) == nil)
        var response = plain
        response[2] |= 0x80
        #expect(QueryView(response) == nil)
    }

    @Test func theQueryViewAgreesWithTheDecoderOnMutatedQueries() throws {
        var seeds: [[UInt8]] = []
        for shape in Self.shapes {
            seeds.append(try Self.query("www.Example.test.", .a, shape, id: 3, seed: 5))
        }
        var cookie = Message(id: 1, questions: [Question(name: try DomainName("a.b."), type: .txt)])
        cookie.edns = EDNS(
            udpPayloadSize: 700,
            options: [.cookie(client: Array(repeating: 1, count: 8), server: Array(repeating: 2, count: 8))])
        seeds.append(try cookie.encode())
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var viewed = 0
        for _ in 0..<20_000 {
            var bytes = seeds[next() % seeds.count]
            for _ in 0...(next() % 3) {
                switch next() % 4 {
                case 0: bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next())
                case 1: bytes[next() % bytes.count] ^= 1 << (next() % 8)
                case 2: if bytes.count > 12 { bytes.removeLast(next() % 4) }
                default: bytes.append(UInt8(truncatingIfNeeded: next()))
                }
            }
            if QueryView(bytes) != nil { viewed += 1 }
            #expect(RecursiveResolver.queryViewAgreesWithDecoder(bytes), "\(bytes)")
        }
        #expect(viewed > 1000)
    }
}
