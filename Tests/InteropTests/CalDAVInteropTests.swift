import Foundation
import TestSupport
import Testing

/// quercus-caldav driven by the programs people point at a CalDAV server: litmus (WebDAV
/// conformance), the python caldav library's own functional tests and caldav-server-tester (CalDAV
/// as the most used client library sees it), and vdirsyncer with khal (two-way sync with a folder
/// that a calendar program reads). Each test starts its own server on a free port with a fresh
/// store, and each failure carries the end of the peer's output.
@Suite(.serialized) struct CalDAVInteropTests {
    static let alicePassword = "alice-Interop-7q"

    @Test func litmusPassesTheBasicCopyMovePropsAndHTTPSuites() throws {
        let litmus = try Peer.command("litmus", debian: "litmus")
        let server = try CalDAVServerProcess(store: .memory)
        defer { server.stop() }
        try server.addUser("alice", password: Self.alicePassword)
        // The locks suite is not run: the server advertises DAV 1, 3 and calendar-access, not class 2.
        let result = try run(
            litmus, ["--keep-going", server.url("/calendars/alice/"), "alice", Self.alicePassword],
            environment: ["TESTS": "basic copymove props http"], currentDirectory: server.directory.path,
            timeout: 300)
        let output = result.stdout + result.stderr
        let suites = LitmusSuiteSummary.parse(output)
        let problems = LitmusSuiteSummary.problemLines(output)
        #expect(
            suites.map(\.name) == ["basic", "copymove", "props", "http"],
            "litmus did not report every suite:\n\(CalDAVInterop.tail(output, lines: 60))")
        for suite in suites {
            #expect(
                suite.failed == 0 && suite.passed == suite.run,
                "litmus \(suite.name): \(suite.passed) of \(suite.run) passed\n\(problems)")
        }
        // A warning is a pass that litmus doubts; the one expected is basic's note that the server
        // does not claim class 2, which it must not without locks.
        let warnings = problems.split(separator: "\n").filter {
            $0.contains("WARNING") && !$0.contains("server does not claim Class 2 compliance")
        }
        #expect(warnings.isEmpty, "litmus warnings:\n\(problems)")
    }

    @Test func litmusSummariesAreRead() {
        let output = """
            -> running `basic':
             9. delete_fragment....... WARNING: DELETE removed collection resource with Request-URI including fragment; unsafe
                ...................... pass (with 1 warning)
            <- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%
            -> 1 warning was issued.
            <- summary for `copymove': of 13 tests run: 13 passed, 0 failed. 100.0%
             6. propset............... FAIL (PROPPATCH on `/user/litmus/prop': 403 Forbidden
            <- summary for `props': of 30 tests run: 29 passed, 1 failed. 96.7%
            -> 2 warnings were issued.
            <- summary for `http': of 4 tests run: 4 passed, 0 failed. 100.0%
            """
        #expect(
            LitmusSuiteSummary.parse(output) == [
                LitmusSuiteSummary(name: "basic", run: 16, passed: 16, failed: 0, warnings: 1),
                LitmusSuiteSummary(name: "copymove", run: 13, passed: 13, failed: 0, warnings: 0),
                LitmusSuiteSummary(name: "props", run: 30, passed: 29, failed: 1, warnings: 2),
                LitmusSuiteSummary(name: "http", run: 4, passed: 4, failed: 0, warnings: 0),
            ])
        #expect(LitmusSuiteSummary.problemLines(output).split(separator: "\n").count == 2)
    }

    /// `tests/test_caldav.py` from the sdist of the installed caldav version, with our server as its
    /// one external server. Features the server does not have are declared, not deselected, so the
    /// suite itself decides what to skip; its `testCheckCompatibility` probes the server with
    /// caldav-server-tester and fails if a declaration is wrong either way.
    @Test func thePythonCaldavLibrarysFunctionalTestsPass() throws {
        let python = try Peer.python(module: "caldav", pypi: "caldav")
        try Peer.python(module: "pytest", pypi: "pytest")
        try Peer.python(module: "pytest_asyncio", pypi: "pytest-asyncio")
        try Peer.python(module: "proxy", pypi: "proxy.py")
        try Peer.python(module: "caldav_server_tester", pypi: "caldav-server-tester")
        let sdist = try TemporaryDirectory("caldav-sdist")
        defer { sdist.remove() }
        let root = try CalDAVInterop.unpackCaldavSdist(python: python, into: sdist)

        let server = try CalDAVServerProcess(store: .memory)
        defer { server.stop() }
        try server.addUser("alice", password: Self.alicePassword)
        try sdist.write(
            "\((root as NSString).lastPathComponent)/tests/caldav_test_servers.yaml",
            """
            test-servers:
              quercus:
                type: external
                enabled: true
                url: \(server.url("/"))
                username: alice
                password: \(Self.alicePassword)
                features:
                  # RFC 6638 scheduling (inbox, outbox, iTIP delivery) is not part of issue 9.
                  scheduling: {support: unsupported}
                  # More than the library assumes by default: a time-range with no comp-filter.
                  search.time-range.comp-type-optional: {support: full}

            """)
        let result = try run(
            python,
            [
                "-m", "pytest", "tests/test_caldav.py::TestForServerquercus", "-q", "-rfEs", "-p", "no:cacheprovider",
                // testPrincipals calls the library's own deprecated principals(), which the suite's
                // warnings-are-errors setting turns into a failure whatever the server answers.
                "-W", "ignore:principals() is deprecated:DeprecationWarning",
            ],
            environment: ["PYTHON_CALDAV_TEST_EMBEDDED": "0", "PYTHON_CALDAV_TEST_DOCKER": "0"],
            currentDirectory: root, timeout: 1200)
        let output = result.stdout + result.stderr
        let context =
            "caldav's test_caldav.py exited \(result.status):\n\(CalDAVInterop.pytestDigest(output))\n"
            + "server log:\n\(CalDAVInterop.tail(server.process.output, lines: 20))"
        #expect(result.status == 0 && output.contains(" passed"), "\(context)")
    }

    @Test func caldavServerTesterFindsNothingBrokenOrUngracefulAndSyncTokenLimitWorks() throws {
        let python = try Peer.python(module: "caldav_server_tester", pypi: "caldav-server-tester")
        let server = try CalDAVServerProcess(store: .memory)
        defer { server.stop() }
        try server.addUser("alice", password: Self.alicePassword)
        // `--format hints` lists every feature probed (the JSON report leaves out the ones that
        // match the standard), as a Python dict literal.
        let result = try run(
            python,
            [
                "-c",
                "import sys; sys.argv[0] = 'caldav-server-tester'; "
                    + "from caldav_server_tester import check_server_compatibility as main; main()",
                "--caldav-url", server.url("/"), "--caldav-username", "alice", "--caldav-password",
                Self.alicePassword, "--format", "hints",
            ], timeout: 900)
        let context =
            "caldav-server-tester exited \(result.status):\n\(CalDAVInterop.tail(result.stdout, lines: 150))\n"
            + "\(CalDAVInterop.tail(result.stderr, lines: 40))"
        try #require(result.status == 0, "\(context)")
        let features = try CalDAVInterop.featureSupport(hints: result.stdout, python: python)
        try #require(!features.isEmpty, "\(context)")
        let bad = features.filter { ["broken", "ungraceful"].contains($0.value.support) }.sorted { $0.key < $1.key }
        #expect(bad.isEmpty, "\(bad.map { "\($0.key): \($0.value.text)" }.joined(separator: "\n"))\n\(context)")
        for feature in ["sync-token", "sync-token.limit", "sync-token.limit.initial-sync"] {
            #expect(
                features[feature]?.support == "full",
                "\(feature): \(features[feature]?.text ?? "not probed")\n\(context)")
        }
    }

    /// vdirsyncer between alice's default calendar and a folder, khal reading the folder: an event
    /// made on each side reaches the other, a change on each side too, a weekly event shows all its
    /// instances, and every write lands in the git store as a commit authored by alice naming the
    /// method and the client.
    @Test func vdirsyncerSyncsBothWaysKhalListsTheEventsAndGitRecordsEachWrite() throws {
        let python = try Peer.python(module: "vdirsyncer", pypi: "vdirsyncer")
        try Peer.python(module: "khal", pypi: "khal")
        let git = try Peer.command("git", debian: "git")
        let curl = try Peer.command("curl", debian: "curl")
        let server = try CalDAVServerProcess(store: .git)
        defer { server.stop() }
        try server.addUser("alice", password: Self.alicePassword)
        let work = server.directory
        let local = work.file("local")
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let vdirsyncerConfig = try work.write(
            "vdirsyncer.conf",
            """
            [general]
            status_path = "\(work.file("vdirsyncer-status"))/"

            [pair alice]
            a = "alice_server"
            b = "alice_folder"
            collections = null
            conflict_resolution = "a wins"

            [storage alice_server]
            type = "caldav"
            url = "\(server.url("/calendars/alice/default/"))"
            username = "alice"
            password = "\(Self.alicePassword)"

            [storage alice_folder]
            type = "filesystem"
            path = "\(local)/"
            fileext = ".ics"

            """)
        let khalConfig = try work.write(
            "khal.conf",
            """
            [calendars]
            [[alice]]
            path = \(local)/
            type = calendar

            [sqlite]
            path = \(work.file("khal.db"))

            [locale]
            timeformat = %H:%M
            dateformat = %Y-%m-%d
            longdateformat = %Y-%m-%d
            datetimeformat = %Y-%m-%d %H:%M
            longdatetimeformat = %Y-%m-%d %H:%M
            local_timezone = UTC
            default_timezone = UTC

            """)
        func vdirsyncer(_ arguments: [String]) throws {
            let result = try run(python, ["-m", "vdirsyncer", "-c", vdirsyncerConfig] + arguments, timeout: 120)
            guard result.status == 0 else {
                throw CalDAVInteropFailure(
                    "vdirsyncer \(arguments.joined(separator: " ")) exited \(result.status):\n"
                        + "\(CalDAVInterop.tail(result.stdout + result.stderr, lines: 40))\n"
                        + "server log:\n\(CalDAVInterop.tail(server.process.output, lines: 20))")
            }
        }
        func khalList() throws -> String {
            let result = try run(
                python, ["-m", "khal", "-c", khalConfig, "list", "2031-03-01", "2031-03-31"], timeout: 60)
            guard result.status == 0 else {
                throw CalDAVInteropFailure("khal list exited \(result.status):\n\(result.stdout)\n\(result.stderr)")
            }
            return result.stdout
        }
        func serverCalendarData() throws -> String {
            let query = """
                <?xml version="1.0" encoding="utf-8"?>
                <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                  <D:prop><D:getetag/><C:calendar-data/></D:prop>
                  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>
                </C:calendar-query>
                """
            let result = try run(
                curl,
                [
                    "-sS", "-u", "alice:\(Self.alicePassword)", "-X", "REPORT", "-H", "Depth: 1", "-H",
                    "Content-Type: application/xml; charset=utf-8", "--data-binary", "@-",
                    server.url("/calendars/alice/default/"),
                ], stdin: Data(query.utf8), timeout: 30)
            return result.stdout
        }
        func folderData() throws -> String {
            try FileManager.default.contentsOfDirectory(atPath: local).sorted().map {
                try String(contentsOfFile: "\(local)/\($0)", encoding: .utf8)
            }.joined(separator: "\n")
        }
        func putOnServer(_ name: String, _ body: String) throws {
            let result = try run(
                curl,
                [
                    "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:\(Self.alicePassword)", "-X", "PUT",
                    "-H", "Content-Type: text/calendar; charset=utf-8", "--data-binary", "@-",
                    server.url("/calendars/alice/default/\(name)"),
                ], stdin: Data(body.utf8), timeout: 30)
            guard ["201", "204"].contains(result.stdout) else {
                throw CalDAVInteropFailure("PUT \(name) answered \(result.stdout) \(result.stderr)")
            }
        }

        // Before the first sync: a weekly event on the server, a single one in the folder.
        try putOnServer("weekly-standup.ics", Self.weeklyStandup(summary: "Weekly standup"))
        try work.write("local/local-lunch.ics", Self.lunch(summary: "Lunch from the laptop"))
        try vdirsyncer(["discover"])
        try vdirsyncer(["sync"])
        let inFolder = try folderData()
        #expect(inFolder.contains("UID:weekly-standup@quercus.test"), "\(inFolder)")
        let onServerFirst = try serverCalendarData()
        #expect(onServerFirst.contains("Lunch from the laptop"), "\(onServerFirst)")
        let listed = try khalList()
        #expect(listed.components(separatedBy: "Weekly standup").count - 1 == 4, "\(listed)")
        #expect(listed.contains("Lunch from the laptop"), "\(listed)")

        // A change on each side.
        try putOnServer("weekly-standup.ics", Self.weeklyStandup(summary: "Weekly standup, online"))
        let lunchFile = work.file("local/local-lunch.ics")
        try Self.lunch(summary: "Lunch moved to Thursday", day: "20310306", sequence: 1).write(
            toFile: lunchFile, atomically: true, encoding: .utf8)
        try vdirsyncer(["sync"])
        let inFolderAfter = try folderData()
        #expect(inFolderAfter.contains("SUMMARY:Weekly standup, online"), "\(inFolderAfter)")
        let onServer = try serverCalendarData()
        #expect(onServer.contains("Lunch moved to Thursday"), "\(onServer)")
        #expect(!onServer.contains("Lunch from the laptop"), "\(onServer)")
        let relisted = try khalList()
        #expect(relisted.components(separatedBy: "Weekly standup, online").count - 1 == 4, "\(relisted)")
        #expect(relisted.contains("2031-03-06") && relisted.contains("Lunch moved to Thursday"), "\(relisted)")

        // Every write is a commit authored by alice whose message names the method and the client:
        // vdirsyncer's two PUTs (the lunch, then its change) and curl's two.
        let log = try run(git, ["--git-dir", server.gitDirectory!, "log", "--format=%an%x09%s"], timeout: 30)
        let commits = log.stdout.split(separator: "\n").map(String.init)
        let context = "git log exited \(log.status):\n\(log.stdout)\(log.stderr)"
        #expect(
            commits.filter { $0.hasPrefix("alice\t") && $0.contains("PUT") && $0.contains("vdirsyncer") }.count == 2,
            "\(context)")
        #expect(
            commits.filter { $0.hasPrefix("alice\t") && $0.contains("PUT") && $0.contains("curl") }.count == 2,
            "\(context)")
    }

    static func weeklyStandup(summary: String) -> String {
        calendar(
            """
            UID:weekly-standup@quercus.test
            DTSTAMP:20310101T000000Z
            DTSTART:20310303T090000Z
            DTEND:20310303T093000Z
            RRULE:FREQ=WEEKLY;COUNT=4
            SUMMARY:\(summary)
            """)
    }

    static func lunch(summary: String, day: String = "20310305", sequence: Int = 0) -> String {
        calendar(
            """
            UID:local-lunch@quercus.test
            DTSTAMP:20310101T000000Z
            DTSTART:\(day)T120000Z
            DTEND:\(day)T130000Z
            SEQUENCE:\(sequence)
            SUMMARY:\(summary)
            """)
    }

    static func calendar(_ event: String) -> String {
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Quercus//CalDAV interop//EN", "BEGIN:VEVENT"]
            + event.split(separator: "\n").map(String.init) + ["END:VEVENT", "END:VCALENDAR"])
            .map { $0 + "\r\n" }.joined()
    }
}

/// quercus-caldav on a free loopback port with a fresh store in its own temporary folder, an
/// administrator password file, and users added through its admin command.
final class CalDAVServerProcess {
    enum Store { case memory, git }

    let binary: String
    let directory: TemporaryDirectory
    let port: Int
    let adminPasswordFile: String
    /// The bare repository of the git store.
    let gitDirectory: String?
    let process: BackgroundProcess

    init(store: Store) throws {
        binary = try Product.path("quercus-caldav")
        directory = try TemporaryDirectory("caldav-interop")
        port = try freeLocalPort()
        adminPasswordFile = try directory.write("admin-password", "admin-Interop-3x")
        gitDirectory = store == .git ? directory.file("store.git") : nil
        do {
            process = try BackgroundProcess(
                binary,
                [
                    "--listen", "127.0.0.1:\(port)", "--store", gitDirectory.map { "git:\($0)" } ?? "memory",
                    "--admin-password-file", adminPasswordFile,
                ])
            try process.waitForOutput(containing: "listening on")
        } catch {
            directory.remove()
            throw error
        }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func addUser(_ name: String, password: String) throws {
        let passwordFile = try directory.write("password-\(name)", password)
        let result = try run(
            binary,
            [
                "admin", "--url", url(""), "--admin-password-file", adminPasswordFile, "add-user", name,
                "--password-file", passwordFile,
            ], timeout: 30)
        guard result.status == 0 else {
            throw CalDAVInteropFailure(
                "quercus-caldav admin add-user \(name) exited \(result.status):\n\(result.stdout)\(result.stderr)\n"
                    + "server log:\n\(CalDAVInterop.tail(process.output, lines: 20))")
        }
    }

    func stop() {
        process.stop()
        directory.remove()
    }
}

struct CalDAVInteropFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One `<- summary for 'SUITE': of N tests run: P passed, F failed.` line of litmus, with the
/// `-> W warnings were issued.` line that follows it when there were any.
struct LitmusSuiteSummary: Equatable {
    let name: String
    let run: Int
    let passed: Int
    let failed: Int
    let warnings: Int

    static func parse(_ output: String) -> [LitmusSuiteSummary] {
        var suites: [LitmusSuiteSummary] = []
        for line in output.split(separator: "\n") {
            if let match = line.firstMatch(
                of: /<- summary for .(\w+).: of (\d+) tests run: (\d+) passed, (\d+) failed/)
            {
                suites.append(
                    LitmusSuiteSummary(
                        name: String(match.1), run: Int(match.2) ?? 0, passed: Int(match.3) ?? 0,
                        failed: Int(match.4) ?? 0, warnings: 0))
            } else if let match = line.firstMatch(of: /^-> (\d+) warnings? (was|were) issued/), let last = suites.last {
                suites[suites.count - 1] = LitmusSuiteSummary(
                    name: last.name, run: last.run, passed: last.passed, failed: last.failed,
                    warnings: Int(match.1) ?? 0)
            }
        }
        return suites
    }

    /// The lines naming a failed or skipped test or a warning, for a failure message.
    static func problemLines(_ output: String) -> String {
        output.split(separator: "\n").filter { $0.contains("FAIL") || $0.contains("WARNING") || $0.contains("SKIPPED") }
            .joined(separator: "\n")
    }
}

enum CalDAVInterop {
    static func tail(_ text: String, lines: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// pytest's report cut to what explains its failures: each failing test's header line and its
    /// first `E` lines, then the short summary at the end.
    static func pytestDigest(_ output: String) -> String {
        var kept: [Substring] = []
        var errorLines = 0
        for line in output.split(separator: "\n") {
            if line.hasPrefix("____") {
                kept.append(line)
                errorLines = 0
            } else if line.hasPrefix("E ") && errorLines < 12 {
                kept.append(line)
                errorLines += 1
            }
        }
        return kept.joined(separator: "\n") + "\n…\n" + tail(output, lines: 30)
    }

    /// Downloads the sdist of the caldav version that is installed (its tests are not in the wheel)
    /// and unpacks it; returns the folder holding `tests/`.
    static func unpackCaldavSdist(python: String, into directory: TemporaryDirectory) throws -> String {
        let version = try run(python, ["-c", "import caldav; print(caldav.__version__)"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let download = try run(
            python,
            [
                "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps", "--no-binary", ":all:",
                "-d", directory.path, "caldav==\(version)",
            ], timeout: 300)
        guard download.status == 0,
            let archive = try FileManager.default.contentsOfDirectory(atPath: directory.path).first(where: {
                $0.hasPrefix("caldav-") && $0.hasSuffix(".tar.gz")
            })
        else {
            throw CalDAVInteropFailure(
                "pip download caldav==\(version) (sdist) failed:\n\(download.stdout)\(download.stderr)")
        }
        let unpack = try run(
            python,
            [
                "-c", "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')",
                directory.file(archive), directory.path,
            ])
        let root = directory.file(String(archive.dropLast(".tar.gz".count)))
        guard unpack.status == 0, FileManager.default.fileExists(atPath: "\(root)/tests/test_caldav.py") else {
            throw CalDAVInteropFailure("unpacking \(archive) failed:\n\(unpack.stdout)\(unpack.stderr)")
        }
        return root
    }

    struct Support {
        let support: String
        let text: String
    }

    /// caldav-server-tester's `--format hints` output (a Python dict literal of feature → details)
    /// as each feature's support level and its details as text.
    static func featureSupport(hints: String, python: String) throws -> [String: Support] {
        let converted = try run(
            python,
            [
                "-c",
                "import ast, json, sys; text = sys.stdin.read(); "
                    + "print(json.dumps(ast.literal_eval(text[text.index('{'):text.rindex('}') + 1])))",
            ], stdin: Data(hints.utf8))
        guard converted.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(converted.stdout.utf8)) as? [String: Any]
        else {
            throw CalDAVInteropFailure("could not read caldav-server-tester's report:\n\(converted.stderr)")
        }
        var features: [String: Support] = [:]
        for (name, value) in object {
            let details = value as? [String: Any] ?? [:]
            let support = details["support"] as? String ?? (details.isEmpty ? "\(value)" : "full")
            features[name] = Support(
                support: support, text: details.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))
        }
        return features
    }
}
