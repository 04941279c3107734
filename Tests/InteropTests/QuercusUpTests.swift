import Foundation
import TestSupport
import Testing

/// `quercus up` driven as a person would: the built binary, a fleet file, signals.
@Suite(.serialized) struct QuercusUpTests {
    @Test func versionNamesTheReleaseAndTheCommit() throws {
        let result = try run(try Product.path("quercus"), ["--version"])
        #expect(result.status == 0)
        let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.wholeMatch(of: /0\.1\.0 \(commit [0-9a-f]{12}(-dirty)?\)/) != nil, "got: \(line)")
    }

    @Test func anEmptyFleetSaysSoAndStopsCleanlyOnSIGTERM() throws {
        let directory = try TemporaryDirectory("quercus-up")
        defer { directory.remove() }
        let up = try BackgroundProcess(
            try Product.path("quercus"),
            ["up", "--state-dir", directory.file("state"), "--config", try emptyFleet(directory)])
        defer { up.stop() }
        try up.waitForOutput(containing: "the fleet is empty")
        up.signal(SIGTERM)
        #expect(try up.waitForExit() == 0)
        #expect(up.output.contains("quercus up: stopped"))
        #expect(FileManager.default.fileExists(atPath: directory.file("state")))
    }

    @Test func theBuiltInFleetServesTheDemoZoneAndStopsOnSIGINT() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let directory = try TemporaryDirectory("quercus-up")
        defer { directory.remove() }
        let up = try BackgroundProcess(
            try Product.path("quercus"), ["up", "--state-dir", directory.file("state")],
            currentDirectory: directory.path)
        defer { up.stop() }
        try up.waitForOutput(containing: "Ctrl-C")
        #expect(up.output.contains("dig @127.0.0.1 -p 5300 www.quercus.test"))
        // The pasted command works: the DNS service answers from its demo zone.
        var answer = ""
        #expect(
            eventually(timeout: 20) {
                answer =
                    (try? run(dig, ["@127.0.0.1", "-p", "5300", "www.quercus.test", "+short", "+tries=1", "+time=1"]))?
                    .stdout ?? ""
                return answer.hasPrefix("web.quercus.test.")
            }, "dig got: \(answer)\n\(up.output)")
        #expect(answer == "web.quercus.test.\n127.0.0.1\n")
        // The resolver's pasted command works too: it forwards to the DNS service.
        #expect(up.output.contains("dig @127.0.0.1 -p 5353 www.quercus.test"))
        var resolved = ""
        #expect(
            eventually(timeout: 20) {
                resolved =
                    (try? run(dig, ["@127.0.0.1", "-p", "5353", "www.quercus.test", "+short", "+tries=1", "+time=1"]))?
                    .stdout ?? ""
                return resolved == answer
            }, "dig through the resolver got: \(resolved)\n\(up.output)")
        // The Piñata's pasted command prints its CA, and its TLS server refuses a client without a certificate.
        let curl = try Peer.command("curl", debian: "curl")
        #expect(up.output.contains("curl -s http://127.0.0.1:8080/ca.pem"))
        var ca = ""
        #expect(
            eventually(timeout: 20) {
                ca = (try? run(curl, ["-s", "http://127.0.0.1:8080/ca.pem"]))?.stdout ?? ""
                return ca.hasPrefix("-----BEGIN CERTIFICATE-----")
            }, "curl got: \(ca)\n\(up.output)")
        let pinataCA = try directory.write("pinata-ca.pem", ca)
        let refused = try run(
            try Peer.command("openssl", debian: "openssl"),
            ["s_client", "-connect", "127.0.0.1:10000", "-CAfile", pinataCA, "-ign_eof"], stdin: Data(), timeout: 20)
        #expect(refused.stderr.contains("certificate required"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("demo secret"))
        // The calendar server's pasted command lists the demo user's calendar; the change lands in git.
        #expect(
            up.output.contains("curl -s -u demo:demo -X PROPFIND -H 'Depth: 1' http://127.0.0.1:5232/calendars/demo/"))
        var listing = ""
        #expect(
            eventually(timeout: 20) {
                listing =
                    (try? run(
                        curl,
                        [
                            "-s", "-u", "demo:demo", "-X", "PROPFIND", "-H", "Depth: 1",
                            "http://127.0.0.1:5232/calendars/demo/",
                        ]))?
                    .stdout ?? ""
                return listing.contains("<D:href>/calendars/demo/default/</D:href>")
            }, "curl got: \(listing)\n\(up.output)")
        let history = try run(
            try Peer.command("git", debian: "git"),
            ["--git-dir", directory.file("state/caldav/calendars.git"), "log", "--format=%an %s"])
        #expect(history.stdout.contains("admin ADMIN add user demo"), "\(history.stdout)")
        up.signal(SIGINT)
        #expect(try up.waitForExit() == 0)
        #expect(up.output.contains("quercus up: stopping 4 service(s)"))
        #expect(up.output.contains("quercus up: stopped"))
    }

    @Test func aCrashingServiceIsRestartedWithBackoffAndEveryChildIsStopped() throws {
        let directory = try TemporaryDirectory("quercus-up")
        defer { directory.remove() }
        let fleet = """
            {"services": [
              {"name": "crasher", "executable": "/bin/sh",
               "arguments": ["-c", "echo run >> {state}/runs; echo boom >&2; exit 3"],
               "address": "nowhere", "try": "true"},
              {"name": "steady", "executable": "/bin/sh",
               "arguments": ["-c", "echo \\"$@\\" > {state}/args; exec sleep 300", "steady"],
               "settings": {"listen": "127.0.0.1:1", "verbose": true},
               "address": "127.0.0.1:1", "try": "echo hello"}
            ]}
            """
        let fleetFile = try directory.write("fleet.json", fleet)
        let state = directory.file("state")
        let up = try BackgroundProcess(
            try Product.path("quercus"), ["up", "--config", fleetFile, "--state-dir", state])
        defer { up.stop() }

        try up.waitForOutput(containing: "crasher exited with status 3")
        try up.waitForOutput(containing: "restarting in 1.0s")
        #expect(up.output.contains("steady   127.0.0.1:1  echo hello"))
        // The crasher ran more than once, and its stderr went to its log.
        #expect(
            eventually { ((try? String(contentsOfFile: "\(state)/crasher/runs", encoding: .utf8)) ?? "").count >= 8 })
        #expect(try String(contentsOfFile: "\(state)/crasher/log", encoding: .utf8).contains("boom"))
        // The steady service got its settings through --config, as every Quercus executable does.
        #expect(eventually { FileManager.default.fileExists(atPath: "\(state)/steady/args") })
        #expect(
            try String(contentsOfFile: "\(state)/steady/args", encoding: .utf8)
                == "--config \(state)/steady/config.json\n")
        let settings = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(state)/steady/config.json")))
        #expect((settings as? [String: Any])?["listen"] as? String == "127.0.0.1:1")
        let pidText = try String(contentsOfFile: "\(state)/steady/pid", encoding: .utf8)
        let steadyPID = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(processIsAlive(steadyPID))
        #expect(!up.output.contains("steady exited"))

        up.signal(SIGTERM)
        #expect(try up.waitForExit() == 0)
        #expect(up.output.contains("quercus up: stopped"))
        #expect(eventually { !processIsAlive(steadyPID) }, "the steady child outlived quercus up")
    }

    @Test func aBadFleetFileIsOneClearErrorAndExit64() throws {
        let directory = try TemporaryDirectory("quercus-up")
        defer { directory.remove() }
        let fleet = try directory.write(
            "fleet.json",
            #"{"services": [{"name": "a", "executable": "/bin/true"}, {"name": "a", "executable": "/bin/true"}]}"#)
        let result = try run(
            try Product.path("quercus"), ["up", "--config", fleet, "--state-dir", directory.file("s")])
        #expect(result.status == 64)
        #expect(result.stderr.contains("\(fleet): service \"a\" is listed twice"), "stderr: \(result.stderr)")

        let broken = try directory.write("broken.json", #"{"services": [{"name": "a"}]}"#)
        let second = try run(
            try Product.path("quercus"), ["up", "--config", broken, "--state-dir", directory.file("s")])
        #expect(second.status == 64)
        #expect(second.stderr.contains("missing \"executable\""), "stderr: \(second.stderr)")
    }

    private func emptyFleet(_ directory: TemporaryDirectory) throws -> String {
        try directory.write("empty.json", #"{"services": []}"#)
    }
}
