import DNS
import Foundation
import Logging

/// Zones kept in a git repository, one zone per file named after its origin (`example.com` or
/// `example.com.zone`; documents such as README.md are skipped), in a checkout this server owns: `sync` brings in what was pushed,
/// `commit` records a dynamic update with a message naming the key and pushes it back. Local
/// commits that could not be pushed are kept and pushed at the next sync, never thrown away.
final class ZoneRepository: @unchecked Sendable {
    let remote: String
    let checkout: String
    private let logger: Logger
    /// git is not safe to run twice at once in one checkout.
    private let lock = NSLock()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(remote: String, checkout: String, logger: Logger) {
        self.remote = remote
        self.checkout = checkout
        self.logger = logger
    }

    /// Clones the repository, or brings an existing checkout up to date.
    func prepare() throws {
        if FileManager.default.fileExists(atPath: checkout + "/.git") {
            _ = try sync()
        } else {
            try locked { _ = try git(["clone", "--quiet", remote, checkout], inCheckout: false) }
        }
    }

    /// Fetches, replays our unpushed commits on top of what arrived, and pushes them. Returns
    /// whether the checkout changed.
    func sync() throws -> Bool {
        try locked {
            let before = try git(["rev-parse", "HEAD"])
            _ = try git(["fetch", "--quiet", "origin"])
            do {
                _ = try git(["rebase", "--quiet", "@{upstream}"])
            } catch {
                _ = try? git(["rebase", "--abort"])
                throw Failure(description: "our commits do not apply on top of the repository's: \(error)")
            }
            try pushIfAhead()
            return try git(["rev-parse", "HEAD"]) != before
        }
    }

    /// Commits `file` (a path inside the checkout) and pushes. The commit is what makes the
    /// change durable; a failed push is retried at the next sync.
    func commit(file: String, message: String) throws {
        try locked {
            _ = try git(["add", "--", file])
            _ = try git([
                "-c", "user.name=quercus-dns", "-c", "user.email=quercus-dns@localhost", "-c", "core.fsync=all",
                "commit", "--quiet", "-m", message,
            ])
            do {
                try pushIfAhead()
            } catch {
                logger.warning("git: \(error); the commit stays local and is pushed at the next sync")
            }
        }
    }

    /// Every zone file in the top folder of the checkout.
    func specifications() -> [ZoneSpecification] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkout)) ?? []
        return names.sorted().compactMap { name in
            guard !name.hasPrefix("."), !name.hasSuffix(".quercus-tmp") else { return nil }
            let path = checkout + "/" + name
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                return nil
            }
            let origin = name.hasSuffix(".zone") ? String(name.dropLast(5)) : name
            guard (try? DomainName(origin + ".")) != nil, !Self.looksLikeADocument(name) else { return nil }
            return ZoneSpecification(origin: origin, file: path)
        }
    }

    /// README.md, LICENSE.txt, a Makefile: files a repository of zones also holds.
    static func looksLikeADocument(_ name: String) -> Bool {
        let documentSuffixes = ["md", "txt", "rst", "html", "json", "yaml", "yml", "toml", "sh", "py", "conf", "cfg"]
        let suffix = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return name.contains(".") && documentSuffixes.contains(suffix) || name.first?.isUppercase == true
    }

    private func pushIfAhead() throws {
        let ahead = try git(["rev-list", "--count", "@{upstream}..HEAD"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        if ahead != "0" { _ = try git(["push", "--quiet", "origin", "HEAD"]) }
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func git(_ arguments: [String], inCheckout: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + (inCheckout ? ["-C", checkout] : []) + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "git \(arguments.first ?? ""): \(message)")
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}
