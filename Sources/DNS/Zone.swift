/// Why records do not form a zone.
public struct ZoneError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// The records of one zone, grouped by name into typed record maps.
public struct Zone: Sendable {
    public let origin: DomainName
    public let recordClass: RecordClass
    public private(set) var nodes: [DomainName: RecordMap] = [:]

    public init(origin: DomainName, recordClass: RecordClass = .internet) {
        self.origin = origin
        self.recordClass = recordClass
    }

    /// Builds a zone, checking that every name lies inside it and that the apex has exactly one SOA.
    public init(origin: DomainName, records: [ResourceRecord]) throws(ZoneError) {
        self.init(origin: origin)
        for record in records {
            guard record.name.isSubdomain(of: origin) else {
                throw ZoneError(reason: "\(record.name) is outside the zone \(origin)")
            }
            add(record)
        }
        guard let soa = nodes[origin]?[.soa] else { throw ZoneError(reason: "\(origin) has no SOA record") }
        guard soa.records.count == 1 else { throw ZoneError(reason: "\(origin) has \(soa.records.count) SOA records") }
    }

    public mutating func add(_ record: ResourceRecord) {
        nodes[record.name, default: RecordMap()].add(record.data, ttl: record.ttl)
    }

    public subscript<Data: RecordData>(key: RecordKey<Data>, at name: DomainName) -> RRSet<Data>? {
        nodes[name]?[key]
    }

    public func rrset(_ type: RecordType, at name: DomainName) -> AnyRRSet? {
        nodes[name]?.rrset(type)
    }

    /// Every record, in the order `named-checkzone -D` prints them: names in canonical order (the
    /// NSEC3 chain after the rest, as BIND keeps it apart), at each name SOA, then NS, then by type
    /// code with each type's RRSIGs right after it; data within a set in canonical order.
    public var canonicalRecords: [ResourceRecord] {
        let names = nodes.keys.sorted { lhs, rhs in
            let left = isNSEC3Node(lhs)
            let right = isNSEC3Node(rhs)
            if left != right { return right }
            return lhs < rhs
        }
        var result: [ResourceRecord] = []
        for name in names {
            guard let map = nodes[name] else { continue }
            var entries: [(order: Int, data: RData, ttl: UInt32)] = []
            for set in map.allSets {
                for data in set.data {
                    entries.append((dumpOrder(data), data, set.ttl))
                }
            }
            entries.sort { lhs, rhs in
                lhs.order != rhs.order ? lhs.order < rhs.order : RData.canonicalLess(lhs.data, rhs.data)
            }
            for entry in entries {
                result.append(ResourceRecord(name: name, recordClass: recordClass, ttl: entry.ttl, data: entry.data))
            }
        }
        return result
    }

    /// The zone in presentation format, one record per line with absolute names.
    public var canonicalText: String {
        canonicalRecords.map { "\($0)\n" }.joined()
    }

    private func isNSEC3Node(_ name: DomainName) -> Bool {
        guard let map = nodes[name] else { return false }
        if map[.nsec3] != nil { return true }
        return map[RecordKey.rrsig]?.records.contains { $0.typeCovered == .nsec3 } ?? false
    }
}

/// BIND's dump order: SOA, NS, then by type code, each RRSIG right after the type it covers.
private func dumpOrder(_ data: RData) -> Int {
    var type = Int(data.type.rawValue)
    var signature = 0
    if case .rrsig(let rrsig) = data {
        type = Int(rrsig.typeCovered.rawValue)
        signature = 1
    }
    switch type {
    case Int(RecordType.soa.rawValue): type = 0
    case Int(RecordType.ns.rawValue): type = 1
    default: type += 2
    }
    return type << 1 + signature
}
