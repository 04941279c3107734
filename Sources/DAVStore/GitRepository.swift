import Glibc
import Synchronization

// A bare git repository on disk, read and written without running git: loose objects (read and
// written), packs (read), and the one branch the store commits to, updated with git's own lock
// protocol so a `git push` into the same repository cannot interleave with a commit.

final class GitRepository: Sendable {
    let path: String
    static let branch = "refs/heads/main"
    private let packs = Mutex<[GitPack]>([])
    /// REF_DELTA bases may be deltas themselves; this bounds the recursion.
    private static let maximumBaseDepth = 64

    /// Opens the repository, creating an empty bare one when there is none.
    init(path: String) throws(StoreError) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if try FileSystem.status(self.path + "/HEAD") == nil {
            try create()
        }
        // Temporary objects a crash left behind (git's `prune` would remove them too, later).
        for name in try FileSystem.names(in: self.path + "/objects") ?? [] where name.hasPrefix("tmp_obj_") {
            unlink(self.path + "/objects/" + name)
        }
    }

    private func create() throws(StoreError) {
        try FileSystem.makeDirectories(path)
        for directory in ["objects", "objects/info", "objects/pack", "refs", "refs/heads", "refs/tags"] {
            try FileSystem.makeDirectory(path + "/" + directory)
        }
        let config = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
        try replaceDurably("config", Array(config.utf8))
        // HEAD last: its presence is what marks the repository as made.
        try replaceDurably("HEAD", Array("ref: \(Self.branch)\n".utf8))
        try FileSystem.sync(path)
    }

    private func replaceDurably(_ name: String, _ bytes: [UInt8]) throws(StoreError) {
        let temporary = path + "/" + name + ".tmp-\(UInt64.random(in: 1...UInt64.max))"
        try FileSystem.create(temporary, bytes)
        try FileSystem.sync(temporary)
        try FileSystem.rename(temporary, to: path + "/" + name)
    }

    // MARK: Reading

    private func loosePath(_ id: ObjectID) -> String {
        let hex = id.hex
        return path + "/objects/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    }

    /// The object with this id, or nil when the repository does not have it.
    func read(_ id: ObjectID) throws(StoreError) -> GitObject? {
        try read(id, depth: 0)
    }

    /// The object, which must exist and have the given type.
    func read(_ id: ObjectID, as type: GitObjectType) throws(StoreError) -> GitObject {
        guard let object = try read(id) else {
            throw StoreError.corrupt(path: loosePath(id), offset: 0, reason: "missing \(type) object")
        }
        guard object.type == type else {
            throw StoreError.corrupt(
                path: loosePath(id), offset: 0, reason: "\(object.type) where a \(type) was expected")
        }
        return object
    }

    private func read(_ id: ObjectID, depth: Int) throws(StoreError) -> GitObject? {
        let file = loosePath(id)
        if let bytes = try FileSystem.read(file) {
            return try verified(GitObject.parseLoose(bytes, path: file), id, file)
        }
        // Not loose: look in the packs, and once more after rereading the pack folder (a `git gc`
        // may have packed the object since we last looked).
        for attempt in 0..<2 {
            let current = attempt == 0 ? packs.withLock { $0 } : try reloadPacks()
            for pack in current {
                guard let offset = pack.offset(of: id) else { continue }
                guard depth < Self.maximumBaseDepth else {
                    throw StoreError.corrupt(path: pack.path, offset: offset, reason: "delta bases nest too deep")
                }
                let object = try pack.object(at: offset) { base throws(StoreError) in
                    guard let object = try read(base, depth: depth + 1) else {
                        throw StoreError.corrupt(path: pack.path, offset: offset, reason: "missing delta base \(base)")
                    }
                    return object
                }
                return try verified(object, id, pack.path)
            }
        }
        return nil
    }

    private func verified(_ object: GitObject, _ id: ObjectID, _ file: String) throws(StoreError) -> GitObject {
        guard object.id == id else {
            throw StoreError.corrupt(path: file, offset: 0, reason: "object does not hash to \(id)")
        }
        return object
    }

    private func reloadPacks() throws(StoreError) -> [GitPack] {
        let directory = path + "/objects/pack"
        var loaded: [GitPack] = []
        for name in (try FileSystem.names(in: directory) ?? []).sorted() where name.hasSuffix(".idx") {
            let base = directory + "/" + name.dropLast(4)
            guard let index = try FileSystem.read(base + ".idx"), let pack = try FileSystem.read(base + ".pack") else {
                continue
            }
            loaded.append(try GitPack(index: index, pack: pack, path: base))
        }
        packs.withLock { $0 = loaded }
        return loaded
    }

    /// The commit the branch points at; nil for a new repository.
    func branchHead() throws(StoreError) -> ObjectID? {
        let file = path + "/" + Self.branch
        if let bytes = try FileSystem.read(file) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces.split(separator: "\n").first ?? ""
            guard let id = ObjectID(hex: text) else {
                throw StoreError.corrupt(path: file, offset: 0, reason: "not an object id")
            }
            return id
        }
        // `git gc` moves refs into packed-refs: "<id> <name>" lines, comments and peeled "^<id>" lines.
        guard let packed = try FileSystem.read(path + "/packed-refs") else { return nil }
        for line in String(decoding: packed, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[1] == Self.branch {
                guard let id = ObjectID(hex: fields[0]) else {
                    throw StoreError.corrupt(path: path + "/packed-refs", offset: 0, reason: "not an object id")
                }
                return id
            }
        }
        return nil
    }

    // MARK: Writing

    /// Writes a commit's loose objects in three steps, so that the file system can commit each
    /// step's fsyncs together: write every object to a temporary file; fsync them all; rename
    /// them into place and fsync their directories. Only then may a ref point at them.
    struct ObjectWriter: ~Copyable {
        let repository: GitRepository
        private var pending: [(temporary: String, target: String)] = []
        private var ids: Set<ObjectID> = []

        init(_ repository: GitRepository) { self.repository = repository }

        /// Writes the object unless it is already there, and returns its id.
        mutating func write(_ type: GitObjectType, _ payload: [UInt8]) throws(StoreError) -> ObjectID {
            let object = GitObject(type: type, payload: payload)
            let id = object.id
            let target = repository.loosePath(id)
            guard !ids.contains(id), access(target, F_OK) != 0 else { return id }
            let temporary = repository.path + "/objects/tmp_obj_\(UInt64.random(in: 1...UInt64.max))"
            try FileSystem.create(temporary, object.looseFile, permissions: 0o444)
            pending.append((temporary, target))
            ids.insert(id)
            return id
        }

        /// Makes every object written so far durable, in place.
        mutating func finish() throws(StoreError) {
            try FileSystem.sync(all: pending.map(\.temporary))
            let objects = repository.path + "/objects"
            var directories: Set<String> = []
            for object in pending {
                let directory = String(object.target.prefix(objects.count + 3))
                if try FileSystem.makeDirectory(directory) { directories.insert(objects) }
                try FileSystem.rename(object.temporary, to: object.target)
                directories.insert(directory)
            }
            pending = []
            // The fan-out folders first, then objects/ when it gained one: a new objects/xx must be
            // durable in itself before objects/ names it.
            try FileSystem.sync(all: directories.filter { $0 != objects })
            if directories.contains(objects) { try FileSystem.sync(objects) }
        }

        deinit {
            // Not finished (the commit failed): the temporary files go.
            for object in pending { unlink(object.temporary) }
        }
    }

    /// git's ref lock: `<ref>.lock` created exclusively, written, fsynced and renamed over the ref.
    /// Whoever holds the lock file may update the ref; everyone else fails with EEXIST.
    struct RefLock: ~Copyable {
        let file: String
        private let descriptor: Int32
        private var released = false

        init(_ repository: GitRepository) throws(StoreError) {
            let file = repository.path + "/" + GitRepository.branch
            let descriptor = open(file + ".lock", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            // Thrown before `self` exists, so the deinit cannot remove a lock someone else holds.
            guard descriptor >= 0 else { throw FileSystem.failure("lock", file + ".lock") }
            self.file = file
            self.descriptor = descriptor
        }

        /// Writes the new value; written before the objects are fsynced, so their fsyncs cover it.
        func write(_ id: ObjectID) throws(StoreError) {
            try FileSystem.write(descriptor, Array((id.hex + "\n").utf8), file + ".lock")
        }

        /// Points the branch at what `write` wrote, durably, and releases the lock.
        consuming func commit() throws(StoreError) {
            guard fsync(descriptor) == 0 else { throw FileSystem.failure("fsync", file + ".lock") }
            try FileSystem.rename(file + ".lock", to: file)
            released = true
            try FileSystem.sync(String(file.prefix(upTo: file.lastIndex(of: "/") ?? file.endIndex)))
        }

        deinit {
            close(descriptor)
            // Not committed (or the commit failed): give the lock back.
            if !released { unlink(file + ".lock") }
        }
    }
}
