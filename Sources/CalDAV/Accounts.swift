import Crypto
import DAVStore
import ICalendar
import Synchronization
import XML
import _CryptoExtras

/// Who a request acts for.
public enum Principal: Hashable, Sendable {
    case administrator
    case user(String)

    public var name: String {
        switch self {
        case .administrator: Accounts.administratorName
        case .user(let name): name
        }
    }
}

/// Users, groups and their passwords, kept in the store under `.quercus/` so they travel with the
/// data (and with git history); hashed with PBKDF2-SHA256, compared in constant time. Verified
/// credentials are remembered by their SHA-256 so that only the first request of a client pays
/// for the slow hash.
public final class Accounts: Sendable {
    public static let administratorName = "admin"
    static let usersPath = StorePath.root.appendingReserved("users")
    static let groupsPath = StorePath.root.appendingReserved("groups")

    let store: any KeyValueStore
    let administratorHash: PasswordHash
    let rounds: Int
    private let verified = Mutex<[String: Principal]>([:])

    public init(store: any KeyValueStore, administratorPassword: String, rounds: Int = 210_000) throws {
        self.store = store
        self.rounds = rounds
        self.administratorHash = try PasswordHash.make(administratorPassword, rounds: rounds)
    }

    /// The principal a Basic `Authorization` header proves, or nil.
    public func authenticate(authorization: String?) -> Principal? {
        guard let authorization, authorization.lowercased().hasPrefix("basic ") else { return nil }
        let cacheKey = SHA256.hash(data: Array(authorization.utf8)).hexString
        if let known = verified.withLock({ $0[cacheKey] }) { return known }
        guard let decoded = try? Base64.decode(String(authorization.dropFirst(6)).trimmed),
            let text = String(validating: decoded, as: UTF8.self), let colon = text.firstIndex(of: ":")
        else { return nil }
        let name = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        let principal: Principal
        if name == Accounts.administratorName {
            guard administratorHash.verify(password) else { return nil }
            principal = .administrator
        } else {
            guard let path = try? Accounts.usersPath.appending(name), let stored = try? store.get(path),
                let hash = PasswordHash(String(decoding: stored, as: UTF8.self)), hash.verify(password)
            else { return nil }
            principal = .user(name)
        }
        verified.withLock {
            if $0.count > 10_000 { $0.removeAll() }
            $0[cacheKey] = principal
        }
        return principal
    }

    private let changes = Mutex(0)

    /// Moves whenever users, groups or memberships change.
    var generation: Int { changes.withLock { $0 } }

    func forgetVerifiedCredentials() {
        verified.withLock { $0.removeAll() }
        changes.withLock { $0 += 1 }
    }

    public func users() -> [String] {
        ((try? store.list(Accounts.usersPath)) ?? []).filter { $0.kind == .value }.map(\.name)
    }

    public func groups() -> [String] {
        ((try? store.list(Accounts.groupsPath)) ?? []).filter { $0.kind == .value }.map(\.name)
    }

    public func isUser(_ name: String) -> Bool {
        guard let path = try? Accounts.usersPath.appending(name) else { return false }
        return (try? store.kind(path)) == .value
    }

    public func isGroup(_ name: String) -> Bool {
        guard let path = try? Accounts.groupsPath.appending(name) else { return false }
        return (try? store.kind(path)) == .value
    }

    public func members(of group: String) -> [String] {
        guard let path = try? Accounts.groupsPath.appending(group), let bytes = try? store.get(path) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    public func groups(of user: String) -> [String] { groups().filter { members(of: $0).contains(user) } }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name != administratorName
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            } && !name.hasPrefix(".")
    }

    /// The changes that create a user: the password, the calendar home and a default calendar.
    func changesAddingUser(_ name: String, password: String) throws -> [StoreChange] {
        let hash = try PasswordHash.make(password, rounds: rounds)
        let home = try StorePath(["calendars", name])
        let calendar = try home.appending("default")
        var homeProperties = DeadProperties()
        homeProperties.set(XMLElement(.dav("resourcetype"), children: [.element(XMLElement(.dav("collection")))]))
        var calendarProperties = DeadProperties()
        calendarProperties.set(
            XMLElement(
                .dav("resourcetype"),
                children: [.element(XMLElement(.dav("collection"))), .element(XMLElement(.caldav("calendar")))]))
        calendarProperties.set(XMLElement(.dav("displayname"), text: "Calendar"))
        return [
            .set(try Accounts.usersPath.appending(name), Array(hash.encoded.utf8)),
            .set(home.appendingReserved(DAVSpace.collectionFile), homeProperties.encoded()),
            .set(calendar.appendingReserved(DAVSpace.collectionFile), calendarProperties.encoded()),
            .set(home.appendingReserved(DAVSpace.syncFile), SyncState.fresh().encoded()),
            .set(calendar.appendingReserved(DAVSpace.syncFile), SyncState.fresh().encoded()),
        ]
    }

    func changesRemovingUser(_ name: String) throws -> [StoreChange] {
        var changes: [StoreChange] = [
            .remove(try Accounts.usersPath.appending(name)), .remove(try StorePath(["calendars", name])),
        ]
        for group in groups(of: name) {
            changes.append(
                .set(
                    try Accounts.groupsPath.appending(group),
                    Array(members(of: group).filter { $0 != name }.joined(separator: "\n").utf8)))
        }
        return changes
    }

    func changesSettingMembers(of group: String, to members: [String]) throws -> [StoreChange] {
        [.set(try Accounts.groupsPath.appending(group), Array(members.joined(separator: "\n").utf8))]
    }
}

/// "pbkdf2-sha256$ROUNDS$SALT$HASH", salt and hash in base64.
struct PasswordHash: Sendable {
    let rounds: Int
    let salt: [UInt8]
    let hash: [UInt8]

    init?(_ encoded: String) {
        let parts = encoded.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
            rounds <= 10_000_000, let salt = try? Base64.decode(parts[2]), let hash = try? Base64.decode(parts[3]),
            hash.count == 32
        else { return nil }
        self.rounds = rounds
        self.salt = salt
        self.hash = hash
    }

    private init(rounds: Int, salt: [UInt8], hash: [UInt8]) {
        self.rounds = rounds
        self.salt = salt
        self.hash = hash
    }

    static func make(_ password: String, rounds: Int) throws -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return PasswordHash(rounds: rounds, salt: salt, hash: try derive(password, salt: salt, rounds: rounds))
    }

    var encoded: String { "pbkdf2-sha256$\(rounds)$\(Base64.encode(salt))$\(Base64.encode(hash))" }

    func verify(_ password: String) -> Bool {
        guard let candidate = try? PasswordHash.derive(password, salt: salt, rounds: rounds),
            candidate.count == hash.count
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, hash) { difference |= a ^ b }
        return difference == 0
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32,
            unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}

extension Sequence<UInt8> {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StorePath {
    /// A path under the server's own names (".quercus…"), which clients can never write.
    func appendingReserved(_ name: String) -> StorePath {
        // The reserved names are constants that are valid segments.
        (try? appending(name.hasPrefix(".") ? name : ".quercus-" + name)) ?? self
    }
}
