import Settings

/// One service of the fleet that `quercus up` runs as its own child process.
public struct ServiceSpec: Codable, Equatable, Sendable {
    /// Short name used in the table, in log lines and as the service's state folder.
    public var name: String
    /// A Quercus executable beside `quercus` (`quercus-dns`), or an absolute path.
    public var executable: String
    /// Leading arguments, typically a subcommand (`serve`). `{state}` stands for the service's
    /// own state folder.
    public var arguments: [String]
    /// The service's settings, as in its own `--config` file; `quercus up` writes them to
    /// `<state>/config.json` and passes `--config` that file.
    public var settings: [String: Setting]
    /// Files written into the state folder before every start (demo zones, demo calendars),
    /// by plain file name.
    public var files: [String: String]
    /// Where it listens, for the table.
    public var address: String
    /// One command a person can paste to try the service.
    public var tryCommand: String
    public var enabled: Bool

    public init(
        name: String, executable: String, arguments: [String] = [], settings: [String: Setting] = [:],
        files: [String: String] = [:], address: String, tryCommand: String, enabled: Bool = true
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.settings = settings
        self.files = files
        self.address = address
        self.tryCommand = tryCommand
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case name, executable, arguments, settings, files, address, enabled
        case tryCommand = "try"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        executable = try container.decode(String.self, forKey: .executable)
        arguments = try container.decodeIfPresent([String].self, forKey: .arguments) ?? []
        settings = try container.decodeIfPresent([String: Setting].self, forKey: .settings) ?? [:]
        files = try container.decodeIfPresent([String: String].self, forKey: .files) ?? [:]
        address = try container.decodeIfPresent(String.self, forKey: .address) ?? ""
        tryCommand = try container.decodeIfPresent(String.self, forKey: .tryCommand) ?? ""
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
    }

    /// The arguments to start the process with, given its state folder and the path of the
    /// settings file written there.
    public func commandLine(stateDirectory: String, configPath: String?) -> [String] {
        var line = arguments.map { $0.replacingAll("{state}", with: stateDirectory) }
        if let configPath { line += ["--config", configPath] }
        return line
    }

    /// The settings with `{state}` replaced by the service's state folder.
    public func resolvedSettings(stateDirectory: String) -> [String: Setting] {
        settings.mapValues { setting in
            guard case .values(let values) = setting else { return setting }
            return .values(values.map { $0.replacingAll("{state}", with: stateDirectory) })
        }
    }
}

/// What `quercus up` runs: the embedded default or a `--config` file in the same shape.
public struct FleetConfig: Codable, Equatable, Sendable {
    public var services: [ServiceSpec]

    public init(services: [ServiceSpec]) {
        self.services = services
    }

    /// Names must be unique and usable as folder names; executables must be named.
    public func validate() throws(FleetError) {
        var seen: Set<String> = []
        for service in services {
            guard !service.name.isEmpty,
                service.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            else { throw .invalidName(service.name) }
            guard seen.insert(service.name).inserted else { throw .duplicateName(service.name) }
            guard !service.executable.isEmpty else { throw .missingExecutable(service.name) }
            for file in service.files.keys where !isPlainFileName(file) {
                throw .invalidFileName(service: service.name, file: file)
            }
        }
    }

    public var enabledServices: [ServiceSpec] { services.filter(\.enabled) }
}

public enum FleetError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName(String)
    case duplicateName(String)
    case missingExecutable(String)
    case invalidFileName(service: String, file: String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "service name \"\(name)\" must be letters, digits, '-' or '_'"
        case .duplicateName(let name): return "service \"\(name)\" is listed twice"
        case .missingExecutable(let name): return "service \"\(name)\" names no executable"
        case .invalidFileName(let service, let file):
            return "service \"\(service)\": file \"\(file)\" must be a plain name inside its state folder"
        }
    }
}

private func isPlainFileName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
