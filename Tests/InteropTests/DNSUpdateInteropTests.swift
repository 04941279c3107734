import Foundation
import TestSupport
import Testing

/// Dynamic updates (RFC 2136) sent by BIND's nsupdate to quercus-dns: TSIG, the policy of which
/// key may change what, prerequisites, durability before the answer, NOTIFY onwards to Knot.
@Suite(.serialized) struct DNSUpdateInteropTests {
    static let key = "hmac-sha256:updater:c2VjcmV0IGZvciB1cGRhdGVzIG9ubHkgMTIzNDU2Nzg5MA=="
    static let zone = """
        $ORIGIN example.com.
        $TTL 300
        @     IN SOA ns1 hostmaster 100 3600 600 1209600 300
              IN NS  ns1
        ns1   IN A   192.0.2.53
        www   IN A   192.0.2.80
        txt   IN TXT "hello"
        """

    /// Sends nsupdate commands (the `server` line is added); returns its exit status and output.
    func nsupdate(_ port: Int, _ commands: String, key: String? = key, tcp: Bool = false) throws -> ProcessResult {
        let nsupdate = try Peer.command("nsupdate", debian: "bind9-dnsutils")
        var arguments = key.map { ["-y", $0] } ?? []
        if tcp { arguments.append("-v") }
        return try run(
            nsupdate, arguments, stdin: Data("server 127.0.0.1 \(port)\nzone example.com\n\(commands)\nsend\n".utf8),
            timeout: 30)
    }

    func dig(_ port: Int, _ name: String, _ type: String = "A") throws -> String {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        return try run(dig, ["@127.0.0.1", "-p", "\(port)", name, type, "+short", "+tries=1"]).stdout
    }

    @Test func aSignedUpdateIsWrittenToTheZoneFileBeforeItIsAcknowledged() throws {
        let directory = try TemporaryDirectory("dns-update")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let port = try freeLocalPort()
        let server = try startOurs(
            zoneFile: zoneFile, port: port, ["--key", Self.key, "--allow-update", "key:updater"])
        let added = try nsupdate(port, "update add new.example.com 60 A 192.0.2.77\nupdate delete txt.example.com TXT")
        #expect(added.status == 0, "\(added.stderr)")
        // Killed at once, with no chance to flush anything: the file already has the change.
        kill(server.pid, SIGKILL)
        _ = try server.waitForExit()
        let stored = try String(contentsOfFile: zoneFile, encoding: .utf8)
        #expect(stored.contains("new.example.com. 60 IN A 192.0.2.77"), "\(stored)")
        #expect(!stored.contains("hello"))
        #expect(stored.contains(" 101 3600 600 1209600 300"), "the serial goes up by one: \(stored)")
        // The file is a zone BIND reads, and our server serves it after a restart.
        let check = try run(
            try Peer.command("named-checkzone", debian: "bind9utils"), ["example.com", zoneFile])
        #expect(check.status == 0, "\(check.stdout)")
        let again = try startOurs(zoneFile: zoneFile, port: port)
        defer { again.stop() }
        #expect(try dig(port, "new.example.com") == "192.0.2.77\n")
        #expect(try dig(port, "txt.example.com", "TXT") == "")
    }

    @Test func thePolicyAndTheSignatureDecideAndARefusalChangesNothing() throws {
        let directory = try TemporaryDirectory("dns-update-policy")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let port = try freeLocalPort()
        let server = try startOurs(
            zoneFile: zoneFile, port: port,
            ["--key", Self.key, "--allow-update", "key:updater,name=dyn.example.com,types=A+AAAA"])
        defer { server.stop() }
        let before = try String(contentsOfFile: zoneFile, encoding: .utf8)
        let cases: [(String, String?, String)] = [
            ("update add host.dyn.example.com 60 TXT \"not allowed\"", Self.key, "REFUSED"),
            ("update add www.example.com 60 A 192.0.2.1", Self.key, "REFUSED"),
            ("update add host.dyn.example.com 60 A 192.0.2.1", nil, "REFUSED"),
            (
                "update add host.dyn.example.com 60 A 192.0.2.1",
                "hmac-sha256:updater:d3Jvbmcgc2VjcmV0IGZvciB1cGRhdGVzIDEyMzQ1Njc4OTA=", "BADSIG"
            ),
            ("update add host.other.org 60 A 192.0.2.1", Self.key, "NOTZONE"),
        ]
        for (command, key, expected) in cases {
            let result = try nsupdate(port, command, key: key)
            #expect(result.status != 0, "\(command) was accepted")
            #expect(
                result.stderr.contains(expected) || result.stdout.contains(expected),
                "\(command): \(result.stderr)\(result.stdout)")
        }
        #expect(try String(contentsOfFile: zoneFile, encoding: .utf8) == before)
        #expect(try dig(port, "host.dyn.example.com") == "")
        // Within the policy, over TCP.
        let allowed = try nsupdate(port, "update add host.dyn.example.com 60 A 192.0.2.1", tcp: true)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try dig(port, "host.dyn.example.com") == "192.0.2.1\n")
    }

    @Test func prerequisitesAreCheckedBeforeAnything() throws {
        let directory = try TemporaryDirectory("dns-update-prereq")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let port = try freeLocalPort()
        let server = try startOurs(
            zoneFile: zoneFile, port: port, ["--key", Self.key, "--allow-update", "key:updater"])
        defer { server.stop() }
        let cases: [(String, Bool, String)] = [
            ("prereq nxdomain www.example.com\nupdate add a.example.com 60 A 192.0.2.1", false, "YXDOMAIN"),
            ("prereq yxdomain none.example.com\nupdate add a.example.com 60 A 192.0.2.1", false, "NXDOMAIN"),
            ("prereq nxrrset www.example.com A\nupdate add a.example.com 60 A 192.0.2.1", false, "YXRRSET"),
            ("prereq yxrrset www.example.com AAAA\nupdate add a.example.com 60 A 192.0.2.1", false, "NXRRSET"),
            ("prereq yxrrset www.example.com A 192.0.2.99\nupdate add a.example.com 60 A 192.0.2.1", false, "NXRRSET"),
            ("prereq yxrrset www.example.com A 192.0.2.80\nupdate add b.example.com 60 A 192.0.2.2", true, ""),
            ("prereq nxdomain c.example.com\nupdate add c.example.com 60 A 192.0.2.3", true, ""),
        ]
        for (commands, succeeds, expected) in cases {
            let result = try nsupdate(port, commands)
            #expect((result.status == 0) == succeeds, "\(commands): \(result.stderr)")
            if !succeeds { #expect(result.stderr.contains(expected), "\(commands): \(result.stderr)") }
        }
        #expect(try dig(port, "a.example.com") == "")
        #expect(try dig(port, "b.example.com") == "192.0.2.2\n")
        #expect(try dig(port, "c.example.com") == "192.0.2.3\n")
        // Deleting a whole name, and the apex NS and SOA surviving a delete of everything at the apex.
        #expect(try nsupdate(port, "update delete www.example.com\nupdate delete example.com").status == 0)
        let www = try run(
            try Peer.command("dig", debian: "bind9-dnsutils"), ["@127.0.0.1", "-p", "\(port)", "www.example.com"])
        #expect(www.stdout.contains("status: NXDOMAIN"))
        #expect(try dig(port, "example.com", "NS") == "ns1.example.com.\n")
    }

    @Test func anUpdateIsNotifiedToKnotWhichFetchesIt() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let directory = try TemporaryDirectory("dns-update-notify")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone)
        let ourPort = try freeLocalPort()
        let knotPort = try freeLocalPort()
        let knot = try startKnotSecondary(knotd, in: directory, port: knotPort, primaryPort: ourPort)
        defer { knot.stop() }
        let ours = try startOurs(
            zoneFile: zoneFile, port: ourPort,
            [
                "--key", Self.key, "--allow-update", "key:updater", "--allow-transfer", "127.0.0.1", "--notify",
                "127.0.0.1:\(knotPort)",
            ])
        defer { ours.stop() }
        try knot.waitForOutput(containing: "serial none -> 100")
        #expect(try nsupdate(ourPort, "update add pushed.example.com 60 A 192.0.2.55").status == 0)
        try knot.waitForOutput(containing: "serial 100 -> 101")
        #expect(try dig(knotPort, "pushed.example.com") == "192.0.2.55\n")
        // Knot fetched only the difference, from our journal, not the zone in AXFR form.
        #expect(knot.output.contains("IXFR, incoming, remote 127.0.0.1@\(ourPort), finished"), "\(knot.output)")
        #expect(!knot.output.contains("AXFR-style IXFR"), "\(knot.output)")
    }
}
