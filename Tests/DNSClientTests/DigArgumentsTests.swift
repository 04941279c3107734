import DNS
import DNSClient
import DNSSecurity
import Testing

@Suite struct DigArgumentsTests {
    private func request(_ arguments: [String]) throws -> DigRequest {
        guard case .query(let request) = try DigCommand.parse(arguments) else {
            throw DigUsageError(argument: 0, reason: "not a query")
        }
        return request
    }

    @Test func serverPortNameTypeAndFlagsInAnyOrder() throws {
        let parsed = try request(["+tcp", "example.com", "@127.0.0.1", "MX", "-p", "5300", "+dnssec", "+short"])
        #expect(parsed.server == "127.0.0.1")
        #expect(parsed.port == 5300)
        #expect(parsed.name == "example.com")
        #expect(parsed.type == .mx)
        #expect(parsed.tcp && parsed.dnssec && parsed.short)
        let typeFirst = try request(["aaaa", "www.example.com", "IN"])
        #expect(typeFirst.type == .aaaa && typeFirst.name == "www.example.com" && typeFirst.recordClass == .internet)
    }

    @Test func defaultsAreDigs() throws {
        let plain = try request(["example.com"])
        #expect(plain.type == .a && plain.port == 53 && plain.server == nil)
        #expect(plain.recurse && plain.edns && plain.cookie && plain.adFlag && !plain.tcp && !plain.short)
        // No name: the root's name servers.
        let nothing = try request([])
        #expect(nothing.name == "." && nothing.type == .ns)
    }

    @Test func negatedAndValuedPlusOptions() throws {
        let parsed = try request(["+norec", "+noedns", "+nocookie", "+time=2", "+tries=1", "+bufsize=4096", "x.test"])
        #expect(!parsed.recurse && !parsed.edns && !parsed.cookie)
        #expect(parsed.timeout == 2 && parsed.tries == 1 && parsed.udpPayloadSize == 4096)
        #expect(try request(["+retry=2", "x"]).tries == 3)
        #expect(throws: DigUsageError(argument: 0, reason: "+time needs a number from 1 to 300")) {
            try DigCommand.parse(["+time=0"])
        }
        #expect(throws: DigUsageError(argument: 1, reason: "invalid option +frobnicate")) {
            try DigCommand.parse(["x", "+frobnicate"])
        }
    }

    @Test func transfersAndKeys() throws {
        let parsed = try request(["@127.0.0.1", "example.com", "axfr", "-y", "hmac-sha256:xfer:c2VjcmV0"])
        #expect(parsed.type == .axfr && parsed.isTransfer && parsed.usesTCP && !parsed.tcp)
        #expect(parsed.key == (try TSIGKey(dashY: "hmac-sha256:xfer:c2VjcmV0")))
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["-y", "nope:xfer:c2VjcmV0", "x"]) }
        #expect(throws: DigUsageError(argument: 1, reason: "-y needs a value")) { try DigCommand.parse(["x", "-y"]) }
    }

    @Test func reverseLookups() throws {
        let v4 = try request(["-x", "192.0.2.10"])
        #expect(v4.name == "10.2.0.192.in-addr.arpa." && v4.type == .ptr)
        let v6 = try request(["-x", "2001:db8::1"])
        #expect(v6.name.hasPrefix("1.0.0.0.") && v6.name.hasSuffix(".8.b.d.0.1.0.0.2.ip6.arpa."))
        #expect(v6.name.split(separator: ".").count == 34)
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["-x", "not-an-address"]) }
    }

    @Test func badUsageNamesTheArgument() {
        #expect(throws: DigUsageError(argument: 2, reason: "\"70000\" is not a port (1 to 65535)")) {
            try DigCommand.parse(["x", "-p", "70000"])
        }
        #expect(throws: DigUsageError(argument: 0, reason: "@ needs a server address")) { try DigCommand.parse(["@"]) }
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["a.example", "b.example"]) }
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["-z"]) }
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["a..b"]) }
    }

    @Test func helpVersionAndUpdate() throws {
        #expect(try DigCommand.parse(["--help"]) == .help)
        #expect(try DigCommand.parse(["--version"]) == .version)
        #expect(try DigCommand.parse(["update"]) == .update(UpdateInvocation()))
        let key = try TSIGKey(dashY: "hmac-sha256:upd:c2VjcmV0")
        #expect(
            try DigCommand.parse(["update", "-y", "hmac-sha256:upd:c2VjcmV0", "-p", "5353", "commands.txt"])
                == .update(UpdateInvocation(file: "commands.txt", key: key, port: 5353)))
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["update", "a", "b"]) }
        #expect(throws: DigUsageError.self) { try DigCommand.parse(["update", "-q"]) }
    }
}
