// The content of a memory or git store: a tree of values and dictionaries, each node carrying the
// git object id of its content, which is also the store's digest. A batch is applied to a copy
// (copy-on-write makes that cheap) that replaces the original only when the whole batch worked;
// only the dictionaries on the changed paths lose their id and are hashed again.

struct StoreTree: Sendable {
    struct Node: Sendable {
        var kind: StoreEntryKind
        var bytes: [UInt8] = []
        var children: [String: Node] = [:]
        /// The blob or tree id; nil for a dictionary changed since it was last hashed.
        var id: ObjectID?
        var modified: Int64

        static func dictionary(_ time: Int64) -> Node { Node(kind: .dictionary, id: nil, modified: time) }
    }

    /// Makes the object for a payload and returns its id: the memory store only hashes, the git
    /// store also writes the object.
    typealias ObjectSink = (GitObjectType, [UInt8]) throws(StoreError) -> ObjectID

    var root: Node

    /// An empty tree, already hashed.
    init(time: Int64 = 0) {
        root = Node(kind: .dictionary, id: GitObject.id(type: .tree, payload: []), modified: time)
    }

    init(root: Node) { self.root = root }

    func node(at path: StorePath) -> Node? {
        var node = root
        for segment in path.segments {
            guard let child = node.children[segment] else { return nil }
            node = child
        }
        return node
    }

    func list(_ path: StorePath) -> [(name: String, kind: StoreEntryKind)] {
        guard let node = node(at: path) else { return [] }
        return node.children.map { (name: $0.key, kind: $0.value.kind) }.sorted { $0.name < $1.name }
    }

    mutating func apply(_ changes: [StoreChange], time: Int64, sink: ObjectSink) throws(StoreError) {
        for change in changes {
            switch change {
            case .set(let path, let bytes):
                guard !path.segments.isEmpty else { throw StoreError.kindConflict(path) }
                let value = Node(kind: .value, bytes: bytes, id: try sink(.blob, bytes), modified: time)
                try Self.set(&root, path, depth: 0, value)
            case .remove(let path):
                if path.segments.isEmpty {
                    root.children = [:]
                    root.id = nil
                    root.modified = time
                } else {
                    Self.remove(&root, path.segments[...], time: time)
                }
            }
        }
        try Self.seal(&root, sink)
    }

    private static func set(_ node: inout Node, _ path: StorePath, depth: Int, _ value: Node) throws(StoreError) {
        let name = path.segments[depth]
        if depth == path.segments.count - 1 {
            if node.children[name]?.kind == .dictionary { throw StoreError.kindConflict(path) }
            node.children[name] = value
        } else {
            // Taken out and put back so the child's storage stays uniquely referenced (no copy).
            var child = node.children.removeValue(forKey: name) ?? .dictionary(value.modified)
            guard child.kind == .dictionary else {
                throw StoreError.kindConflict(StorePath(validated: Array(path.segments[...depth])))
            }
            try set(&child, path, depth: depth + 1, value)
            node.children[name] = child
        }
        node.id = nil
        node.modified = value.modified
    }

    /// Returns whether anything was removed; a dictionary left empty disappears with its last child.
    @discardableResult
    private static func remove(_ node: inout Node, _ segments: ArraySlice<String>, time: Int64) -> Bool {
        guard let name = segments.first, var child = node.children.removeValue(forKey: name) else { return false }
        var removed = true
        if segments.count > 1 {
            removed = child.kind == .dictionary && remove(&child, segments.dropFirst(), time: time)
            if !child.children.isEmpty || child.kind == .value { node.children[name] = child }
        }
        if removed {
            node.id = nil
            node.modified = time
        }
        return removed
    }

    /// Hashes (and, through the sink, stores) every dictionary changed since the last seal.
    private static func seal(_ node: inout Node, _ sink: ObjectSink) throws(StoreError) {
        guard node.kind == .dictionary, node.id == nil else { return }
        var entries: [GitTree.Entry] = []
        entries.reserveCapacity(node.children.count)
        for name in Array(node.children.keys) {
            guard var child = node.children[name] else { continue }
            if child.id == nil {
                node.children[name] = nil
                try seal(&child, sink)
                node.children[name] = child
            }
            guard let id = child.id else { continue }
            entries.append(GitTree.Entry(name: name, mode: child.kind == .dictionary ? "40000" : "100644", id: id))
        }
        node.id = try sink(.tree, GitTree(entries: entries).payload)
    }
}

/// The stores whose reads come from one immutable tree in memory (memory and git): the tree is
/// taken whole under the lock, then read without it. Digests are git object ids (blob or tree).
protocol TreeSnapshotStore: KeyValueStore {
    var snapshot: StoreTree { get }
}

extension TreeSnapshotStore {
    public func get(_ path: StorePath) -> [UInt8]? {
        guard let node = snapshot.node(at: path), node.kind == .value else { return nil }
        return node.bytes
    }

    public func kind(_ path: StorePath) -> StoreEntryKind? { snapshot.node(at: path)?.kind }

    public func list(_ path: StorePath) -> [(name: String, kind: StoreEntryKind)] { snapshot.list(path) }

    public func digest(_ path: StorePath) -> String? { snapshot.node(at: path)?.id?.hex }

    public func lastModified(_ path: StorePath) -> Int64? { snapshot.node(at: path)?.modified }
}
