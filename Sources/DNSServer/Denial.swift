import DNS
import DNSSecurity

/// A signed zone's chain of NSEC or NSEC3 records, indexed so a denial can be proved: which record
/// covers a name that does not exist, which one matches a name that does (RFC 4035 §3.1.3,
/// RFC 5155 §7.2).
struct DenialChain: Sendable {
    enum Kind: Sendable {
        /// NSEC owners in canonical order.
        case nsec([DomainName])
        /// NSEC3 owners by hashed name, in hash order, with the zone's hash parameters.
        case nsec3(salt: [UInt8], iterations: UInt16, hashes: [(hash: [UInt8], owner: DomainName)])
    }

    let kind: Kind

    /// The chain of a zone, or nil when the zone is not signed with NSEC or NSEC3.
    init?(_ zone: Zone) {
        if case .nsec3param(let parameters)? = zone.rrset(.nsec3param, at: zone.origin)?.data.first {
            var hashes: [(hash: [UInt8], owner: DomainName)] = []
            for (name, node) in zone.nodes where node.rrset(.nsec3) != nil {
                guard let label = name.labels.first,
                    let hash = TextEncoding.decodeBase32Hex(String(decoding: label, as: UTF8.self))
                else { continue }
                hashes.append((hash, name))
            }
            guard !hashes.isEmpty else { return nil }
            kind = .nsec3(
                salt: parameters.salt, iterations: parameters.iterations,
                hashes: hashes.sorted { $0.hash.lexicographicallyPrecedes($1.hash) })
        } else {
            let owners = zone.nodes.filter { $0.value.rrset(.nsec) != nil }.keys.sorted()
            guard !owners.isEmpty else { return nil }
            kind = .nsec(owners)
        }
    }

    /// NSEC: the owner of the record that matches `name` or covers it (the last owner not after
    /// it, wrapping to the last record of the chain).
    func nsecOwner(for name: DomainName) -> DomainName? {
        guard case .nsec(let owners) = kind, let last = owners.last else { return nil }
        var low = 0
        var high = owners.count
        while low < high {
            let middle = (low + high) / 2
            if DomainName.canonicalCompare(owners[middle], name) <= 0 { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? last : owners[low - 1]
    }

    /// NSEC3: the owner whose hash equals the hash of `name`, if any.
    func nsec3Match(_ name: DomainName) -> DomainName? {
        guard case .nsec3(let salt, let iterations, let hashes) = kind else { return nil }
        let hash = DNSSEC.nsec3Hash(name, salt: salt, iterations: iterations)
        return hashes.first { $0.hash == hash }?.owner
    }

    /// NSEC3: the owner of the record whose span covers the hash of `name` (the last hash before
    /// it, wrapping to the last record).
    func nsec3Cover(_ name: DomainName) -> DomainName? {
        guard case .nsec3(let salt, let iterations, let hashes) = kind, let last = hashes.last else { return nil }
        let hash = DNSSEC.nsec3Hash(name, salt: salt, iterations: iterations)
        var low = 0
        var high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle].hash.lexicographicallyPrecedes(hash) { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? last.owner : hashes[low - 1].owner
    }

    var isNSEC3: Bool {
        if case .nsec3 = kind { return true }
        return false
    }
}
