import DNS
import DNSClient
import DNSSecurity
import Testing

@Suite struct UpdateScriptTests {
    @Test func aScriptBecomesRFC2136Sections() throws {
        let batches = try UpdateScriptParser().parse(
            """
            ; add a host, if the name is free
            server 127.0.0.1 5353
            zone example.com
            key hmac-sha256:upd c2VjcmV0
            prereq nxdomain new.example.com
            prereq yxrrset example.com SOA
            prereq nxrrset old.example.com IN AAAA
            prereq yxrrset mail.example.com A 192.0.2.25
            update add new.example.com 300 A 192.0.2.9
            update add new.example.com 300 IN TXT "two words"
            update delete gone.example.com
            update delete old.example.com A
            del mail.example.com A 192.0.2.26
            send
            """)
        #expect(batches.count == 1)
        let batch = try #require(batches.first)
        #expect(batch.server == ServerAddress(host: "127.0.0.1", port: 5353))
        #expect(batch.zone == (try DomainName("example.com.")))
        #expect(batch.key == (try TSIGKey(dashY: "hmac-sha256:upd:c2VjcmV0")))
        let prerequisites = batch.prerequisites.map { ($0.recordClass, $0.type, $0.ttl) }
        #expect(prerequisites.map(\.0) == [.none, .any, .none, .internet])
        #expect(prerequisites.map(\.1) == [.any, .soa, .aaaa, .a])
        #expect(prerequisites.allSatisfy { $0.2 == 0 })
        let updates = batch.updates
        #expect(updates.map(\.recordClass) == [.internet, .internet, .any, .any, .none])
        #expect(updates.map(\.type) == [.a, .txt, .any, .a, .a])
        #expect(updates.map(\.ttl) == [300, 300, 0, 0, 0])
        #expect(updates[1].data.presentation == "\"two words\"")
        #expect(updates[4].data.presentation == "192.0.2.26")

        let message = batch.message(id: 7, zone: try DomainName("example.com."))
        #expect(message.opcode == .update)
        #expect(message.questions == [Question(name: try DomainName("example.com."), type: .soa)])
        // The message encodes, and empty-data records take no RDATA bytes on the wire.
        let bytes = try message.encode()
        #expect(bytes.count > Message.headerSize)
    }

    @Test func blankLinesSendAndStateCarriesOver() throws {
        let batches = try UpdateScriptParser(defaultPort: 5300).parse(
            """
            server 192.0.2.1
            zone example.com
            ttl 600
            add a.example.com A 192.0.2.1

            add b.example.com A 192.0.2.2
            answer
            send
            update add c.example.com 60 A 192.0.2.3
            """)
        #expect(batches.count == 3)
        #expect(batches.map(\.server) == Array(repeating: ServerAddress(host: "192.0.2.1", port: 5300), count: 3))
        #expect(batches.map { $0.updates.first?.ttl } == [600, 600, 60])
        #expect(batches.map(\.showAnswer) == [false, true, true])
        #expect(batches.map(\.line) == [5, 8, 9])
    }

    @Test func noZoneMeansFindItBySOA() throws {
        let batches = try UpdateScriptParser().parse("update delete host.example.com A\nsend\n")
        let batch = try #require(batches.first)
        #expect(batch.zone == nil)
        #expect(batch.firstName == (try DomainName("host.example.com.")))
        let soa = try ZoneParser(origin: .root).parse("example.com. 300 IN SOA ns. h. 1 2 3 4 5\n")
        #expect(UpdateBatch.zone(fromSOAResponse: Message(authority: soa)) == (try DomainName("example.com.")))
        #expect(UpdateBatch.zone(fromSOAResponse: Message()) == nil)
    }

    @Test func errorsNameLineAndColumn() {
        #expect(throws: UpdateScriptError(line: 2, column: 1, reason: "unknown command \"frobnicate\"")) {
            try UpdateScriptParser().parse("zone example.com\nfrobnicate\n")
        }
        #expect(throws: UpdateScriptError(line: 1, column: 8, reason: "\"localhost\" is not an IP address")) {
            try UpdateScriptParser().parse("server localhost\n")
        }
        #expect(
            throws: UpdateScriptError(
                line: 1, column: 1 + "update add x. ".count, reason: "expected a TTL (or set one with the ttl command)")
        ) {
            try UpdateScriptParser().parse("update add x. A 192.0.2.1\n")
        }
        do {
            _ = try UpdateScriptParser().parse("update add x. 60 A 192.0.2.300\n")
            Issue.record("a bad address was accepted")
        } catch {
            #expect(error.line == 1)
            #expect(error.column == 1 + "update add x. 60 A ".count)
        }
        // Columns count characters, also after multi-byte ones in record data (found by fuzz-dns-update-script).
        let line = "update add x. 60 TXT \"\u{E9}\u{E9}\u{E9}\" \"never closed"
        do {
            _ = try UpdateScriptParser().parse(line + "\n")
            Issue.record("an unclosed quote was accepted")
        } catch {
            #expect(error.column >= 1 + "update add x. 60 TXT ".count && error.column <= line.count + 1)
        }
        #expect(throws: UpdateScriptError.self) { try UpdateScriptParser().parse("prereq maybe x.\n") }
        #expect(throws: UpdateScriptError.self) { try UpdateScriptParser().parse("class CH\n") }
        #expect(throws: UpdateScriptError.self) { try UpdateScriptParser().parse("key nocolon\n") }
        #expect(throws: UpdateScriptError.self) { try UpdateScriptParser().parse("zone a..b\n") }
        #expect(throws: UpdateScriptError.self) { try UpdateScriptParser().parse("send now\n") }
    }

    @Test func quitStopsAndCommentsAreIgnored() throws {
        let batches = try UpdateScriptParser().parse(
            "zone example.com\n; only a comment\nadd a.example.com 1 A 192.0.2.1\nquit\nadd b.example.com 1 A 192.0.2.2\n"
        )
        #expect(batches.count == 1)
        #expect(batches.first?.updates.count == 1)
    }
}
