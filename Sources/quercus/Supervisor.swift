import Fleet
import Foundation
import Logging
import QuercusCLI

/// Runs each service of a fleet as a child process, restarts the ones that exit, and stops them
/// all on SIGINT or SIGTERM. The restart decisions are `RestartTracker`'s; this type only does
/// the process and file work.
actor Supervisor {
    private struct Running {
        let process: Process
        let startedAt: ContinuousClock.Instant
    }

    private let fleet: FleetConfig
    private let stateDirectory: URL
    private let logger = Logger(label: "quercus.up")
    private var running: [String: Running] = [:]
    private var trackers: [String: RestartTracker] = [:]
    private var stopping = false
    private var stopped: CheckedContinuation<Void, Never>?

    init(fleet: FleetConfig, stateDirectory: String) throws {
        self.fleet = fleet
        self.stateDirectory = URL(fileURLWithPath: stateDirectory, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: self.stateDirectory, withIntermediateDirectories: true)
    }

    /// Starts the fleet and returns once every service has been stopped by a signal.
    func run() async {
        let signals = installSignalHandlers()
        let services = fleet.enabledServices
        if services.isEmpty {
            let why = fleet == .standard ? " (no service has landed yet)" : ""
            say("quercus up: the fleet is empty\(why); state in \(stateDirectory.path).")
            say("Waiting; press Ctrl-C to stop.")
        } else {
            for service in services {
                start(service)
            }
            say(
                renderTable(
                    header: ["SERVICE", "ADDRESS", "TRY"],
                    rows: services.map { [$0.name, $0.address, $0.tryCommand] }
                )
            )
            say("State and logs in \(stateDirectory.path). Press Ctrl-C to stop.")
        }
        await withCheckedContinuation { continuation in
            stopped = continuation
        }
        withExtendedLifetime(signals) {}
    }

    private func start(_ service: ServiceSpec) {
        guard !stopping else { return }
        let directory = stateDirectory.appendingPathComponent(service.name, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, contents) in service.files {
                try Data(contents.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
            }
            var configPath: String?
            if !service.settings.isEmpty {
                let file = directory.appendingPathComponent("config.json")
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(service.resolvedSettings(stateDirectory: directory.path)).write(
                    to: file, options: .atomic)
                configPath = file.path
            }
            let process = Process()
            process.executableURL = try resolveExecutable(service.executable)
            process.arguments = service.commandLine(stateDirectory: directory.path, configPath: configPath)
            process.currentDirectoryURL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let log = try openLog(directory.appendingPathComponent("log"))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            let name = service.name
            process.terminationHandler = { [weak self] finished in
                let status = finished.terminationStatus
                let reason = finished.terminationReason
                Task { await self?.exited(name, status: status, signalled: reason == .uncaughtSignal) }
            }
            try process.run()
            running[name] = Running(process: process, startedAt: .now)
            try "\(process.processIdentifier)\n".write(
                to: directory.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
            logger.debug("started \(name) as pid \(process.processIdentifier)")
        } catch {
            say("quercus up: cannot start \(service.name): \(error)")
            scheduleRestart(service, afterRunning: .zero)
        }
    }

    private func exited(_ name: String, status: Int32, signalled: Bool) {
        guard let entry = running.removeValue(forKey: name) else { return }
        try? FileManager.default.removeItem(
            at: stateDirectory.appendingPathComponent(name).appendingPathComponent("pid"))
        if stopping {
            if running.isEmpty { finishStopping() }
            return
        }
        guard let service = fleet.enabledServices.first(where: { $0.name == name }) else { return }
        let how = signalled ? "was killed by signal \(status)" : "exited with status \(status)"
        let ranFor = ContinuousClock.now - entry.startedAt
        let delay = scheduleRestart(service, afterRunning: ranFor)
        let log = stateDirectory.appendingPathComponent(name).appendingPathComponent("log").path
        say("quercus up: \(name) \(how) after \(format(ranFor)); restarting in \(format(delay)) (log: \(log))")
    }

    @discardableResult
    private func scheduleRestart(_ service: ServiceSpec, afterRunning runTime: Duration) -> Duration {
        var tracker = trackers[service.name] ?? RestartTracker()
        let delay = tracker.exited(afterRunning: runTime)
        trackers[service.name] = tracker
        Task {
            try? await Task.sleep(for: delay)
            self.start(service)
        }
        return delay
    }

    /// Sends SIGTERM to every child, SIGKILL to any still running after five seconds.
    private func stopAll() {
        guard !stopping else { return }
        stopping = true
        say("quercus up: stopping \(running.count) service(s)")
        guard !running.isEmpty else { return finishStopping() }
        for entry in running.values {
            kill(entry.process.processIdentifier, SIGTERM)
        }
        Task {
            try? await Task.sleep(for: .seconds(5))
            self.killRemaining()
        }
    }

    private func killRemaining() {
        for (name, entry) in running {
            say("quercus up: \(name) ignored SIGTERM; killing it")
            kill(entry.process.processIdentifier, SIGKILL)
        }
    }

    private func finishStopping() {
        say("quercus up: stopped")
        stopped?.resume()
        stopped = nil
    }

    /// Returns once both sources are registered: dispatch registers them asynchronously, and a
    /// signal that came in between `SIG_IGN` and the registration would be lost (seen under load:
    /// a SIGTERM right after start was ignored).
    private nonisolated func installSignalHandlers() -> [any DispatchSourceSignal] {
        let registered = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                Task { await self?.stopAll() }
            }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            return source
        }
        for _ in sources { registered.wait() }
        return sources
    }

    /// A bare name is a Quercus executable beside this one (as `swift build` lays them out), then
    /// one on PATH; anything with a slash is a path.
    private func resolveExecutable(_ name: String) throws -> URL {
        if name.contains("/") { return URL(fileURLWithPath: name) }
        let fileManager = FileManager.default
        var candidates: [String] = []
        if let selfPath = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: selfPath).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/\(name)")
        }
        guard let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0) }) else {
            throw SupervisorError.executableNotFound(name)
        }
        return URL(fileURLWithPath: found)
    }

    private func openLog(_ url: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }

    private func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds < 1000 ? "\(milliseconds)ms" : String(format: "%.1fs", Double(milliseconds) / 1000)
    }
}

enum SupervisorError: Error, CustomStringConvertible {
    case executableNotFound(String)

    var description: String {
        switch self {
        case .executableNotFound(let name):
            return "no executable \"\(name)\" beside quercus or on PATH (run `swift build` first)"
        }
    }
}

/// Writes a line to standard output at once, so the table and restart notices appear in order
/// with the children's own output even when standard output is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
