import DNS
import DNSClient
import Testing

@Suite struct ResolverConfigurationTests {
    @Test func readsServersSearchListAndOptions() throws {
        let configuration = try ResolverConfiguration.parse(
            """
            # written by hand
            nameserver 192.0.2.1
            nameserver 2001:db8::53   ; a comment after the address
            nameserver fe80::1%eth0
            nameserver 192.0.2.4
            search example.com corp.example.net.
            options ndots:2 timeout:3 attempts:4 rotate edns0 unknown-option
            sortlist 130.155.160.0/255.255.240.0
            """)
        // resolv.conf(5): at most three servers are used.
        #expect(configuration.nameservers == ["192.0.2.1", "2001:db8::53", "fe80::1%eth0"])
        #expect(configuration.search == [try DomainName("example.com."), try DomainName("corp.example.net.")])
        #expect(configuration.ndots == 2)
        #expect(configuration.timeout == 3)
        #expect(configuration.attempts == 4)
        #expect(configuration.rotate)
    }

    @Test func printsAsTextThatParsesBack() throws {
        let configuration = ResolverConfiguration(
            nameservers: ["192.0.2.1", "2001:db8::1"], search: [try DomainName("example.com.")], ndots: 3,
            timeout: 2, attempts: 1, rotate: true)
        #expect(try ResolverConfiguration.parse(configuration.text) == configuration)
    }

    @Test func defaultsAndLimits() throws {
        let empty = try ResolverConfiguration.parse("")
        #expect(empty.ndots == 1 && empty.timeout == 5 && empty.attempts == 2 && !empty.rotate)
        #expect(empty.nameservers.isEmpty && empty.search.isEmpty)
        let capped = try ResolverConfiguration.parse("options ndots:99 timeout:0 attempts:50\n")
        #expect(capped.ndots == 15)
        #expect(capped.timeout == 1)
        #expect(capped.attempts == 5)
    }

    @Test func domainIsTheSearchListOnlyWithoutSearch() throws {
        let domainOnly = try ResolverConfiguration.parse("domain example.org\n")
        #expect(domainOnly.search == [try DomainName("example.org.")])
        let both = try ResolverConfiguration.parse("search a.example\ndomain b.example\n")
        #expect(both.search == [try DomainName("a.example.")])
    }

    @Test func badValuesNameTheirLineAndColumn() {
        #expect(
            throws: ResolverConfigurationError(
                line: 2, column: 12, reason: "\"300.1.1.1\" is not an IPv4 or IPv6 address")
        ) {
            try ResolverConfiguration.parse("# servers\nnameserver 300.1.1.1\n")
        }
        #expect(throws: ResolverConfigurationError.self) { try ResolverConfiguration.parse("options ndots:x\n") }
        #expect(throws: ResolverConfigurationError.self) { try ResolverConfiguration.parse("nameserver\n") }
        #expect(throws: ResolverConfigurationError.self) { try ResolverConfiguration.parse("search a..b\n") }
        do {
            _ = try ResolverConfiguration.parse("nameserver 192.0.2.1\n  options   ndots:-1\n")
            Issue.record("a negative ndots was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 13)
        }
    }

    @Test func candidateNamesFollowNdotsAndTheSearchList() throws {
        let configuration = ResolverConfiguration(search: [
            try DomainName("example.com."), try DomainName("example.net."),
        ])
        // Fewer dots than ndots: the search list first, then the name as given.
        #expect(
            try configuration.candidateNames(for: "www") == [
                try DomainName("www.example.com."), try DomainName("www.example.net."), try DomainName("www."),
            ])
        // As many dots as ndots: as given first.
        #expect(
            try configuration.candidateNames(for: "www.test") == [
                try DomainName("www.test."), try DomainName("www.test.example.com."),
                try DomainName("www.test.example.net."),
            ])
        // Absolute: only itself.
        #expect(try configuration.candidateNames(for: "www.") == [try DomainName("www.")])
        var strict = configuration
        strict.ndots = 3
        #expect(try strict.candidateNames(for: "a.b").first == (try DomainName("a.b.example.com.")))
        #expect(throws: NameError.self) { try configuration.candidateNames(for: "a..b") }
    }

    @Test func rotateMovesTheFirstServer() {
        var configuration = ResolverConfiguration(nameservers: ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        #expect(configuration.serverOrder(forQueryNumber: 1) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        configuration.rotate = true
        #expect(configuration.serverOrder(forQueryNumber: 0) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        #expect(configuration.serverOrder(forQueryNumber: 1) == ["192.0.2.2", "192.0.2.3", "192.0.2.1"])
        #expect(configuration.serverOrder(forQueryNumber: 5) == ["192.0.2.3", "192.0.2.1", "192.0.2.2"])
    }
}
