import Wire

public struct ARecord: RecordData {
    public static let type = RecordType.a
    public var address: IPv4Address
    public init(address: IPv4Address) { self.address = address }

    public init(wire reader: inout WireReader) throws(WireError) {
        address = IPv4Address(try reader.readUInt32())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) { writer.write(address.value) }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        let token = try scanner.next("an IPv4 address")
        guard !token.quoted, let address = IPv4Address(token.string) else {
            throw scanner.error("expected an IPv4 address, found \"\(token.string)\"", at: token)
        }
        self.address = address
    }
    public var presentation: String { address.description }
    public var rdata: RData { .a(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .a(let value) = rdata { value } else { nil } }
}

public struct AAAARecord: RecordData {
    public static let type = RecordType.aaaa
    public var address: IPv6Address
    public init(address: IPv6Address) { self.address = address }

    public init(wire reader: inout WireReader) throws(WireError) {
        address = IPv6Address(high: try reader.readUInt64(), low: try reader.readUInt64())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(bytes: address.bytes)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        let token = try scanner.next("an IPv6 address")
        guard !token.quoted, let address = IPv6Address(token.string) else {
            throw scanner.error("expected an IPv6 address, found \"\(token.string)\"", at: token)
        }
        self.address = address
    }
    public var presentation: String { address.description }
    public var rdata: RData { .aaaa(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .aaaa(let value) = rdata { value } else { nil } }
}

/// The record types whose data is one domain name.
public protocol SingleNameRecord: RecordData {
    var target: DomainName { get }
    init(target: DomainName)
    /// RFC 1035 types may compress their name; later ones (DNAME) may not.
    static var compressesTarget: Bool { get }
}

extension SingleNameRecord {
    public init(wire reader: inout WireReader) throws(WireError) {
        self.init(target: try DomainName.decode(from: &reader))
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.writeName(target, compressible: Self.compressesTarget)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        self.init(target: try scanner.name("a domain name"))
    }
    public var presentation: String { target.description }
}

public struct NSRecord: SingleNameRecord {
    public static let type = RecordType.ns
    public static let compressesTarget = true
    public var target: DomainName
    public init(target: DomainName) { self.target = target }
    public var rdata: RData { .ns(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .ns(let value) = rdata { value } else { nil } }
}

public struct CNAMERecord: SingleNameRecord {
    public static let type = RecordType.cname
    public static let compressesTarget = true
    public var target: DomainName
    public init(target: DomainName) { self.target = target }
    public var rdata: RData { .cname(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .cname(let value) = rdata { value } else { nil } }
}

public struct DNAMERecord: SingleNameRecord {
    public static let type = RecordType.dname
    public static let compressesTarget = false
    public var target: DomainName
    public init(target: DomainName) { self.target = target }
    public var rdata: RData { .dname(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .dname(let value) = rdata { value } else { nil } }
}

public struct PTRRecord: SingleNameRecord {
    public static let type = RecordType.ptr
    public static let compressesTarget = true
    public var target: DomainName
    public init(target: DomainName) { self.target = target }
    public var rdata: RData { .ptr(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .ptr(let value) = rdata { value } else { nil } }
}

public struct SOARecord: RecordData {
    public static let type = RecordType.soa
    public var primary: DomainName
    public var mailbox: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        primary: DomainName, mailbox: DomainName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
        minimum: UInt32
    ) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        primary = try DomainName.decode(from: &reader)
        mailbox = try DomainName.decode(from: &reader)
        serial = try reader.readUInt32()
        refresh = try reader.readUInt32()
        retry = try reader.readUInt32()
        expire = try reader.readUInt32()
        minimum = try reader.readUInt32()
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.writeName(primary)
        writer.writeName(mailbox)
        for value in [serial, refresh, retry, expire, minimum] { writer.write(value) }
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        primary = try scanner.name("the primary server name")
        mailbox = try scanner.name("the responsible mailbox")
        serial = try scanner.integer("the serial")
        refresh = try scanner.ttl("the refresh interval")
        retry = try scanner.ttl("the retry interval")
        expire = try scanner.ttl("the expire interval")
        minimum = try scanner.ttl("the minimum TTL")
    }
    public var presentation: String { "\(primary) \(mailbox) \(serial) \(refresh) \(retry) \(expire) \(minimum)" }
    public var rdata: RData { .soa(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .soa(let value) = rdata { value } else { nil } }
}

public struct MXRecord: RecordData {
    public static let type = RecordType.mx
    public var preference: UInt16
    public var exchange: DomainName
    public init(preference: UInt16, exchange: DomainName) {
        self.preference = preference
        self.exchange = exchange
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        preference = try reader.readUInt16()
        exchange = try DomainName.decode(from: &reader)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(preference)
        writer.writeName(exchange)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        preference = try scanner.integer("the preference")
        exchange = try scanner.name("the mail exchange")
    }
    public var presentation: String { "\(preference) \(exchange)" }
    public var rdata: RData { .mx(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .mx(let value) = rdata { value } else { nil } }
}

/// The record types whose data is one or more character strings.
public protocol CharacterStringsRecord: RecordData {
    var strings: [[UInt8]] { get }
    init(strings: [[UInt8]])
}

extension CharacterStringsRecord {
    public init(wire reader: inout WireReader) throws(WireError) {
        var strings: [[UInt8]] = []
        repeat {
            strings.append(try reader.readPrefixedBytes(.uint8))
        } while !reader.isAtEnd
        self.init(strings: strings)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        for string in strings { try writer.writeCharacterString(string) }
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        var strings = [try scanner.characterString("a character string")]
        while !scanner.isAtEnd { strings.append(try scanner.characterString("a character string")) }
        self.init(strings: strings)
    }
    public var presentation: String { strings.map(quotedCharacterString).joined(separator: " ") }
}

public struct TXTRecord: CharacterStringsRecord {
    public static let type = RecordType.txt
    public var strings: [[UInt8]]
    public init(strings: [[UInt8]]) { self.strings = strings }
    public init(_ text: String) { strings = [Array(text.utf8)] }
    public var rdata: RData { .txt(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .txt(let value) = rdata { value } else { nil } }
}

public struct SPFRecord: CharacterStringsRecord {
    public static let type = RecordType.spf
    public var strings: [[UInt8]]
    public init(strings: [[UInt8]]) { self.strings = strings }
    public var rdata: RData { .spf(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .spf(let value) = rdata { value } else { nil } }
}

public struct HINFORecord: RecordData {
    public static let type = RecordType.hinfo
    public var cpu: [UInt8]
    public var os: [UInt8]
    public init(cpu: [UInt8], os: [UInt8]) {
        self.cpu = cpu
        self.os = os
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        cpu = try reader.readPrefixedBytes(.uint8)
        os = try reader.readPrefixedBytes(.uint8)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        try writer.writeCharacterString(cpu)
        try writer.writeCharacterString(os)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        cpu = try scanner.characterString("the CPU")
        os = try scanner.characterString("the operating system")
    }
    public var presentation: String { "\(quotedCharacterString(cpu)) \(quotedCharacterString(os))" }
    public var rdata: RData { .hinfo(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .hinfo(let value) = rdata { value } else { nil } }
}

public struct SRVRecord: RecordData {
    public static let type = RecordType.srv
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DomainName
    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DomainName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        priority = try reader.readUInt16()
        weight = try reader.readUInt16()
        port = try reader.readUInt16()
        target = try DomainName.decode(from: &reader)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(priority)
        writer.write(weight)
        writer.write(port)
        writer.writeName(target, compressible: false)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        priority = try scanner.integer("the priority")
        weight = try scanner.integer("the weight")
        port = try scanner.integer("the port")
        target = try scanner.name("the target")
    }
    public var presentation: String { "\(priority) \(weight) \(port) \(target)" }
    public var rdata: RData { .srv(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .srv(let value) = rdata { value } else { nil } }
}

public struct NAPTRRecord: RecordData {
    public static let type = RecordType.naptr
    public var order: UInt16
    public var preference: UInt16
    public var flags: [UInt8]
    public var services: [UInt8]
    public var regexp: [UInt8]
    public var replacement: DomainName
    public init(
        order: UInt16, preference: UInt16, flags: [UInt8], services: [UInt8], regexp: [UInt8],
        replacement: DomainName
    ) {
        self.order = order
        self.preference = preference
        self.flags = flags
        self.services = services
        self.regexp = regexp
        self.replacement = replacement
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        order = try reader.readUInt16()
        preference = try reader.readUInt16()
        flags = try reader.readPrefixedBytes(.uint8)
        services = try reader.readPrefixedBytes(.uint8)
        regexp = try reader.readPrefixedBytes(.uint8)
        replacement = try DomainName.decode(from: &reader)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(order)
        writer.write(preference)
        try writer.writeCharacterString(flags)
        try writer.writeCharacterString(services)
        try writer.writeCharacterString(regexp)
        writer.writeName(replacement, compressible: false)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        order = try scanner.integer("the order")
        preference = try scanner.integer("the preference")
        flags = try scanner.characterString("the flags")
        services = try scanner.characterString("the services")
        regexp = try scanner.characterString("the regular expression")
        replacement = try scanner.name("the replacement")
    }
    public var presentation: String {
        "\(order) \(preference) \(quotedCharacterString(flags)) \(quotedCharacterString(services)) "
            + "\(quotedCharacterString(regexp)) \(replacement)"
    }
    public var rdata: RData { .naptr(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .naptr(let value) = rdata { value } else { nil } }
}

public struct CAARecord: RecordData {
    public static let type = RecordType.caa
    public var flags: UInt8
    public var tag: [UInt8]
    public var value: [UInt8]
    public init(flags: UInt8, tag: [UInt8], value: [UInt8]) {
        self.flags = flags
        self.tag = tag
        self.value = value
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        flags = try reader.readUInt8()
        tag = try reader.readPrefixedBytes(.uint8)
        guard !tag.isEmpty, tag.allSatisfy(isAlphanumeric) else { throw reader.invalid("CAA tag must be alphanumeric") }
        value = Array(reader.readRemainingBytes())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(flags)
        try writer.writeCharacterString(tag)
        writer.write(bytes: value)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        flags = try scanner.integer("the flags")
        let tagToken = scanner.peek()
        tag = try scanner.characterString("the tag")
        guard !tag.isEmpty, tag.allSatisfy(isAlphanumeric) else {
            throw scanner.error("CAA tag must be letters and digits", at: tagToken)
        }
        let valueToken = try scanner.next("the value")
        value = try scanner.unescape(valueToken)
    }
    public var presentation: String {
        "\(flags) \(String(decoding: tag, as: UTF8.self)) \(quotedCharacterString(value))"
    }
    public var rdata: RData { .caa(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .caa(let value) = rdata { value } else { nil } }
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
}

public struct TLSARecord: RecordData {
    public static let type = RecordType.tlsa
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]
    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        usage = try reader.readUInt8()
        selector = try reader.readUInt8()
        matchingType = try reader.readUInt8()
        data = Array(reader.readRemainingBytes())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(usage)
        writer.write(selector)
        writer.write(matchingType)
        writer.write(bytes: data)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        usage = try scanner.integer("the certificate usage")
        selector = try scanner.integer("the selector")
        matchingType = try scanner.integer("the matching type")
        data = try scanner.hexRest("the certificate association data", allowEmpty: true)
    }
    public var presentation: String {
        presentationFields("\(usage) \(selector) \(matchingType)", TextEncoding.hex(data))
    }
    public var rdata: RData { .tlsa(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .tlsa(let value) = rdata { value } else { nil } }
}

public struct SSHFPRecord: RecordData {
    public static let type = RecordType.sshfp
    public var algorithm: UInt8
    public var fingerprintType: UInt8
    public var fingerprint: [UInt8]
    public init(algorithm: UInt8, fingerprintType: UInt8, fingerprint: [UInt8]) {
        self.algorithm = algorithm
        self.fingerprintType = fingerprintType
        self.fingerprint = fingerprint
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        algorithm = try reader.readUInt8()
        fingerprintType = try reader.readUInt8()
        fingerprint = Array(reader.readRemainingBytes())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(algorithm)
        writer.write(fingerprintType)
        writer.write(bytes: fingerprint)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        algorithm = try scanner.integer("the algorithm")
        fingerprintType = try scanner.integer("the fingerprint type")
        fingerprint = try scanner.hexRest("the fingerprint", allowEmpty: true)
    }
    public var presentation: String {
        presentationFields("\(algorithm) \(fingerprintType)", TextEncoding.hex(fingerprint))
    }
    public var rdata: RData { .sshfp(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .sshfp(let value) = rdata { value } else { nil } }
}

public struct URIRecord: RecordData {
    public static let type = RecordType.uri
    public var priority: UInt16
    public var weight: UInt16
    public var target: [UInt8]
    public init(priority: UInt16, weight: UInt16, target: [UInt8]) {
        self.priority = priority
        self.weight = weight
        self.target = target
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        priority = try reader.readUInt16()
        weight = try reader.readUInt16()
        target = Array(reader.readRemainingBytes())
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(priority)
        writer.write(weight)
        writer.write(bytes: target)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        priority = try scanner.integer("the priority")
        weight = try scanner.integer("the weight")
        let token = try scanner.next("the target URI")
        target = try scanner.unescape(token)
    }
    public var presentation: String { "\(priority) \(weight) \(quotedCharacterString(target))" }
    public var rdata: RData { .uri(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .uri(let value) = rdata { value } else { nil } }
}

extension RDataScanner {
    /// A TTL-like interval: seconds, or with BIND's units (`1h30m`, `2w`).
    public mutating func ttl(_ what: String) throws(PresentationError) -> UInt32 {
        let token = try next(what)
        guard !token.quoted, let value = parseTTL(token.string) else {
            throw error("expected \(what) as seconds or with units (1h30m), found \"\(token.string)\"", at: token)
        }
        return value
    }
}

/// Seconds, or a sequence of numbers with units w, d, h, m, s (any case); nil when malformed or above 2^32-1.
public func parseTTL(_ text: String) -> UInt32? {
    guard !text.isEmpty else { return nil }
    if let plain = UInt32(text) { return plain }
    var total: UInt64 = 0
    var current: UInt64? = nil
    for byte in text.utf8 {
        if byte >= 0x30 && byte <= 0x39 {
            current = (current ?? 0) * 10 + UInt64(byte - 0x30)
            if let value = current, value > UInt64(UInt32.max) { return nil }
            continue
        }
        guard let value = current else { return nil }
        let unit: UInt64
        switch byte | 0x20 {
        case UInt8(ascii: "w"): unit = 604_800
        case UInt8(ascii: "d"): unit = 86_400
        case UInt8(ascii: "h"): unit = 3600
        case UInt8(ascii: "m"): unit = 60
        case UInt8(ascii: "s"): unit = 1
        default: return nil
        }
        total += value * unit
        current = nil
        guard total <= UInt64(UInt32.max) else { return nil }
    }
    if current != nil { return nil }
    return UInt32(total)
}
