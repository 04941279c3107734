import DNS

/// One walk through a zone for one question, following CNAME and DNAME within the zone.
struct Resolution {
    /// CNAME and DNAME links followed before giving up (a loop or a long chain).
    static let maximumChain = 8

    let dnssec: Bool
    var authoritative = true
    var rcode = ResponseCode.noError
    var answers: [ResourceRecord] = []
    var authority: [ResourceRecord] = []
    var additional: [ResourceRecord] = []
    /// Names already resolved in this walk (a chain is at most `maximumChain` long, so an array
    /// is cheaper than hashing).
    private var visited: [DomainName] = []

    init(dnssec: Bool) {
        self.dnssec = dnssec
    }

    mutating func resolve(_ name: DomainName, type: RecordType, in zone: IndexedZone) {
        guard !visited.contains(name), visited.count < Self.maximumChain else { return }
        visited.append(name)

        // Walk down from the apex: a delegation (NS below the apex) or a DNAME above the name
        // takes over before the name itself is looked at.
        for ancestor in zone.interruptions(above: name) {
            guard let node = zone.zone.nodes[ancestor] else { continue }
            let isCut = ancestor != zone.origin && node.rrset(.ns) != nil
            // DS lives on the parent side of the cut it describes.
            if isCut && !(ancestor == name && type == .ds) {
                refer(to: ancestor, node: node, in: zone)
                return
            }
            if ancestor != name, let dname = node[.dname], let link = dname.records.first {
                substitute(name, owner: ancestor, dname: dname, link: link, type: type, in: zone)
                return
            }
        }

        if let node = zone.zone.nodes[name] {
            answer(name, node: node, type: type, in: zone)
        } else if zone.existingNames.contains(name) {
            deny(.noError, in: zone)  // an empty non-terminal exists but has no data
            prove(.noData(name, wildcard: nil), in: zone)
        } else if let (owner, node) = wildcard(for: name, in: zone) {
            answer(name, node: node, type: type, in: zone, synthesizedFrom: owner)
        } else {
            deny(.nameError, in: zone)
            prove(.noName(name), in: zone)
        }
    }

    /// Answers `name` from a node: its own, or the wildcard's that synthesises it.
    private mutating func answer(
        _ name: DomainName, node: RecordMap, type: RecordType, in zone: IndexedZone,
        synthesizedFrom wildcard: DomainName? = nil
    ) {
        // ANY matches the CNAME itself, so only other types follow it (as NSD does).
        if type != .cname, type != .any, let cname = node.rrset(.cname), case .cname(let link) = cname.data.first {
            append(cname, at: name, node: node, to: \.answers)
            if wildcard != nil { prove(.wildcardAnswer(name), in: zone) }
            if link.target.isSubdomain(of: zone.origin) {
                resolve(link.target, type: type, in: zone)
            }
            return
        }
        if type == .any {
            // RFC 8482: one RRset is enough. At the apex the SOA (as NSD does); elsewhere the lowest
            // type, so the answer is stable.
            let candidates = node.types.filter { $0 != .rrsig && $0 != .nsec }
            let choice = candidates.contains(.soa) ? .soa : candidates.first
            guard let choice, let set = node.rrset(choice) else {
                deny(.noError, in: zone)
                return prove(.noData(name, wildcard: wildcard), in: zone)
            }
            append(set, at: name, node: node, to: \.answers)
            if wildcard != nil { prove(.wildcardAnswer(name), in: zone) }
            return
        }
        guard let set = node.rrset(type) else {
            deny(.noError, in: zone)
            return prove(.noData(name, wildcard: wildcard), in: zone)
        }
        append(set, at: name, node: node, to: \.answers)
        if wildcard != nil { prove(.wildcardAnswer(name), in: zone) }
        addAddresses(for: set.data.compactMap(\.additionalTarget), in: zone)
    }

    private mutating func refer(to cut: DomainName, node: RecordMap, in zone: IndexedZone) {
        guard let nameservers = node.rrset(.ns) else { return }
        authoritative = answers.isEmpty ? false : authoritative
        append(nameservers, at: cut, node: node, to: \.authority, signed: false)
        if dnssec, let ds = node.rrset(.ds) {
            append(ds, at: cut, node: node, to: \.authority)
        } else {
            prove(.noDS(cut), in: zone)
        }
        // Glue: addresses of name servers at or below the cut are only reachable through it.
        addAddresses(for: nameservers.data.compactMap(\.additionalTarget), in: zone, includeBelowCuts: true)
    }

    private mutating func substitute(
        _ name: DomainName, owner: DomainName, dname: RRSet<DNAMERecord>, link: DNAMERecord, type: RecordType,
        in zone: IndexedZone
    ) {
        guard let node = zone.zone.nodes[owner], let set = node.rrset(.dname) else { return }
        append(set, at: owner, node: node, to: \.answers)
        guard let target = try? name.replacingSuffix(owner, with: link.target) else {
            // RFC 6672 §2.2: a substituted name longer than 255 octets is YXDOMAIN.
            rcode = ResponseCode(rawValue: 6)
            return
        }
        answers.append(
            ResourceRecord(name: name, ttl: dname.ttl, data: .cname(CNAMERecord(target: target))))
        // The synthesised CNAME is itself the answer to a CNAME query.
        if type != .cname, target.isSubdomain(of: zone.origin) {
            resolve(target, type: type, in: zone)
        }
    }

    /// NXDOMAIN or NODATA: the zone's SOA in the authority section, with the negative TTL of
    /// RFC 2308 §3 (the smaller of the SOA's TTL and its MINIMUM field). After a CNAME chain the
    /// code describes the chain's last name (RFC 6604).
    private mutating func deny(_ code: ResponseCode, in zone: IndexedZone) {
        rcode = code
        guard let soa = zone.soa, let record = soa.records.first else { return }
        authority.append(
            ResourceRecord(name: zone.origin, ttl: min(soa.ttl, record.minimum), data: .soa(record)))
        if dnssec, let signatures = zone.zone.nodes[zone.origin]?.signatures(covering: .soa) {
            for signature in signatures.data {
                authority.append(ResourceRecord(name: zone.origin, ttl: min(soa.ttl, record.minimum), data: signature))
            }
        }
    }

    /// RFC 4592 §3.3.1: the source of synthesis is `*.` plus the closest encloser, the longest
    /// existing ancestor of the name.
    private func wildcard(for name: DomainName, in zone: IndexedZone) -> (owner: DomainName, node: RecordMap)? {
        guard let encloser = closestEncloser(of: name, in: zone),
            let wildcard = try? encloser.prepending(label: [UInt8(ascii: "*")]), let node = zone.zone.nodes[wildcard]
        else { return nil }
        return (wildcard, node)
    }

    /// The longest existing ancestor of a name that does not exist (RFC 4592 §3.3.1).
    private func closestEncloser(of name: DomainName, in zone: IndexedZone) -> DomainName? {
        var encloser = name.parent
        while let candidate = encloser, candidate.isSubdomain(of: zone.origin) {
            if zone.existingNames.contains(candidate) { return candidate }
            encloser = candidate.parent
        }
        return nil
    }

    /// What a signed negative or synthesised answer must prove.
    private enum Denial {
        /// The name does not exist, and no wildcard could have made it.
        case noName(DomainName)
        /// The name exists (or the wildcard that made it does) without the asked type.
        case noData(DomainName, wildcard: DomainName?)
        /// A wildcard made the answer: the name itself does not exist.
        case wildcardAnswer(DomainName)
        /// A delegation without DS (an insecure child).
        case noDS(DomainName)
    }

    /// Adds the NSEC or NSEC3 records, with their signatures, that prove `denial` (RFC 4035
    /// §3.1.3, RFC 5155 §7.2), when DO was set and the zone is signed.
    private mutating func prove(_ denial: Denial, in zone: IndexedZone) {
        guard dnssec, let chain = zone.denialChain else { return }
        var owners: [DomainName?] = []
        if chain.isNSEC3 {
            switch denial {
            case .noName(let name):
                let encloser = closestEncloser(of: name, in: zone)
                owners = [
                    encloser.flatMap(chain.nsec3Match),
                    encloser.flatMap { nextCloser(name, $0) }.flatMap(chain.nsec3Cover),
                    encloser.flatMap { try? $0.prepending(label: [UInt8(ascii: "*")]) }.flatMap(chain.nsec3Cover),
                ]
            case .noData(let name, nil):
                owners = [chain.nsec3Match(name)]
                // Asked for a wildcard's own name: its closest encloser is proved too, as NSD does.
                if name.labels.first.map(Array.init) == [UInt8(ascii: "*")] {
                    owners.append(name.parent.flatMap(chain.nsec3Match))
                }
            case .noData(let name, let wildcard?):
                let encloser = wildcard.parent
                owners = [
                    encloser.flatMap(chain.nsec3Match),
                    encloser.flatMap { nextCloser(name, $0) }.flatMap(chain.nsec3Cover),
                    chain.nsec3Match(wildcard),
                ]
            case .wildcardAnswer(let name):
                owners = [
                    closestEncloser(of: name, in: zone).flatMap { nextCloser(name, $0) }.flatMap(chain.nsec3Cover)
                ]
            case .noDS(let cut):
                owners = [chain.nsec3Match(cut)]
            }
        } else {
            switch denial {
            case .noName(let name):
                let wildcard = closestEncloser(of: name, in: zone).flatMap {
                    try? $0.prepending(label: [UInt8(ascii: "*")])
                }
                owners = [chain.nsecOwner(for: name), wildcard.flatMap(chain.nsecOwner)]
            case .noData(let name, let wildcard):
                owners = [chain.nsecOwner(for: name), wildcard.flatMap(chain.nsecOwner)]
            case .wildcardAnswer(let name), .noDS(let name):
                owners = [chain.nsecOwner(for: name)]
            }
        }
        let type: RecordType = chain.isNSEC3 ? .nsec3 : .nsec
        for case let owner? in owners {
            guard let node = zone.zone.nodes[owner], let set = node.rrset(type) else { continue }
            guard !authority.contains(where: { $0.name == owner && $0.type == type }) else { continue }
            append(set, at: owner, node: node, to: \.authority)
        }
    }

    /// The ancestor of `name` one label below its closest encloser (RFC 5155 §1.3).
    private func nextCloser(_ name: DomainName, _ encloser: DomainName) -> DomainName? {
        let keep = encloser.labelCount + 1
        guard keep <= name.labelCount else { return nil }
        return try? DomainName(labels: Array(name.labels.suffix(keep)))
    }

    /// A/AAAA for names that MX, NS, SRV and similar records point at, when this zone has them.
    private mutating func addAddresses(
        for targets: [DomainName], in zone: IndexedZone, includeBelowCuts: Bool = false
    ) {
        for target in targets where target.isSubdomain(of: zone.origin) {
            guard let node = zone.zone.nodes[target] else { continue }
            if !includeBelowCuts && isBelowCut(target, in: zone) { continue }
            let glue = isBelowCut(target, in: zone)
            for type in [RecordType.a, .aaaa] {
                guard let set = node.rrset(type) else { continue }
                let records = set.data.map { ResourceRecord(name: target, ttl: set.ttl, data: $0) }
                let fresh = records.filter { !additional.contains($0) && !answers.contains($0) }
                additional += fresh
                // Our own addresses are signed data; glue below a cut is not (RFC 4035 §3.1.4).
                if dnssec, !glue, !fresh.isEmpty, let signatures = node.signatures(covering: type) {
                    additional += signatures.data.map { ResourceRecord(name: target, ttl: signatures.ttl, data: $0) }
                }
            }
        }
    }

    private func isBelowCut(_ name: DomainName, in zone: IndexedZone) -> Bool {
        zone.interruptions(above: name).contains {
            $0 != zone.origin && zone.zone.nodes[$0]?.rrset(.ns) != nil
        }
    }

    private mutating func append(
        _ set: AnyRRSet, at name: DomainName, node: RecordMap,
        to section: WritableKeyPath<Resolution, [ResourceRecord]>, signed: Bool = true
    ) {
        for data in set.data {
            self[keyPath: section].append(ResourceRecord(name: name, ttl: set.ttl, data: data))
        }
        if dnssec && signed, let signatures = node.signatures(covering: set.type) {
            // Signatures from a wildcard keep the wildcard's label count, which is how a validator
            // recognises the synthesis (RFC 4035 §5.3.4).
            for signature in signatures.data {
                self[keyPath: section].append(ResourceRecord(name: name, ttl: signatures.ttl, data: signature))
            }
        }
    }
}

extension RData {
    /// The name whose addresses belong in the additional section (RFC 1035 §3.3 and successors).
    var additionalTarget: DomainName? {
        switch self {
        case .ns(let record): return record.target
        case .mx(let record): return record.exchange
        case .srv(let record): return record.target
        default: return nil
        }
    }
}

extension DomainName {
    /// `name` with its suffix `owner` replaced by `target` (DNAME substitution).
    func replacingSuffix(_ owner: DomainName, with target: DomainName) throws(NameError) -> DomainName {
        let keep = labelCount - owner.labelCount
        return try DomainName(labels: Array(labels.prefix(keep)) + target.labels)
    }
}
