import Dispatch
import Glibc
import Synchronization

// The system calls the directory and git stores make, each failure a `StoreError.io` naming the
// path, the operation and errno. Durability follows the usual recipe: write a temporary file,
// fsync it, rename it into place, fsync the directory that changed.

enum FileSystem {
    struct Status {
        var isDirectory: Bool
        var isFile: Bool
        var modified: Int64
    }

    static func failure(_ operation: String, _ path: String) -> StoreError {
        .io(path: path, errno: errno, operation: operation)
    }

    /// lstat; nil when nothing is there (or a value sits where a directory was expected).
    static func status(_ path: String) throws(StoreError) -> Status? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("stat", path)
        }
        let type = info.st_mode & S_IFMT
        return Status(isDirectory: type == S_IFDIR, isFile: type == S_IFREG, modified: Int64(info.st_mtim.tv_sec))
    }

    /// A regular file's bytes; nil when there is no regular file at the path.
    static func read(_ path: String) throws(StoreError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR || errno == ELOOP { return nil }
            throw failure("open", path)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure("fstat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress.map { $0 + count }, buffer.count - count)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw failure("read", path) }
            if got == 0 { break }  // the file shrank while we read it
            count += got
        }
        return Array(bytes[..<count])
    }

    /// Creates a new file (failing if one exists: temporary names and git's lock files rely on
    /// that), writes all of `bytes`, and optionally sets its modification time. Not yet durable:
    /// callers write a batch of files, then `sync` them all, so the file system can commit the
    /// batch in one journal transaction rather than one per file.
    static func create(
        _ path: String, _ bytes: [UInt8], permissions: mode_t = 0o644, modified: Int64? = nil
    ) throws(StoreError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw failure("create", path) }
        defer { close(descriptor) }
        do throws(StoreError) {
            try write(descriptor, bytes, path)
            if let modified {
                var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
                guard futimens(descriptor, &times) == 0 else { throw failure("futimens", path) }
            }
        } catch {
            unlink(path)
            throw error
        }
    }

    static func write(_ descriptor: Int32, _ bytes: [UInt8], _ path: String) throws(StoreError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw failure("write", path) }
            written += result
        }
    }

    /// fsync of a file or a directory (for a directory: its entries, after creations, renames
    /// and removals).
    static func sync(_ path: String) throws(StoreError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync", path) }
    }

    /// fsync of several files or directories at once: the device gets them together rather than
    /// one after another (a commit's dozen fsyncs cost about one when the disk is busy).
    static func sync(all paths: [String]) throws(StoreError) {
        guard paths.count > 1 else {
            if let path = paths.first { try sync(path) }
            return
        }
        let failures = Mutex<[StoreError]>([])
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            do throws(StoreError) {
                try sync(paths[index])
            } catch {
                failures.withLock { $0.append(error) }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw failure }
    }

    static func rename(_ from: String, to: String) throws(StoreError) {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename to \(to)", from) }
    }

    /// mkdir; returns whether it made the directory (false when one is already there).
    @discardableResult
    static func makeDirectory(_ path: String, permissions: mode_t = 0o755) throws(StoreError) -> Bool {
        if mkdir(path, permissions) == 0 { return true }
        if errno == EEXIST, try status(path)?.isDirectory == true { return false }
        throw failure("mkdir", path)
    }

    /// mkdir -p.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix)
        }
    }

    /// The names in a directory but "." and ".."; nil if it is not there.
    static func names(in path: String) throws(StoreError) -> [String]? {
        guard let directory = opendir(path) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("opendir", path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// rm -r; nothing there is not an error.
    static func removeTree(_ path: String) throws(StoreError) {
        guard let status = try status(path) else { return }
        if status.isDirectory {
            for name in try names(in: path) ?? [] { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw failure("rmdir", path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path) }
        }
    }

    static func setModified(_ path: String, _ time: Int64) throws(StoreError) {
        var times = [timespec(tv_sec: Int(time), tv_nsec: 0), timespec(tv_sec: Int(time), tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("utimensat", path) }
    }
}
