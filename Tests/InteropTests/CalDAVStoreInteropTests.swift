import Foundation
import TestSupport
import Testing

/// What quercus-caldav promises about its stores, checked with stock git, curl, openssl and a kill:
/// a misbehaving client's change is undone with `quercus-caldav revert`; a remote gets every change
/// and a new server starts from it; a server killed in the middle of writes has lost nothing it
/// acknowledged and left nothing half-written; and HTTPS through Quercus TLS works with curl.
@Suite(.serialized) struct CalDAVStoreInteropTests {
    /// A server on a free port; `store` is the --store value, `extra` more flags.
    final class Server {
        let process: BackgroundProcess
        let port: Int
        let scheme: String

        init(store: String, admin: String, extra: [String] = [], scheme: String = "http") throws {
            port = try freeLocalPort()
            self.scheme = scheme
            process = try BackgroundProcess(
                try Product.path("quercus-caldav"),
                [
                    "--listen", "127.0.0.1:\(port)", "--store", store, "--admin-password-file", admin,
                    "--password-rounds", "1000",
                ]
                    + extra)
            try process.waitForOutput(containing: "listening on")
        }

        var base: String { "\(scheme)://127.0.0.1:\(port)" }
    }

    let curl: String
    let git: String
    let directory: TemporaryDirectory
    let admin: String

    init() throws {
        curl = try Peer.command("curl", debian: "curl")
        git = try Peer.command("git", debian: "git")
        directory = try TemporaryDirectory("caldav-store")
        admin = try directory.write("admin-password", "admin-Store-9k")
    }

    func addAlice(_ server: Server) throws {
        let password = try directory.write("alice-password", "alice-Store-4m")
        let result = try run(
            try Product.path("quercus-caldav"),
            [
                "admin", "--url", server.base, "--admin-password-file", admin, "add-user", "alice", "--password-file",
                password,
            ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    func curlAsAlice(_ arguments: [String], extra: [String] = []) throws -> ProcessResult {
        try run(curl, ["-s", "-u", "alice:alice-Store-4m"] + extra + arguments)
    }

    static func event(uid: String, summary: String) -> String {
        [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:\(uid)",
            "DTSTAMP:20260101T000000Z",
            "DTSTART:20261201T100000Z", "DTEND:20261201T110000Z", "SUMMARY:\(summary)", "END:VEVENT", "END:VCALENDAR",
            "",
        ].joined(separator: "\r\n")
    }

    func put(_ server: Server, _ name: String, _ body: String, agent: String = "quercus-test") throws -> String {
        let file = try directory.write("body-\(name)", body)
        return try curlAsAlice(
            [
                "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Type: text/calendar", "-A", agent,
                "--data-binary", "@\(file)", "\(server.base)/calendars/alice/default/\(name)",
            ]
        ).stdout
    }

    @Test func aBadClientsChangeIsRevertedFromTheCommandLine() throws {
        defer { directory.remove() }
        let repository = directory.file("calendars.git")
        let server = try Server(store: "git:\(repository)", admin: admin)
        defer { server.process.stop() }
        try addAlice(server)
        let good = Self.event(uid: "standup@x", summary: "Standup")
        #expect(try put(server, "standup.ics", good) == "201")
        #expect(
            try put(server, "standup.ics", Self.event(uid: "standup@x", summary: "GARBAGE"), agent: "BadSync/0.1")
                == "204")
        let log = try run(git, ["--git-dir", repository, "log", "--format=%H %an %s"]).stdout
        let bad = try #require(log.split(separator: "\n").first { $0.contains("BadSync/0.1") })
        #expect(bad.contains(" alice PUT /calendars/alice/default/standup.ics (BadSync/0.1)"), "\(log)")
        let commit = String(bad.prefix(40))
        let reverted = try run(
            try Product.path("quercus-caldav"),
            ["revert", commit, "--url", server.base, "--admin-password-file", admin])
        #expect(reverted.status == 0, "\(reverted.stdout)\(reverted.stderr)")
        #expect(try curlAsAlice(["\(server.base)/calendars/alice/default/standup.ics"]).stdout == good)
        let after = try run(git, ["--git-dir", repository, "log", "-1", "--format=%an %s"]).stdout
        #expect(after.hasPrefix("admin REVERT \(commit)"), "\(after)")
        #expect(
            try run(git, ["--git-dir", repository, "show", "main:calendars/alice/default/standup.ics"]).stdout == good)
        let fsck = try run(git, ["--git-dir", repository, "fsck", "--strict"])
        #expect(fsck.status == 0, "\(fsck.stderr)")
    }

    @Test func changesReachTheRemoteAndANewServerStartsFromIt() throws {
        defer { directory.remove() }
        let remote = directory.file("backup.git")
        #expect(try run(git, ["init", "--quiet", "--bare", remote]).status == 0)
        let first = try Server(store: "git:\(directory.file("one.git")),remote=\(remote)", admin: admin)
        try addAlice(first)
        #expect(try put(first, "trip.ics", Self.event(uid: "trip@x", summary: "Trip")) == "201")
        var remoteLog = ""
        #expect(
            eventually(timeout: 20) {
                remoteLog = (try? run(git, ["--git-dir", remote, "log", "main", "--format=%an %s"]))?.stdout ?? ""
                return remoteLog.contains("alice PUT /calendars/alice/default/trip.ics")
            }, "remote log: \(remoteLog)\n\(first.process.output)")
        first.process.stop()
        let second = try Server(store: "git:\(directory.file("two.git")),remote=\(remote)", admin: admin)
        defer { second.process.stop() }
        #expect(second.process.output.contains("fast-forwarded"), "\(second.process.output)")
        let body = try curlAsAlice(["\(second.base)/calendars/alice/default/trip.ics"]).stdout
        #expect(body.contains("SUMMARY:Trip"), "\(body)")
    }

    /// Writes from a client as fast as it can, kills the server with SIGKILL part way, restarts it
    /// on the same store: every PUT that got its 201 is there, byte for byte.
    func acknowledgedWritesSurviveAKill(store: String) throws {
        let server = try Server(store: store, admin: admin)
        try addAlice(server)
        let python = try Peer.command("python3", debian: "python3")
        let script = try directory.write(
            "writer.py",
            """
            import base64, http.client, sys
            auth = "Basic " + base64.b64encode(b"alice:alice-Store-4m").decode()
            connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
            for index in range(100000):
                body = sys.argv[2].replace("NUMBER", str(index))
                try:
                    connection.request("PUT", "/calendars/alice/default/e%d.ics" % index, body,
                                       {"Authorization": auth, "Content-Type": "text/calendar"})
                    response = connection.getresponse()
                    response.read()
                except Exception:
                    break
                if response.status == 201:
                    print(index, flush=True)
            """)
        let writer = try BackgroundProcess(
            python, [script, "\(server.port)", Self.event(uid: "eNUMBER@x", summary: "Number NUMBER")])
        defer { writer.stop() }
        #expect(eventually(timeout: 60) { writer.output.split(separator: "\n").count >= 30 }, "\(writer.output)")
        kill(server.process.pid, SIGKILL)
        _ = try? server.process.waitForExit(timeout: 10)
        _ = try? writer.waitForExit(timeout: 20)
        let acknowledged = writer.output.split(separator: "\n").compactMap { Int($0) }
        #expect(acknowledged.count >= 30)
        let restarted = try Server(store: store, admin: admin)
        defer { restarted.process.stop() }
        for index in acknowledged {
            let body = try curlAsAlice(["\(restarted.base)/calendars/alice/default/e\(index).ics"]).stdout
            #expect(body == Self.event(uid: "e\(index)@x", summary: "Number \(index)"), "e\(index).ics after the kill")
        }
    }

    @Test func aKilledGitStoreLosesNothingItAcknowledged() throws {
        defer { directory.remove() }
        let repository = directory.file("calendars.git")
        try acknowledgedWritesSurviveAKill(store: "git:\(repository)")
        let fsck = try run(git, ["--git-dir", repository, "fsck", "--strict"])
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
    }

    @Test func aKilledDirectoryStoreLosesNothingItAcknowledged() throws {
        defer { directory.remove() }
        try acknowledgedWritesSurviveAKill(store: "fs:\(directory.file("calendars"))")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: directory.file("calendars"))
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func httpsThroughQuercusTLSWithCurl() throws {
        defer { directory.remove() }
        let openssl = try Peer.command("openssl", debian: "openssl")
        let key = directory.file("key.pem")
        let certificate = directory.file("cert.pem")
        let made = try run(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out",
                certificate, "-days", "2", "-subj", "/CN=calendar.test", "-addext", "subjectAltName=DNS:calendar.test",
            ])
        #expect(made.status == 0, "\(made.stderr)")
        let server = try Server(
            store: "memory", admin: admin, extra: ["--tls-cert", certificate, "--tls-key", key], scheme: "https")
        defer { server.process.stop() }
        // The admin command speaks plain HTTP only, so alice is added through curl over HTTPS.
        let resolve = ["--resolve", "calendar.test:\(server.port):127.0.0.1", "--cacert", certificate]
        let added = try run(
            curl,
            resolve + [
                "-s", "-u", "admin:admin-Store-9k", "--data", "name=alice&password=alice-Store-4m",
                "https://calendar.test:\(server.port)/admin/users",
            ])
        #expect(added.stdout == "done\n", "\(added.stdout)\(added.stderr)\n\(server.process.output)")
        let listing = try curlAsAlice(
            ["-X", "PROPFIND", "-H", "Depth: 1", "https://calendar.test:\(server.port)/calendars/alice/"],
            extra: resolve)
        #expect(
            listing.stdout.contains("<D:href>/calendars/alice/default/</D:href>"), "\(listing.stdout)\(listing.stderr)")
        // curl refuses the server when it does not trust the certificate.
        let untrusted = try run(
            curl,
            ["-s", "--resolve", "calendar.test:\(server.port):127.0.0.1", "https://calendar.test:\(server.port)/"])
        #expect(untrusted.status == 60)
    }
}
