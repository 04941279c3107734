import Foundation

/// A real program another implementation ships (a "peer") that an interop test drives.
///
/// Interop tests never skip: when a peer is missing, the test fails with the exact command that
/// installs it. `make test` installs every peer listed in `scripts/peers.list` first.
public enum Peer {
    public struct Missing: Error, CustomStringConvertible {
        public let what: String
        public let install: String
        public var description: String {
            "\(what) is not installed; install it with `\(install)` (make test does this for you)"
        }
    }

    /// The full path of a command from a Debian package, or an error naming the package.
    public static func command(_ name: String, debian package: String) throws -> String {
        guard let path = findOnPath(name) else {
            throw Missing(what: "\(name) (Debian package \(package))", install: "apt-get install -y \(package)")
        }
        return path
    }

    /// Checks that `python3` can import a module installed from PyPI; returns the python3 path.
    @discardableResult
    public static func python(module: String, pypi package: String) throws -> String {
        guard let python = findOnPath("python3") else {
            throw Missing(what: "python3", install: "apt-get install -y python3 python3-pip")
        }
        let result = try run(python, ["-c", "import \(module)"])
        guard result.status == 0 else {
            throw Missing(
                what: "Python module \(module) (PyPI package \(package))", install: "python3 -m pip install \(package)")
        }
        return python
    }

    public static func findOnPath(_ name: String) -> String? {
        // map(String.init): with Foundation imported, `split + [literals]` otherwise picks an
        // overload that makes each directory an array of characters, and no path is ever found.
        let directories: [String] =
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/sbin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// The executables this package builds, found beside the running test bundle.
public enum Product {
    public struct NotBuilt: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "\(name) has not been built; run `swift build` (make test does)" }
    }

    public static func path(_ name: String) throws -> String {
        let directory = buildDirectory()
        let candidate = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else { throw NotBuilt(name: name) }
        return candidate
    }

    /// The folder holding the test bundle, which is also where SwiftPM puts executables.
    public static func buildDirectory() -> URL {
        var url = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0])
        // On Linux the tests run from `<build>/QuercusPackageTests.xctest`; on macOS from inside a bundle.
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if !url.path.contains(".xctest") { return url }
        }
        return url
    }
}
