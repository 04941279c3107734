import DNS

/// One change of a zone from one serial to the next: what IXFR (RFC 1995) sends instead of the
/// whole zone.
public struct ZoneDifference: Sendable, Equatable {
    public let from: ResourceRecord
    public let to: ResourceRecord
    public let deleted: [ResourceRecord]
    public let added: [ResourceRecord]

    var fromSerial: UInt32 { Self.serial(from) }
    var toSerial: UInt32 { Self.serial(to) }

    static func serial(_ soa: ResourceRecord) -> UInt32 {
        if case .soa(let data) = soa.data { return data.serial }
        return 0
    }

    /// The difference between two versions of a zone, or nil when they cannot be told apart by
    /// serial (same serial, or no SOA).
    init?(from old: Zone, to new: Zone) {
        guard let oldSOA = Self.soaRecord(old), let newSOA = Self.soaRecord(new),
            Self.serial(oldSOA) != Self.serial(newSOA)
        else { return nil }
        let before = Set(old.canonicalRecords.filter { $0.type != .soa })
        let after = Set(new.canonicalRecords.filter { $0.type != .soa })
        from = oldSOA
        to = newSOA
        deleted = old.canonicalRecords.filter { $0.type != .soa && !after.contains($0) }
        added = new.canonicalRecords.filter { $0.type != .soa && !before.contains($0) }
    }

    static func soaRecord(_ zone: Zone) -> ResourceRecord? {
        guard let set = zone.rrset(.soa, at: zone.origin), let data = set.data.first else { return nil }
        return ResourceRecord(name: zone.origin, ttl: set.ttl, data: data)
    }
}

/// The latest differences of one zone, oldest first, each starting where the previous ended.
struct ZoneJournal: Sendable {
    static let limit = 100
    private(set) var differences: [ZoneDifference] = []

    /// Records the change from `old` to `new`; a change that does not continue the chain (the
    /// serial went backwards, or stayed while the data changed) starts it afresh.
    mutating func record(from old: Zone, to new: Zone) {
        if let oldSOA = ZoneDifference.soaRecord(old), let newSOA = ZoneDifference.soaRecord(new),
            ZoneDifference.serial(oldSOA) == ZoneDifference.serial(newSOA)
        {
            // A reload of the same version keeps the chain; the same serial over new data breaks it.
            if old.canonicalRecords != new.canonicalRecords { differences = [] }
            return
        }
        guard let difference = ZoneDifference(from: old, to: new),
            serialIsNewer(difference.toSerial, than: difference.fromSerial)
        else {
            differences = []
            return
        }
        if let last = differences.last, last.toSerial != difference.fromSerial { differences = [] }
        differences.append(difference)
        if differences.count > Self.limit { differences.removeFirst(differences.count - Self.limit) }
    }

    /// The differences from `serial` to the current version, or nil when the journal does not
    /// reach back that far.
    func differences(since serial: UInt32) -> ArraySlice<ZoneDifference>? {
        guard let start = differences.firstIndex(where: { $0.fromSerial == serial }) else { return nil }
        return differences[start...]
    }
}
