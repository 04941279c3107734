import Synchronization

/// One commit in a `GitStore`'s history.
public struct CommitInfo: Sendable, Equatable {
    public var id: String
    public var author: String
    public var message: String
    /// Seconds since 1970 (the committer time).
    public var time: Int64
    /// The values this commit added, changed or removed, compared with its first parent.
    public var changedPaths: [StorePath]
}

/// A store kept in a bare git repository: every `apply` is one commit on `refs/heads/main`, with
/// the change's author and message, so the history can be read, reverted, cloned and pushed to
/// with stock git. No git process is ever run: objects are written and read in Swift.
///
/// The tree at the branch's head is held in memory (reads never touch the disk); a commit writes
/// the new blobs, the trees on the changed paths (the others keep their ids), and the commit,
/// fsyncs them, then moves the branch under git's `.lock` protocol. If someone pushed to the
/// branch meanwhile, the commit is made on top of what they pushed.
///
/// `lastModified` is the time of the commit that last changed an entry through this store; for
/// entries that were already there when the store was opened it is the head commit's time.
public final class GitStore: KeyValueStore, TreeSnapshotStore {
    private struct State: Sendable {
        var head: ObjectID?
        var tree: StoreTree
    }
    private let repository: GitRepository
    private let state: Mutex<State>
    /// Serializes commits without making readers wait for a commit's fsyncs.
    private let writer = Mutex(())

    public init(repository path: String) throws(StoreError) {
        repository = try GitRepository(path: path)
        let head = try repository.branchHead()
        state = Mutex(State(head: head, tree: try Self.load(head, from: repository)))
    }

    private static func load(_ head: ObjectID?, from repository: GitRepository) throws(StoreError) -> StoreTree {
        guard let head else { return StoreTree() }
        let commit = try GitCommit.parse(repository.read(head, as: .commit).payload, path: head.hex)
        return StoreTree(root: try loadNode(commit.tree, time: commit.time, depth: 0, from: repository))
    }

    private static func loadNode(_ id: ObjectID, time: Int64, depth: Int, from repository: GitRepository)
        throws(StoreError) -> StoreTree.Node
    {
        guard depth < 256 else { throw StoreError.corrupt(path: id.hex, offset: 0, reason: "trees nest too deep") }
        var node = StoreTree.Node(kind: .dictionary, id: id, modified: time)
        for entry in try GitTree.parse(repository.read(id, as: .tree).payload, path: id.hex).entries {
            switch entry.mode {
            case "40000":
                node.children[entry.name] = try loadNode(entry.id, time: time, depth: depth + 1, from: repository)
            case "160000":
                throw StoreError.corrupt(path: id.hex, offset: 0, reason: "submodule '\(entry.name)' cannot be stored")
            default:
                let blob = try repository.read(entry.id, as: .blob)
                node.children[entry.name] = StoreTree.Node(
                    kind: .value, bytes: blob.payload, id: entry.id, modified: time)
            }
        }
        return node
    }

    var snapshot: StoreTree { state.withLock { $0.tree } }

    /// The commit the branch points at; nil before the first commit.
    public var head: String? { state.withLock { $0.head?.hex } }

    public func apply(_ changes: [StoreChange], origin: ChangeOrigin) throws(StoreError) {
        for case .set(let path, _) in changes {
            // git refuses trees with ".git" entries, and gives ".gitmodules" and its kin meaning.
            if let reserved = path.segments.first(where: { $0.lowercased().hasPrefix(".git") }) {
                throw StoreError.invalidPath("\(path) ('\(reserved)': names starting with .git are reserved)")
            }
        }
        try commit(origin) { _ in changes }
    }

    /// Makes one commit of the changes `plan` computes from the current tree, under both locks.
    private func commit(_ origin: ChangeOrigin, _ plan: (StoreTree) throws(StoreError) -> [StoreChange])
        throws(StoreError)
    {
        try writer.withLock { _ throws(StoreError) in
            let lock = try GitRepository.RefLock(repository)
            var current = state.withLock { $0 }
            let onDisk = try repository.branchHead()
            if onDisk != current.head {
                current = State(head: onDisk, tree: try Self.load(onDisk, from: repository))
            }
            let changes = try plan(current.tree)
            var objects = GitRepository.ObjectWriter(repository)
            var tree = current.tree
            try tree.apply(changes, time: origin.time) { type, payload throws(StoreError) in
                try objects.write(type, payload)
            }
            guard let treeID = tree.root.id else {
                throw StoreError.corrupt(path: repository.path, offset: 0, reason: "tree was not hashed")
            }
            let commit = GitCommit(
                tree: treeID, parents: current.head.map { [$0] } ?? [], authorName: origin.author, time: origin.time,
                message: origin.message)
            let commitID = try objects.write(.commit, commit.payload)
            try lock.write(commitID)
            try objects.finish()
            try lock.commit()
            state.withLock { $0 = State(head: commitID, tree: tree) }
        }
    }

    // MARK: History

    /// The newest `limit` commits, following first parents from the head.
    public func history(limit: Int = 100) throws(StoreError) -> [CommitInfo] {
        var result: [CommitInfo] = []
        var next = state.withLock { $0.head }
        while let id = next, result.count < limit {
            let commit = try GitCommit.parse(repository.read(id, as: .commit).payload, path: id.hex)
            let parentTree = try commit.parents.first.map { parent throws(StoreError) in
                try GitCommit.parse(repository.read(parent, as: .commit).payload, path: parent.hex).tree
            }
            result.append(
                CommitInfo(
                    id: id.hex, author: commit.authorName, message: commit.message, time: commit.time,
                    changedPaths: try changedPaths(from: parentTree, to: commit.tree, under: [], depth: 0)))
            next = commit.parents.first
        }
        return result
    }

    /// The value paths that differ between two trees, descending only where the ids differ.
    private func changedPaths(from old: ObjectID?, to new: ObjectID?, under prefix: [String], depth: Int)
        throws(StoreError) -> [StorePath]
    {
        guard old != new else { return [] }
        guard depth < 256 else {
            throw StoreError.corrupt(path: repository.path, offset: 0, reason: "trees nest too deep")
        }
        let before = try entries(old)
        let after = try entries(new)
        var changed: [StorePath] = []
        for name in Set(before.keys).union(after.keys).sorted() {
            let (was, now) = (before[name], after[name])
            if was == now { continue }
            let path = prefix + [name]
            let (wasTree, nowTree) = (was?.isTree == true ? was?.id : nil, now?.isTree == true ? now?.id : nil)
            if wasTree != nil || nowTree != nil {
                changed += try changedPaths(from: wasTree, to: nowTree, under: path, depth: depth + 1)
            }
            if (was?.isTree == false ? was?.id : nil) != (now?.isTree == false ? now?.id : nil) {
                changed.append(StorePath(validated: path))
            }
        }
        return changed
    }

    private func entries(_ tree: ObjectID?) throws(StoreError) -> [String: GitTree.Entry] {
        guard let tree else { return [:] }
        let parsed = try GitTree.parse(repository.read(tree, as: .tree).payload, path: tree.hex)
        return Dictionary(parsed.entries.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    /// The blob id at `path` in a tree, if a value is there.
    private func blob(at path: StorePath, in tree: ObjectID?) throws(StoreError) -> ObjectID? {
        var current = tree
        for (index, segment) in path.segments.enumerated() {
            guard let entry = try entries(current)[segment] else { return nil }
            let isLast = index == path.segments.count - 1
            guard entry.isTree != isLast else { return nil }
            current = entry.id
        }
        return current
    }

    /// Makes one commit that undoes `commit` (compared with its first parent): each value it
    /// changed goes back to what it was before. Throws `.revertConflict` if any of those values
    /// has changed again since, and `.unknownRevision` if there is no such commit.
    public func revert(commit revision: String, origin: ChangeOrigin) throws(StoreError) {
        guard let id = ObjectID(hex: revision), let object = try repository.read(id), object.type == .commit else {
            throw StoreError.unknownRevision(revision)
        }
        let target = try GitCommit.parse(object.payload, path: revision)
        let parentTree = try target.parents.first.map { parent throws(StoreError) in
            try GitCommit.parse(repository.read(parent, as: .commit).payload, path: parent.hex).tree
        }
        let paths = try changedPaths(from: parentTree, to: target.tree, under: [], depth: 0)
        try commit(origin) { current throws(StoreError) in
            var removals: [StoreChange] = []
            var sets: [StoreChange] = []
            for path in paths {
                // What the commit left must still be there: the same value, or nothing.
                let node = current.node(at: path)
                let now = node.map { $0.kind == .value ? $0.id : ObjectID.zero } ?? nil
                guard now == (try blob(at: path, in: target.tree)) else { throw StoreError.revertConflict(path) }
                if let previous = try blob(at: path, in: parentTree) {
                    sets.append(.set(path, try repository.read(previous, as: .blob).payload))
                } else {
                    removals.append(.remove(path))
                }
            }
            // Removals first: a value may come back where the commit had made a dictionary.
            return removals + sets
        }
    }
}
