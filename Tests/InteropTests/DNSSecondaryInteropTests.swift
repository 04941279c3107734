import Foundation
import TestSupport
import Testing

/// quercus-dns as a secondary: of Knot (which keeps a journal and answers IXFR with differences)
/// and of itself with TSIG, and what it does when its primary goes away.
@Suite(.serialized) struct DNSSecondaryInteropTests {
    static func zone(serial: Int, refresh: Int = 3600, retry: Int = 600, expire: Int = 1_209_600, extra: String = "")
        -> String
    {
        """
        $ORIGIN example.com.
        $TTL 300
        @     IN SOA ns1 hostmaster \(serial) \(refresh) \(retry) \(expire) 300
              IN NS  ns1
        ns1   IN A   192.0.2.53
        www   IN A   192.0.2.80
        old   IN TXT "to be deleted"
        \(extra)
        """
    }

    /// Knot allows transfers only with the TSIG key and signs its NOTIFY with it.
    @Test func followsAKnotPrimaryByIXFRAfterItsNotify() throws {
        let knotd = try Peer.command("knotd", debian: "knot")
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dns-secondary")
        defer { directory.remove() }
        let primaryFile = try directory.write("primary.zone", Self.zone(serial: 10))
        let ourPort = try freeLocalPort()
        let knotPort = try freeLocalPort()
        let knot = try startKnot(
            knotd, in: directory, port: knotPort,
            """
            key:
              - id: xfr-key
                algorithm: hmac-sha256
                secret: c2VjcmV0IGZvciB0cmFuc2ZlcnMgb25seSAxMjM0NTY3OA==
            remote:
              - id: secondary
                address: 127.0.0.1@\(ourPort)
                key: xfr-key
            acl:
              - id: transfer
                address: 127.0.0.1
                key: xfr-key
                action: transfer
            zone:
              - domain: example.com
                file: "\(primaryFile)"
                zonefile-load: difference
                journal-content: changes
                notify: secondary
                acl: transfer
            """)
        defer { knot.stop() }
        try knot.waitForOutput(containing: "server started")
        let ours = try BackgroundProcess(
            try Product.path("quercus-dns"),
            [
                "serve", "--listen", "127.0.0.1:\(ourPort)", "--key",
                "hmac-sha256:xfr-key:c2VjcmV0IGZvciB0cmFuc2ZlcnMgb25seSAxMjM0NTY3OA==", "--secondary",
                "example.com=127.0.0.1:\(knotPort)@xfr-key", "--allow-transfer", "127.0.0.1",
            ])
        defer { ours.stop() }
        try ours.waitForOutput(containing: "example.com. now at serial 10 (AXFR)")
        func ask(_ name: String, _ type: String) throws -> String {
            try run(dig, ["@127.0.0.1", "-p", "\(ourPort)", name, type, "+short", "+tries=1", "+time=2"]).stdout
        }
        #expect(try ask("www.example.com", "A") == "192.0.2.80\n")

        // Knot reloads a changed file, computes the difference, and NOTIFYs us; we ask for IXFR.
        try directory.write(
            "primary.zone",
            Self.zone(serial: 11, extra: "fresh IN A 192.0.2.123\n").replacingOccurrences(
                of: "old   IN TXT \"to be deleted\"\n", with: ""
            ).replacingOccurrences(of: "192.0.2.80", with: "192.0.2.81"))
        knot.signal(SIGHUP)
        try ours.waitForOutput(containing: "example.com. now at serial 11 (IXFR)")
        #expect(try ask("fresh.example.com", "A") == "192.0.2.123\n")
        #expect(try ask("www.example.com", "A") == "192.0.2.81\n")
        let deleted = try run(dig, ["@127.0.0.1", "-p", "\(ourPort)", "old.example.com", "TXT", "+tries=1"]).stdout
        #expect(deleted.contains("status: NXDOMAIN"), "\(deleted)")
        // Our copy is Knot's zone, record for record, in AXFR from both.
        func transfer(_ port: Int) throws -> [String] {
            try run(
                dig,
                [
                    "@127.0.0.1", "-p", "\(port)", "example.com", "AXFR", "+nocmd", "+nostats", "+nocomments", "-y",
                    "hmac-sha256:xfr-key:c2VjcmV0IGZvciB0cmFuc2ZlcnMgb25seSAxMjM0NTY3OA==",
                ]
            )
            .stdout.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.contains("\tTSIG\t") }
            .map { String($0) }.sorted()
        }
        let fromKnot = try transfer(knotPort)
        #expect(fromKnot.contains { $0.hasPrefix("fresh.example.com.") })
        #expect(try transfer(ourPort) == fromKnot)
    }

    @Test func aSignedSecondaryOfOurOwnPrimaryAndAWrongKey() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dns-secondary-tsig")
        defer { directory.remove() }
        let zoneFile = try directory.write("example.com.zone", Self.zone(serial: 5))
        let primaryPort = try freeLocalPort()
        let secondaryPort = try freeLocalPort()
        let wrongPort = try freeLocalPort()
        let key = "hmac-sha256:xfr-key:c2VjcmV0IGZvciB0cmFuc2ZlcnMgb25seSAxMjM0NTY3OA=="
        let primary = try startOurs(
            zoneFile: zoneFile, port: primaryPort,
            [
                "--key", key, "--allow-transfer", "key:xfr-key", "--notify", "127.0.0.1:\(secondaryPort)",
            ])
        defer { primary.stop() }
        let secondary = try BackgroundProcess(
            try Product.path("quercus-dns"),
            [
                "serve", "--listen", "127.0.0.1:\(secondaryPort)", "--key", key, "--secondary",
                "example.com=127.0.0.1:\(primaryPort)@xfr-key",
            ])
        defer { secondary.stop() }
        try secondary.waitForOutput(containing: "example.com. now at serial 5 (AXFR)")
        let answer = try run(dig, ["@127.0.0.1", "-p", "\(secondaryPort)", "www.example.com", "+short"])
        #expect(answer.stdout == "192.0.2.80\n")
        // A change on the primary reaches the secondary through NOTIFY and a signed IXFR.
        try directory.write("example.com.zone", Self.zone(serial: 6, extra: "new IN A 192.0.2.6\n"))
        primary.signal(SIGHUP)
        try secondary.waitForOutput(containing: "example.com. now at serial 6 (IXFR")
        #expect(
            try run(dig, ["@127.0.0.1", "-p", "\(secondaryPort)", "new.example.com", "+short"]).stdout == "192.0.2.6\n")

        // The same key name with another secret: every check fails TSIG and nothing is served.
        let wrong = try BackgroundProcess(
            try Product.path("quercus-dns"),
            [
                "serve", "--listen", "127.0.0.1:\(wrongPort)", "--key",
                "hmac-sha256:xfr-key:d3Jvbmcgc2VjcmV0IGZvciB0cmFuc2ZlcnMgMTIzNDU2Nzg=", "--secondary",
                "example.com=127.0.0.1:\(primaryPort)@xfr-key",
            ])
        defer { wrong.stop() }
        try wrong.waitForOutput(containing: "TSIG")
        let refused = try run(dig, ["@127.0.0.1", "-p", "\(wrongPort)", "www.example.com", "+tries=1"]).stdout
        #expect(refused.contains("status: SERVFAIL"), "\(refused)")
        #expect(!wrong.output.contains("now at serial"))
    }

    @Test func keepsServingWhenThePrimaryIsGoneUntilExpire() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("dns-secondary-expire")
        defer { directory.remove() }
        let zoneFile = try directory.write(
            "example.com.zone", Self.zone(serial: 1, refresh: 1, retry: 1, expire: 6))
        let primaryPort = try freeLocalPort()
        let secondaryPort = try freeLocalPort()
        let primary = try startOurs(zoneFile: zoneFile, port: primaryPort, ["--allow-transfer", "127.0.0.1"])
        let secondary = try BackgroundProcess(
            try Product.path("quercus-dns"),
            ["serve", "--listen", "127.0.0.1:\(secondaryPort)", "--secondary", "example.com=127.0.0.1:\(primaryPort)"])
        defer { secondary.stop() }
        try secondary.waitForOutput(containing: "now at serial 1 (AXFR)")
        primary.stop()
        func status() throws -> String {
            let output = try run(dig, ["@127.0.0.1", "-p", "\(secondaryPort)", "www.example.com", "+tries=1"]).stdout
            return output.firstMatch(of: /status: (\w+)/).map { String($0.1) } ?? "none"
        }
        // The refresh fails, the copy is still served...
        try secondary.waitForOutput(containing: "secondary: example.com. from")
        #expect(try status() == "NOERROR")
        // ...until the SOA's expire time passes without the primary.
        try secondary.waitForOutput(containing: "example.com. expired", timeout: 30)
        #expect(try status() == "SERVFAIL")
    }
}
