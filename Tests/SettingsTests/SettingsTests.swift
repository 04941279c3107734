import Foundation
import QuercusCLI
import Settings
import Testing

@Suite struct SettingsTests {
    private func flags(_ json: String) throws -> [String] {
        try ConfigFile.flags(fromJSON: Data(json.utf8), path: "test.json")
    }

    @Test func everyKindOfValueBecomesTheFlagsItStandsFor() throws {
        let result = try flags(
            """
            {"listen": ["127.0.0.1:5300", "[::1]:5300"], "zone": "example.com=z.zone", "port": 53,
             "ratio": 1.5, "allow-update": true, "notify": false}
            """)
        #expect(
            result == [
                "--allow-update",
                "--listen", "127.0.0.1:5300", "--listen", "[::1]:5300",
                "--port", "53",
                "--ratio", "1.5",
                "--zone", "example.com=z.zone",
            ])
    }

    @Test func aNestedObjectIsRejectedWithTheFileName() {
        #expect {
            try flags(#"{"listen": {"address": "x"}}"#)
        } throws: { error in
            "\(error)".hasPrefix("test.json: expected a JSON object of flag names")
        }
    }

    @Test func notJSONIsRejected() {
        #expect(throws: ConfigFile.Error.self) { try flags("listen = 1") }
        #expect(throws: ConfigFile.Error.self) { try flags(#"["--listen", "x"]"#) }
    }

    @Test func configFlagsAreSplicedWhereConfigStood() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("c.json").path
        try #"{"listen": "127.0.0.1:1", "verbose": true}"#.write(toFile: file, atomically: true, encoding: .utf8)

        #expect(
            try ConfigFile.expandingConfigFiles(in: ["serve", "--config", file, "--listen", "127.0.0.1:2"])
                == ["serve", "--listen", "127.0.0.1:1", "--verbose", "--listen", "127.0.0.1:2"])
        #expect(
            try ConfigFile.expandingConfigFiles(in: ["--config=\(file)"]) == ["--listen", "127.0.0.1:1", "--verbose"])
        // After `--` nothing is an option, not even --config.
        #expect(try ConfigFile.expandingConfigFiles(in: ["--", "--config", file]) == ["--", "--config", file])
    }

    @Test func aMissingFileOrValueIsAClearError() {
        #expect {
            try ConfigFile.expandingConfigFiles(in: ["--config", "/nonexistent/quercus.json"])
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/quercus.json: cannot read the file")
        }
        #expect {
            try ConfigFile.expandingConfigFiles(in: ["--config"])
        } throws: { error in
            "\(error)" == "--config: expects a file path"
        }
    }

    @Test func settingsSurviveAnEncodeDecodeRoundTrip() throws {
        let settings: [String: Setting] = [
            "listen": .values(["a", "b"]), "zone": .values(["z"]), "tcp": .flag(true), "udp": .flag(false),
        ]
        let data = try JSONEncoder().encode(settings)
        #expect(try JSONDecoder().decode([String: Setting].self, from: data) == settings)
        #expect(Setting.flags(for: settings) == ["--listen", "a", "--listen", "b", "--tcp", "--zone", "z"])
    }
}
