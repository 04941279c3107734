import Foundation
import TestSupport
import Testing

/// quercus-resolver against real programs: a private DNS tree on loopback addresses (NSD serves
/// the root and two TLDs, quercus-dns the leaf zones), and Unbound given the same root hints as the
/// reference for every answer.
@Suite(.serialized) struct ResolverInteropTests {
    @Test func answersMatchUnboundOverThePrivateTree() throws {
        let tree = try PrivateTree()
        defer { tree.stop() }
        let unbound = try tree.startUnbound()
        defer { unbound.process.stop() }
        let ours = try startResolver(["--root-hints", tree.rootHints])
        defer { ours.process.stop() }

        var compared = 0
        var statuses: [String: Int] = [:]
        var differences: [String] = []
        for (name, type) in PrivateTree.corpus {
            let theirs = try digAnswer(at: unbound.address, port: unbound.port, name, type)
            let mine = try digAnswer(at: "127.0.0.1", port: ours.port, name, type)
            compared += 1
            statuses[theirs.records.isEmpty ? theirs.status : "answered", default: 0] += 1
            if theirs != mine { differences.append("\(name) \(type):\n  unbound: \(theirs)\n  ours:    \(mine)") }
        }
        #expect(compared == PrivateTree.corpus.count)
        // The corpus covers answers, NODATA, NXDOMAIN and SERVFAIL (the CNAME loop), not only one kind.
        #expect(statuses["answered", default: 0] >= 14 && statuses["NXDOMAIN", default: 0] >= 4, "\(statuses)")
        #expect(statuses["SERVFAIL"] == 1 && statuses["NOERROR", default: 0] >= 3, "\(statuses)")
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))\n\(ours.process.output.suffix(3000))")
        // Asked again, every answer comes from the cache: the same records.
        for (name, type) in PrivateTree.corpus.prefix(5) {
            #expect(
                try digAnswer(at: "127.0.0.1", port: ours.port, name, type)
                    == digAnswer(at: unbound.address, port: unbound.port, name, type))
        }
    }

    @Test func deadAndSilentServersAreSERVFAILInBoundedTime() throws {
        let tree = try PrivateTree()
        defer { tree.stop() }
        // A server that reads every query and never answers (no ICMP to end the wait early).
        let python = try Peer.command("python3", debian: "python3")
        let blackHole = try BackgroundProcess(
            python,
            [
                "-c",
                """
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("\(tree.prefix).8", 53))
                print("swallowing", flush=True)
                while True:
                    s.recvfrom(65535)
                """,
            ])
        defer { blackHole.stop() }
        try blackHole.waitForOutput(containing: "swallowing")
        let ours = try startResolver(["--root-hints", tree.rootHints, "--query-timeout", "0.5"])
        defer { ours.process.stop() }
        for name in ["www.lame.test", "www.silent.test"] {
            let started = Date()
            let answer = try digAnswer(at: "127.0.0.1", port: ours.port, name, "A")
            #expect(answer.status == "SERVFAIL", "\(name)")
            // Two tries of 0.5 s for the silent server; nothing close to dig's 10 s.
            #expect(Date().timeIntervalSince(started) < 6, "\(name): a dead server must cost timeouts, not a hang")
        }
        // The rest of the tree still resolves afterwards.
        #expect(
            try digAnswer(at: "127.0.0.1", port: ours.port, "mail.example.test", "A").records == [
                "mail.example.test. A 192.0.2.25"
            ])
    }

    @Test func forwardsToQuercusDNSAndAnswersFromTheCacheOnceItIsGone() throws {
        let directory = try TemporaryDirectory("resolver-forward")
        defer { directory.remove() }
        let zoneFile = try directory.write(
            "example.com.zone",
            """
            $ORIGIN example.com.
            $TTL 300
            @ SOA ns hostmaster 1 3600 900 604800 300
            @ NS ns
            ns A 127.0.0.1
            www CNAME web
            web A 192.0.2.80
            """)
        let authorityPort = try freeLocalPort()
        let authority = try startAuthority(
            zoneFile: zoneFile, origin: "example.com.", address: "127.0.0.1:\(authorityPort)")
        defer { authority.stop() }
        let ours = try startResolver(["--forward", "127.0.0.1:\(authorityPort)"])
        defer { ours.process.stop() }
        let direct = try digAnswer(at: "127.0.0.1", port: authorityPort, "www.example.com", "A")
        let forwarded = try digAnswer(at: "127.0.0.1", port: ours.port, "www.example.com", "A")
        #expect(forwarded.records == ["web.example.com. A 192.0.2.80", "www.example.com. CNAME web.example.com."])
        #expect(forwarded == direct)
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "nope.example.com", "A").status == "NXDOMAIN")
        authority.stop()
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "www.example.com", "A") == direct)
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "www.example.com", "A", tcp: true) == direct)
    }

    @Test func localZonesAndTheBlockListAreAnsweredWithoutUpstream() throws {
        let directory = try TemporaryDirectory("resolver-local")
        defer { directory.remove() }
        let zoneFile = try directory.write(
            "home.zone",
            """
            $TTL 60
            @ SOA ns hostmaster 1 3600 900 604800 60
            @ NS ns
            ns A 192.168.1.1
            printer A 192.168.1.20
            """)
        let blockFile = try directory.write("block.txt", "# ads\nads.example.net\n0.0.0.0 tracker.example.org\n")
        // The forwarder is a port nothing listens on: any question that reached it would fail.
        let deadPort = try freeLocalPort()
        let metricsPort = try freeLocalPort()
        let v6Port = try freeLocalPort()
        let ours = try startResolver([
            "--forward", "127.0.0.1:\(deadPort)", "--local-zone", "home.arpa=\(zoneFile)", "--block", blockFile,
            "--metrics", "127.0.0.1:\(metricsPort)", "--query-timeout", "0.3", "--listen", "[::1]:\(v6Port)",
        ])
        defer { ours.process.stop() }
        #expect(
            try digAnswer(at: "127.0.0.1", port: ours.port, "printer.home.arpa", "A").records == [
                "printer.home.arpa. A 192.168.1.20"
            ])
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "scanner.home.arpa", "A").status == "NXDOMAIN")
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "ads.example.net", "A").status == "NXDOMAIN")
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "x.y.tracker.example.org", "AAAA").status == "NXDOMAIN")
        #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "elsewhere.example.org", "A").status == "SERVFAIL")
        // A second listen address, over IPv6: UDP and TCP.
        for tcp in [false, true] {
            #expect(
                try digAnswer(at: "::1", port: v6Port, "printer.home.arpa", "A", tcp: tcp).records == [
                    "printer.home.arpa. A 192.168.1.20"
                ])
        }
        // /metrics counts what happened.
        let curl = try Peer.command("curl", debian: "curl")
        let page = try run(curl, ["-s", "http://127.0.0.1:\(metricsPort)/metrics"]).stdout
        #expect(page.contains("quercus_resolver_client_queries_total 7"), "\(page)")
        #expect(page.contains("quercus_resolver_blocked_total 2"), "\(page)")
        #expect(page.contains("quercus_resolver_local_answers_total 4"), "\(page)")
    }

    /// Over real sockets, a forwarder written with dnspython answers every query first with three
    /// forgeries (wrong ID, another question, another source port), then truly, with a poisoned
    /// additional record: the resolver takes the true answer and caches none of the rest.
    @Test func forgedRepliesAndPoisonedAdditionalRecordsDoNotStick() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("resolver-spoof")
        defer { directory.remove() }
        let port = try freeLocalPort()
        let script = try directory.write(
            "forger.py",
            """
            import socket, sys
            import dns.message, dns.rrset
            listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            listener.bind(("127.0.0.1", int(sys.argv[1])))
            elsewhere = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            print("listening", flush=True)
            def reply(query, address, poison=False):
                message = dns.message.make_response(query)
                message.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A", address))
                if poison:
                    message.additional.append(dns.rrset.from_text("victim.example.", 86400, "IN", "A", "192.0.2.66"))
                return message.to_wire()
            while True:
                data, source = listener.recvfrom(65535)
                query = dns.message.from_wire(data)
                forged = dns.message.from_wire(reply(query, "192.0.2.66"))
                forged.id = query.id ^ 0x5555
                listener.sendto(forged.to_wire(), source)
                decoy = dns.message.make_query("decoy.example.", "A")
                decoy.id = query.id
                listener.sendto(reply(decoy, "192.0.2.66"), source)
                elsewhere.sendto(reply(query, "192.0.2.66"), source)
                listener.sendto(reply(query, "192.0.2.1", poison=True), source)
            """)
        let forger = try BackgroundProcess(python, [script, "\(port)"])
        defer { forger.stop() }
        try forger.waitForOutput(containing: "listening")
        let metricsPort = try freeLocalPort()
        let ours = try startResolver(["--forward", "127.0.0.1:\(port)", "--metrics", "127.0.0.1:\(metricsPort)"])
        defer { ours.process.stop() }
        #expect(
            try digAnswer(at: "127.0.0.1", port: ours.port, "www.example", "A").records == ["www.example. A 192.0.2.1"])
        #expect(
            try digAnswer(at: "127.0.0.1", port: ours.port, "victim.example", "A").records == [
                "victim.example. A 192.0.2.1"
            ])
        let curl = try Peer.command("curl", debian: "curl")
        let page = try run(curl, ["-s", "http://127.0.0.1:\(metricsPort)/metrics"]).stdout
        // Two forgeries per question reach the core; the connected socket never hears the third.
        #expect(page.contains("quercus_resolver_ignored_responses_total 4"), "\(page)")
    }

    /// v6.test.'s only server has an IPv6 address (quercus-dns on [::1]:53, glue AAAA ::1 in
    /// test.): with --ipv6-authorities we reach it as Unbound does with do-ip6; without, SERVFAIL.
    @Test func anIPv6OnlyZoneIsReachedOverIPv6() throws {
        let tree = try PrivateTree()
        defer { tree.stop() }
        let zoneFile = try tree.directory.write(
            "v6.zone",
            """
            $ORIGIN v6.test.
            $TTL 300
            @ SOA ns hostmaster 1 3600 900 604800 300
            @ NS ns
            ns AAAA ::1
            www A 192.0.2.66
            www AAAA 2001:db8::66
            """)
        let authority = try startAuthority(zoneFile: zoneFile, origin: "v6.test.", address: "[::1]:53")
        defer { authority.stop() }
        let unbound = try tree.startUnbound(ipv6: true)
        defer { unbound.process.stop() }
        let ours = try startResolver(["--root-hints", tree.rootHints, "--ipv6-authorities"])
        defer { ours.process.stop() }
        for type in ["A", "AAAA", "MX"] {
            let theirs = try digAnswer(at: unbound.address, port: unbound.port, "www.v6.test", type)
            #expect(theirs.status == "NOERROR", "Unbound reaches the IPv6-only zone: \(theirs)")
            #expect(try digAnswer(at: "127.0.0.1", port: ours.port, "www.v6.test", type) == theirs)
        }
        let ipv4Only = try startResolver(["--root-hints", tree.rootHints])
        defer { ipv4Only.process.stop() }
        #expect(try digAnswer(at: "127.0.0.1", port: ipv4Only.port, "www.v6.test", "A").status == "SERVFAIL")
    }
}

struct PeerDidNotStart: Error, CustomStringConvertible {
    let name: String
    let output: String
    var description: String { "\(name) did not start:\n\(output)" }
}

/// quercus-dns serving one zone at `address`.
func startAuthority(zoneFile: String, origin: String, address: String) throws -> BackgroundProcess {
    let server = try BackgroundProcess(
        try Product.path("quercus-dns"), ["serve", "--listen", address, "--zone", "\(origin)=\(zoneFile)"])
    do {
        try server.waitForOutput(containing: "serving \(origin)")
    } catch {
        server.stop()
        throw error
    }
    return server
}

/// NSD serving `zoneFile` (relative to `directory`) at `address` port 53, once it says it started.
func startNSD(in directory: TemporaryDirectory, address: String, origin: String, zoneFile: String) throws
    -> BackgroundProcess
{
    let nsd = try Peer.command("nsd", debian: "nsd")
    let config = try directory.write(
        "nsd-\(address).conf",
        """
        server:
          ip-address: \(address)
          port: 53
          server-count: 1
          username: ""
          chroot: ""
          zonesdir: "\(directory.path)"
          pidfile: "\(directory.file("nsd-\(address).pid"))"
          zonelistfile: "\(directory.file("zone-\(address).list"))"
          xfrdfile: "\(directory.file("xfrd-\(address).state"))"
          xfrdir: "\(directory.path)"
          database: ""
          logfile: "\(directory.file("nsd-\(address).log"))"
          rrl-ratelimit: 0
        remote-control:
          control-enable: no
        zone:
          name: "\(origin)"
          zonefile: \(zoneFile)
        """)
    let server = try BackgroundProcess(nsd, ["-d", "-c", config])
    let log = directory.file("nsd-\(address).log")
    guard
        eventually(timeout: 20, { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("nsd started") })
    else {
        server.stop()
        throw PeerDidNotStart(name: "NSD on \(address)", output: server.output)
    }
    return server
}

/// Unbound on `address` port 53 iterating from `rootHints`; with `anchor` (a trust anchor file) it
/// validates, with Extended DNS Errors on.
func startUnboundPeer(
    in directory: TemporaryDirectory, address: String, rootHints: String, ipv6: Bool = false, anchor: String? = nil
) throws -> RunningResolver {
    let unbound = try Peer.command("unbound", debian: "unbound")
    let validation =
        anchor.map {
            """
              module-config: "validator iterator"
              trust-anchor-file: "\($0)"
              val-log-level: 2
              ede: yes
              harden-dnssec-stripped: yes
            """
        } ?? "  module-config: \"iterator\""
    let config = try directory.write(
        "unbound-\(address).conf",
        """
        server:
          interface: \(address)
          port: 53
          do-daemonize: no
          username: ""
          chroot: ""
          directory: "\(directory.path)"
          pidfile: "\(directory.file("unbound-\(address).pid"))"
          use-syslog: no
          logfile: ""
          verbosity: 1
          root-hints: "\(rootHints)"
        \(validation)
          do-not-query-localhost: no
          do-ip6: \(ipv6 ? "yes" : "no")
          qname-minimisation: yes
          access-control: 127.0.0.0/8 allow
          local-zone: "test." nodefault
          local-zone: "invalid." nodefault
        remote-control:
          control-enable: no
        """)
    let process = try BackgroundProcess(unbound, ["-d", "-c", config])
    do {
        try process.waitForOutput(containing: "start of service")
    } catch {
        process.stop()
        throw error
    }
    return RunningResolver(process: process, address: address, port: 53)
}

/// A running resolver and where it listens.
struct RunningResolver {
    let process: BackgroundProcess
    let address: String
    let port: Int
}

func startResolver(_ arguments: [String]) throws -> RunningResolver {
    let port = try freeLocalPort()
    let process = try BackgroundProcess(
        try Product.path("quercus-resolver"), ["--listen", "127.0.0.1:\(port)"] + arguments)
    do {
        try process.waitForOutput(containing: "resolving")
    } catch {
        process.stop()
        throw error
    }
    return RunningResolver(process: process, address: "127.0.0.1", port: port)
}

/// What dig printed, reduced to what two resolvers must agree on: the status and the answer
/// section's records (owner, type, data; TTLs and order aside), and the types in the authority section.
struct DigAnswer: Equatable, CustomStringConvertible {
    var status: String
    var records: [String]
    var authorityTypes: [String]

    var description: String { "\(status) \(records) authority \(authorityTypes)" }
}

func digAnswer(at server: String, port: Int, _ name: String, _ type: String, tcp: Bool = false) throws -> DigAnswer {
    let dig = try Peer.command("dig", debian: "bind9-dnsutils")
    var arguments = [
        "@\(server)", "-p", "\(port)", name, type, "+noall", "+comments", "+answer", "+authority", "+tries=1",
        "+time=10",
    ]
    if tcp { arguments.append("+tcp") }
    return parseDigAnswer(try run(dig, arguments, timeout: 30).stdout)
}

/// The status, answer records and authority types of dig's `+noall +comments +answer +authority`
/// output (lines starting with `;` other than the status and section headers are passed over).
func parseDigAnswer(_ output: String) -> DigAnswer {
    var answer = DigAnswer(status: "no answer", records: [], authorityTypes: [])
    var section = ""
    for line in output.split(separator: "\n").map(String.init) {
        if let range = line.range(of: "status: ") {
            answer.status = String(line[range.upperBound...].prefix { $0 != "," })
        } else if line.hasPrefix(";; ANSWER SECTION") {
            section = "answer"
        } else if line.hasPrefix(";; AUTHORITY SECTION") {
            section = "authority"
        } else if !line.hasPrefix(";"), !line.isEmpty {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 4 else { continue }
            if section == "authority" {
                answer.authorityTypes.append("\(fields[0].lowercased()) \(fields[3])")
            } else {
                answer.records.append(
                    ([fields[0].lowercased(), fields[3]] + fields.dropFirst(4)).joined(separator: " "))
            }
        }
    }
    answer.records.sort()
    answer.authorityTypes.sort()
    return answer
}

/// A DigAnswer with what validation adds: whether the AD bit is set, the Extended DNS Error
/// info-codes (RFC 8914), and the time dig measured for the query.
struct DigValidatedAnswer: CustomStringConvertible {
    var answer: DigAnswer
    var authenticated: Bool
    var extendedErrors: [Int]
    var milliseconds: Int
    /// The answer section's TTLs by owner and type; an RRSIG's type is `RRSIG` and the type it covers.
    var ttls: [String: Int] = [:]

    var status: String { answer.status }
    var records: [String] { answer.records }

    var description: String {
        "\(answer.status)\(authenticated ? " AD" : "")"
            + (extendedErrors.isEmpty ? "" : " EDE \(extendedErrors.map(String.init).joined(separator: ","))")
            + " \(answer.records)"
    }
}

/// Asks with the AD bit set (RFC 6840 section 5.7, dig's default, made explicit) and, with
/// `dnssec`, the DO bit, so that the answer carries its RRSIGs.
func digValidated(
    at server: String, port: Int, _ name: String, _ type: String, dnssec: Bool = false
) throws -> DigValidatedAnswer {
    let dig = try Peer.command("dig", debian: "bind9-dnsutils")
    let arguments = [
        "@\(server)", "-p", "\(port)", name, type, "+noall", "+comments", "+answer", "+authority", "+stats",
        "+adflag", dnssec ? "+dnssec" : "+nodnssec", "+tries=1", "+time=10",
    ]
    let output = try run(dig, arguments, timeout: 30).stdout
    var result = DigValidatedAnswer(
        answer: parseDigAnswer(output), authenticated: false, extendedErrors: [], milliseconds: 0)
    var section = ""
    for line in output.split(separator: "\n").map(String.init) {
        if line.hasPrefix(";; ANSWER SECTION") {
            section = "answer"
        } else if line.hasPrefix(";; AUTHORITY SECTION") {
            section = "authority"
        } else if section == "answer", !line.hasPrefix(";") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.count >= 5, let ttl = Int(fields[1]) {
                let type = fields[3] == "RRSIG" ? "RRSIG \(fields[4])" : fields[3]
                result.ttls["\(fields[0].lowercased()) \(type)"] = ttl
            }
        } else if line.hasPrefix(";; flags:") {
            // ";; flags: qr rd ra ad; QUERY: 1, ..."
            let flags = line.dropFirst(";; flags:".count).prefix { $0 != ";" }
            result.authenticated = flags.split(separator: " ").contains("ad")
        } else if line.hasPrefix("; EDE: ") {
            // "; EDE: 6 (DNSSEC Bogus): (validation failure ...)"
            if let code = Int(line.dropFirst("; EDE: ".count).prefix { $0.isNumber }) {
                result.extendedErrors.append(code)
            }
        } else if line.hasPrefix(";; Query time: ") {
            result.milliseconds = Int(line.dropFirst(";; Query time: ".count).prefix { $0.isNumber }) ?? 0
        }
    }
    return result
}

/// The root, the TLDs test. and example. on NSD, and the leaves example.test. and other.test. on
/// quercus-dns, each on its own 127.53.N.x address at port 53 (NS glue has no ports), N random per
/// run so two runs do not collide.
struct PrivateTree {
    let directory: TemporaryDirectory
    let prefix: String
    let rootHints: String
    private var servers: [BackgroundProcess] = []

    static let corpus: [(String, String)] = [
        ("www.example.test", "A"), ("mail.example.test", "A"), ("example.test", "MX"), ("example.test", "NS"),
        ("example.test", "SOA"), ("web.other.test", "A"), ("web.other.test", "AAAA"), ("web.other.test", "MX"),
        ("nope.example.test", "A"), ("nope.nope.example.test", "TXT"), ("a.b.c.d.example.test", "A"),
        ("c.d.example.test", "A"), ("x.wild.example.test", "TXT"), ("web.old.example.test", "A"),
        ("loop1.example.test", "A"), ("alias.other.test", "A"), ("nothing.test", "A"), ("foo.invalid", "A"),
        ("multi.example.test", "A"), ("txt.example.test", "TXT"), ("ns.hoster.example", "A"), ("test", "SOA"),
        ("chain.example.test", "A"), ("ns1.example.test", "A"), ("mail.example.test", "AAAA"),
        ("big.example.test", "TXT"),
    ]

    /// 40 TXT records of 60 bytes: more than a 1232-byte UDP answer holds, so both resolvers
    /// must ask again over TCP.
    static let bigTXT = (1...40).map { "big TXT \"record \($0) \(String(repeating: "x", count: 48))\"" }
        .joined(separator: "\n")

    init() throws {
        directory = try TemporaryDirectory("resolver-tree")
        prefix = "127.53.\(Int.random(in: 10...250))"
        rootHints = try directory.write("root.hints", ". 3600 NS ns1.\nns1. 3600 A \(prefix).1\n")
        let p = prefix
        let zones: [(host: Int, origin: String, text: String)] = [
            (
                1, ".",
                """
                $TTL 3600
                @ SOA ns1. hostmaster. 1 3600 900 604800 300
                @ NS ns1.
                ns1. A \(p).1
                test. NS ns.test.
                ns.test. A \(p).2
                example. NS ns.example.
                ns.example. A \(p).3
                """
            ),
            (
                2, "test.",
                """
                $TTL 3600
                @ SOA ns hostmaster 1 3600 900 604800 300
                @ NS ns
                ns A \(p).2
                example NS ns1.example
                ns1.example A \(p).4
                other NS ns.hoster.example.
                lame NS ns.lame
                ns.lame A \(p).9
                silent NS ns.silent
                ns.silent A \(p).8
                v6 NS ns.v6
                ns.v6 AAAA ::1
                """
            ),
            (
                3, "example.",
                """
                $TTL 3600
                @ SOA ns hostmaster 1 3600 900 604800 300
                @ NS ns
                ns A \(p).3
                ns.hoster A \(p).5
                """
            ),
            (
                4, "example.test.",
                """
                $TTL 300
                @ SOA ns1 hostmaster 1 3600 900 604800 300
                @ NS ns1
                @ MX 10 mail
                ns1 A \(p).4
                mail A 192.0.2.25
                www CNAME web.other.test.
                chain CNAME alias.other.test.
                a.b.c.d A 192.0.2.4
                *.wild TXT "wild"
                old DNAME other.test.
                loop1 CNAME loop2
                loop2 CNAME loop1
                txt TXT "hello world" "two strings"
                multi A 192.0.2.1
                multi A 192.0.2.2
                \(PrivateTree.bigTXT)
                """
            ),
            (
                5, "other.test.",
                """
                $TTL 300
                @ SOA ns.hoster.example. hostmaster 1 3600 900 604800 300
                @ NS ns.hoster.example.
                web A 192.0.2.80
                web AAAA 2001:db8::80
                alias CNAME www.example.test.
                """
            ),
        ]
        var started: [BackgroundProcess] = []
        do {
            for zone in zones {
                let file = try directory.write("zone\(zone.host)", "$ORIGIN \(zone.origin)\n" + zone.text + "\n")
                let address = "\(p).\(zone.host)"
                if zone.host <= 3 {
                    started.append(
                        try startNSD(in: directory, address: address, origin: zone.origin, zoneFile: "zone\(zone.host)")
                    )
                } else {
                    started.append(try startAuthority(zoneFile: file, origin: zone.origin, address: "\(address):53"))
                }
            }
        } catch {
            for server in started { server.stop() }
            directory.remove()
            throw error
        }
        servers = started
    }

    /// Unbound, iterating (no validation) from the same root hints.
    func startUnbound(ipv6: Bool = false) throws -> RunningResolver {
        try startUnboundPeer(in: directory, address: "\(prefix).100", rootHints: rootHints, ipv6: ipv6)
    }

    func stop() {
        for server in servers { server.stop() }
        directory.remove()
    }
}
