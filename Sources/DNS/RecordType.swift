/// A resource record type code. Any 16-bit value is a valid type; the ones this library knows
/// have names, and every other prints as `TYPE65534` (RFC 3597).
public struct RecordType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(rawValue: 1)
    public static let ns = RecordType(rawValue: 2)
    public static let cname = RecordType(rawValue: 5)
    public static let soa = RecordType(rawValue: 6)
    public static let ptr = RecordType(rawValue: 12)
    public static let hinfo = RecordType(rawValue: 13)
    public static let mx = RecordType(rawValue: 15)
    public static let txt = RecordType(rawValue: 16)
    public static let aaaa = RecordType(rawValue: 28)
    public static let loc = RecordType(rawValue: 29)
    public static let srv = RecordType(rawValue: 33)
    public static let naptr = RecordType(rawValue: 35)
    public static let dname = RecordType(rawValue: 39)
    public static let opt = RecordType(rawValue: 41)
    public static let ds = RecordType(rawValue: 43)
    public static let sshfp = RecordType(rawValue: 44)
    public static let rrsig = RecordType(rawValue: 46)
    public static let nsec = RecordType(rawValue: 47)
    public static let dnskey = RecordType(rawValue: 48)
    public static let nsec3 = RecordType(rawValue: 50)
    public static let nsec3param = RecordType(rawValue: 51)
    public static let tlsa = RecordType(rawValue: 52)
    public static let cds = RecordType(rawValue: 59)
    public static let cdnskey = RecordType(rawValue: 60)
    public static let zonemd = RecordType(rawValue: 63)
    public static let svcb = RecordType(rawValue: 64)
    public static let https = RecordType(rawValue: 65)
    public static let spf = RecordType(rawValue: 99)
    public static let tsig = RecordType(rawValue: 250)
    public static let ixfr = RecordType(rawValue: 251)
    public static let axfr = RecordType(rawValue: 252)
    public static let any = RecordType(rawValue: 255)
    public static let uri = RecordType(rawValue: 256)
    public static let caa = RecordType(rawValue: 257)

    static let mnemonics: [(RecordType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.hinfo, "HINFO"), (.mx, "MX"),
        (.txt, "TXT"), (.aaaa, "AAAA"), (.loc, "LOC"), (.srv, "SRV"), (.naptr, "NAPTR"), (.dname, "DNAME"),
        (.opt, "OPT"), (.ds, "DS"), (.sshfp, "SSHFP"), (.rrsig, "RRSIG"), (.nsec, "NSEC"), (.dnskey, "DNSKEY"),
        (.nsec3, "NSEC3"), (.nsec3param, "NSEC3PARAM"), (.tlsa, "TLSA"), (.cds, "CDS"), (.cdnskey, "CDNSKEY"),
        (.zonemd, "ZONEMD"), (.svcb, "SVCB"), (.https, "HTTPS"), (.spf, "SPF"), (.tsig, "TSIG"), (.ixfr, "IXFR"),
        (.axfr, "AXFR"), (.any, "ANY"), (.uri, "URI"), (.caa, "CAA"),
    ]

    public var mnemonic: String? { Self.mnemonics.first { $0.0 == self }?.1 }

    public var description: String { mnemonic ?? "TYPE\(rawValue)" }

    /// Parses a mnemonic (any case) or the generic `TYPEnnn` form.
    public init?(_ text: some StringProtocol) {
        let upper = text.uppercased()
        if let known = Self.mnemonics.first(where: { $0.1 == upper }) {
            self = known.0
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public static func < (lhs: RecordType, rhs: RecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A record class; in practice IN, with CH, HS, NONE and ANY for the few places that use them.
public struct RecordClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = RecordClass(rawValue: 1)
    public static let chaos = RecordClass(rawValue: 3)
    public static let hesiod = RecordClass(rawValue: 4)
    public static let none = RecordClass(rawValue: 254)
    public static let any = RecordClass(rawValue: 255)

    private static let mnemonics: [(RecordClass, String)] = [
        (.internet, "IN"), (.chaos, "CH"), (.hesiod, "HS"), (.none, "NONE"), (.any, "ANY"),
    ]

    public var description: String { Self.mnemonics.first { $0.0 == self }?.1 ?? "CLASS\(rawValue)" }

    public init?(_ text: some StringProtocol) {
        let upper = text.uppercased()
        if let known = Self.mnemonics.first(where: { $0.1 == upper }) {
            self = known.0
        } else if upper.hasPrefix("CLASS"), let value = UInt16(upper.dropFirst(5)) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }
}
