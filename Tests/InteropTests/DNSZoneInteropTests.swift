import DNS
import Foundation
import TestSupport
import Testing

/// `quercus-dns check-zone` against BIND's `named-checkzone -D` on the same files.
@Suite struct DNSZoneInteropTests {
    static let corpus: [(name: String, zone: String)] = [
        ("every-type", DNSCorpus.everyType), ("tricky", DNSCorpus.tricky), ("including", DNSCorpus.including),
    ]

    private func checkBoth(_ zone: String, files: [String: String] = [:]) throws -> (
        bind: ProcessResult, ours: ProcessResult
    ) {
        let directory = try TemporaryDirectory("dns-zone")
        defer { directory.remove() }
        // A final line break: BIND refuses a last $GENERATE line without one.
        let path = try directory.write("zone.db", zone + "\n")
        for (name, contents) in files { try directory.write(name, contents) }
        let checkzone = try Peer.command("named-checkzone", debian: "bind9utils")
        // -i none and -k ignore: integrity and host-name checks are policy, not syntax.
        let bind = try run(
            checkzone, ["-i", "none", "-k", "ignore", "-D", "-o", "-", "example.com", path],
            currentDirectory: directory.path)
        let ours = try run(
            try Product.path("quercus-dns"), ["check-zone", "--origin", "example.com", path],
            currentDirectory: directory.path)
        return (bind, ours)
    }

    /// Lines without BIND's comments, with all whitespace removed: BIND pads with tabs and splits
    /// long base64 and hex into chunks, which changes no record.
    private func significantLines(_ text: String) -> [String] {
        text.split(separator: "\n").filter { !$0.hasPrefix(";") }.map {
            String($0.filter { !$0.isWhitespace })
        }
    }

    @Test(arguments: corpus.map(\.name))
    func canonicalOutputMatchesNamedCheckzone(name: String) throws {
        let zone = try #require(Self.corpus.first { $0.name == name }).zone
        let (bind, ours) = try checkBoth(zone, files: ["part.db": DNSCorpus.included])
        try #require(bind.status == 0, "named-checkzone rejected the corpus: \(bind.stdout) \(bind.stderr)")
        try #require(ours.status == 0, "check-zone failed: \(ours.stderr)")
        #expect(significantLines(ours.stdout) == significantLines(bind.stdout))

        // The same records in the same order, compared as data rather than text.
        let parser = ZoneParser(origin: .root)
        let bindRecords = try parser.parse(
            bind.stdout.split(separator: "\n").filter { !$0.hasPrefix(";") }.joined(separator: "\n"))
        let ourRecords = try parser.parse(ours.stdout)
        #expect(ourRecords == bindRecords)
        #expect(ourRecords.count > 5)
    }

    @Test(arguments: [
        ("x A 192.0.2.1\n@ SOA ns1 h 1 2 3 4 5\n", "no TTL"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\nx A 192.0.2.300\n", "3:"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\nx TXT \"open\n", "3:"),
        ("$TTL 1h\n@ SOA ns1 h ( 1 2 3 4 5\n", "2:"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\nx MX 70000 mail\n", "3:"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\nx BOGUS data\n", "3:"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\nx.. A 192.0.2.1\n", "3:1:"),
        ("$TTL 1h\n@ SOA ns1 h 1 2 3 4 5\n$INCLUDE ../outside.db\n", "outside the include root"),
    ])
    func brokenZonesAreRejectedByBothWithAPosition(zone: String, expected: String) throws {
        let (bind, ours) = try checkBoth(zone)
        #expect(bind.status != 0, "named-checkzone accepted: \(zone)")
        #expect(ours.status == 1)
        let line = try #require(ours.stderr.split(separator: "\n").first { $0.contains("zone.db:") })
        #expect(line.contains(expected), "\(line)")
        // file:line:column
        #expect(line.range(of: #"zone\.db:\d+:\d+: "#, options: .regularExpression) != nil, "\(line)")
    }
}
