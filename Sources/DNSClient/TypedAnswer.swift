import DNS

extension ClientResponse {
    /// The answer for `name` as a typed RRset: CNAMEs in the answer section are followed (at most
    /// 16, so a loop ends), and the key fixes the type, so `.mx` can only give `MXRecord`s.
    public func answer<Data: RecordData>(_ key: RecordKey<Data>, for name: DomainName) -> RRSet<Data>? {
        var owner = name
        var followed: Set<DomainName> = []
        for _ in 0..<16 {
            let here = message.answers.filter { $0.name == owner && $0.recordClass == .internet }
            let matching = here.filter { $0.type == key.type }
            if let first = matching.first {
                return RRSet(ttl: first.ttl, records: matching.compactMap { Data.extract($0.data) })
            }
            guard key.type != .cname, followed.insert(owner).inserted,
                let alias = here.lazy.compactMap({ record -> DomainName? in
                    if case .cname(let cname) = record.data { return cname.target }
                    return nil
                }).first
            else { return nil }
            owner = alias
        }
        return nil
    }

    /// The name the answer's CNAME chain ends at (the name itself when there is none).
    public func canonicalName(for name: DomainName) -> DomainName {
        var owner = name
        for _ in 0..<16 {
            guard
                let alias = message.answers.lazy.compactMap({ record -> DomainName? in
                    guard record.name == owner, case .cname(let cname) = record.data else { return nil }
                    return cname.target
                }).first
            else { break }
            owner = alias
        }
        return owner
    }
}
