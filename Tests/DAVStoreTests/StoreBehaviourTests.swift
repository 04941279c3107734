import DAVStore
import TestSupport
import Testing

/// The three backends, each made fresh (in its own temporary folder when it needs one).
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case memory, directory, git

    var testDescription: String { rawValue }

    func make() throws -> (store: any KeyValueStore, folder: TemporaryDirectory?) {
        switch self {
        case .memory:
            return (MemoryStore(), nil)
        case .directory:
            let folder = try TemporaryDirectory("davstore-directory")
            return (try DirectoryStore(root: folder.file("data")), folder)
        case .git:
            let folder = try TemporaryDirectory("davstore-git")
            return (try GitStore(repository: folder.file("repo.git")), folder)
        }
    }
}

func path(_ text: String) throws -> StorePath { try StorePath(parsing: text) }

func origin(_ message: String = "change", author: String = "alice", time: Int64 = 1_700_000_000) -> ChangeOrigin {
    ChangeOrigin(author: author, message: message, time: time)
}

extension KeyValueStore {
    func set(_ text: String, _ value: String, time: Int64 = 1_700_000_000) throws {
        try apply([.set(try path(text), Array(value.utf8))], origin: origin(time: time))
    }

    func string(_ text: String) throws -> String? {
        try get(try path(text)).map { String(decoding: $0, as: UTF8.self) }
    }

    func names(_ text: String) throws -> [String] { try list(try path(text)).map(\.name) }
}

@Suite struct StoreBehaviourTests {
    @Test(arguments: Backend.allCases) func setGetOverwrite(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        #expect(try store.string("cal/a.ics") == nil)
        try store.set("cal/a.ics", "one")
        #expect(try store.string("cal/a.ics") == "one")
        try store.set("cal/a.ics", "two")
        #expect(try store.string("cal/a.ics") == "two")
        try store.apply([.set(try path("empty"), [])], origin: origin())
        #expect(try store.get(try path("empty")) == [])
        // A dictionary is not a value.
        #expect(try store.get(try path("cal")) == nil)
    }

    @Test(arguments: Backend.allCases) func kindsAndListing(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        try store.apply(
            [
                .set(try path("b/x"), [1]), .set(try path("a"), [2]), .set(try path("b/y/z"), [3]),
                .set(try path("c d é"), [4]),
            ], origin: origin())
        #expect(try store.kind(.root) == .dictionary)
        #expect(try store.kind(try path("a")) == .value)
        #expect(try store.kind(try path("b")) == .dictionary)
        #expect(try store.kind(try path("b/y/z")) == .value)
        #expect(try store.kind(try path("nothing")) == nil)
        #expect(try store.kind(try path("a/below")) == nil)
        #expect(try store.names("") == ["a", "b", "c d é"])
        let listed = try store.list(try path("b"))
        #expect(listed.map(\.name) == ["x", "y"])
        #expect(listed.map(\.kind) == [.value, .dictionary])
        #expect(try store.list(try path("missing")).isEmpty)
        #expect(try store.list(try path("a")).isEmpty)
    }

    @Test(arguments: Backend.allCases) func removeValuesAndSubtrees(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        try store.apply(
            [.set(try path("d/e/f"), [1]), .set(try path("d/e/g"), [2]), .set(try path("d/h"), [3])], origin: origin())
        try store.apply([.remove(try path("d/e"))], origin: origin())
        #expect(try store.kind(try path("d/e")) == nil)
        #expect(try store.get(try path("d/e/f")) == nil)
        #expect(try store.names("d") == ["h"])
        // Removing nothing is not an error; removing the last value removes the dictionary too.
        try store.apply([.remove(try path("d/nothing/here"))], origin: origin())
        try store.apply([.remove(try path("d/h"))], origin: origin())
        #expect(try store.kind(try path("d")) == nil)
        #expect(try store.names("").isEmpty)
        try store.set("again", "1")
        try store.apply([.remove(.root)], origin: origin())
        #expect(try store.names("").isEmpty)
    }

    @Test(arguments: Backend.allCases) func kindConflictsChangeNothing(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        try store.set("a", "value")
        try store.set("dir/x", "1")
        #expect(throws: StoreError.kindConflict(try path("a"))) { try store.set("a/b", "no") }
        #expect(throws: StoreError.kindConflict(try path("dir"))) { try store.set("dir", "no") }
        // The whole batch fails: its first, valid change is not applied either.
        let before = try store.digest(.root)
        #expect(throws: StoreError.kindConflict(try path("a"))) {
            try store.apply([.set(try path("new"), [1]), .set(try path("a/c"), [2])], origin: origin())
        }
        #expect(try store.get(try path("new")) == nil)
        #expect(try store.digest(.root) == before)
        // Within a batch, later changes see earlier ones.
        try store.apply([.remove(try path("a")), .set(try path("a/b"), [5])], origin: origin())
        #expect(try store.get(try path("a/b")) == [5])
        try store.apply(
            [.set(try path("dir/y"), [6]), .remove(try path("dir")), .set(try path("dir"), [7])], origin: origin())
        #expect(try store.get(try path("dir")) == [7])
        #expect(throws: StoreError.kindConflict(.root)) { try store.apply([.set(.root, [1])], origin: origin()) }
    }

    @Test(arguments: Backend.allCases) func digestsFollowContent(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        try store.apply(
            [.set(try path("c/one"), [1]), .set(try path("c/two"), [2]), .set(try path("other/x"), [3])],
            origin: origin())
        let root = try #require(try store.digest(.root))
        let calendar = try #require(try store.digest(try path("c")))
        let other = try #require(try store.digest(try path("other")))
        let one = try #require(try store.digest(try path("c/one")))
        #expect(one != (try store.digest(try path("c/two"))))
        #expect(try store.digest(try path("missing")) == nil)

        try store.apply([.set(try path("c/one"), [9])], origin: origin())
        #expect(try store.digest(try path("c/one")) != one)
        #expect(try store.digest(try path("c")) != calendar)
        #expect(try store.digest(.root) != root)
        #expect(try store.digest(try path("other")) == other)

        // Same content, same digest.
        try store.apply([.set(try path("c/one"), [1])], origin: origin())
        #expect(try store.digest(try path("c/one")) == one)
        #expect(try store.digest(try path("c")) == calendar)
        #expect(try store.digest(.root) == root)
    }

    @Test(arguments: Backend.allCases) func lastModifiedCoversWhatIsBelow(_ backend: Backend) throws {
        let (store, folder) = try backend.make()
        defer { folder?.remove() }
        try store.set("c/old", "1", time: 1_000)
        try store.set("d/x", "1", time: 1_500)
        try store.set("c/sub/new", "2", time: 2_000)
        #expect(try store.lastModified(try path("c/old")) == 1_000)
        #expect(try store.lastModified(try path("c/sub/new")) == 2_000)
        #expect(try store.lastModified(try path("c")) == 2_000)
        #expect(try store.lastModified(try path("d")) == 1_500)
        #expect(try store.lastModified(try path("missing")) == nil)
        try store.apply([.remove(try path("c/old"))], origin: origin(time: 3_000))
        #expect(try store.lastModified(try path("c")) == 3_000)
        #expect(try store.lastModified(try path("c/sub/new")) == 2_000)
    }

    @Test func invalidPaths() throws {
        for text in ["a/../b", "./x", "a/./b"] {
            #expect(throws: StoreError.invalidPath(text)) { try StorePath(parsing: text) }
        }
        #expect(throws: StoreError.self) { try StorePath(["a\0b"]) }
        #expect(throws: StoreError.self) { try StorePath(["a/b"]) }
        #expect(throws: StoreError.self) { try StorePath([""]) }
        #expect(try StorePath(parsing: "/a//b/").segments == ["a", "b"])
    }

    @Test func backendsReservedNames() throws {
        let folder = try TemporaryDirectory("davstore-reserved")
        defer { folder.remove() }
        let directory = try DirectoryStore(root: folder.file("data"))
        #expect(throws: StoreError.self) { try directory.set("a/.tmp-1", "x") }
        let git = try GitStore(repository: folder.file("repo.git"))
        #expect(throws: StoreError.self) { try git.set(".git/config", "x") }
        #expect(throws: StoreError.self) { try git.set("a/.gitmodules", "x") }
        #expect(git.head == nil)
    }

    @Test func sameDigestsInMemoryAndGit() throws {
        let folder = try TemporaryDirectory("davstore-same")
        defer { folder.remove() }
        let memory = MemoryStore()
        let git = try GitStore(repository: folder.file("repo.git"))
        for store in [memory, git] as [any KeyValueStore] {
            try store.apply(
                [.set(try path("a/b"), [1, 2]), .set(try path("a/c/d"), [3]), .set(try path("e"), [])], origin: origin()
            )
        }
        for text in ["", "a", "a/b", "a/c", "e"] {
            #expect(try memory.digest(try path(text)) == git.digest(try path(text)))
        }
    }

    @Test func concurrentWritersAndReaders() async throws {
        for backend in Backend.allCases {
            let (store, folder) = try backend.make()
            defer { folder?.remove() }
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<10 { try? store.set("w\(writer)/\(index)", "\(index)") }
                    }
                }
                group.addTask {
                    for _ in 0..<40 { _ = try? store.list(.root) }
                }
            }
            for writer in 0..<4 {
                #expect(try store.names("w\(writer)").count == 10, "\(backend)")
            }
        }
    }
}
