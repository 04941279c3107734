import ArgumentParser
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What every Quercus executable has in common: `--version` with the commit it was built from,
/// `--config FILE` taking the same settings as the flags, logging to standard error, and errors
/// printed as one line with a documented exit code.
///
/// An executable declares `@main struct Tool: QuercusCommand` and gets all of that from `main()`.
/// Exit codes: 0 success, 1 the work failed (bad input, unreachable peer …), 64 bad usage.
public protocol QuercusCommand: AsyncParsableCommand {
    /// False for a command whose `--config` file is not a flag list (`quercus up` reads a fleet).
    static var expandsConfigFile: Bool { get }
}

extension QuercusCommand {
    public static var expandsConfigFile: Bool { true }

    public static func main() async {
        do {
            var arguments = Array(CommandLine.arguments.dropFirst())
            if expandsConfigFile {
                arguments = try ConfigFile.expandingConfigFiles(in: arguments)
            }
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The version line every executable prints for `--version`.
public enum QuercusVersion {
    public static let release = "0.1.0"
    /// `git describe` of the tree the binary was built from (`-dirty` when it had local changes).
    public static let commit = BuildInfo.gitDescription
    public static var string: String { "\(release) (commit \(commit))" }
}

/// `--log-level` for every executable; logs go to standard error so standard output stays data.
public struct LoggingOptions: ParsableArguments, Sendable {
    @Option(
        help: "Log level: trace, debug, info, notice, warning, error or critical.",
        transform: { text in
            guard let level = Logger.Level(rawValue: text) else {
                throw ValidationError("unknown log level \"\(text)\"")
            }
            return level
        }
    )
    public var logLevel: Logger.Level = .info

    public init() {}

    /// Sets up swift-log once per process; later calls are ignored by swift-log's own guard.
    public func bootstrap() {
        let level = logLevel
        LoggingBootstrap.once {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

private enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(_ body: () -> Void) {
        done.withLock { done in
            guard !done else { return }
            done = true
            body()
        }
    }
}
