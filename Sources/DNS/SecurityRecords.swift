import Wire

/// DS and CDS: a digest of a child zone's key.
public protocol DelegationSignerShape: RecordData {
    var keyTag: UInt16 { get }
    var algorithm: UInt8 { get }
    var digestType: UInt8 { get }
    var digest: [UInt8] { get }
    init(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8])
}

extension DelegationSignerShape {
    public init(wire reader: inout WireReader) throws(WireError) {
        self.init(
            keyTag: try reader.readUInt16(), algorithm: try reader.readUInt8(), digestType: try reader.readUInt8(),
            digest: Array(reader.readRemainingBytes()))
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(keyTag)
        writer.write(algorithm)
        writer.write(digestType)
        writer.write(bytes: digest)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        self.init(
            keyTag: try scanner.integer("the key tag"), algorithm: try scanner.integer("the algorithm"),
            digestType: try scanner.integer("the digest type"),
            digest: try scanner.hexRest("the digest", allowEmpty: true))
    }
    public var presentation: String {
        presentationFields("\(keyTag) \(algorithm) \(digestType)", TextEncoding.hex(digest))
    }
}

public struct DSRecord: DelegationSignerShape {
    public static let type = RecordType.ds
    public var keyTag: UInt16
    public var algorithm: UInt8
    public var digestType: UInt8
    public var digest: [UInt8]
    public init(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8]) {
        self.keyTag = keyTag
        self.algorithm = algorithm
        self.digestType = digestType
        self.digest = digest
    }
    public var rdata: RData { .ds(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .ds(let value) = rdata { value } else { nil } }
}

public struct CDSRecord: DelegationSignerShape {
    public static let type = RecordType.cds
    public var keyTag: UInt16
    public var algorithm: UInt8
    public var digestType: UInt8
    public var digest: [UInt8]
    public init(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8]) {
        self.keyTag = keyTag
        self.algorithm = algorithm
        self.digestType = digestType
        self.digest = digest
    }
    public var rdata: RData { .cds(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .cds(let value) = rdata { value } else { nil } }
}

/// DNSKEY and CDNSKEY: a zone's public key.
public protocol KeyShape: RecordData {
    var flags: UInt16 { get }
    var keyProtocol: UInt8 { get }
    var algorithm: UInt8 { get }
    var publicKey: [UInt8] { get }
    init(flags: UInt16, keyProtocol: UInt8, algorithm: UInt8, publicKey: [UInt8])
}

extension KeyShape {
    public init(wire reader: inout WireReader) throws(WireError) {
        self.init(
            flags: try reader.readUInt16(), keyProtocol: try reader.readUInt8(), algorithm: try reader.readUInt8(),
            publicKey: Array(reader.readRemainingBytes()))
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(flags)
        writer.write(keyProtocol)
        writer.write(algorithm)
        writer.write(bytes: publicKey)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        self.init(
            flags: try scanner.integer("the flags"), keyProtocol: try scanner.integer("the protocol"),
            algorithm: try scanner.integer("the algorithm"),
            publicKey: try scanner.base64Rest("the public key", allowEmpty: true))
    }
    public var presentation: String {
        presentationFields("\(flags) \(keyProtocol) \(algorithm)", TextEncoding.base64(publicKey))
    }
}

public struct DNSKEYRecord: KeyShape {
    public static let type = RecordType.dnskey
    public var flags: UInt16
    public var keyProtocol: UInt8
    public var algorithm: UInt8
    public var publicKey: [UInt8]
    public init(flags: UInt16, keyProtocol: UInt8 = 3, algorithm: UInt8, publicKey: [UInt8]) {
        self.flags = flags
        self.keyProtocol = keyProtocol
        self.algorithm = algorithm
        self.publicKey = publicKey
    }
    public var rdata: RData { .dnskey(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .dnskey(let value) = rdata { value } else { nil } }
}

public struct CDNSKEYRecord: KeyShape {
    public static let type = RecordType.cdnskey
    public var flags: UInt16
    public var keyProtocol: UInt8
    public var algorithm: UInt8
    public var publicKey: [UInt8]
    public init(flags: UInt16, keyProtocol: UInt8, algorithm: UInt8, publicKey: [UInt8]) {
        self.flags = flags
        self.keyProtocol = keyProtocol
        self.algorithm = algorithm
        self.publicKey = publicKey
    }
    public var rdata: RData { .cdnskey(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .cdnskey(let value) = rdata { value } else { nil } }
}

public struct RRSIGRecord: RecordData {
    public static let type = RecordType.rrsig
    public var typeCovered: RecordType
    public var algorithm: UInt8
    public var labels: UInt8
    public var originalTTL: UInt32
    public var expiration: UInt32
    public var inception: UInt32
    public var keyTag: UInt16
    public var signerName: DomainName
    public var signature: [UInt8]

    public init(
        typeCovered: RecordType, algorithm: UInt8, labels: UInt8, originalTTL: UInt32, expiration: UInt32,
        inception: UInt32, keyTag: UInt16, signerName: DomainName, signature: [UInt8]
    ) {
        self.typeCovered = typeCovered
        self.algorithm = algorithm
        self.labels = labels
        self.originalTTL = originalTTL
        self.expiration = expiration
        self.inception = inception
        self.keyTag = keyTag
        self.signerName = signerName
        self.signature = signature
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        typeCovered = RecordType(rawValue: try reader.readUInt16())
        algorithm = try reader.readUInt8()
        labels = try reader.readUInt8()
        originalTTL = try reader.readUInt32()
        expiration = try reader.readUInt32()
        inception = try reader.readUInt32()
        keyTag = try reader.readUInt16()
        signerName = try DomainName.decodeUncompressed(from: &reader)
        signature = Array(reader.readRemainingBytes())
    }

    /// Everything but the signature: the prefix RFC 4034 §3.1.8.1 signs.
    public func encodeWithoutSignature(into writer: inout MessageWriter) {
        writer.write(typeCovered.rawValue)
        writer.write(algorithm)
        writer.write(labels)
        writer.write(originalTTL)
        writer.write(expiration)
        writer.write(inception)
        writer.write(keyTag)
        writer.writeName(signerName, compressible: false, canonicalLowercase: true)
    }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        encodeWithoutSignature(into: &writer)
        writer.write(bytes: signature)
    }

    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        typeCovered = try scanner.recordType("the type covered")
        algorithm = try scanner.integer("the algorithm")
        labels = try scanner.integer("the label count")
        originalTTL = try scanner.ttl("the original TTL")
        expiration = try scanner.dnssecTime("the expiration time")
        inception = try scanner.dnssecTime("the inception time")
        keyTag = try scanner.integer("the key tag")
        signerName = try scanner.name("the signer's name")
        signature = try scanner.base64Rest("the signature", allowEmpty: true)
    }

    public var presentation: String {
        "\(typeCovered) \(algorithm) \(labels) \(originalTTL) \(DNSSECTime.format(expiration)) "
            + presentationFields(
                "\(DNSSECTime.format(inception)) \(keyTag) \(signerName)", TextEncoding.base64(signature))
    }
    public var rdata: RData { .rrsig(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .rrsig(let value) = rdata { value } else { nil } }
}

extension RDataScanner {
    mutating func dnssecTime(_ what: String) throws(PresentationError) -> UInt32 {
        let token = try next(what)
        guard let value = DNSSECTime.parse(token.string) else {
            throw error("expected \(what) as YYYYMMDDHHmmSS, found \"\(token.string)\"", at: token)
        }
        return value
    }
}

public struct NSECRecord: RecordData {
    public static let type = RecordType.nsec
    public var nextName: DomainName
    public var types: [RecordType]
    public init(nextName: DomainName, types: [RecordType]) {
        self.nextName = nextName
        self.types = Set(types).sorted()
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        nextName = try DomainName.decodeUncompressed(from: &reader)
        types = try TypeBitmap.decode(from: &reader)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.writeName(nextName, compressible: false, canonicalLowercase: false)
        TypeBitmap.encode(types, into: &writer)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        nextName = try scanner.name("the next owner name")
        types = try scanner.typeList()
    }
    public var presentation: String {
        types.isEmpty ? nextName.description : "\(nextName) \(TypeBitmap.present(types))"
    }
    public var rdata: RData { .nsec(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .nsec(let value) = rdata { value } else { nil } }
}

public struct NSEC3Record: RecordData {
    public static let type = RecordType.nsec3
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]
    public var nextHashedOwner: [UInt8]
    public var types: [RecordType]

    public init(
        hashAlgorithm: UInt8, flags: UInt8, iterations: UInt16, salt: [UInt8], nextHashedOwner: [UInt8],
        types: [RecordType]
    ) {
        self.hashAlgorithm = hashAlgorithm
        self.flags = flags
        self.iterations = iterations
        self.salt = salt
        self.nextHashedOwner = nextHashedOwner
        self.types = Set(types).sorted()
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        hashAlgorithm = try reader.readUInt8()
        flags = try reader.readUInt8()
        iterations = try reader.readUInt16()
        salt = try reader.readPrefixedBytes(.uint8)
        nextHashedOwner = try reader.readPrefixedBytes(.uint8)
        guard !nextHashedOwner.isEmpty else { throw reader.invalid("NSEC3 next hashed owner is empty") }
        types = try TypeBitmap.decode(from: &reader)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(hashAlgorithm)
        writer.write(flags)
        writer.write(iterations)
        try writer.writeCharacterString(salt)
        try writer.writeCharacterString(nextHashedOwner)
        TypeBitmap.encode(types, into: &writer)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        hashAlgorithm = try scanner.integer("the hash algorithm")
        flags = try scanner.integer("the flags")
        iterations = try scanner.integer("the iterations")
        salt = try scanner.hexField("the salt", dashIsEmpty: true)
        guard salt.count <= 255 else { throw scanner.error("salt longer than 255 bytes") }
        let token = try scanner.next("the next hashed owner")
        guard let next = TextEncoding.decodeBase32Hex(token.string), !next.isEmpty, next.count <= 255 else {
            throw scanner.error("the next hashed owner is not base32hex", at: token)
        }
        nextHashedOwner = next
        types = try scanner.typeList()
    }
    public var presentation: String {
        let saltText = salt.isEmpty ? "-" : TextEncoding.hex(salt)
        let head = "\(hashAlgorithm) \(flags) \(iterations) \(saltText) \(TextEncoding.base32Hex(nextHashedOwner))"
        return types.isEmpty ? head : "\(head) \(TypeBitmap.present(types))"
    }
    public var rdata: RData { .nsec3(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .nsec3(let value) = rdata { value } else { nil } }
}

public struct NSEC3PARAMRecord: RecordData {
    public static let type = RecordType.nsec3param
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]
    public init(hashAlgorithm: UInt8, flags: UInt8, iterations: UInt16, salt: [UInt8]) {
        self.hashAlgorithm = hashAlgorithm
        self.flags = flags
        self.iterations = iterations
        self.salt = salt
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        hashAlgorithm = try reader.readUInt8()
        flags = try reader.readUInt8()
        iterations = try reader.readUInt16()
        salt = try reader.readPrefixedBytes(.uint8)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(hashAlgorithm)
        writer.write(flags)
        writer.write(iterations)
        try writer.writeCharacterString(salt)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        hashAlgorithm = try scanner.integer("the hash algorithm")
        flags = try scanner.integer("the flags")
        iterations = try scanner.integer("the iterations")
        salt = try scanner.hexField("the salt", dashIsEmpty: true)
        guard salt.count <= 255 else { throw scanner.error("salt longer than 255 bytes") }
    }
    public var presentation: String {
        "\(hashAlgorithm) \(flags) \(iterations) \(salt.isEmpty ? "-" : TextEncoding.hex(salt))"
    }
    public var rdata: RData { .nsec3param(self) }
    public static func extract(_ rdata: RData) -> Self? {
        if case .nsec3param(let value) = rdata { value } else { nil }
    }
}

public struct ZONEMDRecord: RecordData {
    public static let type = RecordType.zonemd
    public var serial: UInt32
    public var scheme: UInt8
    public var hashAlgorithm: UInt8
    public var digest: [UInt8]
    public init(serial: UInt32, scheme: UInt8, hashAlgorithm: UInt8, digest: [UInt8]) {
        self.serial = serial
        self.scheme = scheme
        self.hashAlgorithm = hashAlgorithm
        self.digest = digest
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        serial = try reader.readUInt32()
        scheme = try reader.readUInt8()
        hashAlgorithm = try reader.readUInt8()
        digest = Array(reader.readRemainingBytes())
        guard digest.count >= 12 else { throw reader.invalid("ZONEMD digest shorter than 12 bytes") }
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(serial)
        writer.write(scheme)
        writer.write(hashAlgorithm)
        writer.write(bytes: digest)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        serial = try scanner.integer("the serial")
        scheme = try scanner.integer("the scheme")
        hashAlgorithm = try scanner.integer("the hash algorithm")
        let first = scanner.peek()
        digest = try scanner.hexRest("the digest")
        guard digest.count >= 12 else { throw scanner.error("ZONEMD digest shorter than 12 bytes", at: first) }
    }
    public var presentation: String { "\(serial) \(scheme) \(hashAlgorithm) \(TextEncoding.hex(digest))" }
    public var rdata: RData { .zonemd(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .zonemd(let value) = rdata { value } else { nil } }
}

/// A transaction signature (RFC 8945 §4.2); only ever the last record of a message.
public struct TSIGRecord: RecordData {
    public static let type = RecordType.tsig
    public var algorithm: DomainName
    /// Seconds since 1970, 48 bits.
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    public var error: UInt16
    public var otherData: [UInt8]

    public init(
        algorithm: DomainName, timeSigned: UInt64, fudge: UInt16, mac: [UInt8], originalID: UInt16, error: UInt16,
        otherData: [UInt8]
    ) {
        self.algorithm = algorithm
        self.timeSigned = timeSigned
        self.fudge = fudge
        self.mac = mac
        self.originalID = originalID
        self.error = error
        self.otherData = otherData
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        algorithm = try DomainName.decodeUncompressed(from: &reader)
        timeSigned = try reader.readUInt48()
        fudge = try reader.readUInt16()
        mac = try reader.readPrefixedBytes(.uint16)
        originalID = try reader.readUInt16()
        error = try reader.readUInt16()
        otherData = try reader.readPrefixedBytes(.uint16)
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.writeName(algorithm, compressible: false, canonicalLowercase: false)
        writer.writeUInt48(timeSigned)
        writer.write(fudge)
        let macLength = writer.beginLength(.uint16)
        writer.write(bytes: mac)
        try writer.endLength(macLength)
        writer.write(originalID)
        writer.write(error)
        let otherLength = writer.beginLength(.uint16)
        writer.write(bytes: otherData)
        try writer.endLength(otherLength)
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        algorithm = try scanner.name("the algorithm name")
        let timeToken = try scanner.next("the time signed")
        guard let time = UInt64(timeToken.string), time < 1 << 48 else {
            throw scanner.error("expected the time signed in seconds", at: timeToken)
        }
        timeSigned = time
        fudge = try scanner.integer("the fudge")
        let macLength = try scanner.integer("the MAC length", as: UInt16.self)
        mac = macLength == 0 ? [] : try scanner.base64Field("the MAC")
        originalID = try scanner.integer("the original ID")
        let errorToken = try scanner.next("the error")
        guard let code = UInt16(errorToken.string) ?? ResponseCode(errorToken.string)?.rawValue else {
            throw scanner.error("expected an error code, found \"\(errorToken.string)\"", at: errorToken)
        }
        error = code
        let otherLength = try scanner.integer("the other data length", as: UInt16.self)
        otherData = otherLength == 0 ? [] : try scanner.base64Field("the other data")
    }
    public var presentation: String {
        "\(algorithm) \(timeSigned) \(fudge) \(mac.count)\(mac.isEmpty ? "" : " " + TextEncoding.base64(mac)) "
            + "\(originalID) \(ResponseCode(rawValue: error)) \(otherData.count)"
            + (otherData.isEmpty ? "" : " " + TextEncoding.base64(otherData))
    }
    public var rdata: RData { .tsig(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .tsig(let value) = rdata { value } else { nil } }
}

extension RDataScanner {
    mutating func base64Field(_ what: String) throws(PresentationError) -> [UInt8] {
        let token = try next(what)
        guard let bytes = TextEncoding.decodeBase64(token.string) else {
            throw error("\(what) is not base64", at: token)
        }
        return bytes
    }
}

/// The OPT pseudo-record's data: EDNS options. Messages turn it into `EDNS`; this form exists so
/// that an OPT record can still be carried, compared and printed like any other.
public struct OPTRecord: RecordData {
    public static let type = RecordType.opt
    public var options: [EDNSOption]
    public init(options: [EDNSOption]) { self.options = options }

    public init(wire reader: inout WireReader) throws(WireError) {
        var options: [EDNSOption] = []
        while !reader.isAtEnd {
            let code = try reader.readUInt16()
            var body = try reader.readLengthPrefixed(.uint16)
            options.append(try EDNSOption(code: code, body: &body))
        }
        self.options = options
    }
    public func encode(into writer: inout MessageWriter) throws(WireError) {
        for option in options { try option.encode(into: &writer) }
    }
    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        throw scanner.error("OPT records have no presentation form; use \\#", at: scanner.peek())
    }
    public var presentation: String {
        var writer = MessageWriter(mode: .uncompressed)
        do { try encode(into: &writer) } catch { return "\\# 0" }
        return UnknownRecord(type: .opt, bytes: writer.bytes).presentation
    }
    public var rdata: RData { .opt(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .opt(let value) = rdata { value } else { nil } }
}
