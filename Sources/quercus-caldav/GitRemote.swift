import DAVStore
import Foundation
import Logging
import Synchronization

/// `--store git:DIR,remote=URL`: the repository follows a remote. At start the server takes the
/// remote's history when it only adds to ours (a fast-forward), so a new machine starts from the
/// backup; after changes it pushes, at most once a second and never from a request: one `git push`
/// per burst of changes, not a process per request.
struct GitRemote: Sendable {
    let repository: String
    let url: String
    let logger: Logger

    /// Fetches the remote's main and moves ours to it when that is a fast-forward.
    func pullAtStart() throws {
        guard (try? git(["fetch", "--quiet", url, "main"])) != nil else {
            logger.notice("git remote \(url): nothing to fetch (new or unreachable)")
            return
        }
        let theirs = try git(["rev-parse", "FETCH_HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let ours = (try? git(["rev-parse", "--verify", "--quiet", "refs/heads/main"]))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let ours, !ours.isEmpty {
            guard ours != theirs else { return }
            guard (try? git(["merge-base", "--is-ancestor", ours, theirs])) != nil else {
                logger.warning(
                    "git remote \(url): histories differ; keeping ours, pushes will be refused until resolved")
                return
            }
        }
        _ = try git(["update-ref", "refs/heads/main", theirs])
        logger.notice("git remote \(url): fast-forwarded to \(theirs.prefix(12))")
    }

    /// Pushes main now; failures are logged, the next change tries again.
    func push() {
        do {
            _ = try git(["push", "--quiet", url, "refs/heads/main:refs/heads/main"])
        } catch {
            logger.warning("git push \(url): \(error)")
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "--git-dir", repository] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description:
                    "git \(arguments.first ?? ""): \(errorText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A store that tells someone after each change it made durable (the git pusher).
final class NotifyingStore: KeyValueStore {
    let base: any KeyValueStore
    let changed: @Sendable () -> Void

    init(_ base: any KeyValueStore, changed: @escaping @Sendable () -> Void) {
        self.base = base
        self.changed = changed
    }

    func get(_ path: StorePath) throws(StoreError) -> [UInt8]? { try base.get(path) }
    func kind(_ path: StorePath) throws(StoreError) -> StoreEntryKind? { try base.kind(path) }
    func list(_ path: StorePath) throws(StoreError) -> [(name: String, kind: StoreEntryKind)] { try base.list(path) }
    func digest(_ path: StorePath) throws(StoreError) -> String? { try base.digest(path) }
    func lastModified(_ path: StorePath) throws(StoreError) -> Int64? { try base.lastModified(path) }
    func apply(_ changes: [StoreChange], origin: ChangeOrigin) throws(StoreError) {
        try base.apply(changes, origin: origin)
        changed()
    }
}

/// Coalesces pushes: a change marks the repository dirty; one background thread pushes at most
/// once a second while it is.
final class Pusher: Sendable {
    private let dirty = Mutex(false)
    private let remote: GitRemote

    init(_ remote: GitRemote) {
        self.remote = remote
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    func changed() { dirty.withLock { $0 = true } }

    private func loop() {
        while true {
            Thread.sleep(forTimeInterval: 1)
            let wasDirty = dirty.withLock { value in
                defer { value = false }
                return value
            }
            if wasDirty { remote.push() }
        }
    }
}
