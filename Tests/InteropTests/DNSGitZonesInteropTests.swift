import Foundation
import TestSupport
import Testing

/// quercus-dns serving zones from a git repository: pushes are picked up, new and removed zone
/// files come and go, and dynamic updates come back as commits naming the key. The repository
/// is a bare one on disk driven by the real git, as a person pushing to it would.
@Suite(.serialized) struct DNSGitZonesInteropTests {
    static let key = "hmac-sha256:updater:c2VjcmV0IGZvciB1cGRhdGVzIG9ubHkgMTIzNDU2Nzg5MA=="

    static func zone(_ origin: String, serial: Int, address: String) -> String {
        """
        $ORIGIN \(origin).
        $TTL 300
        @   IN SOA ns1 hostmaster \(serial) 3600 600 1209600 300
            IN NS  ns1
        ns1 IN A   192.0.2.53
        www IN A   \(address)
        """
    }

    /// A bare repository and a clone to push from.
    struct Repository {
        let git: String
        let directory: TemporaryDirectory
        var bare: String { directory.file("zones.git") }
        var work: String { directory.file("admin") }

        init(_ directory: TemporaryDirectory) throws {
            git = try Peer.command("git", debian: "git")
            self.directory = directory
            try run(["init", "--quiet", "--bare", bare])
            try run(["clone", "--quiet", bare, work])
        }

        @discardableResult
        func run(_ arguments: [String], in folder: String? = nil) throws -> String {
            let result = try TestSupport.run(
                git,
                (folder.map { ["-C", $0] } ?? []) + ["-c", "user.name=admin", "-c", "user.email=admin@test"] + arguments
            )
            guard result.status == 0 else { throw PeerFailure(description: "git \(arguments): \(result.stderr)") }
            return result.stdout
        }

        func push(_ files: [String: String?], message: String) throws {
            for (name, text) in files {
                let path = work + "/" + name
                if let text {
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    try run(["add", name], in: work)
                } else {
                    try run(["rm", "--quiet", name], in: work)
                }
            }
            try run(["commit", "--quiet", "-m", message], in: work)
            try run(["push", "--quiet", "origin", "HEAD"], in: work)
        }
    }

    func dig(_ port: Int, _ name: String, short: Bool = true) throws -> String {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        return try run(dig, ["@127.0.0.1", "-p", "\(port)", name, "A", "+tries=1"] + (short ? ["+short"] : [])).stdout
    }

    func startServer(_ repository: Repository, port: Int, _ extra: [String]) throws -> BackgroundProcess {
        let server = try BackgroundProcess(
            try Product.path("quercus-dns"),
            [
                "serve", "--listen", "127.0.0.1:\(port)", "--zones-git", repository.bare, "--git-checkout",
                repository.directory.file("checkout"),
            ] + extra)
        try server.waitForOutput(containing: "serving ")
        return server
    }

    @Test func pushesAreServedAndUpdatesComeBackAsCommits() throws {
        let directory = try TemporaryDirectory("dns-git")
        defer { directory.remove() }
        let repository = try Repository(directory)
        try repository.push(
            ["example.com": Self.zone("example.com", serial: 1, address: "192.0.2.1"), "README.md": "# our zones\n"],
            message: "first zone")
        let port = try freeLocalPort()
        let server = try startServer(
            repository, port: port, ["--git-poll", "1", "--key", Self.key, "--allow-update", "key:updater"])
        defer { server.stop() }
        #expect(try dig(port, "www.example.com") == "192.0.2.1\n")
        #expect(!server.output.contains("README"), "\(server.output)")

        // A push changes a zone and adds another; both are served after the next poll.
        try repository.push(
            [
                "example.com": Self.zone("example.com", serial: 2, address: "192.0.2.2"),
                "example.net.zone": Self.zone("example.net", serial: 1, address: "198.51.100.1"),
            ], message: "change and add")
        #expect(eventually(timeout: 20) { (try? dig(port, "www.example.com")) == "192.0.2.2\n" }, "\(server.output)")
        #expect(eventually(timeout: 20) { (try? dig(port, "www.example.net")) == "198.51.100.1\n" })

        // A dynamic update is committed with the key in its message and pushed to the repository.
        let nsupdate = try Peer.command("nsupdate", debian: "bind9-dnsutils")
        let update = try run(
            nsupdate, ["-y", Self.key],
            stdin: Data(
                "server 127.0.0.1 \(port)\nzone example.com\nupdate add dyn.example.com 60 A 192.0.2.60\nsend\n".utf8))
        #expect(update.status == 0, "\(update.stderr)")
        let log = try repository.run(["log", "-1", "--format=%an %s"], in: repository.bare)
        #expect(log.contains("quercus-dns dynamic update: example.com. serial 3 by key updater."), "\(log)")
        try repository.run(["pull", "--quiet"], in: repository.work)
        let pulled = try String(contentsOfFile: repository.work + "/example.com", encoding: .utf8)
        #expect(pulled.contains("dyn.example.com. 60 IN A 192.0.2.60"), "\(pulled)")

        // Our next push builds on the server's commit; removing a zone file stops serving it.
        try repository.push(["example.net.zone": nil], message: "drop example.net")
        #expect(
            eventually(timeout: 20) { (try? dig(port, "www.example.net", short: false))?.contains("REFUSED") == true })
        #expect(try dig(port, "dyn.example.com") == "192.0.2.60\n")
    }

    @Test func withoutPollingSIGHUPOrAnAllowedNotifyReloads() throws {
        let directory = try TemporaryDirectory("dns-git-notify")
        defer { directory.remove() }
        let repository = try Repository(directory)
        try repository.push(["example.com": Self.zone("example.com", serial: 1, address: "192.0.2.1")], message: "zone")
        let port = try freeLocalPort()
        let server = try startServer(repository, port: port, ["--git-poll", "0", "--allow-notify", "127.0.0.1"])
        defer { server.stop() }
        try repository.push(["example.com": Self.zone("example.com", serial: 2, address: "192.0.2.2")], message: "two")
        server.signal(SIGHUP)
        try server.waitForOutput(containing: "reload (SIGHUP): changed example.com.")
        #expect(try dig(port, "www.example.com") == "192.0.2.2\n")

        // A post-receive hook would send this: NOTIFY for the zone from an allowed address.
        try repository.push(
            ["example.com": Self.zone("example.com", serial: 3, address: "192.0.2.3")], message: "three")
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let notify = try run(
            python,
            [
                "-c",
                """
                import dns.message, dns.opcode, dns.query, dns.rcode
                m = dns.message.make_query("example.com.", "SOA")
                m.set_opcode(dns.opcode.NOTIFY)
                print(dns.rcode.to_text(dns.query.udp(m, "127.0.0.1", port=\(port), timeout=5).rcode()))
                """,
            ])
        #expect(notify.stdout == "NOERROR\n", "\(notify.stderr)")
        try server.waitForOutput(containing: "reload (NOTIFY): changed example.com.")
        #expect(try dig(port, "www.example.com") == "192.0.2.3\n")
    }
}
