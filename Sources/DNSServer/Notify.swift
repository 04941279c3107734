import DNS

extension Authority {
    /// A NOTIFY (RFC 1996) announcing the zone's current SOA to a secondary, or nil when this
    /// server has no such zone.
    public func notify(_ origin: DomainName, id: UInt16) -> Message? {
        guard let indexed = zones[origin], let soa = indexed.soa, let data = soa.records.first else { return nil }
        return Message(
            id: id, opcode: .notify, authoritative: true, questions: [Question(name: origin, type: .soa)],
            answers: [ResourceRecord(name: origin, ttl: soa.ttl, data: .soa(data))])
    }

    /// The zones whose SOA serial differs between `self` and `newer`, plus those only `newer`
    /// has: the ones secondaries should hear about after a reload.
    public func changedZones(in newer: Authority) -> [DomainName] {
        newer.zones.compactMap { origin, zone in
            zone.soa?.records.first?.serial == zones[origin]?.soa?.records.first?.serial ? nil : origin
        }.sorted()
    }
}
