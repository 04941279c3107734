// The one storage interface under CalDAV (after mirage-kv): values under slash-separated paths,
// dictionaries implied by the paths below them, and changes applied as one atomic, durable batch.

/// A path in a store: non-empty segments, none of them "", "." or "..", none containing "/" or NUL.
public struct StorePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let segments: [String]

    public static let root = StorePath(validated: [])

    public init(_ segments: [String]) throws(StoreError) {
        for segment in segments where !StorePath.isValid(segment) {
            throw StoreError.invalidPath(segments.joined(separator: "/"))
        }
        self.segments = segments
    }

    /// "a/b/c"; leading, trailing and doubled slashes are ignored.
    public init(parsing text: String) throws(StoreError) {
        try self.init(text.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
    }

    init(validated segments: [String]) { self.segments = segments }

    public static func isValid(_ segment: String) -> Bool {
        !segment.isEmpty && segment != "." && segment != ".."
            && !segment.utf8.contains(where: { $0 == 0x2F || $0 == 0 })
    }

    public var name: String? { segments.last }
    public var parent: StorePath? { segments.isEmpty ? nil : StorePath(validated: Array(segments.dropLast())) }
    public func appending(_ segment: String) throws(StoreError) -> StorePath { try StorePath(segments + [segment]) }
    public func hasPrefix(_ other: StorePath) -> Bool { segments.starts(with: other.segments) }
    public var description: String { segments.joined(separator: "/") }
    public static func < (lhs: StorePath, rhs: StorePath) -> Bool {
        lhs.segments.lexicographicallyPrecedes(rhs.segments)
    }
}

public enum StoreEntryKind: Sendable, Equatable { case value, dictionary }

public enum StoreChange: Sendable, Equatable {
    /// Writes a value, creating the dictionaries above it.
    case set(StorePath, [UInt8])
    /// Removes a value, or a dictionary and everything below it; removing nothing is not an error.
    case remove(StorePath)
}

/// Who made a change and why; the git store makes it the commit's author and message.
public struct ChangeOrigin: Sendable, Equatable {
    public var author: String
    public var message: String
    /// Seconds since 1970, UTC.
    public var time: Int64
    public init(author: String, message: String, time: Int64) {
        self.author = author
        self.message = message
        self.time = time
    }
}

public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidPath(String)
    /// A value where a dictionary is needed, or the reverse ("a" is a value, so "a/b" cannot be set).
    case kindConflict(StorePath)
    case io(path: String, errno: Int32, operation: String)
    /// Bytes on disk that are not what this store writes (a damaged git object, say), with where.
    case corrupt(path: String, offset: Int, reason: String)
    case unknownRevision(String)
    case revertConflict(StorePath)

    public var description: String {
        switch self {
        case .invalidPath(let path): "invalid store path '\(path)'"
        case .kindConflict(let path): "'\(path)' is a value where a dictionary is needed, or the reverse"
        case .io(let path, let errno, let operation): "\(operation) \(path): errno \(errno)"
        case .corrupt(let path, let offset, let reason): "\(path): offset \(offset): \(reason)"
        case .unknownRevision(let revision): "unknown revision \(revision)"
        case .revertConflict(let path): "cannot revert: '\(path)' changed since"
        }
    }
}

/// Every backend: thread-safe, and `apply` returns only once the whole batch is durable (or has
/// thrown, having changed nothing).
public protocol KeyValueStore: AnyObject, Sendable {
    func get(_ path: StorePath) throws(StoreError) -> [UInt8]?
    func kind(_ path: StorePath) throws(StoreError) -> StoreEntryKind?
    /// The direct children of a dictionary, sorted by name; [] for a missing path.
    func list(_ path: StorePath) throws(StoreError) -> [(name: String, kind: StoreEntryKind)]
    /// A digest of a value or of a whole dictionary; changes whenever anything below changes.
    func digest(_ path: StorePath) throws(StoreError) -> String?
    /// Seconds since 1970 of the last change to the value or anything below the dictionary.
    func lastModified(_ path: StorePath) throws(StoreError) -> Int64?
    func apply(_ changes: [StoreChange], origin: ChangeOrigin) throws(StoreError)
}
