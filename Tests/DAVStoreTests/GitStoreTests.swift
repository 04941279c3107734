import DAVStore
import Foundation
import TestSupport
import Testing

/// GitStore against stock git: git must accept what the store writes, and the store must read
/// what git writes (loose objects with real compression, packs after `git gc`).
@Suite struct GitStoreTests {
    let git: String
    let folder: TemporaryDirectory
    var repository: String { folder.file("store.git") }

    init() throws {
        git = try Peer.command("git", debian: "git")
        folder = try TemporaryDirectory("davstore-gitstore")
    }

    /// Runs git with a fixed identity and no user configuration; fails the test on a non-zero exit.
    @discardableResult
    func runGit(_ arguments: [String], in directory: String? = nil) throws -> String {
        let result = try run(
            git, ["-c", "user.name=x", "-c", "user.email=x@y", "-c", "init.defaultBranch=main"] + arguments,
            environment: ["GIT_CONFIG_NOSYSTEM": "1", "HOME": folder.path], currentDirectory: directory)
        #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    @Test func reopenedStoreReadsTheSameTree() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        try store.apply(
            [.set(try path("cal/a.ics"), [1, 2, 3]), .set(try path("top"), [4])], origin: origin(time: 100))
        try store.apply([.set(try path("cal/b/c"), [5])], origin: origin(time: 200))
        let reopened = try GitStore(repository: repository)
        #expect(reopened.head == store.head)
        for text in ["", "cal", "cal/a.ics", "cal/b", "cal/b/c", "top"] {
            let entry = try path(text)
            #expect(try reopened.digest(entry) == store.digest(entry))
            #expect(try reopened.get(entry) == store.get(entry))
        }
        #expect(try reopened.names("cal") == ["a.ics", "b"])
        #expect(try reopened.lastModified(try path("top")) == 200)
    }

    @Test func gitAcceptsTheRepository() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        try store.apply(
            [.set(try path("cal/a.ics"), Array("BEGIN:VCALENDAR\n".utf8))], origin: origin("PUT a", author: "alice"))
        // Names chosen to exercise git's tree order ("a.b" < "a/" < "a0"), and a large value.
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try store.apply(
            [
                .set(try path("cal/b.ics"), [1]), .set(try path("a.b"), [2]), .set(try path("a/x"), [3]),
                .set(try path("a0"), [4]), .set(try path("big"), large),
            ], origin: origin("PUT b", author: "Bob <evil>\nName"))
        try store.apply([.remove(try path("cal/a.ics"))], origin: origin("DELETE a", author: "alice"))

        runGitChecks: do {
            try runGit(["--git-dir=\(repository)", "fsck", "--strict", "--no-dangling"])
            let log = try runGit(["--git-dir=\(repository)", "log", "--format=%an%x09%s"])
            #expect(log == "alice\tDELETE a\nBob evilName\tPUT b\nalice\tPUT a\n")
            let shown = try runGit(["--git-dir=\(repository)", "show", "main:cal/b.ics"])
            #expect(Array(shown.utf8) == [1])
            let clone = folder.file("clone")
            try runGit(["clone", "-q", repository, clone])
            let cloned = try Data(contentsOf: URL(fileURLWithPath: clone + "/big"))
            #expect(Array(cloned) == large)
            #expect(try runGit(["ls-files"], in: clone) == "a.b\na/x\na0\nbig\ncal/b.ics\n")
        }
    }

    @Test func readsWhatGitWrites() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        try store.set("cal/a.ics", "from the store")
        // A user clones, commits with real compression, and pushes back into the bare repository.
        let clone = folder.file("clone")
        try runGit(["clone", "-q", repository, clone])
        let text = String(repeating: "compressible line\n", count: 500)
        try folder.write("clone/cal/a.ics", text)
        try folder.write("clone/notes/new.txt", "new file\n")
        try runGit(["add", "-A"], in: clone)
        try runGit(["commit", "-q", "-m", "edited with git"], in: clone)
        try runGit(["push", "-q", "origin", "main"], in: clone)

        let reopened = try GitStore(repository: repository)
        #expect(try reopened.string("cal/a.ics") == text)
        #expect(try reopened.string("notes/new.txt") == "new file\n")
        // The open store commits on top of the push rather than over it.
        try store.set("cal/b.ics", "after the push")
        let again = try GitStore(repository: repository)
        #expect(try again.string("notes/new.txt") == "new file\n")
        #expect(try again.string("cal/b.ics") == "after the push")
        #expect(try again.history().map(\.message) == ["change\n", "edited with git\n", "change\n"])

        // After git gc everything lives in a pack (with deltas) and packed-refs.
        for index in 0..<20 { try again.set("cal/a.ics", text + "edit \(index)\n") }
        try runGit(["--git-dir=\(repository)", "gc", "-q", "--aggressive", "--prune=now"])
        let packed = try GitStore(repository: repository)
        #expect(try packed.string("cal/a.ics") == text + "edit 19\n")
        #expect(try packed.digest(.root) == again.digest(.root))
        #expect(try packed.history(limit: 30).count == 23)
        try packed.set("after/gc", "yes")
        try runGit(["--git-dir=\(repository)", "fsck", "--strict", "--no-dangling"])
        #expect(try runGit(["--git-dir=\(repository)", "show", "main:after/gc"]) == "yes")
    }

    @Test func historyAndRevert() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        try store.apply(
            [.set(try path("cal/a"), [1]), .set(try path("cal/b"), [2])], origin: origin("first", time: 10))
        try store.apply(
            [.set(try path("cal/a"), [3]), .remove(try path("cal/b")), .set(try path("cal/c/d"), [4])],
            origin: origin("second", author: "bob", time: 20))
        let history = try store.history()
        #expect(history.map(\.message) == ["second\n", "first\n"])
        #expect(history.map(\.author) == ["bob", "alice"])
        #expect(history.map(\.time) == [20, 10])
        #expect(history.first?.changedPaths == [try path("cal/a"), try path("cal/b"), try path("cal/c/d")])
        #expect(history.count == 2 && history[0].id == store.head)

        try store.revert(commit: history[0].id, origin: origin("Revert second", author: "carol", time: 30))
        #expect(try store.string("cal/a") == "\u{1}")
        #expect(try store.string("cal/b") == "\u{2}")
        #expect(try store.kind(path("cal/c")) == nil)
        let log = try runGit(["--git-dir=\(repository)", "log", "--format=%an%x09%s"])
        #expect(log == "carol\tRevert second\nbob\tsecond\nalice\tfirst\n")
        try runGit(["--git-dir=\(repository)", "fsck", "--strict", "--no-dangling"])

        // Reverting "first" would remove cal/a, which has changed since: a conflict.
        try store.set("cal/a", "changed again")
        let before = store.head
        #expect(throws: StoreError.revertConflict(try path("cal/a"))) {
            try store.revert(commit: history[1].id, origin: origin("Revert first"))
        }
        #expect(store.head == before)
        #expect(throws: StoreError.unknownRevision("nope")) { try store.revert(commit: "nope", origin: origin()) }
        #expect(throws: StoreError.unknownRevision(String(repeating: "0", count: 40))) {
            try store.revert(commit: String(repeating: "0", count: 40), origin: origin())
        }
    }

    @Test func leftoversAndLocks() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        try store.set("a", "1")
        try folder.write("store.git/objects/tmp_obj_123", "half-written")
        _ = try GitStore(repository: repository)
        #expect(!FileManager.default.fileExists(atPath: repository + "/objects/tmp_obj_123"))
        // Someone else (git) holds the branch's lock: the commit fails and changes nothing.
        try folder.write("store.git/refs/heads/main.lock", "")
        #expect(throws: StoreError.self) { try store.set("a", "2") }
        #expect(try store.string("a") == "1")
        try FileManager.default.removeItem(atPath: repository + "/refs/heads/main.lock")
        try store.set("a", "2")
        #expect(try GitStore(repository: repository).string("a") == "2")
    }

    @Test func commitRate() throws {
        defer { folder.remove() }
        let store = try GitStore(repository: repository)
        for index in 0..<100 { try store.set("calendars/user\(index % 10)/seed\(index).ics", "seed") }
        let count = 300
        let start = ContinuousClock.now
        for index in 0..<count {
            try store.set(
                "calendars/user\(index % 10)/event\(index).ics", "BEGIN:VCALENDAR\nUID:\(index)\nEND:VCALENDAR\n")
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        print("GitStore: \(Int(Double(count) / seconds)) commits/s (one PUT each, durable)")
        #expect(try store.history(limit: 1000).count == count + 100)
    }
}
