import Synchronization

/// A store that lives in memory only: for tests and for servers that need no persistence. Its
/// digests are git object ids, the same as a `GitStore` holding the same content would give.
public final class MemoryStore: KeyValueStore {
    private let tree = Mutex(StoreTree())

    public init() {}

    private var snapshot: StoreTree { tree.withLock { $0 } }

    public func get(_ path: StorePath) -> [UInt8]? {
        guard let node = snapshot.node(at: path), node.kind == .value else { return nil }
        return node.bytes
    }

    public func kind(_ path: StorePath) -> StoreEntryKind? { snapshot.node(at: path)?.kind }

    public func list(_ path: StorePath) -> [(name: String, kind: StoreEntryKind)] { snapshot.list(path) }

    public func digest(_ path: StorePath) -> String? { snapshot.node(at: path)?.id?.hex }

    public func lastModified(_ path: StorePath) -> Int64? { snapshot.node(at: path)?.modified }

    public func apply(_ changes: [StoreChange], origin: ChangeOrigin) throws(StoreError) {
        try tree.withLock { tree throws(StoreError) in
            var changed = tree
            try changed.apply(changes, time: origin.time) { type, payload throws(StoreError) in
                GitObject.id(type: type, payload: payload)
            }
            tree = changed
        }
    }
}
