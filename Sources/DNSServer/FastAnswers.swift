import DNS

/// The common case answered without decoding a `Message`: a plain query (no EDNS, no TSIG, one
/// question, only RD among the flags) for a name that exists in one of our zones, outside any
/// delegation or DNAME, with an RRset of the asked type that needs no additional records and no
/// CNAME chase. Everything else returns false and goes the full way through `Responder`; for
/// what it does answer, the bytes are exactly what `Responder` would send (a test checks that).
public final class FastAnswers: Sendable {
    private let index: NameIndex

    /// Types whose answer is the RRset alone (NS, MX and SRV bring addresses in the additional
    /// section; ANY, CNAME chasing, DNSSEC and meta types need the full path).
    static func answersAlone(_ type: RecordType) -> Bool {
        switch type {
        case .a, .aaaa, .txt, .soa, .ptr, .caa, .tlsa, .sshfp, .hinfo, .naptr, .svcb, .https, .uri, .loc, .spf,
            .dnskey, .ds, .cname:
            return true
        default:
            return false
        }
    }

    public init(_ authority: Authority) {
        var entries: [(DomainName, RecordMap)] = []
        for (origin, zone) in authority.zones {
            for (name, map) in zone.zone.nodes
            where !Self.isInterrupted(name, origin: origin, cuts: zone.interruptingSet) {
                entries.append((name, map))
            }
        }
        index = NameIndex(entries: entries)
    }

    /// Whether `name` is a delegation or DNAME owner below the apex, or lies below one.
    private static func isInterrupted(_ name: DomainName, origin: DomainName, cuts: Set<DomainName>) -> Bool {
        guard !cuts.isEmpty else { return false }
        var current: DomainName? = name
        while let candidate = current, candidate != origin {
            if cuts.contains(candidate) { return true }
            current = candidate.parent
        }
        return false
    }

    /// Writes the answer into `writer` and returns true, or returns false (writer unspecified)
    /// when the query needs the full path.
    public func answer(_ query: [UInt8], into writer: inout MessageWriter) -> Bool {
        // Header: only RD may be set among the flags; exactly one question and nothing else.
        guard query.count > 12, query[2] & 0xFE == 0, query[3] == 0, query[6] | query[7] | query[8] | query[9] == 0,
            query[10] | query[11] == 0
        else { return false }
        guard let view = try? QueryView(query), view.questionEnd == query.count, view.recordClass == .internet,
            Self.answersAlone(view.type), let node = index.records(nameIn: query, range: view.nameRange)
        else { return false }
        if view.type != .cname, node.rrset(.cname) != nil { return false }
        guard let set = node.rrset(view.type), !set.data.isEmpty else { return false }
        writer.reset()
        guard (try? writer.writeAnswer(to: view, queryBytes: query, answers: set)) != nil, writer.count <= 512 else {
            return false
        }
        return true
    }
}
