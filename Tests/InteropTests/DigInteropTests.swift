import DNS
import DNSClient
import DNSClientNIO
import Foundation
import TestSupport
import Testing

/// quercus-dig against dig (bind9-dnsutils) and nsupdate, asking real servers on loopback:
/// quercus-dns and Knot DNS. Both clients ask the same server the same question with the same
/// arguments, and their outputs are parsed and compared section by section (not the lines that
/// differ by nature: the ID, timings, the date, cookie and MAC bytes).
@Suite(.serialized) struct DigInteropTests {
    static let zone = """
        $ORIGIN example.com.
        $TTL 3600
        @        IN SOA ns1 hostmaster 2026112901 7200 3600 1209600 300
                 IN NS  ns1
                 IN MX  10 mail
                 IN MX  20 mx.example.net.
                 IN TXT "v=spf1 -all"
                 IN CAA 0 issue "letsencrypt.org"
        ns1      IN A   192.0.2.53
                 IN AAAA 2001:db8::53
        mail     IN A   192.0.2.25
        www      IN CNAME web
        web      IN A   192.0.2.80
                 IN A   192.0.2.81
                 IN AAAA 2001:db8::80
        _sip._tcp IN SRV 10 60 5060 sip
        sip      IN A   192.0.2.50
        *.wild   IN TXT "wildcard"
        sub      IN NS  ns.sub
                 IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        ns.sub   IN A   192.0.2.99
        host     IN SSHFP 4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        a-rather-long-owner-name-past-the-columns IN A 192.0.2.9
        """

    static let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

    /// Queries that cover every section, status and flag dig shows, over UDP and TCP, with and without EDNS.
    static let queries: [[String]] = [
        ["www.example.com", "A"], ["example.com", "MX"], ["example.com", "ANY", "+tcp"], ["example.com", "TXT"],
        ["example.com", "CAA", "+dnssec"], ["example.com", "SOA", "+norec"], ["ns1.example.com", "AAAA", "+noedns"],
        ["nope.example.com", "A"], ["web.example.com", "MX"], ["_sip._tcp.example.com", "SRV"],
        ["x.wild.example.com", "TXT", "+tcp"], ["host.sub.example.com", "A"], ["sub.example.com", "DS"],
        ["host.example.com", "SSHFP"], ["a-rather-long-owner-name-past-the-columns.example.com", "A"],
        ["example.org", "A"], ["big.example.com", "TXT", "+noedns"], ["big.example.com", "TXT", "+bufsize=4096"],
    ]

    @Test func outputMatchesDigSectionBySection() throws {
        let directory = try TemporaryDirectory("dig-compare")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let server = try startQuercusDNS(zone: Self.zone + "\n" + Self.bigRRset, in: directory, port: port)
        defer { server.stop() }
        #expect(try compareWithDig(port: port) == Self.queries.count)
    }

    /// The same against Knot DNS, which sends no cookies and minimal ANY answers of its own.
    @Test func outputMatchesDigAgainstKnot() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let directory = try TemporaryDirectory("dig-compare-knot")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let knot = try startSignedKnot(knotd, zone: Self.zone + "\n" + Self.bigRRset, in: directory, port: port)
        defer { knot.stop() }
        #expect(try compareWithDig(port: port) == Self.queries.count)
    }

    /// Asks every query of `queries` with dig and with quercus-dig; returns how many were compared.
    private func compareWithDig(port: Int) throws -> Int {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        var compared = 0
        for query in Self.queries {
            let arguments = ["@127.0.0.1", "-p", "\(port)"] + query
            let theirs = try run(dig, arguments)
            let mine = try run(ours, arguments)
            #expect(mine.status == theirs.status, "\(query): exit \(mine.status), dig \(theirs.status)")
            let expected = try DigOutput(theirs.stdout)
            let actual = try DigOutput(mine.stdout)
            #expect(expected.sections["QUESTION"]?.count == 1)
            #expect(actual == expected, "\(query)\n--- dig:\n\(theirs.stdout)\n--- quercus-dig:\n\(mine.stdout)")
            #expect(actual.server == expected.server && actual.transport == expected.transport)
            compared += 1
        }
        return compared
    }

    /// A TXT RRset too big for 512 bytes: the UDP answer is truncated and both clients retry over TCP.
    static let bigRRset =
        (0..<30).map { "big IN TXT \"\(String(repeating: "x", count: 40))-\($0)\"" }.joined(separator: "\n") + "\n"

    @Test func shortOutputIsDigs() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        let directory = try TemporaryDirectory("dig-short")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let server = try startQuercusDNS(zone: Self.zone + "\n" + Self.bigRRset, in: directory, port: port)
        defer { server.stop() }
        for query in Self.queries {
            let arguments = ["@127.0.0.1", "-p", "\(port)", "+short"] + query
            let theirs = try run(dig, arguments)
            let mine = try run(ours, arguments)
            #expect(mine.stdout == theirs.stdout, "\(query)")
            #expect(mine.status == theirs.status)
        }
    }

    /// A signed multi-message AXFR from quercus-dns: the same records in the same order, one TSIG
    /// record per message, the same XFR size line; unsigned and wrongly signed transfers fail in both.
    @Test func signedTransferMatchesDig() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        let directory = try TemporaryDirectory("dig-axfr")
        defer { directory.remove() }
        var zone = Self.zone + "\n"
        for index in 0..<600 { zone += "bulk\(index) IN TXT \"\(String(repeating: "b", count: 60))\"\n" }
        let port = try freeLocalPort()
        let server = try startQuercusDNS(
            zone: zone, in: directory, port: port,
            ["--key", "hmac-sha256:xfer:\(Self.secret)", "--allow-transfer", "key:xfer"])
        defer { server.stop() }

        let arguments = ["@127.0.0.1", "-p", "\(port)", "example.com", "AXFR", "-y", "hmac-sha256:xfer:\(Self.secret)"]
        let theirs = try run(dig, arguments)
        let mine = try run(ours, arguments)
        #expect(mine.status == 0 && theirs.status == 0)
        func records(_ text: String) -> [String] {
            text.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.contains("\tTSIG\t") }.map(String.init)
        }
        func signatures(_ text: String) -> [String] {
            // Key name, class and algorithm; the time and MAC differ by nature.
            text.split(separator: "\n").filter { $0.contains("\tTSIG\t") }.map {
                $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(5).joined(separator: " ")
            }
        }
        func sizeLine(_ text: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(";; XFR size:") }.map {
                String($0.prefix { $0 != "(" }) + ($0.contains("messages") ? "" : "?")
            }
        }
        let ourRecords = records(mine.stdout)
        let theirRecords = records(theirs.stdout)
        #expect(ourRecords.count > 600)
        let differing = zip(ourRecords, theirRecords).filter { $0.0 != $0.1 }.prefix(5)
        #expect(ourRecords.count == theirRecords.count && differing.isEmpty, "\(Array(differing))")
        #expect(signatures(mine.stdout).count > 1)
        #expect(signatures(mine.stdout) == signatures(theirs.stdout))
        #expect(sizeLine(mine.stdout) != nil && sizeLine(mine.stdout) == sizeLine(theirs.stdout))
        let messageCount = { (text: String) in
            text.split(separator: "\n").first { $0.hasPrefix(";; XFR size:") }?.split(separator: "(").last
                .map { String($0.prefix { $0 != "," }) }
        }
        #expect(messageCount(mine.stdout) == messageCount(theirs.stdout))

        for bad in [
            ["@127.0.0.1", "-p", "\(port)", "example.com", "AXFR"],
            [
                "@127.0.0.1", "-p", "\(port)", "example.com", "AXFR", "-y",
                "hmac-sha256:xfer:d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZw==",
            ],
        ] {
            let digResult = try run(dig, bad)
            let ourResult = try run(ours, bad)
            #expect(digResult.stdout.contains("Transfer failed") || digResult.stdout.contains("BADSIG"))
            #expect(ourResult.stdout.contains("; Transfer failed."), "\(ourResult.stdout)")
            #expect(records(ourResult.stdout).isEmpty)
            #expect(ourResult.status == 1)
        }
    }

    /// `quercus-dig update` with TSIG against Knot DNS: an add and a delete are applied (dig sees
    /// them), an unsigned update and a wrongly signed one are refused by Knot, exit non-zero as
    /// nsupdate's do, and change nothing.
    @Test func signedUpdatesAreAcceptedByKnot() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let nsupdate = try Peer.command("nsupdate", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        let directory = try TemporaryDirectory("dig-update")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let knot = try startSignedKnot(knotd, zone: Self.zone, in: directory, port: port)
        defer { knot.stop() }
        let key = "hmac-sha256:upd:\(Self.secret)"
        func lookup(_ name: String, _ type: String = "A") throws -> String {
            try run(dig, ["@127.0.0.1", "-p", "\(port)", name, type, "+short"]).stdout
        }

        let add = """
            server 127.0.0.1 \(port)
            zone example.com
            prereq nxdomain fresh.example.com
            update add fresh.example.com 300 A 192.0.2.200
            update add fresh.example.com 300 TXT "added by quercus-dig"
            update delete mail.example.com A
            send

            """
        let added = try run(ours, ["update", "-y", key], stdin: Data(add.utf8))
        #expect(added.status == 0, "\(added.stdout)\(added.stderr)\n\(knot.output)")
        #expect(try lookup("fresh.example.com") == "192.0.2.200\n")
        #expect(try lookup("fresh.example.com", "TXT") == "\"added by quercus-dig\"\n")
        #expect(try lookup("mail.example.com") == "")

        // The prerequisite now fails: Knot answers YXDOMAIN, like it does to nsupdate.
        let again = try run(ours, ["update", "-y", key], stdin: Data(add.utf8))
        let nsupdateAgain = try run(nsupdate, ["-y", key], stdin: Data(add.utf8))
        #expect(again.status != 0 && nsupdateAgain.status != 0)
        #expect(again.stderr.contains("update failed: YXDOMAIN"), "\(again.stderr)")
        #expect(nsupdateAgain.stderr.contains("update failed: YXDOMAIN"), "\(nsupdateAgain.stderr)")

        let before = try run(dig, ["@127.0.0.1", "-p", "\(port)", "example.com", "SOA", "+short"]).stdout
        let change = """
            server 127.0.0.1 \(port)
            zone example.com
            update add refused.example.com 300 A 192.0.2.201
            send

            """
        for arguments in [["update"], ["update", "-y", "hmac-sha256:upd:d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZw=="]] {
            let refused = try run(ours, arguments, stdin: Data(change.utf8))
            let peer = try run(nsupdate, Array(arguments.dropFirst()), stdin: Data(change.utf8))
            #expect(refused.status == 2 && peer.status == 2, "\(refused.stderr) / nsupdate: \(peer.stderr)")
            let ourStatus = refused.stderr.split(separator: "\n").first { $0.hasPrefix("update failed:") }
            let theirStatus = peer.stderr.split(separator: "\n").first { $0.hasPrefix("update failed:") }
            #expect(ourStatus != nil && ourStatus == theirStatus, "\(refused.stderr) / nsupdate: \(peer.stderr)")
            #expect(try lookup("refused.example.com") == "")
        }
        #expect(try run(dig, ["@127.0.0.1", "-p", "\(port)", "example.com", "SOA", "+short"]).stdout == before)
    }

    /// A server (written with dnspython) that first sends a reply with the wrong ID, then one to
    /// another question, then one from another port, and only then the real answer: quercus-dig
    /// ignores the three and prints the fourth, as dig does.
    @Test func mismatchedRepliesAreIgnored() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        let directory = try TemporaryDirectory("dig-spoof")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let script = try directory.write(
            "spoofer.py",
            """
            import socket, sys
            import dns.message, dns.rrset
            server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            server.bind(("127.0.0.1", int(sys.argv[1])))
            other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            print("ready", flush=True)
            while True:
                data, client = server.recvfrom(65535)
                query = dns.message.from_wire(data)
                def answer(address):
                    response = dns.message.make_response(query)
                    name = query.question[0].name
                    response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", address))
                    return response
                wrong_id = answer("192.0.2.66")
                wrong_id.id = (query.id + 1) % 65536
                server.sendto(wrong_id.to_wire(), client)
                # A new message: the question objects of a response are the query's own.
                other_query = dns.message.make_query("evil.example.", "A")
                other_query.id = query.id
                server.sendto(dns.message.make_response(other_query).to_wire(), client)
                other.sendto(answer("192.0.2.68").to_wire(), client)
                server.sendto(answer("192.0.2.1").to_wire(), client)
            """)
        let spoofer = try BackgroundProcess(python, [script, "\(port)"])
        defer { spoofer.stop() }
        try spoofer.waitForOutput(containing: "ready")
        let arguments = ["@127.0.0.1", "-p", "\(port)", "www.example.com", "+short", "+tries=1", "+time=3"]
        let mine = try run(ours, arguments)
        let theirs = try run(dig, arguments)
        #expect(mine.status == 0)
        #expect(mine.stdout == "192.0.2.1\n", "\(mine.stdout)\(spoofer.output)")
        #expect(
            mine.stdout
                == theirs.stdout.split(separator: "\n").filter { !$0.hasPrefix(";;") }.map { $0 + "\n" }.joined())
    }

    /// No server listening: both say so in the same words and exit 9.
    @Test func unreachableServersExitNineLikeDig() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let ours = try Product.path("quercus-dig")
        let port = try freeLocalPort()
        let arguments = ["@127.0.0.1", "-p", "\(port)", "example.com", "+tries=1", "+time=1"]
        let theirs = try run(dig, arguments)
        let mine = try run(ours, arguments)
        #expect(theirs.status == 9 && mine.status == 9)
        let lines = { (text: String) in
            text.split(separator: "\n").filter { $0.hasPrefix(";; ") && !$0.contains("<<>>") }
        }
        #expect(lines(mine.stdout) == lines(theirs.stdout), "\(mine.stdout)\n---\n\(theirs.stdout)")
        let usage = try run(ours, ["-p", "nope", "example.com"])
        #expect(usage.status == 64)
    }

    /// The library's stub resolver, configured from resolv.conf text: the search list completes a
    /// short name, answers are typed, and a truncated UDP answer is fetched again over TCP with
    /// every record dig +tcp sees.
    @Test func stubResolverLooksUpTypedAnswersAndRetriesOverTCP() async throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dig-stub")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let server = try startQuercusDNS(zone: Self.zone + "\n" + Self.bigRRset, in: directory, port: port)
        defer { server.stop() }
        let configuration = try ResolverConfiguration.parse(
            "nameserver 127.0.0.1\nsearch example.org example.com\noptions ndots:2 timeout:2 attempts:1\n")
        let resolver = StubResolver(configuration: configuration, port: port)

        let exchanges = try await resolver.lookup("example.com", .mx)
        let expected = try run(dig, ["@127.0.0.1", "-p", "\(port)", "example.com", "MX", "+short"]).stdout
        #expect(
            exchanges?.records.map { "\($0.preference) \($0.exchange)" }.joined(separator: "\n")
                == expected.dropLast().description)
        let web = try await resolver.lookup("www", .a)
        #expect(web?.records.map(\.address.description).sorted() == ["192.0.2.80", "192.0.2.81"])
        #expect(try await resolver.lookup("nope", .a) == nil)

        var small = QueryOptions(edns: false)
        small.sendsCookie = false
        let answer = try await resolver.query(
            Question(name: try DomainName("big.example.com."), type: .txt), options: small)
        #expect(answer.transport == .tcp)
        #expect(!answer.response.message.truncated)
        let overTCP = try run(dig, ["@127.0.0.1", "-p", "\(port)", "big.example.com", "TXT", "+tcp", "+short"])
        #expect(answer.response.message.answers.count == overTCP.stdout.split(separator: "\n").count)
        #expect(answer.response.message.answers.count == 30)
    }

    // MARK: Servers

    private func startQuercusDNS(zone: String, in directory: TemporaryDirectory, port: Int, _ extra: [String] = [])
        throws -> BackgroundProcess
    {
        let zoneFile = try directory.write("example.com.zone", zone)
        let server = try BackgroundProcess(
            try Product.path("quercus-dns"),
            ["serve", "--listen", "127.0.0.1:\(port)", "--zone", "example.com=\(zoneFile)"] + extra)
        do {
            try server.waitForOutput(containing: "serving example.com.")
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// knotd serving the zone, accepting updates and transfers signed with the `upd` key.
    private func startSignedKnot(_ knotd: String, zone: String, in directory: TemporaryDirectory, port: Int) throws
        -> BackgroundProcess
    {
        let zoneFile = try directory.write("example.com.zone", zone)
        let knot = try startKnot(
            knotd, in: directory, port: port,
            """
            key:
              - id: upd
                algorithm: hmac-sha256
                secret: \(Self.secret)
            acl:
              - id: upd
                key: upd
                action: [update, transfer]
            zone:
              - domain: example.com
                file: "\(zoneFile)"
                acl: upd
            """)
        do {
            try knot.waitForOutput(containing: "server started")
        } catch {
            knot.stop()
            throw error
        }
        return knot
    }
}

/// What dig shows of a response, read from its text: header, flags and counts, warnings, the
/// EDNS line, and each section's records with whitespace inside the data removed (BIND splits
/// long base64 and hex fields into chunks). The ID, timings and cookie bytes are left out.
struct DigOutput: Equatable {
    var opcode = ""
    var status = ""
    var flags: Set<String> = []
    var counts = ""
    var warnings: [String] = []
    var edns: String?
    var cookie: String?
    var sections: [String: [String]] = [:]
    var server = ""
    var transport = ""
    var size: Int?

    static func == (lhs: DigOutput, rhs: DigOutput) -> Bool {
        lhs.opcode == rhs.opcode && lhs.status == rhs.status && lhs.flags == rhs.flags && lhs.counts == rhs.counts
            && lhs.warnings == rhs.warnings && lhs.edns == rhs.edns && lhs.cookie == rhs.cookie
            && lhs.sections == rhs.sections && lhs.size == rhs.size
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws {
        var section: String? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(";; ->>HEADER<<- ") {
                let fields = line.dropFirst(16).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                opcode = fields.first { $0.hasPrefix("opcode:") } ?? ""
                status = fields.first { $0.hasPrefix("status:") } ?? ""
            } else if line.hasPrefix(";; flags:") {
                let parts = line.dropFirst(9).split(separator: ";", maxSplits: 1)
                flags = Set((parts.first ?? "").split(separator: " ").map(String.init))
                counts = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            } else if line.hasPrefix(";; WARNING") {
                warnings.append(line)
            } else if line.hasPrefix("; EDNS:") {
                edns = line
            } else if line.hasPrefix("; COOKIE:") {
                cookie = line.hasSuffix("(good)") ? "good" : line.hasSuffix("(bad)") ? "bad" : "sent"
            } else if line.hasPrefix(";; SERVER: ") {
                let parts = line.dropFirst(11).split(separator: " ")
                server = parts.first.map(String.init) ?? ""
                transport = parts.last.map(String.init) ?? ""
            } else if line.hasPrefix(";; MSG SIZE  rcvd: ") {
                size = Int(line.dropFirst(19))
            } else if line.hasPrefix(";; ") && line.hasSuffix(" SECTION:") {
                section = String(line.dropFirst(3).dropLast(9))
                sections[section ?? "", default: []] = []
            } else if line.isEmpty {
                section = nil
            } else if let current = section {
                sections[current, default: []].append(try Self.record(line))
            }
        }
        guard !status.isEmpty else { throw Unreadable(description: "no header line in:\n\(text)") }
    }

    /// Owner, TTL, class and type as fields, then the data without whitespace.
    static func record(_ line: String) throws -> String {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if line.hasPrefix(";") { return fields.joined(separator: " ") }
        guard fields.count >= 4 else { throw Unreadable(description: "not a record: \(line)") }
        return fields.prefix(4).joined(separator: " ") + " " + fields.dropFirst(4).joined()
    }
}
