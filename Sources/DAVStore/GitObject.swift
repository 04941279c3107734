import Crypto
import Wire

// Git's object formats, as pure functions of bytes: ids, loose objects ("type size\0payload" in a
// zlib stream), trees and commits. Every parser here reads untrusted bytes (a repository someone
// else pushed to), so none of them traps: each failure is a `StoreError.corrupt` with an offset.

/// A git object id: the SHA-1 of the object's header and payload.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Exactly 20 bytes, or nil.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 20 else { return nil }
        self.bytes = Array(bytes)
    }

    /// 40 hexadecimal digits, either case.
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        var index = 0
        while index < 40 {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(40)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

public enum GitObjectType: String, Sendable, CaseIterable {
    case commit, tree, blob, tag
}

/// One git object: its type and payload (the bytes after the "type size\0" header).
public struct GitObject: Sendable, Equatable {
    public var type: GitObjectType
    public var payload: [UInt8]

    public init(type: GitObjectType, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    /// Objects larger than this are refused rather than inflated (a store holds calendar data).
    public static let sizeLimit = 256 << 20

    /// The header and payload that git hashes and stores.
    public var canonicalBytes: [UInt8] {
        Array("\(type.rawValue) \(payload.count)\0".utf8) + payload
    }

    public var id: ObjectID { Self.id(type: type, payload: payload) }

    public static func id(type: GitObjectType, payload: [UInt8]) -> ObjectID {
        var hasher = Insecure.SHA1()
        hasher.update(data: Array("\(type.rawValue) \(payload.count)\0".utf8))
        hasher.update(data: payload)
        // SHA-1 always has 20 bytes; the fallback only keeps the initializer's optional honest.
        return ObjectID(bytes: Array(hasher.finalize())) ?? ObjectID.zero
    }

    /// A loose object file's contents: the canonical bytes as a zlib stream, compressed.
    public var looseFile: [UInt8] { Deflater.compress(canonicalBytes, format: .zlib) }

    /// Reads a loose object file (any zlib compression), checking its header's size.
    public static func parseLoose(_ file: [UInt8], path: String = "object") throws(StoreError) -> GitObject {
        let inflated: [UInt8]
        do {
            inflated = try Zlib.inflate(file, limit: sizeLimit + 64).output
        } catch {
            throw StoreError.corrupt(path: path, offset: error.offset, reason: error.reason)
        }
        return try parseCanonical(inflated, path: path)
    }

    /// Splits "type size\0payload".
    public static func parseCanonical(_ bytes: [UInt8], path: String = "object") throws(StoreError) -> GitObject {
        guard let space = bytes.prefix(16).firstIndex(of: 0x20) else {
            throw StoreError.corrupt(path: path, offset: 0, reason: "no object type")
        }
        guard let type = GitObjectType(rawValue: String(decoding: bytes[..<space], as: UTF8.self)) else {
            throw StoreError.corrupt(path: path, offset: 0, reason: "unknown object type")
        }
        guard let nul = bytes[(space + 1)...].prefix(21).firstIndex(of: 0),
            let size = decimal(bytes[(space + 1)..<nul]), size == bytes.count - nul - 1
        else {
            throw StoreError.corrupt(path: path, offset: space + 1, reason: "object size does not match its content")
        }
        return GitObject(type: type, payload: Array(bytes[(nul + 1)...]))
    }

    /// Digits only, no sign, no leading zero (git writes sizes and times this way).
    static func decimal(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18, digits.count == 1 || digits.first != UInt8(ascii: "0") else {
            return nil
        }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }
}

extension ObjectID {
    static let zero = ObjectID(zeroBytes: ())
    private init(zeroBytes: Void) { bytes = [UInt8](repeating: 0, count: 20) }
}

/// A tree object: named entries, each a blob or a subtree.
public struct GitTree: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// Octal text as git writes it: "100644", "100755", "120000", "40000" or "160000".
        public var mode: String
        public var id: ObjectID

        public init(name: String, mode: String, id: ObjectID) {
            self.name = name
            self.mode = mode
            self.id = id
        }

        public var isTree: Bool { mode == "40000" }
        /// The key git sorts entries by: a subtree's name as if it ended with "/".
        var sortKey: [UInt8] { Array(name.utf8) + (isTree ? [UInt8(ascii: "/")] : []) }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// The payload, entries sorted the git way.
    public var payload: [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries.map({ ($0.sortKey, $0) }).sorted(by: { $0.0.lexicographicallyPrecedes($1.0) }) {
            bytes += entry.1.mode.utf8
            bytes.append(0x20)
            bytes += entry.1.name.utf8
            bytes.append(0)
            bytes += entry.1.id.bytes
        }
        return bytes
    }

    public static func parse(_ payload: [UInt8], path: String = "tree") throws(StoreError) -> GitTree {
        var entries: [Entry] = []
        var offset = 0
        while offset < payload.count {
            guard let space = payload[offset...].prefix(7).firstIndex(of: 0x20) else {
                throw StoreError.corrupt(path: path, offset: offset, reason: "tree entry without a mode")
            }
            let mode = String(decoding: payload[offset..<space], as: UTF8.self)
            guard ["100644", "100755", "120000", "40000", "160000"].contains(mode) else {
                throw StoreError.corrupt(path: path, offset: offset, reason: "unknown tree entry mode")
            }
            guard let nul = payload[(space + 1)...].firstIndex(of: 0), nul > space + 1, nul + 21 <= payload.count,
                let id = ObjectID(bytes: payload[(nul + 1)..<(nul + 21)])
            else {
                throw StoreError.corrupt(path: path, offset: space + 1, reason: "truncated tree entry")
            }
            let nameBytes = payload[(space + 1)..<nul]
            let name = String(decoding: nameBytes, as: UTF8.self)
            // A name that is not UTF-8 (or not a valid store segment) could not be written back.
            guard Array(name.utf8) == Array(nameBytes), StorePath.isValid(name) else {
                throw StoreError.corrupt(path: path, offset: space + 1, reason: "tree entry name is not a store name")
            }
            entries.append(Entry(name: name, mode: mode, id: id))
            offset = nul + 21
        }
        return GitTree(entries: entries)
    }
}

/// A commit object's fields that the store reads and writes.
public struct GitCommit: Sendable, Equatable {
    public var tree: ObjectID
    public var parents: [ObjectID]
    public var authorName: String
    public var time: Int64
    public var message: String

    public init(tree: ObjectID, parents: [ObjectID], authorName: String, time: Int64, message: String) {
        self.tree = tree
        self.parents = parents
        self.authorName = authorName
        self.time = time
        self.message = message
    }

    /// Author and committer are the same: "NAME <NAME@quercus> TIME +0000". Characters that would
    /// break git's ident line are dropped, so `git fsck --strict` accepts every commit.
    public var payload: [UInt8] {
        var name = String(authorName.unicodeScalars.filter { !"<>\n\r\0".unicodeScalars.contains($0) })
        name = name.trimmingSpaces
        if name.isEmpty { name = "unknown" }
        let local = String(
            name.unicodeScalars.map { scalar -> Character in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                        || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "-"
            })
        let ident = "\(name) <\(local)@quercus> \(max(0, time)) +0000"
        var text = "tree \(tree.hex)\n"
        for parent in parents { text += "parent \(parent.hex)\n" }
        text += "author \(ident)\ncommitter \(ident)\n\n"
        var body = String(message.unicodeScalars.filter { $0 != "\0" })
        if !body.hasSuffix("\n") { body += "\n" }
        return Array((text + body).utf8)
    }

    public static func parse(_ payload: [UInt8], path: String = "commit") throws(StoreError) -> GitCommit {
        var tree: ObjectID?
        var parents: [ObjectID] = []
        var author: (name: String, time: Int64)?
        var committerTime: Int64?
        var offset = 0
        while true {
            guard let newline = payload[offset...].firstIndex(of: 0x0A) else {
                throw StoreError.corrupt(path: path, offset: offset, reason: "commit header does not end")
            }
            let line = payload[offset..<newline]
            if line.isEmpty {
                offset = newline + 1
                break
            }
            let (key, value) = split(line)
            switch key {
            case "tree":
                guard tree == nil, let id = ObjectID(hex: value) else {
                    throw StoreError.corrupt(path: path, offset: offset, reason: "bad tree line")
                }
                tree = id
            case "parent":
                guard let id = ObjectID(hex: value) else {
                    throw StoreError.corrupt(path: path, offset: offset, reason: "bad parent line")
                }
                parents.append(id)
            case "author":
                author = ident(value)
                guard author != nil else { throw StoreError.corrupt(path: path, offset: offset, reason: "bad author") }
            case "committer":
                committerTime = ident(value)?.time
            default:
                break  // encoding, gpgsig and its continuation lines, mergetag…
            }
            offset = newline + 1
        }
        guard let tree, let author else {
            throw StoreError.corrupt(path: path, offset: 0, reason: "commit without tree or author")
        }
        return GitCommit(
            tree: tree, parents: parents, authorName: author.name, time: committerTime ?? author.time,
            message: String(decoding: payload[offset...], as: UTF8.self))
    }

    private static func split(_ line: ArraySlice<UInt8>) -> (String, String) {
        guard let space = line.firstIndex(of: 0x20) else { return (String(decoding: line, as: UTF8.self), "") }
        return (
            String(decoding: line[..<space], as: UTF8.self),
            String(decoding: line[(space + 1)...], as: UTF8.self)
        )
    }

    /// "Name <email> 1700000000 +0100" → name and time.
    private static func ident(_ text: String) -> (name: String, time: Int64)? {
        guard let open = text.firstIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            return nil
        }
        let name = String(text[..<open]).trimmingSpaces
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard let seconds = rest.first.flatMap({ GitObject.decimal($0.utf8) }) else { return nil }
        return (name, Int64(seconds))
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
