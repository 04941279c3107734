/// A set of records of one type at one name, sharing one TTL (RFC 2181 §5).
public struct RRSet<Data: RecordData>: Hashable, Sendable {
    public var ttl: UInt32
    public var records: [Data]

    public init(ttl: UInt32, records: [Data]) {
        self.ttl = ttl
        self.records = records
    }
}

/// The key of a typed lookup: its type parameter fixes what the lookup returns, so asking for
/// `.a` can only yield IPv4 addresses and `.mx` only mail exchanges (ocaml-dns's `Rr_map` idea).
public struct RecordKey<Data: RecordData>: Hashable, Sendable {
    public var type: RecordType { Data.type }
    public init() {}
}

extension RecordKey where Data == ARecord { public static var a: Self { Self() } }
extension RecordKey where Data == AAAARecord { public static var aaaa: Self { Self() } }
extension RecordKey where Data == NSRecord { public static var ns: Self { Self() } }
extension RecordKey where Data == CNAMERecord { public static var cname: Self { Self() } }
extension RecordKey where Data == DNAMERecord { public static var dname: Self { Self() } }
extension RecordKey where Data == SOARecord { public static var soa: Self { Self() } }
extension RecordKey where Data == PTRRecord { public static var ptr: Self { Self() } }
extension RecordKey where Data == MXRecord { public static var mx: Self { Self() } }
extension RecordKey where Data == TXTRecord { public static var txt: Self { Self() } }
extension RecordKey where Data == SPFRecord { public static var spf: Self { Self() } }
extension RecordKey where Data == SRVRecord { public static var srv: Self { Self() } }
extension RecordKey where Data == NAPTRRecord { public static var naptr: Self { Self() } }
extension RecordKey where Data == CAARecord { public static var caa: Self { Self() } }
extension RecordKey where Data == TLSARecord { public static var tlsa: Self { Self() } }
extension RecordKey where Data == SSHFPRecord { public static var sshfp: Self { Self() } }
extension RecordKey where Data == DSRecord { public static var ds: Self { Self() } }
extension RecordKey where Data == CDSRecord { public static var cds: Self { Self() } }
extension RecordKey where Data == DNSKEYRecord { public static var dnskey: Self { Self() } }
extension RecordKey where Data == CDNSKEYRecord { public static var cdnskey: Self { Self() } }
extension RecordKey where Data == RRSIGRecord { public static var rrsig: Self { Self() } }
extension RecordKey where Data == NSECRecord { public static var nsec: Self { Self() } }
extension RecordKey where Data == NSEC3Record { public static var nsec3: Self { Self() } }
extension RecordKey where Data == NSEC3PARAMRecord { public static var nsec3param: Self { Self() } }
extension RecordKey where Data == ZONEMDRecord { public static var zonemd: Self { Self() } }
extension RecordKey where Data == SVCBRecord { public static var svcb: Self { Self() } }
extension RecordKey where Data == HTTPSRecord { public static var https: Self { Self() } }
extension RecordKey where Data == LOCRecord { public static var loc: Self { Self() } }
extension RecordKey where Data == HINFORecord { public static var hinfo: Self { Self() } }
extension RecordKey where Data == URIRecord { public static var uri: Self { Self() } }

/// An RRset whose type is only known at run time (what a server answers with).
public struct AnyRRSet: Hashable, Sendable {
    public var type: RecordType
    public var ttl: UInt32
    public var data: [RData]
}

/// All the RRsets at one name. Typed access goes through `RecordKey`; `AnyRRSet` access by type
/// code is there for code that answers whatever type was asked.
public struct RecordMap: Hashable, Sendable {
    private(set) var sets: [RecordType: AnyRRSet] = [:]
    /// RRSIGs kept per covered type, since each covered RRset's signatures have that set's TTL.
    private(set) var signatures: [RecordType: AnyRRSet] = [:]

    public init() {}

    public subscript<Data: RecordData>(key: RecordKey<Data>) -> RRSet<Data>? {
        get {
            guard let set = rrset(Data.type) else { return nil }
            return RRSet(ttl: set.ttl, records: set.data.compactMap(Data.extract))
        }
        set {
            if Data.type == .rrsig { signatures = [:] }
            sets[Data.type] = nil
            for record in newValue?.records ?? [] { add(record.rdata, ttl: newValue?.ttl ?? 0) }
        }
    }

    /// The RRset of a type; for RRSIG, every signature at the name together.
    public func rrset(_ type: RecordType) -> AnyRRSet? {
        guard type == .rrsig else { return sets[type] }
        let all = signatures.keys.sorted().compactMap { signatures[$0] }
        guard let first = all.first else { return nil }
        return AnyRRSet(type: .rrsig, ttl: first.ttl, data: all.flatMap(\.data))
    }

    /// The signatures over one type's RRset.
    public func signatures(covering type: RecordType) -> AnyRRSet? { signatures[type] }

    /// Every RRset, RRSIGs split by the type they cover.
    public var allSets: [AnyRRSet] { Array(sets.values) + Array(signatures.values) }

    public var types: [RecordType] { (Array(sets.keys) + (signatures.isEmpty ? [] : [.rrsig])).sorted() }
    public var isEmpty: Bool { sets.isEmpty && signatures.isEmpty }

    /// Adds one record's data; a duplicate is ignored, and the set keeps the TTL it was created
    /// with (BIND's rule when a zone gives one RRset two TTLs).
    public mutating func add(_ data: RData, ttl: UInt32) {
        if case .rrsig(let signature) = data {
            Self.insert(data, ttl: ttl, type: .rrsig, into: &signatures[signature.typeCovered])
        } else {
            Self.insert(data, ttl: ttl, type: data.type, into: &sets[data.type])
        }
    }

    private static func insert(_ data: RData, ttl: UInt32, type: RecordType, into set: inout AnyRRSet?) {
        if set == nil { set = AnyRRSet(type: type, ttl: ttl, data: []) }
        if set?.data.contains(data) == false { set?.data.append(data) }
    }
}
