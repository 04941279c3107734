import ArgumentParser
import Fleet
import Foundation
import QuercusCLI

@main
struct Quercus: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus",
        abstract: "Run and manage the Quercus services.",
        discussion: "Exit codes: 0 success, 1 failure, 64 bad usage.",
        version: QuercusVersion.string,
        subcommands: [Up.self]
    )

    static var expandsConfigFile: Bool { false }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start every Quercus service on loopback, each as its own process, and keep them running.",
        discussion: """
            Without --config, runs the built-in fleet: every service that exists, with demo data. \
            A --config file is JSON: {"services": [{"name": "dns", "executable": "quercus-dns", \
            "arguments": ["serve"], "settings": {"listen": "127.0.0.1:5300"}, "address": "127.0.0.1:5300", \
            "try": "dig @127.0.0.1 -p 5300 example.com"}]}; "settings" is what the service's own --config \
            file takes. A service that exits is restarted with exponential backoff. Ctrl-C or SIGTERM \
            stops every service and exits 0.
            """
    )

    @Option(help: "A fleet file (JSON) to run instead of the built-in fleet.")
    var config: String?

    @Option(help: "Where services keep state, logs and pid files.")
    var stateDir: String = ".quercus"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let fleet = try loadFleet()
        let supervisor = try Supervisor(fleet: fleet, stateDirectory: stateDir)
        await supervisor.run()
    }

    private func loadFleet() throws -> FleetConfig {
        guard let config else { return .standard }
        let fleet: FleetConfig
        do {
            fleet = try JSONDecoder().decode(FleetConfig.self, from: Data(contentsOf: URL(fileURLWithPath: config)))
        } catch let error as DecodingError {
            throw ValidationError("\(config): not a fleet file: \(describe(error))")
        } catch {
            throw ValidationError("\(config): cannot read it (\(error.localizedDescription))")
        }
        do {
            try fleet.validate()
        } catch {
            throw ValidationError("\(config): \(error)")
        }
        return fleet
    }

    private func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }

    private func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
