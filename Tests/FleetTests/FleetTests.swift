import Fleet
import Foundation
import Settings
import Testing

@Suite struct RestartPolicyTests {
    @Test func quickFailuresBackOffExponentiallyUpToTheCap() {
        var tracker = RestartTracker(
            policy: RestartPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(4), healthyRun: .seconds(10))
        )
        let delays = (0..<6).map { _ in tracker.exited(afterRunning: .milliseconds(20)) }
        #expect(
            delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(tracker.consecutiveFailures == 6)
    }

    @Test func aHealthyRunResetsTheBackoff() {
        var tracker = RestartTracker(policy: RestartPolicy(initialDelay: .seconds(1), healthyRun: .seconds(10)))
        _ = tracker.exited(afterRunning: .seconds(1))
        _ = tracker.exited(afterRunning: .seconds(1))
        #expect(tracker.exited(afterRunning: .seconds(1)) == .seconds(4))
        #expect(tracker.exited(afterRunning: .seconds(60)) == .seconds(1))
        #expect(tracker.consecutiveFailures == 1)
    }

    @Test func aHugeFailureCountStaysAtTheCap() {
        let policy = RestartPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(30))
        #expect(policy.delay(afterConsecutiveFailures: 1_000_000) == .seconds(30))
        #expect(policy.delay(afterConsecutiveFailures: 0) == .milliseconds(500))
    }
}

@Suite struct FleetConfigTests {
    @Test func aFleetFileDecodesWithDefaults() throws {
        let json = """
            {"services": [{"name": "dns", "executable": "quercus-dns", "arguments": ["serve", "--data", "{state}/zones"],
              "settings": {"listen": "127.0.0.1:5300", "tcp": true}, "address": "127.0.0.1:5300",
              "try": "dig @127.0.0.1 -p 5300 example.com"},
             {"name": "off", "executable": "/bin/true", "enabled": false}]}
            """
        let fleet = try JSONDecoder().decode(FleetConfig.self, from: Data(json.utf8))
        try fleet.validate()
        #expect(fleet.services.count == 2)
        #expect(fleet.enabledServices.map(\.name) == ["dns"])
        let dns = try #require(fleet.services.first)
        #expect(dns.settings == ["listen": .values(["127.0.0.1:5300"]), "tcp": .flag(true)])
        #expect(dns.tryCommand == "dig @127.0.0.1 -p 5300 example.com")
        #expect(
            dns.commandLine(stateDirectory: "/s/dns", configPath: "/s/dns/config.json")
                == ["serve", "--data", "/s/dns/zones", "--config", "/s/dns/config.json"])
        #expect(fleet.services[1].arguments.isEmpty)
        #expect(fleet.services[1].commandLine(stateDirectory: "/s/off", configPath: nil).isEmpty)
    }

    @Test func badFleetsAreRejectedWithTheServiceNamed() {
        func fleet(_ names: [String], executable: String = "x") -> FleetConfig {
            FleetConfig(
                services: names.map { ServiceSpec(name: $0, executable: executable, address: "", tryCommand: "") })
        }
        #expect(throws: FleetError.duplicateName("a")) { try fleet(["a", "b", "a"]).validate() }
        #expect(throws: FleetError.invalidName("../etc")) { try fleet(["../etc"]).validate() }
        #expect(throws: FleetError.invalidName("")) { try fleet([""]).validate() }
        #expect(throws: FleetError.missingExecutable("a")) { try fleet(["a"], executable: "").validate() }
    }

    @Test func theBuiltInFleetIsValid() throws {
        try FleetConfig.standard.validate()
        #expect(!FleetConfig.standard.enabledServices.isEmpty)
    }

    @Test func stateFolderPlaceholdersReachTheSettings() {
        let service = ServiceSpec(
            name: "dns", executable: "quercus-dns",
            settings: ["zone": .values(["a.test={state}/a.zone", "b.test=/b.zone"]), "tcp": .flag(true)],
            files: ["a.zone": "..."], address: "", tryCommand: "")
        #expect(
            service.resolvedSettings(stateDirectory: "/s/dns") == [
                "zone": .values(["a.test=/s/dns/a.zone", "b.test=/b.zone"]), "tcp": .flag(true),
            ])
    }

    @Test func filesMustStayInTheStateFolder() {
        for name in ["../x", "a/b", "..", ""] {
            let fleet = FleetConfig(services: [
                ServiceSpec(name: "s", executable: "x", files: [name: ""], address: "", tryCommand: "")
            ])
            #expect(throws: FleetError.invalidFileName(service: "s", file: name)) { try fleet.validate() }
        }
    }
}

@Suite struct TableTests {
    @Test func columnsAlignToTheWidestCell() {
        let table = renderTable(
            header: ["SERVICE", "ADDRESS"], rows: [["dns", "127.0.0.1:5300"], ["caldav-long", "x"]])
        #expect(
            table == """
                SERVICE      ADDRESS
                dns          127.0.0.1:5300
                caldav-long  x
                """)
    }
}
