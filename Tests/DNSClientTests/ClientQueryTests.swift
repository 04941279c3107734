import DNS
import DNSClient
import DNSSecurity
import Testing

@Suite struct ClientQueryTests {
    let server = ServerAddress(host: "192.0.2.53", port: 53)
    let now: UInt64 = 1_795_936_492

    private func records(_ text: String) throws -> [ResourceRecord] {
        try ZoneParser(origin: .root).parse(text)
    }

    private func query(_ name: String, _ type: RecordType, options: QueryOptions = QueryOptions()) throws
        -> ClientQuery
    {
        try ClientQuery(
            question: Question(name: try DomainName(name), type: type), options: options, id: 4242, server: server,
            now: now)
    }

    /// The response a server would send: the query's header and question, with answers.
    private func reply(to query: ClientQuery, answers: [ResourceRecord] = [], truncated: Bool = false) -> Message {
        var message = query.message
        message.isResponse = true
        message.truncated = truncated
        message.answers = answers
        message.edns = nil
        return message
    }

    @Test func theQueryCarriesEDNSTheDOBitAndACookie() throws {
        let cookie: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let built = try query(
            "example.com.", .mx, options: QueryOptions(udpPayloadSize: 4096, dnssecOK: true, clientCookie: cookie))
        let decoded = try Message.decode(built.bytes)
        #expect(decoded.id == 4242 && decoded.recursionDesired && !decoded.isResponse)
        #expect(decoded.edns?.udpPayloadSize == 4096)
        #expect(decoded.edns?.dnssecOK == true)
        #expect(decoded.edns?.options == [.cookie(client: cookie, server: [])])
        let plain = try Message.decode(try query("example.com.", .a, options: QueryOptions(edns: false)).bytes)
        #expect(plain.edns == nil)
    }

    @Test func onlyTheMatchingResponseIsAccepted() throws {
        let sent = try query("www.example.com.", .a)
        let good = reply(to: sent, answers: try records("www.example.com. 60 IN A 192.0.2.1\n"))
        guard case .accepted(let response) = sent.accept(try good.encode(), from: server, now: now) else {
            Issue.record("the matching response was not accepted")
            return
        }
        #expect(response.message.answers.count == 1)

        var wrongID = good
        wrongID.id = 4243
        var wrongQuestion = good
        wrongQuestion.questions = [Question(name: try DomainName("evil.example."), type: .a)]
        var wrongType = good
        wrongType.questions = [Question(name: try DomainName("www.example.com."), type: .aaaa)]
        var notAResponse = good
        notAResponse.isResponse = false
        let cases: [([UInt8], ServerAddress)] = [
            (try wrongID.encode(), server), (try wrongQuestion.encode(), server), (try wrongType.encode(), server),
            (try notAResponse.encode(), server), (try good.encode(), ServerAddress(host: "192.0.2.66", port: 53)),
            (try good.encode(), ServerAddress(host: "192.0.2.53", port: 5353)),
            (Array(try good.encode().dropLast()), server),
            ([], server),
        ]
        for (bytes, source) in cases {
            guard case .ignored = sent.accept(bytes, from: source, now: now) else {
                Issue.record("accepted a response that does not match: \(source) \(bytes.count) bytes")
                continue
            }
        }
    }

    @Test func truncationAsksForTCP() throws {
        let sent = try query("big.example.com.", .txt)
        let verdict = sent.accept(try reply(to: sent, truncated: true).encode(), from: server, now: now)
        guard case .truncated = verdict else {
            Issue.record("a TC response was not reported as truncated")
            return
        }
    }

    @Test func signedQueriesRequireASignedResponse() throws {
        let key = try TSIGKey(dashY: "hmac-sha256:upd:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        let sent = try query("www.example.com.", .a, options: QueryOptions(key: key))
        #expect(TSIG.verify(sent.bytes, keys: [key], now: now).map { _ in true } == .success(true))
        let unsignedReply = try reply(to: sent).encode()
        let signedReply = try TSIG.sign(unsignedReply, key: key, time: now, requestMAC: sent.requestMAC).bytes
        guard case .accepted(let good) = sent.accept(signedReply, from: server, now: now) else {
            Issue.record("the signed response was not accepted")
            return
        }
        #expect(good.signature == .verified)
        guard case .accepted(let bad) = sent.accept(unsignedReply, from: server, now: now) else {
            Issue.record("the unsigned response was not decoded")
            return
        }
        #expect(bad.signature == .failed(.unsigned))
        let otherKey = try TSIGKey(dashY: "hmac-sha256:upd:d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZw==")
        let forged = try TSIG.sign(unsignedReply, key: otherKey, time: now, requestMAC: sent.requestMAC).bytes
        guard case .accepted(let forgedResponse) = sent.accept(forged, from: server, now: now) else { return }
        #expect(forgedResponse.signature == .failed(.badSignature))
    }

    @Test func typedAnswersFollowCNAMEs() throws {
        let sent = try query("www.example.com.", .mx)
        let message = reply(
            to: sent,
            answers: try records(
                """
                www.example.com. 60 IN CNAME mail.example.com.
                mail.example.com. 300 IN MX 10 mx1.example.com.
                mail.example.com. 300 IN MX 20 mx2.example.com.
                mail.example.com. 300 IN A 192.0.2.25
                """))
        let response = ClientResponse(message: message, size: 0)
        let name = try DomainName("www.example.com.")
        let exchanges: RRSet<MXRecord>? = response.answer(.mx, for: name)
        #expect(exchanges?.ttl == 300)
        #expect(exchanges?.records.map(\.preference) == [10, 20])
        #expect(response.answer(.aaaa, for: name) == nil)
        #expect(response.answer(.cname, for: name)?.records.first?.target == (try DomainName("mail.example.com.")))
        #expect(response.canonicalName(for: name) == (try DomainName("mail.example.com.")))
        // A CNAME loop ends.
        let loop = ClientResponse(
            message: reply(
                to: sent, answers: try records("a.example. 1 IN CNAME b.example.\nb.example. 1 IN CNAME a.example.\n")),
            size: 0)
        #expect(loop.answer(.a, for: try DomainName("a.example.")) == nil)
    }

    @Test func transfersEndAtTheSecondSOA() throws {
        let sent = try ClientQuery(
            question: Question(name: try DomainName("example.com."), type: .axfr), options: QueryOptions(edns: false),
            id: 9, server: server, now: now)
        var reader = ZoneTransferReader(query: sent)
        let soa = "example.com. 60 IN SOA ns. h. 7 1 1 1 1\n"
        var first = reply(to: sent, answers: try records(soa + "a.example.com. 60 IN A 192.0.2.1\n"))
        first.edns = nil
        guard case .message = reader.receive(try first.encode(), now: now) else {
            Issue.record("the first message did not continue the transfer")
            return
        }
        var last = reply(to: sent, answers: try records("b.example.com. 60 IN A 192.0.2.2\n" + soa))
        last.questions = []
        guard case .finished = reader.receive(try last.encode(), now: now) else {
            Issue.record("the closing SOA did not finish the transfer")
            return
        }
        #expect(reader.records == 4 && reader.messages == 2)

        var refusing = ZoneTransferReader(query: sent)
        var refused = reply(to: sent)
        refused.rcode = .refused
        guard case .failed(.refused(.refused)) = refusing.receive(try refused.encode(), now: now) else {
            Issue.record("a REFUSED transfer did not fail")
            return
        }
        var noSOA = ZoneTransferReader(query: sent)
        let bad = reply(to: sent, answers: try records("a.example.com. 60 IN A 192.0.2.1\n"))
        guard case .failed = noSOA.receive(try bad.encode(), now: now) else {
            Issue.record("a transfer without an SOA first did not fail")
            return
        }
    }
}
