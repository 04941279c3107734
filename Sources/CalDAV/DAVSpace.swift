import DAVStore
import Synchronization
import XML

/// The properties the server keeps for a resource, as the XML elements clients set (dead
/// properties, RFC 4918 §4) plus the ones it keeps itself (resourcetype, getcontenttype, the ACL),
/// stored as one small XML document.
struct DeadProperties: Sendable, Equatable {
    private(set) var elements: [XMLElement] = []

    static let root = XMLName("urn:quercus:dav", "properties")
    static let acl = XMLName("urn:quercus:dav", "acl")

    init() {}

    init(decoding bytes: [UInt8]) {
        elements = (try? XMLDocument.parse(bytes))?.elements ?? []
    }

    /// The same as `init(decoding:)`, remembered: a collection's few hundred bytes are read on
    /// nearly every request, and hashing them costs less than parsing them.
    static func decoded(_ bytes: [UInt8]) -> DeadProperties {
        if let known = recent.withLock({ $0[bytes] }) { return known }
        let properties = DeadProperties(decoding: bytes)
        recent.withLock {
            if $0.count >= 4096 { $0.removeAll() }
            $0[bytes] = properties
        }
        return properties
    }

    private static let recent = Mutex<[[UInt8]: DeadProperties]>([:])

    subscript(name: XMLName) -> XMLElement? { elements.first { $0.name == name } }

    mutating func set(_ element: XMLElement) {
        if let index = elements.firstIndex(where: { $0.name == element.name }) {
            elements[index] = element
        } else {
            elements.append(element)
        }
    }

    mutating func remove(_ name: XMLName) { elements.removeAll { $0.name == name } }

    func encoded() -> [UInt8] {
        XMLWriter.document(XMLElement(DeadProperties.root, children: elements.map { .element($0) }))
    }

    var isCalendar: Bool { self[.dav("resourcetype")]?.first(.caldav("calendar")) != nil }
}

/// How a collection's members changed, for sync-collection (RFC 6578) and getctag: each member's
/// last change number and the removals still remembered. Tokens older than the oldest remembered
/// removal are refused, so a client that fell too far behind starts over.
struct SyncState: Sendable, Equatable {
    var counter = 0
    /// Which life of the collection this is: a calendar deleted and made again under the same
    /// name starts again at 0, and its tokens must not be mistaken for the old one's.
    var epoch: UInt64 = 0
    var members: [String: Int] = [:]
    var removed: [String: Int] = [:]
    /// Removals at or before this number are forgotten.
    var floor = 0

    static let rememberedRemovals = 1000

    init() {}

    /// The state of a collection made now.
    static func fresh() -> SyncState {
        var state = SyncState()
        var generator = SystemRandomNumberGenerator()
        state.epoch = generator.next()
        return state
    }

    /// Lines: "counter N FLOOR", "epoch E 0", then "+ N NAME" for members and "- N NAME" for removals.
    init(decoding bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let number = Int(fields[1]) ?? (fields[0] == "epoch" ? 0 : nil) else { continue }
            switch fields[0] {
            case "counter":
                counter = number
                floor = Int(fields[2]) ?? 0
            case "epoch": epoch = UInt64(fields[1]) ?? 0
            case "+": members[String(fields[2])] = number
            case "-": removed[String(fields[2])] = number
            default: continue
            }
        }
    }

    func encoded() -> [UInt8] {
        var text = "counter \(counter) \(floor)\nepoch \(epoch) 0\n"
        for (name, number) in members.sorted(by: { $0.value < $1.value }) { text += "+ \(number) \(name)\n" }
        for (name, number) in removed.sorted(by: { $0.value < $1.value }) { text += "- \(number) \(name)\n" }
        return Array(text.utf8)
    }

    mutating func recordChange(_ name: String) {
        counter += 1
        members[name] = counter
        removed[name] = nil
    }

    mutating func recordRemoval(_ name: String) {
        counter += 1
        members[name] = nil
        removed[name] = counter
        if removed.count > SyncState.rememberedRemovals,
            let oldest = removed.min(by: { $0.value < $1.value })
        {
            removed[oldest.key] = nil
            floor = oldest.value
        }
    }

    var token: String { token(at: counter) }

    func token(at number: Int) -> String { "http://quercus.invalid/sync/\(epoch)/\(number)" }

    /// The change number a token of this collection's current life names, or nil.
    func number(inToken token: String) -> Int? {
        let prefix = "http://quercus.invalid/sync/\(epoch)/"
        guard token.hasPrefix(prefix) else { return nil }
        return Int(token.dropFirst(prefix.count))
    }
}

/// A resource in the server's URL space.
enum Resource {
    /// "/", "/principals/", "/calendars/": made up from the users, never stored.
    case root
    case principals
    case principal(String)
    case homes
    /// A stored collection (a calendar home, a calendar, or a plain WebDAV collection).
    case collection(StorePath, DeadProperties)
    /// A stored value inside a collection.
    case object(StorePath)

    var isCollection: Bool {
        if case .object = self { return false }
        return true
    }
}

/// Where things live in the store: `calendars/NAME/…` mirrors the URL space; a collection is a
/// dictionary holding `.quercus-collection` (its properties) and `.quercus-sync` (its changes);
/// a member's own properties, when it has any, sit in `.quercus-properties/MEMBER`.
enum DAVSpace {
    static let collectionFile = ".quercus-collection"
    static let syncFile = ".quercus-sync"
    static let propertiesFolder = ".quercus-properties"

    /// Names the server keeps for itself; a client may not create them.
    static func isReserved(_ name: String) -> Bool { name.hasPrefix(".quercus") }

    static func storePath(_ path: ResourcePath) -> StorePath? {
        guard path.segments.first == "calendars", path.segments.count >= 2,
            !path.segments.contains(where: isReserved)
        else { return nil }
        return try? StorePath(path.segments)
    }

    static func resourcePath(_ path: StorePath) -> ResourcePath { ResourcePath(path.segments) }

    static func propertiesPath(of member: StorePath) -> StorePath? {
        guard let parent = member.parent, let name = member.name else { return nil }
        return try? parent.appendingReserved(propertiesFolder).appending(name)
    }

    static func resolve(_ path: ResourcePath, store: any KeyValueStore, accounts: Accounts) -> Resource? {
        switch path.segments.count {
        case 0: return .root
        case 1 where path.segments[0] == "principals": return .principals
        case 1 where path.segments[0] == "calendars": return .homes
        case 2 where path.segments[0] == "principals":
            let name = path.segments[1]
            return accounts.isUser(name) || accounts.isGroup(name) ? .principal(name) : nil
        default:
            guard let storePath = storePath(path) else { return nil }
            switch try? store.kind(storePath) {
            case .value: return .object(storePath)
            case .dictionary:
                guard let bytes = try? store.get(storePath.appendingReserved(collectionFile)) else { return nil }
                return .collection(storePath, DeadProperties.decoded(bytes))
            case nil: return nil
            }
        }
    }
}
