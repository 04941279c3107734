import ArgumentParser
import DNS
import Foundation
import QuercusCLI

@main
struct QuercusDNS: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-dns",
        abstract: "The Quercus DNS tools.",
        discussion: "Exit codes: 0 success, 1 failure, 64 bad usage.",
        version: QuercusVersion.string,
        subcommands: [CheckZone.self, Serve.self]
    )
}

/// A zone file's error, printed as `file:line:column: reason`.
struct ZoneFileFailure: Error, CustomStringConvertible {
    let description: String
}

struct CheckZone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-zone",
        abstract: "Parse a zone file and print it in canonical presentation format.",
        discussion: """
            Prints one record per line with absolute names, TTL and class, sorted as `named-checkzone -D` \
            sorts. $INCLUDE may only name files inside --include-root (by default the zone file's folder). \
            On an error prints file:line:column and the reason, and exits 1.
            """
    )

    @Option(help: "The zone's origin, such as example.com.")
    var origin: String

    @Option(help: "The folder $INCLUDE files must lie in (default: the zone file's folder).")
    var includeRoot: String?

    @Argument(help: "The zone file.")
    var file: String

    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        let zone = try loadZone(origin: origin, file: file, includeRoot: includeRoot)
        FileHandle.standardOutput.write(Data(zone.canonicalText.utf8))
    }
}

/// Reads included files, refusing any that resolve (after `..` and symbolic links) outside `root`.
func confinedLoader(root: String) -> IncludeLoader {
    let base = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
    return { path in
        let candidate = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
            .standardizedFileURL.resolvingSymlinksInPath().path
        guard candidate.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            return .failure(IncludeFailure("outside the include root \(base)"))
        }
        guard let text = try? String(contentsOfFile: candidate, encoding: .utf8) else {
            return .failure(IncludeFailure("cannot read \(candidate)"))
        }
        return .success(text)
    }
}
