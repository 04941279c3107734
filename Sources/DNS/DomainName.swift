import Wire

/// Why text or bytes do not form a domain name.
public enum NameError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyLabel
    case labelTooLong(Int)
    case nameTooLong(Int)
    case badEscape(String)
    /// A name without a final dot, and no origin to complete it.
    case relativeWithoutOrigin(String)

    public var description: String {
        switch self {
        case .emptyLabel: return "empty label"
        case .labelTooLong(let length): return "label of \(length) bytes (at most 63)"
        case .nameTooLong(let length): return "name of \(length) bytes (at most 255)"
        case .badEscape(let text): return "bad escape in \"\(text)\""
        case .relativeWithoutOrigin(let text): return "relative name \"\(text)\" with no origin"
        }
    }
}

/// A fully qualified domain name.
///
/// Stored as its uncompressed wire form (length-prefixed labels ending with the root's zero
/// byte), so encoding is a copy and the limits (63-byte labels, 255-byte names) hold by
/// construction. Letters keep their case; equality, hashing and ordering ignore ASCII case.
public struct DomainName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maximumLength = 255
    public static let maximumLabelLength = 63

    /// The wire form, case preserved, including the final zero byte.
    public let wire: [UInt8]

    public static let root = DomainName(validatedWire: [0])

    /// Wraps bytes the caller has already checked are a well-formed uncompressed name.
    init(validatedWire: [UInt8]) {
        wire = validatedWire
    }

    public init<Labels: Sequence>(labels: Labels) throws(NameError) where Labels.Element: Collection<UInt8> {
        var bytes: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= Self.maximumLabelLength else { throw .labelTooLong(label.count) }
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
        guard bytes.count <= Self.maximumLength else { throw .nameTooLong(bytes.count) }
        wire = bytes
    }

    /// Parses presentation format: labels separated by dots, `\.` and `\DDD` escapes. A name
    /// ending in an unescaped dot is absolute; any other is relative to `origin`. `@` is the origin.
    public init(_ text: some StringProtocol, origin: DomainName? = nil) throws(NameError) {
        let utf8 = Array(text.utf8)
        if utf8 == [UInt8(ascii: "@")] {
            guard let origin else { throw .relativeWithoutOrigin(String(text)) }
            self = origin
            return
        }
        if utf8 == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        var absolute = false
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < utf8.count else { throw .badEscape(String(text)) }
                let next = utf8[index + 1]
                if isDigit(next) {
                    guard index + 3 < utf8.count, isDigit(utf8[index + 2]), isDigit(utf8[index + 3]) else {
                        throw .badEscape(String(text))
                    }
                    let value = Int(next - 48) * 100 + Int(utf8[index + 2] - 48) * 10 + Int(utf8[index + 3] - 48)
                    guard value <= 255 else { throw .badEscape(String(text)) }
                    label.append(UInt8(value))
                    index += 4
                } else {
                    label.append(next)
                    index += 2
                }
                continue
            }
            if byte == UInt8(ascii: ".") {
                guard !label.isEmpty else { throw .emptyLabel }
                labels.append(label)
                label = []
                if index == utf8.count - 1 { absolute = true }
            } else {
                label.append(byte)
            }
            index += 1
        }
        if !absolute {
            guard !label.isEmpty else { throw .emptyLabel }
            labels.append(label)
        }
        var name = try DomainName(labels: labels)
        if !absolute {
            guard let origin else { throw .relativeWithoutOrigin(String(text)) }
            name = try name.appending(origin)
        }
        self = name
    }

    public var isRoot: Bool { wire.count == 1 }

    /// Labels from the leftmost, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var position = 0
        while position < wire.count, wire[position] != 0 {
            let length = Int(wire[position])
            result.append(wire[(position + 1)..<(position + 1 + length)])
            position += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var position = 0
        while position < wire.count, wire[position] != 0 {
            count += 1
            position += 1 + Int(wire[position])
        }
        return count
    }

    /// This name with `self`'s root replaced by `suffix` (for names written relative to an origin).
    public func appending(_ suffix: DomainName) throws(NameError) -> DomainName {
        let count = wire.count - 1 + suffix.wire.count
        guard count <= Self.maximumLength else { throw .nameTooLong(count) }
        return DomainName(validatedWire: Array(wire.dropLast()) + suffix.wire)
    }

    public func prepending(label: some Collection<UInt8>) throws(NameError) -> DomainName {
        try DomainName(labels: [Array(label)]).appending(self)
    }

    /// The name with its first label removed; nil for the root.
    public var parent: DomainName? {
        guard !isRoot else { return nil }
        return DomainName(validatedWire: Array(wire[(1 + Int(wire[0]))...]))
    }

    /// True when `self` equals `ancestor` or lies below it.
    public func isSubdomain(of ancestor: DomainName) -> Bool {
        let offset = wire.count - ancestor.wire.count
        guard offset >= 0 else { return false }
        // The suffix must start on a label boundary.
        var position = 0
        while position < offset { position += 1 + Int(wire[position]) }
        guard position == offset else { return false }
        return asciiCaseInsensitiveEqual(wire[offset...], ancestor.wire[...])
    }

    public func lowercased() -> DomainName {
        DomainName(validatedWire: wire.map(asciiLowercase))
    }

    /// The name relative to `origin` for printing, or nil when it is not below it.
    public func relativeText(to origin: DomainName) -> String? {
        guard isSubdomain(of: origin) else { return nil }
        if self == origin { return "@" }
        let keep = labelCount - origin.labelCount
        return labels.prefix(keep).map(escapeLabel).joined(separator: ".")
    }

    public var description: String {
        isRoot ? "." : labels.map(escapeLabel).joined(separator: ".") + "."
    }

    public static func == (lhs: DomainName, rhs: DomainName) -> Bool {
        asciiCaseInsensitiveEqual(lhs.wire[...], rhs.wire[...])
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(asciiLowercase(byte)) }
    }

    /// Canonical DNS order (RFC 4034 §6.1): compare labels from the rightmost, each as lowercase bytes.
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        canonicalCompare(lhs, rhs) < 0
    }

    /// Negative, zero or positive as `lhs` sorts before, with or after `rhs` canonically.
    public static func canonicalCompare(_ lhs: DomainName, _ rhs: DomainName) -> Int {
        let left = lhs.labelStarts()
        let right = rhs.labelStarts()
        var leftIndex = left.count - 1
        var rightIndex = right.count - 1
        while leftIndex >= 0, rightIndex >= 0 {
            let order = compareLabels(lhs.wire, left[leftIndex], rhs.wire, right[rightIndex])
            if order != 0 { return order }
            leftIndex -= 1
            rightIndex -= 1
        }
        return left.count - right.count
    }

    private func labelStarts() -> [Int] {
        var starts: [Int] = []
        var position = 0
        while position < wire.count, wire[position] != 0 {
            starts.append(position)
            position += 1 + Int(wire[position])
        }
        return starts
    }
}

private func compareLabels(_ left: [UInt8], _ leftStart: Int, _ right: [UInt8], _ rightStart: Int) -> Int {
    let leftLength = Int(left[leftStart])
    let rightLength = Int(right[rightStart])
    for index in 0..<min(leftLength, rightLength) {
        let a = asciiLowercase(left[leftStart + 1 + index])
        let b = asciiLowercase(right[rightStart + 1 + index])
        if a != b { return Int(a) - Int(b) }
    }
    return leftLength - rightLength
}

@inline(__always)
func asciiLowercase(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

func asciiCaseInsensitiveEqual(_ lhs: ArraySlice<UInt8>, _ rhs: ArraySlice<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    return zip(lhs, rhs).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// One label in presentation form, escaped as BIND writes it.
func escapeLabel(_ label: ArraySlice<UInt8>) -> String {
    var text = ""
    for byte in label {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\""),
            UInt8(ascii: "\\"), UInt8(ascii: "@"), UInt8(ascii: "$"):
            text.append("\\")
            text.append(Character(Unicode.Scalar(byte)))
        case 0x21...0x7E:
            text.append(Character(Unicode.Scalar(byte)))
        default:
            text.append(decimalEscape(byte))
        }
    }
    return text
}

func decimalEscape(_ byte: UInt8) -> String {
    let digits = String(byte)
    return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
}

extension DomainName {
    /// Reads a possibly compressed name from a message. Every compression pointer must point
    /// strictly before the pointer itself, so a loop is impossible; the total stays within 255 bytes.
    public static func decode(from reader: inout WireReader) throws(WireError) -> DomainName {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var cursor = reader
        var jumped = false
        while true {
            let position = cursor.offset
            let length = try cursor.readUInt8()
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    bytes.append(0)
                    if !jumped { reader = cursor }
                    guard bytes.count <= maximumLength else {
                        throw WireError(offset: position, kind: .lengthTooLarge(length: bytes.count, limit: 255))
                    }
                    return DomainName(validatedWire: bytes)
                }
                let label = try cursor.readBytes(Int(length))
                bytes.append(length)
                bytes.append(contentsOf: label)
                guard bytes.count < maximumLength else {
                    throw WireError(offset: position, kind: .lengthTooLarge(length: bytes.count + 1, limit: 255))
                }
            case 0xC0:
                let low = try cursor.readUInt8()
                let target = Int(length & 0x3F) << 8 | Int(low)
                guard target < position else {
                    throw WireError(
                        offset: position, kind: .invalid("compression pointer to \(target) is not backwards"))
                }
                if !jumped {
                    reader = cursor
                    jumped = true
                }
                cursor = try cursor.reader(atAbsoluteOffset: target)
            default:
                throw WireError(offset: position, kind: .invalid("unknown label type 0x\(String(length, radix: 16))"))
            }
        }
    }

    /// Reads an uncompressed name (inside RDATA where pointers are not allowed, or canonical form).
    public static func decodeUncompressed(from reader: inout WireReader) throws(WireError) -> DomainName {
        var bytes: [UInt8] = []
        while true {
            let position = reader.offset
            let length = try reader.readUInt8()
            guard length & 0xC0 == 0 else {
                throw WireError(offset: position, kind: .invalid("compressed name where none is allowed"))
            }
            bytes.append(length)
            if length == 0 { break }
            bytes.append(contentsOf: try reader.readBytes(Int(length)))
            guard bytes.count < maximumLength else {
                throw WireError(offset: position, kind: .lengthTooLarge(length: bytes.count + 1, limit: 255))
            }
        }
        return DomainName(validatedWire: bytes)
    }
}
