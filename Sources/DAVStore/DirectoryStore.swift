import Crypto
import Glibc
import Synchronization

/// A store kept as plain files: each value is a file under `root`, each dictionary a directory,
/// so an administrator can read (and back up) the data with ordinary tools.
///
/// A batch is applied in three steps: every new value is written to a temporary file in the root
/// (named `.tmp-…`), then all are fsynced; then removals run and the temporary files are renamed into place;
/// then the directories that changed are fsynced. A failure in the first step (a full disk, say)
/// changes nothing. A crash during the second step can leave part of a batch applied: a file
/// system offers no multi-rename transaction, and an intent log would double the code for a case
/// the CalDAV server does not have (it writes one resource per request). Temporary files left by a
/// crash are removed when the store is opened, and names starting with `.tmp-` are refused.
///
/// Modification times are the batch's `ChangeOrigin.time`, set on each written file and on every
/// directory above a change, so a dictionary's `lastModified` covers everything below it.
public final class DirectoryStore: KeyValueStore {
    public let root: String
    private struct State {
        /// Dictionary digests computed since the last change (any change empties it).
        var digests: [StorePath: String] = [:]
    }
    private let state = Mutex(State())
    private static let temporaryPrefix = ".tmp-"

    public init(root: String) throws(StoreError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        try FileSystem.makeDirectories(self.root)
        try cleanLeftovers(self.root, isRoot: true)
    }

    /// Removes temporary files a crash left behind, and directories they left empty.
    private func cleanLeftovers(_ directory: String, isRoot: Bool) throws(StoreError) {
        for name in try FileSystem.names(in: directory) ?? [] {
            let path = directory + "/" + name
            if name.hasPrefix(Self.temporaryPrefix) {
                try FileSystem.removeTree(path)
            } else if try FileSystem.status(path)?.isDirectory == true {
                try cleanLeftovers(path, isRoot: false)
            }
        }
        if !isRoot, try FileSystem.names(in: directory)?.isEmpty == true {
            try FileSystem.removeTree(directory)
        }
    }

    private func file(_ path: StorePath) -> String {
        path.segments.reduce(root) { $0 + "/" + $1 }
    }

    public func get(_ path: StorePath) throws(StoreError) -> [UInt8]? {
        try state.withLock { _ throws(StoreError) in try FileSystem.read(file(path)) }
    }

    public func kind(_ path: StorePath) throws(StoreError) -> StoreEntryKind? {
        try state.withLock { _ throws(StoreError) in try kindUnlocked(path) }
    }

    private func kindUnlocked(_ path: StorePath) throws(StoreError) -> StoreEntryKind? {
        guard let status = try FileSystem.status(file(path)) else { return nil }
        if status.isDirectory { return .dictionary }
        return status.isFile ? .value : nil
    }

    public func list(_ path: StorePath) throws(StoreError) -> [(name: String, kind: StoreEntryKind)] {
        try state.withLock { _ throws(StoreError) in try listUnlocked(path) }
    }

    private func listUnlocked(_ path: StorePath) throws(StoreError) -> [(name: String, kind: StoreEntryKind)] {
        guard try kindUnlocked(path) == .dictionary else { return [] }
        var entries: [(name: String, kind: StoreEntryKind)] = []
        for name in try FileSystem.names(in: file(path)) ?? []
        where !name.hasPrefix(Self.temporaryPrefix) && StorePath.isValid(name) {
            if let kind = try kindUnlocked(StorePath(validated: path.segments + [name])) {
                entries.append((name, kind))
            }
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// SHA-256 of a value; for a dictionary, SHA-256 over its children's kinds, names and digests.
    public func digest(_ path: StorePath) throws(StoreError) -> String? {
        try state.withLock { state throws(StoreError) in try digestUnlocked(path, &state.digests) }
    }

    private func digestUnlocked(_ path: StorePath, _ cache: inout [StorePath: String]) throws(StoreError) -> String? {
        switch try kindUnlocked(path) {
        case nil:
            return nil
        case .value:
            return try FileSystem.read(file(path)).map { Self.hex(SHA256.hash(data: $0)) }
        case .dictionary:
            if let cached = cache[path] { return cached }
            var hasher = SHA256()
            for child in try listUnlocked(path) {
                let childPath = StorePath(validated: path.segments + [child.name])
                let digest = try digestUnlocked(childPath, &cache) ?? ""
                hasher.update(data: Array("\(child.kind == .value ? "v" : "d") \(child.name)\0\(digest)\n".utf8))
            }
            let digest = Self.hex(hasher.finalize())
            cache[path] = digest
            return digest
        }
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public func lastModified(_ path: StorePath) throws(StoreError) -> Int64? {
        try state.withLock { _ throws(StoreError) in try FileSystem.status(file(path))?.modified }
    }

    public func apply(_ changes: [StoreChange], origin: ChangeOrigin) throws(StoreError) {
        try state.withLock { state throws(StoreError) in
            state.digests = [:]
            try applyUnlocked(changes, time: origin.time)
        }
    }

    private func applyUnlocked(_ changes: [StoreChange], time: Int64) throws(StoreError) {
        // 1. Check the whole batch against the disk as earlier changes of the batch leave it.
        var sets: [(path: StorePath, bytes: [UInt8])] = []
        var removals: [StorePath] = []
        for (index, change) in changes.enumerated() {
            switch change {
            case .set(let path, let bytes):
                guard !path.segments.isEmpty else { throw StoreError.kindConflict(path) }
                if let reserved = path.segments.first(where: { $0.hasPrefix(Self.temporaryPrefix) }) {
                    throw StoreError.invalidPath("\(path) (names starting with \(reserved.prefix(5)) are reserved)")
                }
                for depth in 1..<path.segments.count {
                    let above = StorePath(validated: Array(path.segments[..<depth]))
                    if try kind(above, after: changes[..<index]) == .value { throw StoreError.kindConflict(above) }
                }
                if try kind(path, after: changes[..<index]) == .dictionary { throw StoreError.kindConflict(path) }
                // A later change can undo this one; then it is never written.
                sets.removeAll { $0.path.hasPrefix(path) }
                sets.append((path, bytes))
            case .remove(let path):
                sets.removeAll { $0.path.hasPrefix(path) }
                removals.append(path)
            }
        }

        // 2. Write every new value beside the root, where a failure leaves nothing visible.
        var temporaries: [String] = []
        do {
            for set in sets {
                let temporary = root + "/\(Self.temporaryPrefix)\(UInt64.random(in: 1...UInt64.max))"
                try FileSystem.create(temporary, set.bytes, permissions: 0o600, modified: time)
                temporaries.append(temporary)
            }
            for temporary in temporaries { try FileSystem.sync(temporary) }
        } catch {
            for temporary in temporaries { unlink(temporary) }
            throw error
        }

        // 3. Remove, rename into place, then make every changed directory durable.
        var changedDirectories: Set<StorePath> = [.root]
        for path in removals {
            if path.segments.isEmpty {
                for child in try listUnlocked(path) { try FileSystem.removeTree(root + "/" + child.name) }
                continue
            }
            try FileSystem.removeTree(file(path))
            var above = path.parent
            // Dictionaries exist only through what is below them, so empty ones go too.
            while let directory = above, !directory.segments.isEmpty,
                try FileSystem.names(in: file(directory))?.isEmpty == true
            {
                try FileSystem.removeTree(file(directory))
                above = directory.parent
            }
            if let directory = above { changedDirectories.insert(directory) }
        }
        for (temporary, set) in zip(temporaries, sets) {
            for depth in 1..<set.path.segments.count {
                let directory = StorePath(validated: Array(set.path.segments[..<depth]))
                if try FileSystem.makeDirectory(file(directory), permissions: 0o700) {
                    changedDirectories.insert(StorePath(validated: Array(set.path.segments[..<(depth - 1)])))
                }
            }
            try FileSystem.rename(temporary, to: file(set.path))
            if let parent = set.path.parent { changedDirectories.insert(parent) }
        }
        // Every directory above a change carries the batch's time, so lastModified covers the subtree.
        var touched = Set<StorePath>()
        for path in sets.map(\.path) + removals {
            var above = path.parent
            while let directory = above {
                touched.insert(directory)
                above = directory.parent
            }
        }
        for directory in touched.sorted(by: { $0.segments.count > $1.segments.count })
        where try FileSystem.status(file(directory))?.isDirectory == true {
            try FileSystem.setModified(file(directory), time)
            changedDirectories.insert(directory)
        }
        for directory in changedDirectories where try FileSystem.status(file(directory))?.isDirectory == true {
            try FileSystem.sync(file(directory))
        }
    }

    /// The kind at `path` once `earlier` (changes of the same batch) have been made: the latest of
    /// them that decides the path wins, else the disk decides.
    private func kind(_ path: StorePath, after earlier: ArraySlice<StoreChange>) throws(StoreError) -> StoreEntryKind? {
        for change in earlier.reversed() {
            switch change {
            case .set(let target, _):
                if target == path { return .value }
                if target.hasPrefix(path) { return .dictionary }
                if path.hasPrefix(target) { return nil }
            case .remove(let target):
                if path.hasPrefix(target) { return nil }
            }
        }
        return try kindUnlocked(path)
    }
}
