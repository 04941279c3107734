import Foundation
import TestSupport
import Testing

/// quercus-dns serve against NSD: the same zone loaded into both, the same queries asked of both
/// over UDP and TCP by dnspython, and the answers compared section by section.
@Suite(.serialized) struct DNSServerInteropTests {
    static let zone = """
        $ORIGIN example.com.
        $TTL 3600
        @        IN SOA ns1 hostmaster 2026112901 7200 3600 1209600 300
                 IN NS  ns1
                 IN NS  ns2.example.net.
                 IN MX  10 mail
                 IN MX  20 mx.example.net.
                 IN TXT "v=spf1 -all"
                 IN CAA 0 issue "letsencrypt.org"
        ns1      IN A   192.0.2.53
                 IN AAAA 2001:db8::53
        mail     IN A   192.0.2.25
                 IN AAAA 2001:db8::25
        www      IN CNAME web
        web      IN A   192.0.2.80
                 IN A   192.0.2.81
                 IN AAAA 2001:db8::80
        alias    IN CNAME www
        out      IN CNAME elsewhere.example.net.
        gone     IN CNAME missing
        _sip._tcp IN SRV 10 60 5060 sip
        sip      IN A   192.0.2.50
        *.wild   IN TXT "wildcard"
        *.wild   IN MX  5 mail
        exact.wild IN TXT "exact"
        sub      IN NS  ns.sub
                 IN NS  ns.example.net.
                 IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        ns.sub   IN A   192.0.2.99
        old      IN DNAME new.example.com.
        x.new    IN A   192.0.2.7
        deep.a.b IN A   192.0.2.1
        host     IN HINFO "PC" "Linux"
                 IN SSHFP 4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        """

    /// Queries every name (and names below and beside them) for many types on both servers and
    /// prints one JSON object: how many were compared and every difference.
    static let compareScript = #"""
        import json, sys
        import dns.message, dns.query, dns.rdatatype, dns.flags, dns.rcode, dns.name

        ours, theirs = int(sys.argv[1]), int(sys.argv[2])
        dnssec = len(sys.argv) > 3 and sys.argv[3] == "dnssec"
        names = ["example.com.", "ns1", "mail", "www", "web", "alias", "out", "gone", "_sip._tcp", "sip",
                 "x.wild", "a.b.wild", "exact.wild", "wild", "*.wild", "sub", "host.sub", "ns.sub", "a.b.c.sub",
                 "old", "x.old", "y.x.old", "new", "x.new", "deep.a.b", "a.b", "b", "nope", "no.such.name",
                 "host", "WWW", "Web", "MaIl", "example.org.", "com.", "."]
        types = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "DNAME", "DS", "SRV", "HINFO", "SSHFP", "CAA", "ANY"]

        def absolute(name):
            return name if name.endswith(".") else name + ".example.com."

        def ask(port, name, rdtype, tcp):
            query = dns.message.make_query(absolute(name), rdtype, use_edns=0, payload=1232, want_dnssec=dnssec)
            query.flags &= ~dns.flags.RD
            send = dns.query.tcp if tcp else dns.query.udp
            return send(query, "127.0.0.1", port=port, timeout=5)

        def rrsets(section):
            # Owner names compare without case (NSD lowercases NSEC3 owners, signzone writes them upper).
            def text(rrset):
                return "\n".join(line.split(" ", 1)[0].lower() + " " + line.split(" ", 1)[1]
                                 for line in rrset.to_text().split("\n"))
            return sorted(text(rrset) for rrset in section if rrset.rdtype != dns.rdatatype.OPT)

        def summary(response):
            return {"rcode": dns.rcode.to_text(response.rcode()), "aa": bool(response.flags & dns.flags.AA),
                    "tc": bool(response.flags & dns.flags.TC), "answer": rrsets(response.answer),
                    "authority": rrsets(response.authority), "additional": rrsets(response.additional)}

        differences, compared = [], 0
        for name in names:
            for rdtype in types:
                for tcp in (False, True):
                    a, b = summary(ask(ours, name, rdtype, tcp)), summary(ask(theirs, name, rdtype, tcp))
                    compared += 1
                    keys = ["rcode", "aa", "tc", "authority"]
                    if rdtype == "ANY":
                        # RFC 8482 lets each server pick the RRset; both must give exactly one (and its
                        # signatures when signed).
                        def data(answer): return [r for r in answer if " RRSIG " not in r]
                        ok = all(a[k] == b[k] for k in keys) and len(data(a["answer"])) == 1 == len(data(b["answer"])) \
                             or a == b
                    else:
                        ok = all(a[k] == b[k] for k in keys + ["answer"])
                        referral = not b["aa"] and not b["answer"]
                        if referral:
                            ok = ok and a["additional"] == b["additional"]
                        else:
                            # NSD runs with minimal responses; ours may add addresses of the
                            # answer's targets, and nothing else.
                            ok = ok and set(b["additional"]) <= set(a["additional"])
                    if not ok:
                        differences.append({"query": f"{name} {rdtype} {'tcp' if tcp else 'udp'}", "ours": a, "nsd": b})
        print(json.dumps({"compared": compared, "differences": differences}, indent=1))
        """#

    /// Unsigned, then signed by BIND's dnssec-signzone with NSEC and with NSEC3 and asked with
    /// DO set: signatures with every RRset, NSEC or NSEC3 proofs in NXDOMAIN, NODATA, wildcard
    /// and insecure-delegation answers, record for record as NSD gives them.
    @Test(arguments: ["unsigned", "NSEC", "NSEC3"])
    func answersMatchNSDForEveryNameAndType(signing: String) throws {
        let nsd = try Peer.command("nsd", debian: "nsd")
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-serve")
        defer { directory.remove() }
        var zoneFile = try directory.write("example.com.zone", Self.zone)
        if signing != "unsigned" {
            let keygen = try Peer.command("dnssec-keygen", debian: "bind9utils")
            let signzone = try Peer.command("dnssec-signzone", debian: "bind9utils")
            for flags in [["-f", "KSK"], []] {
                let made = try run(
                    keygen, ["-q", "-a", "ECDSAP256SHA256"] + flags + ["-n", "ZONE", "example.com"],
                    currentDirectory: directory.path)
                try #require(made.status == 0, "\(made.stderr)")
            }
            let options = signing == "NSEC3" ? ["-3", "AABBCCDD", "-H", "2"] : []
            let signed = try run(
                signzone, ["-S", "-K", ".", "-o", "example.com", "-f", "example.com.signed"] + options + [zoneFile],
                currentDirectory: directory.path)
            try #require(signed.status == 0, "\(signed.stderr)")
            // Both servers read the signed file under the name NSD's configuration gives.
            try FileManager.default.removeItem(atPath: zoneFile)
            try FileManager.default.moveItem(atPath: directory.file("example.com.signed"), toPath: zoneFile)
            zoneFile = directory.file("example.com.zone")
        }
        let ourPort = try freeLocalPort()
        let nsdPort = try freeLocalPort()

        let ours = try startOurs(zoneFile: zoneFile, port: ourPort)
        defer { ours.stop() }
        let config = try directory.write(
            "nsd.conf",
            """
            server:
              ip-address: 127.0.0.1@\(nsdPort)
              port: \(nsdPort)
              server-count: 1
              username: ""
              chroot: ""
              zonesdir: "\(directory.path)"
              pidfile: "\(directory.file("nsd.pid"))"
              zonelistfile: "\(directory.file("zone.list"))"
              xfrdfile: "\(directory.file("xfrd.state"))"
              xfrdir: "\(directory.path)"
              database: ""
              logfile: "\(directory.file("nsd.log"))"
              minimal-responses: yes
              rrl-ratelimit: 0
            remote-control:
              control-enable: no
            zone:
              name: example.com
              zonefile: example.com.zone
            """)
        let peer = try BackgroundProcess(nsd, ["-d", "-c", config])
        defer { peer.stop() }
        #expect(
            eventually(timeout: 20) {
                ((try? String(contentsOfFile: directory.file("nsd.log"), encoding: .utf8)) ?? "").contains(
                    "nsd started")
            }, "NSD did not start: \(peer.output)")

        let script = try directory.write("compare.py", Self.compareScript)
        let result = try run(
            python, [script, "\(ourPort)", "\(nsdPort)"] + (signing == "unsigned" ? [] : ["dnssec"]), timeout: 300)
        #expect(result.status == 0, "compare.py failed: \(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let compared = report?["compared"] as? Int ?? 0
        let differences = report?["differences"] as? [Any] ?? [1]
        #expect(compared == 36 * 14 * 2)
        #expect(differences.isEmpty, "answers that differ from NSD's:\n\(result.stdout.prefix(6000))")
    }

    @Test func tcpCarriesSeveralQueriesOnOneConnectionAndIdleConnectionsClose() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-serve")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let port = try freeLocalPort()
        let server = try startOurs(zoneFile: zoneFile, port: port, ["--tcp-idle-timeout", "1"])
        defer { server.stop() }
        // Three queries written back to back on one connection, then the answers read (RFC 7766
        // pipelining); then silence until the server closes the idle connection.
        let script = try directory.write(
            "pipeline.py",
            """
            import socket, struct, sys, time
            import dns.message
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            names = ["web.example.com.", "mail.example.com.", "nope.example.com."]
            wire = b""
            for i, name in enumerate(names):
                q = dns.message.make_query(name, "A"); q.id = 100 + i
                data = q.to_wire(); wire += struct.pack("!H", len(data)) + data
            s.sendall(wire)
            def read(n):
                buf = b""
                while len(buf) < n:
                    chunk = s.recv(n - len(buf))
                    if not chunk: raise SystemExit("closed early")
                    buf += chunk
                return buf
            for i in range(3):
                (length,) = struct.unpack("!H", read(2))
                r = dns.message.from_wire(read(length))
                print(r.id, r.rcode(), len(r.answer))
            start = time.time()
            s.settimeout(10)
            print("closed" if s.recv(1) == b"" else "data")
            """)
        let result = try run(python, [script, "\(port)"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "100 0 1\n101 0 1\n102 3 0\nclosed\n")
    }

    /// RFC 9018's point: servers of different vendors sharing a secret accept each other's
    /// cookies. Knot DNS (mod-cookies) and quercus-dns get the same secret; each must accept the
    /// server cookie the other made, and reject a tampered one.
    @Test func serverCookiesAreInterchangeableWithKnot() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-cookies")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let secret = "e5e973e5a6b2a43f48e7dc849e37bfcf"
        let ourPort = try freeLocalPort()
        let knotPort = try freeLocalPort()
        let ours = try startOurs(zoneFile: zoneFile, port: ourPort, ["--cookie-secret", secret])
        defer { ours.stop() }
        let knot = try startKnot(
            knotd, in: directory, port: knotPort,
            """
            mod-cookies:
              - id: shared
                secret: 0x\(secret)
            zone:
              - domain: example.com
                file: "\(zoneFile)"
                module: mod-cookies/shared
            """)
        defer { knot.stop() }
        try knot.waitForOutput(containing: "server started")

        let script = try directory.write(
            "cookies.py",
            """
            import sys
            import dns.message, dns.query, dns.edns, dns.rcode
            ours, knot = int(sys.argv[1]), int(sys.argv[2])
            client = bytes.fromhex("2464c4abcf10c957")
            def ask(port, server_cookie):
                option = dns.edns.GenericOption(10, client + server_cookie)
                query = dns.message.make_query("example.com.", "SOA", use_edns=0, options=[option])
                response = dns.query.udp(query, "127.0.0.1", port=port, timeout=5)
                cookie = [o for o in response.options if o.otype == 10][0].to_wire()
                assert cookie[:8] == client, "client cookie not echoed"
                return dns.rcode.to_text(response.rcode()), cookie[8:]
            _, from_knot = ask(knot, b"")
            rcode, echoed = ask(ours, from_knot)
            print("ours given knot's cookie:", rcode, "kept" if echoed == from_knot else "replaced")
            _, from_ours = ask(ours, b"")
            rcode, echoed = ask(knot, from_ours)
            print("knot given our cookie:", rcode)
            tampered = from_ours[:-1] + bytes([from_ours[-1] ^ 1])
            print("knot given a tampered cookie:", ask(knot, tampered)[0])
            tampered = from_knot[:-1] + bytes([from_knot[-1] ^ 1])
            rcode, echoed = ask(ours, tampered)
            print("ours given a tampered cookie:", rcode, "kept" if echoed == tampered else "replaced")
            """)
        let result = try run(python, [script, "\(ourPort)", "\(knotPort)"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                ours given knot's cookie: NOERROR kept
                knot given our cookie: NOERROR
                knot given a tampered cookie: BADCOOKIE
                ours given a tampered cookie: NOERROR replaced

                """)
    }

    /// Knot DNS as our secondary: it transfers the zone from quercus-dns by AXFR at start, and
    /// then serves exactly the records we serve (compared by a second AXFR, from Knot).
    @Test func knotTransfersTheZoneFromUs() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-axfr")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let ourPort = try freeLocalPort()
        let knotPort = try freeLocalPort()
        let ours = try startOurs(zoneFile: zoneFile, port: ourPort, ["--allow-transfer", "127.0.0.1"])
        defer { ours.stop() }
        let knot = try startKnot(
            knotd, in: directory, port: knotPort,
            """
            remote:
              - id: primary
                address: 127.0.0.1@\(ourPort)
            acl:
              - id: transfer
                address: 127.0.0.1
                action: transfer
            zone:
              - domain: example.com
                master: primary
                acl: transfer
                file: "\(directory.file("secondary.zone"))"
            """)
        defer { knot.stop() }
        try knot.waitForOutput(containing: "AXFR, incoming")
        try knot.waitForOutput(containing: "finished")
        let transferLines = knot.output.split(separator: "\n").filter { $0.contains("AXFR") }
        #expect(!transferLines.contains { $0.contains("failed") }, "\(knot.output)")

        let script = try directory.write(
            "compare.py",
            """
            import sys
            import dns.query, dns.zone
            def records(port):
                zone = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.com.", port=int(port), timeout=10))
                return sorted(zone.to_text().decode().splitlines() if isinstance(zone.to_text(), bytes) else zone.to_text().splitlines())
            ours, knot = records(sys.argv[1]), records(sys.argv[2])
            print(len(ours), "records" if ours == knot else "DIFFERENT")
            if ours != knot:
                print("\\n".join(sorted(set(ours) ^ set(knot))))
            """)
        let result = try run(python, [script, "\(ourPort)", "\(knotPort)"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix(" records\n"), "\(result.stdout)")
        #expect(Int(result.stdout.split(separator: " ").first ?? "") ?? 0 > 30)
    }

    /// After a reload (SIGHUP) with a new serial, quercus-dns sends NOTIFY; Knot, our secondary,
    /// acknowledges, asks for IXFR, and then serves the new record.
    @Test func aReloadNotifiesKnotWhichFetchesTheChange() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dns-notify")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let ourPort = try freeLocalPort()
        let knotPort = try freeLocalPort()
        let knot = try startKnotSecondary(knotd, in: directory, port: knotPort, primaryPort: ourPort)
        defer { knot.stop() }
        let ours = try startOurs(
            zoneFile: zoneFile, port: ourPort, ["--allow-transfer", "127.0.0.1", "--notify", "127.0.0.1:\(knotPort)"])
        defer { ours.stop() }
        try ours.waitForOutput(containing: "acknowledged example.com.")
        try knot.waitForOutput(containing: "serial none -> 2026112901")

        try directory.write(
            "example.com.zone",
            Self.zone.replacingOccurrences(of: "2026112901", with: "2026112902") + "\nfresh IN A 192.0.2.123\n")
        ours.signal(SIGHUP)
        try ours.waitForOutput(containing: "reload (SIGHUP): changed example.com.")
        try knot.waitForOutput(containing: "serial 2026112901 -> 2026112902")
        let answer = try run(dig, ["@127.0.0.1", "-p", "\(knotPort)", "fresh.example.com", "A", "+short"])
        #expect(answer.stdout == "192.0.2.123\n", "\(knot.output)")

        // A reload that breaks the file keeps the served zone and says why.
        try directory.write("example.com.zone", "this is not a zone\n")
        ours.signal(SIGHUP)
        try ours.waitForOutput(containing: "keeping the zone as it was")
        let still = try run(dig, ["@127.0.0.1", "-p", "\(ourPort)", "fresh.example.com", "A", "+short"])
        #expect(still.stdout == "192.0.2.123\n")
    }

    /// Transfers allowed by TSIG key: dnspython verifies every message of a multi-message signed
    /// AXFR, dig -y verifies a signed transfer and a signed query, and a wrong secret is BADSIG.
    @Test func signedTransfersVerifyInDnspythonAndDig() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dns-tsig")
        defer { directory.remove() }
        var zone = Self.zone + "\n"
        for index in 0..<600 { zone += "bulk\(index) IN TXT \"\(String(repeating: "b", count: 60))\"\n" }
        let zoneFile = try directory.write("example.com.zone", zone)
        let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
        let port = try freeLocalPort()
        let server = try startOurs(
            zoneFile: zoneFile, port: port, ["--key", "hmac-sha256:xfer:\(secret)", "--allow-transfer", "key:xfer"])
        defer { server.stop() }

        let script = try directory.write(
            "xfr.py",
            """
            import sys
            import dns.query, dns.tsigkeyring, dns.zone, dns.tsig
            keyring = dns.tsigkeyring.from_text({"xfer.": ("hmac-sha256", sys.argv[2])})
            messages = list(dns.query.xfr("127.0.0.1", "example.com.", port=int(sys.argv[1]), keyring=keyring,
                                          keyname="xfer.", keyalgorithm="hmac-sha256", timeout=10))
            records = sum(len(rrset) for m in messages for rrset in m.answer)
            print(len(messages) > 1, all(m.had_tsig for m in messages), records)
            """)
        // BIND counts the zone's records; a transfer carries them all and the SOA once more.
        let checkzone = try Peer.command("named-checkzone", debian: "bind9utils")
        let dump = try run(checkzone, ["-q", "-D", "-o", "-", "example.com", zoneFile])
        let expected = dump.stdout.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.isEmpty }.count + 1
        #expect(expected > 600)

        let result = try run(python, [script, "\(port)", secret], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "True True \(expected)\n")

        let signed = try run(
            dig, ["@127.0.0.1", "-p", "\(port)", "example.com", "AXFR", "-y", "hmac-sha256:xfer:\(secret)"])
        #expect(signed.stdout.contains("XFR size: \(expected) records"), "\(signed.stdout.suffix(500))")
        #expect(!signed.stdout.contains("Couldn't verify"))
        let unsigned = try run(dig, ["@127.0.0.1", "-p", "\(port)", "example.com", "AXFR"])
        #expect(unsigned.stdout.contains("Transfer failed"))
        let wrong = try run(
            dig,
            [
                "@127.0.0.1", "-p", "\(port)", "example.com", "AXFR", "-y",
                "hmac-sha256:xfer:d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZw==",
            ])
        #expect(wrong.stdout.contains("BADSIG"), "\(wrong.stdout)")
        let query = try run(
            dig, ["@127.0.0.1", "-p", "\(port)", "www.example.com", "A", "-y", "hmac-sha256:xfer:\(secret)"])
        #expect(query.stdout.contains("status: NOERROR"))
        #expect(query.stdout.contains("TSIG PSEUDOSECTION"))
        #expect(!query.stdout.contains("Couldn't verify"))
    }

    /// `--metrics`: Prometheus's own parser (prometheus-client) reads the page, and the counters
    /// match the queries sent.
    @Test func metricsCountWhatWasAnsweredInPrometheusFormat() throws {
        let python = try Peer.python(module: "prometheus_client", pypi: "prometheus-client")
        try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-metrics")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let port = try freeLocalPort()
        let metricsPort = try freeLocalPort()
        let server = try startOurs(
            zoneFile: zoneFile, port: port,
            [
                "--metrics",
                "127.0.0.1:\(metricsPort)",
            ])
        defer { server.stop() }
        try server.waitForOutput(containing: "metrics on")
        let script = try directory.write(
            "metrics.py",
            """
            import socket, sys, urllib.request
            import dns.message, dns.query
            from prometheus_client.parser import text_string_to_metric_families
            port, metrics_port = int(sys.argv[1]), int(sys.argv[2])
            for name in ["web.example.com.", "www.example.com.", "nope.example.com.", "example.org."]:
                dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=5)
            dns.query.tcp(dns.message.make_query("web.example.com.", "A"), "127.0.0.1", port=port, timeout=5)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.sendto(b"\\x00", ("127.0.0.1", port))  # too short to answer
            dns.query.udp(dns.message.make_query("web.example.com.", "A"), "127.0.0.1", port=port, timeout=5)
            text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    print(sample.name, labels, int(sample.value))
            """)
        let result = try run(python, [script, "\(port)", "\(metricsPort)"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                quercus_dns_queries_total transport=tcp 1
                quercus_dns_queries_total transport=udp 6
                quercus_dns_responses_total rcode=NOERROR 4
                quercus_dns_responses_total rcode=NXDOMAIN 1
                quercus_dns_responses_total rcode=REFUSED 1
                quercus_dns_dropped_total  1
                quercus_dns_tcp_refused_total  0
                quercus_dns_rate_limited_total action=drop 0
                quercus_dns_rate_limited_total action=slip 0

                """)
    }

    /// With --rrl, a burst of identical UDP queries from one address gets the limit's worth of
    /// answers, some truncated slips and silence for the rest; TCP is not limited, and without
    /// --rrl nothing is held back.
    @Test func responseRateLimitingCapsIdenticalAnswersOverUDP() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let directory = try TemporaryDirectory("dns-rrl")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let script = try directory.write(
            "burst.py",
            """
            import socket, sys, time
            import dns.message, dns.query, dns.flags
            port = int(sys.argv[1])
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(0.5)
            queries = [dns.message.make_query("web.example.com.", "A") for _ in range(40)]
            start = time.time()
            for query in queries:
                sock.sendto(query.to_wire(), ("127.0.0.1", port))
            sending = time.time() - start
            full = truncated = 0
            try:
                while True:
                    reply = dns.message.from_wire(sock.recv(4096))
                    if reply.flags & dns.flags.TC: truncated += 1
                    else: full += 1
            except socket.timeout:
                pass
            tcp = dns.query.tcp(dns.message.make_query("web.example.com.", "A"), "127.0.0.1", port=port, timeout=5)
            # Sent within one second (the limiter counts per second), else the figures mean nothing.
            print(full, truncated, len(tcp.answer), "fast" if sending < 0.5 else "slow")
            """)
        for (extra, limited) in [(["--rrl", "5", "--rrl-slip", "2"], true), ([], false)] {
            let port = try freeLocalPort()
            let server = try startOurs(zoneFile: zoneFile, port: port, extra)
            defer { server.stop() }
            let result = try run(python, [script, "\(port)"], timeout: 60)
            let fields = result.stdout.split(separator: " ").map {
                String($0).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(fields.count == 4, "\(result.stdout)\(result.stderr)")
            guard fields.count == 4, let full = Int(fields[0]), let truncated = Int(fields[1]) else { continue }
            #expect(fields[2] == "1", "TCP answered: \(result.stdout)")
            if fields[3] == "slow" { continue }
            if limited {
                // 5 answers, then every second one of the 35 held back slips: 17 or 18 truncated.
                #expect(full == 5, "\(result.stdout)")
                #expect((15...18).contains(truncated), "\(result.stdout)")
            } else {
                #expect(full == 40 && truncated == 0, "\(result.stdout)")
            }
        }
    }
}

/// quercus-dns serving `zoneFile` as example.com on `port` with `extra` flags, once it says so.
func startOurs(zoneFile: String, port: Int, _ extra: [String] = []) throws -> BackgroundProcess {
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

/// knotd on `port`, with `zones` (the rest of knot.conf: keys, remotes, acls, modules, zones).
func startKnot(_ knotd: String, in directory: TemporaryDirectory, port: Int, _ zones: String) throws
    -> BackgroundProcess
{
    // Knot keeps its journal there: without it updates fail and no IXFR difference is computed.
    try FileManager.default.createDirectory(atPath: directory.file("db"), withIntermediateDirectories: true)
    let config = try directory.write(
        "knot.conf",
        """
        server:
            listen: 127.0.0.1@\(port)
            rundir: "\(directory.path)"
        database:
            storage: "\(directory.file("db"))"
        log:
          - target: stderr
            any: info
        \(zones)
        """)
    return try BackgroundProcess(knotd, ["-c", config])
}

/// knotd on `port` as the secondary of example.com from our server on `primaryPort`, accepting
/// NOTIFY from loopback, once it has started.
func startKnotSecondary(_ knotd: String, in directory: TemporaryDirectory, port: Int, primaryPort: Int) throws
    -> BackgroundProcess
{
    let knot = try startKnot(
        knotd, in: directory, port: port,
        """
        remote:
          - id: primary
            address: 127.0.0.1@\(primaryPort)
        acl:
          - id: from-primary
            address: 127.0.0.1
            action: notify
        zone:
          - domain: example.com
            master: primary
            acl: from-primary
            file: "\(directory.file("secondary.zone"))"
        """)
    try knot.waitForOutput(containing: "server started")
    return knot
}
