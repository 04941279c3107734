import Wire

/// The data of one record type: its wire form and its presentation form. Each type is its own
/// struct so that a typed lookup (`RecordKey<MXRecord>`) can only ever yield that type's data.
public protocol RecordData: Hashable, Sendable {
    static var type: RecordType { get }
    /// Decodes from a reader bounded to exactly this record's RDATA (names may point backwards into the message).
    init(wire reader: inout WireReader) throws(WireError)
    func encode(into writer: inout MessageWriter) throws(WireError)
    init(presentation scanner: inout RDataScanner) throws(PresentationError)
    /// The RDATA in presentation format, as BIND's canonical dump writes it (without line splits).
    var presentation: String { get }
    var rdata: RData { get }
    static func extract(_ rdata: RData) -> Self?
}

/// The data of any record: one case per known type, and RFC 3597 opaque bytes for the rest.
public enum RData: Hashable, Sendable, CustomStringConvertible {
    case a(ARecord)
    case aaaa(AAAARecord)
    case ns(NSRecord)
    case cname(CNAMERecord)
    case dname(DNAMERecord)
    case soa(SOARecord)
    case ptr(PTRRecord)
    case mx(MXRecord)
    case txt(TXTRecord)
    case spf(SPFRecord)
    case srv(SRVRecord)
    case naptr(NAPTRRecord)
    case caa(CAARecord)
    case tlsa(TLSARecord)
    case sshfp(SSHFPRecord)
    case ds(DSRecord)
    case cds(CDSRecord)
    case dnskey(DNSKEYRecord)
    case cdnskey(CDNSKEYRecord)
    case rrsig(RRSIGRecord)
    case nsec(NSECRecord)
    case nsec3(NSEC3Record)
    case nsec3param(NSEC3PARAMRecord)
    case zonemd(ZONEMDRecord)
    case svcb(SVCBRecord)
    case https(HTTPSRecord)
    case loc(LOCRecord)
    case hinfo(HINFORecord)
    case uri(URIRecord)
    case opt(OPTRecord)
    case tsig(TSIGRecord)
    case unknown(UnknownRecord)

    /// Every type with a dedicated struct.
    static let knownTypes: [RecordType: any RecordData.Type] = {
        let all: [any RecordData.Type] = [
            ARecord.self, AAAARecord.self, NSRecord.self, CNAMERecord.self, DNAMERecord.self, SOARecord.self,
            PTRRecord.self, MXRecord.self, TXTRecord.self, SPFRecord.self, SRVRecord.self, NAPTRRecord.self,
            CAARecord.self, TLSARecord.self, SSHFPRecord.self, DSRecord.self, CDSRecord.self, DNSKEYRecord.self,
            CDNSKEYRecord.self, RRSIGRecord.self, NSECRecord.self, NSEC3Record.self, NSEC3PARAMRecord.self,
            ZONEMDRecord.self, SVCBRecord.self, HTTPSRecord.self, LOCRecord.self, HINFORecord.self, URIRecord.self,
            OPTRecord.self, TSIGRecord.self,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })
    }()

    public var payload: (any RecordData)? {
        switch self {
        case .a(let value): return value
        case .aaaa(let value): return value
        case .ns(let value): return value
        case .cname(let value): return value
        case .dname(let value): return value
        case .soa(let value): return value
        case .ptr(let value): return value
        case .mx(let value): return value
        case .txt(let value): return value
        case .spf(let value): return value
        case .srv(let value): return value
        case .naptr(let value): return value
        case .caa(let value): return value
        case .tlsa(let value): return value
        case .sshfp(let value): return value
        case .ds(let value): return value
        case .cds(let value): return value
        case .dnskey(let value): return value
        case .cdnskey(let value): return value
        case .rrsig(let value): return value
        case .nsec(let value): return value
        case .nsec3(let value): return value
        case .nsec3param(let value): return value
        case .zonemd(let value): return value
        case .svcb(let value): return value
        case .https(let value): return value
        case .loc(let value): return value
        case .hinfo(let value): return value
        case .uri(let value): return value
        case .opt(let value): return value
        case .tsig(let value): return value
        case .unknown: return nil
        }
    }

    public var type: RecordType {
        if case .unknown(let unknown) = self { return unknown.type }
        return payload.map { Swift.type(of: $0).type } ?? .any
    }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        switch self {
        case .a(let value): writer.write(value.address.value)
        case .unknown(let value): writer.write(bytes: value.bytes)
        default:
            if let payload { try payload.encode(into: &writer) }
        }
    }

    /// The uncompressed wire form of the data alone (what RFC 3597 `\#` and DNSSEC work on).
    public func wireBytes(mode: MessageWriter.Mode = .uncompressed) -> [UInt8] {
        var writer = MessageWriter(mode: mode)
        // Encoding only fails when a field exceeds its length prefix, which parsing already ruled out.
        do { try encode(into: &writer) } catch { return [] }
        return writer.bytes
    }

    public var presentation: String {
        if case .unknown(let value) = self { return value.presentation }
        return payload?.presentation ?? ""
    }

    public var description: String { presentation }

    /// Decodes RDATA of `type` from a reader bounded to it; unknown types keep their bytes.
    public static func decode(type: RecordType, from reader: inout WireReader) throws(WireError) -> RData {
        let data: RData
        if let known = knownTypes[type] {
            data = try known.init(wire: &reader).rdata
        } else {
            data = .unknown(UnknownRecord(type: type, bytes: Array(reader.readRemainingBytes())))
        }
        try reader.expectEnd()
        return data
    }

    /// Parses RDATA of `type` from presentation tokens, including the RFC 3597 `\# length hex` form for any type.
    public static func parse(type: RecordType, from scanner: inout RDataScanner) throws(PresentationError) -> RData {
        if let first = scanner.peek(), !first.quoted, first.text == Array("\\#".utf8) {
            _ = try scanner.next("\\#")
            let lengthToken = scanner.peek()
            let length = try scanner.integer("the data length", as: UInt16.self)
            let bytes = length == 0 ? [] : try scanner.hexRest("the data in hex")
            guard bytes.count == Int(length) else {
                throw scanner.error("data is \(bytes.count) bytes, not \(length)", at: lengthToken)
            }
            // No data at all is the empty RDATA of RFC 2136 deletes and prerequisites (class ANY or
            // NONE), which the wire decoder also keeps as unknown: `\# 0` reads back to it.
            guard let known = knownTypes[type], !bytes.isEmpty else {
                return .unknown(UnknownRecord(type: type, bytes: bytes))
            }
            var reader = WireReader(bytes)
            do {
                let data = try known.init(wire: &reader).rdata
                try reader.expectEnd()
                return data
            } catch {
                throw scanner.error("\\# data is not valid \(type): \(error)", at: lengthToken)
            }
        }
        guard let known = knownTypes[type] else {
            throw scanner.error("\(type) data must be in the \\# form (RFC 3597)", at: scanner.peek())
        }
        let data = try known.init(presentation: &scanner).rdata
        try scanner.expectEnd()
        return data
    }

    /// Canonical RDATA order (RFC 4034 §6.3): compare canonical wire forms as unsigned bytes.
    public static func canonicalLess(_ lhs: RData, _ rhs: RData) -> Bool {
        lhs.wireBytes(mode: .canonical).lexicographicallyPrecedes(rhs.wireBytes(mode: .canonical))
    }
}

/// A record of a type this library has no struct for, kept as bytes (RFC 3597).
public struct UnknownRecord: Hashable, Sendable {
    public var type: RecordType
    public var bytes: [UInt8]

    public init(type: RecordType, bytes: [UInt8]) {
        self.type = type
        self.bytes = bytes
    }

    public var presentation: String {
        bytes.isEmpty ? "\\# 0" : "\\# \(bytes.count) \(TextEncoding.hex(bytes))"
    }
}

/// DNSSEC timestamps: `YYYYMMDDHHmmSS` in UTC (RFC 4034 §3.2), seconds since 1970 modulo 2^32.
public enum DNSSECTime {
    public static func format(_ seconds: UInt32) -> String {
        let total = Int64(seconds)
        let days = total / 86_400
        let rest = total % 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))\(two(rest / 3600))\(two(rest / 60 % 60))\(two(rest % 60))"
    }

    /// Accepts the 14-digit form or a plain number of seconds.
    public static func parse(_ text: String) -> UInt32? {
        let digits = Array(text.utf8)
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if digits.count != 14 { return digits.count <= 10 ? UInt32(text) : nil }
        func number(_ range: Range<Int>) -> Int64 { digits[range].reduce(0) { $0 * 10 + Int64($1 - 0x30) } }
        let year = number(0..<4)
        let month = number(4..<6)
        let day = number(6..<8)
        let hour = number(8..<10)
        let minute = number(10..<12)
        let second = number(12..<14)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60, year >= 1970
        else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return UInt32(truncatingIfNeeded: seconds)
    }

    // Howard Hinnant's civil calendar algorithms, for the proleptic Gregorian calendar.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (negative before).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Type bitmaps of NSEC and NSEC3 (RFC 4034 §4.1.2): windows of up to 32 bytes.
enum TypeBitmap {
    static func encode(_ types: [RecordType], into writer: inout MessageWriter) {
        let sorted = Set(types).sorted()
        var index = 0
        while index < sorted.count {
            let window = sorted[index].rawValue >> 8
            var bits = [UInt8](repeating: 0, count: 32)
            var used = 0
            while index < sorted.count, sorted[index].rawValue >> 8 == window {
                let low = Int(sorted[index].rawValue & 0xFF)
                bits[low / 8] |= 0x80 >> UInt8(low % 8)
                used = low / 8 + 1
                index += 1
            }
            writer.write(UInt8(window))
            writer.write(UInt8(used))
            writer.write(bytes: bits[..<used])
        }
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> [RecordType] {
        var types: [RecordType] = []
        var previousWindow = -1
        while !reader.isAtEnd {
            let window = Int(try reader.readUInt8())
            guard window > previousWindow else { throw reader.invalid("type bitmap windows out of order") }
            previousWindow = window
            let length = Int(try reader.readUInt8())
            guard (1...32).contains(length) else { throw reader.invalid("type bitmap window of \(length) bytes") }
            let bits = try reader.readBytes(length)
            for (byteIndex, byte) in bits.enumerated() {
                for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 {
                    types.append(RecordType(rawValue: UInt16(window << 8 | (byteIndex * 8 + bit))))
                }
            }
        }
        return types
    }

    static func present(_ types: [RecordType]) -> String {
        types.map(\.description).joined(separator: " ")
    }
}

extension WireReader {
    /// A length-prefixed byte string (a character string, a salt, a MAC) as an array.
    mutating func readPrefixedBytes(_ width: LengthWidth) throws(WireError) -> [UInt8] {
        var body = try readLengthPrefixed(width)
        return Array(body.readRemainingBytes())
    }
}
