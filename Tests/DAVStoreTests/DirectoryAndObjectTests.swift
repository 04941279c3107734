import DAVStore
import Foundation
import TestSupport
import Testing
import Wire

@Suite struct DirectoryStoreTests {
    @Test func leftoversAreRemovedAtOpenAndNeverListed() throws {
        let folder = try TemporaryDirectory("davstore-leftovers")
        defer { folder.remove() }
        let root = folder.file("data")
        let store = try DirectoryStore(root: root)
        try store.set("cal/a.ics", "kept")
        // What a crash between writing and renaming leaves behind.
        try folder.write("data/.tmp-123", "half")
        try folder.write("data/cal/.tmp-456", "half")
        try folder.write("data/empty/.tmp-789", "half")
        #expect(try store.names("") == ["cal", "empty"])
        #expect(try store.names("cal") == ["a.ics"])
        let reopened = try DirectoryStore(root: root)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["cal"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/cal") == ["a.ics"])
        #expect(try reopened.string("cal/a.ics") == "kept")
    }

    @Test func valuesArePlainFiles() throws {
        let folder = try TemporaryDirectory("davstore-files")
        defer { folder.remove() }
        let store = try DirectoryStore(root: folder.file("data"))
        try store.set("cal/a.ics", "BEGIN:VCALENDAR", time: 1_234_567)
        #expect(try String(contentsOfFile: folder.file("data/cal/a.ics"), encoding: .utf8) == "BEGIN:VCALENDAR")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.file("data/cal/a.ics"))
        #expect((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_234_567)
        // Only temporary files of a batch that failed are written: none remain after a conflict.
        #expect(throws: StoreError.self) {
            try store.apply([.set(try path("x"), [1]), .set(try path("cal/a.ics/y"), [2])], origin: origin())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("data")) == ["cal"])
    }
}

@Suite struct GitObjectTests {
    @Test func storedZlibRoundTrips() throws {
        for size in [0, 1, 65_535, 65_536, 200_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 31) }
            let stream = Zlib.storedStream(bytes)
            let (output, end) = try Zlib.inflate(stream + [9, 9], limit: size)
            #expect(output == bytes)
            #expect(end == stream.count)
        }
        #expect(throws: Zlib.Failure.self) { try Zlib.inflate(Zlib.storedStream([1, 2, 3]), limit: 2) }
        var damaged = Zlib.storedStream([1, 2, 3])
        damaged[damaged.count - 1] ^= 1
        #expect(throws: Zlib.Failure.self) { try Zlib.inflate(damaged, limit: 10) }
    }

    @Test func knownIDs() throws {
        // `git hash-object -t blob /dev/null` and `git mktree </dev/null`.
        #expect(GitObject(type: .blob, payload: []).id.hex == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        #expect(GitObject(type: .tree, payload: []).id.hex == "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    }

    @Test func treesSortTheGitWay() throws {
        let id = GitObject(type: .blob, payload: []).id
        let tree = GitTree(entries: [
            GitTree.Entry(name: "a0", mode: "100644", id: id), GitTree.Entry(name: "a", mode: "40000", id: id),
            GitTree.Entry(name: "a.b", mode: "100644", id: id),
        ])
        let parsed = try GitTree.parse(tree.payload)
        #expect(parsed.entries.map(\.name) == ["a.b", "a", "a0"])
        #expect(GitTree(entries: parsed.entries).payload == tree.payload)
    }

    @Test func looseObjectsParseBack() throws {
        let object = GitObject(type: .commit, payload: Array("tree x\n".utf8))
        #expect(try GitObject.parseLoose(object.looseFile) == object)
        #expect(throws: StoreError.self) { try GitObject.parseCanonical(Array("blob 5\0abc".utf8)) }
        #expect(throws: StoreError.self) { try GitObject.parseCanonical(Array("blob 03\0abc".utf8)) }
        #expect(throws: StoreError.self) { try GitObject.parseCanonical(Array("bolb 3\0abc".utf8)) }
    }

    @Test func deltas() throws {
        let base = Array("hello, world".utf8)
        // Sizes 12 → 11; copy 5 bytes from offset 0; insert "!!"; copy 4 bytes from offset 7.
        let delta: [UInt8] = [12, 11, 0x90, 5, 2, 0x21, 0x21, 0x91, 7, 4]
        #expect(try GitPack.applyDelta(delta, to: base) == Array("hello!!worl".utf8))
        #expect(throws: StoreError.self) { try GitPack.applyDelta([12, 11, 0x91, 10, 4], to: base) }
        #expect(throws: StoreError.self) { try GitPack.applyDelta([11, 0], to: base) }
    }
}
