import Synchronization

/// A store that lives in memory only: for tests and for servers that need no persistence. Its
/// digests are git object ids, the same as a `GitStore` holding the same content would give.
public final class MemoryStore: KeyValueStore, TreeSnapshotStore {
    private let tree = Mutex(StoreTree())

    public init() {}

    var snapshot: StoreTree { tree.withLock { $0 } }

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
