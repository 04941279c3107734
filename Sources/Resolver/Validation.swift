import DNS
import DNSSecurity

/// What validation concluded about an RRset or a negative answer (RFC 4035 §4.3).
public enum Security: Equatable, Sendable {
    /// Cached but not validated yet.
    case unchecked
    case secure
    /// Provably unsigned: no trust anchor above it, or a parent proved it has no DS.
    case insecure
    /// Should have validated and did not; `code` is the extended DNS error (RFC 8914) saying why.
    case bogus(code: UInt16, reason: String)
}

/// The extended DNS error codes (RFC 8914 §4) validation answers with.
enum ValidationError {
    static let bogus: UInt16 = 6
    static let signatureExpired: UInt16 = 7
    static let signatureNotYetValid: UInt16 = 8
    static let dnskeyMissing: UInt16 = 9
    static let rrsigsMissing: UInt16 = 10
    static let nsecMissing: UInt16 = 12
}

/// The keys validation starts from (`--trust-anchor FILE`): DS or DNSKEY records in zone-file
/// syntax, as the root's anchor is published.
public struct TrustAnchors: Sendable {
    public private(set) var delegationSigners: [DomainName: [DSRecord]] = [:]
    public private(set) var keys: [DomainName: [DNSKEYRecord]] = [:]

    public init() {}

    public var isEmpty: Bool { delegationSigners.isEmpty && keys.isEmpty }

    /// DS and DNSKEY lines; any other record type is an error naming its line.
    public static func parse(_ text: String) throws(ResolverFileError) -> TrustAnchors {
        var anchors = TrustAnchors()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != ";" }
            guard content.contains(where: { !$0.isWhitespace }) else { continue }
            let records: [ResourceRecord]
            do {
                // Anchors are usually published without a TTL, which does not matter here.
                records = try ZoneParser(origin: .root, include: nil).parse(
                    "$TTL 0\n" + content, file: "trust anchor")
            } catch {
                throw ResolverFileError(line: index + 1, reason: "column \(error.column): \(error.reason)")
            }
            for record in records {
                switch record.data {
                case .ds(let ds): anchors.delegationSigners[record.name.lowercased(), default: []].append(ds)
                case .dnskey(let key): anchors.keys[record.name.lowercased(), default: []].append(key)
                default:
                    throw ResolverFileError(
                        line: index + 1, reason: "a trust anchor is a DS or DNSKEY record, not \(record.type)")
                }
            }
        }
        guard !anchors.isEmpty else { throw ResolverFileError(line: 0, reason: "no DS or DNSKEY record") }
        return anchors
    }

    /// The closest anchored name at or above `name`.
    func closest(to name: DomainName) -> DomainName? {
        var candidate: DomainName? = name.lowercased()
        while let current = candidate {
            if delegationSigners[current] != nil || keys[current] != nil { return current }
            candidate = current.parent
        }
        return nil
    }

    /// Whether `key` of `owner` is one of the anchor's keys or matches one of its DS digests.
    func trusts(_ key: DNSKEYRecord, owner: DomainName) -> Bool {
        let owner = owner.lowercased()
        if keys[owner]?.contains(key) == true { return true }
        return Validator.matches(key, owner: owner, any: delegationSigners[owner] ?? [])
    }
}

/// The checks of RFC 4035 §5 and RFC 5155 §8 on records already fetched: signatures over an
/// RRset, and proofs that a name or type does not exist. Pure: the resolver fetches, this judges.
enum Validator {
    enum Verdict: Equatable {
        /// A signature verified; `labels` is its label count (fewer than the owner's: a wildcard).
        case valid(labels: Int)
        case invalid(code: UInt16, reason: String)
    }

    /// Whether some RRSIG over `records` by one of `keys` of `signer` verifies at `now`.
    static func verify(
        _ records: [ResourceRecord], signatures: [RRSIGRecord], keys: [DNSKEYRecord], signer: DomainName, now: UInt32
    ) -> Verdict {
        guard let first = records.first else { return .invalid(code: ValidationError.bogus, reason: "empty RRset") }
        let covering = signatures.filter { $0.typeCovered == first.type && $0.signerName == signer }
        guard !covering.isEmpty else {
            return .invalid(code: ValidationError.rrsigsMissing, reason: "no RRSIG over \(first.name) \(first.type)")
        }
        // KeyTrap (CVE-2023-50387): colliding key tags and piles of signatures must not buy an
        // attacker unbounded work; a real zone needs one or two tries.
        var attempts = 0
        var failure = Verdict.invalid(
            code: ValidationError.dnskeyMissing,
            reason: "no DNSKEY of \(signer) made the RRSIG over \(first.name) \(first.type)")
        for signature in covering {
            for key in keys where DNSSEC.keyTag(key) == signature.keyTag && key.algorithm == signature.algorithm {
                attempts += 1
                guard attempts <= Self.maximumAttempts else {
                    return .invalid(
                        code: ValidationError.bogus,
                        reason: "too many signatures to try over \(first.name) \(first.type)")
                }
                do throws(DNSSECError) {
                    try DNSSEC.verify(signature, rrset: records, key: key, keyOwner: signer, now: now)
                    return .valid(labels: Int(signature.labels))
                } catch .expired {
                    failure = .invalid(
                        code: ValidationError.signatureExpired, reason: "RRSIG over \(first.name) \(first.type) expired"
                    )
                } catch .notYetValid {
                    failure = .invalid(
                        code: ValidationError.signatureNotYetValid,
                        reason: "RRSIG over \(first.name) \(first.type) not yet valid")
                } catch {
                    failure = .invalid(
                        code: ValidationError.bogus, reason: "RRSIG over \(first.name) \(first.type): \(error)")
                }
            }
        }
        return failure
    }

    static let maximumAttempts = 8

    /// Whether `key` hashes to one of the DS records (SHA-256 or SHA-384).
    static func matches(_ key: DNSKEYRecord, owner: DomainName, any signers: [DSRecord]) -> Bool {
        signers.contains { ds in
            ds.algorithm == key.algorithm && ds.keyTag == DNSSEC.keyTag(key)
                && (try? DNSSEC.delegationSigner(owner: owner, key: key, digestType: ds.digestType)) == ds
        }
    }

    /// Whether a DS set names an algorithm and digest this validator can check; when none does,
    /// the zone counts as insecure (RFC 4035 §5.2).
    static func isUsable(_ ds: DSRecord) -> Bool {
        DNSSECAlgorithm(rawValue: ds.algorithm) != nil && (ds.digestType == 2 || ds.digestType == 4)
    }
}

/// The NSEC or NSEC3 records of one zone, each already verified, and what they prove.
struct DenialProof {
    let zone: DomainName
    var nsecs: [(owner: DomainName, record: NSECRecord)] = []
    var nsec3s: [(hash: [UInt8], record: NSEC3Record)] = []

    init(zone: DomainName, records: [ResourceRecord]) {
        self.zone = zone
        for record in records where record.name.isSubdomain(of: zone) {
            switch record.data {
            case .nsec(let nsec): nsecs.append((record.name, nsec))
            case .nsec3(let nsec3):
                guard let label = record.name.labels.first,
                    let hash = TextEncoding.decodeBase32Hex(String(decoding: label, as: UTF8.self)),
                    record.name.parent == zone
                else { continue }
                nsec3s.append((hash, nsec3))
            default: continue
            }
        }
    }

    /// RFC 4035 §5.4 and RFC 5155 §8.4: the name does not exist, nor a wildcard that could make it.
    func provesNameError(_ name: DomainName) -> Bool {
        if let closest = nsecClosestEncloser(name) {
            return nsecCovers(wildcard(of: closest))
        }
        guard let proof = nsec3ClosestEncloserProof(name), proof.closestEncloser != name else { return false }
        return nsec3Covers(wildcard(of: proof.closestEncloser))
    }

    /// The name exists without `type` (nor a CNAME), is an empty non-terminal, or only a wildcard
    /// without the type could have answered (RFC 4035 §5.4, RFC 5155 §8.5–8.7).
    func provesNoData(_ name: DomainName, _ type: RecordType) -> Bool {
        let lowered = name.lowercased()
        if let match = nsecs.first(where: { $0.owner == lowered }) {
            return !match.record.types.contains(type) && !match.record.types.contains(.cname)
                && (type == .ds || !isDelegation(match.record.types))
        }
        if let closest = nsecClosestEncloser(name) {
            // An empty non-terminal: the next name after it lies below it.
            if nsecs.contains(where: { nsecCovers(name, $0) && $0.record.nextName.isSubdomain(of: name) }) {
                return true
            }
            let star = wildcard(of: closest)
            if let match = nsecs.first(where: { $0.owner == star }) {
                return !match.record.types.contains(type) && !match.record.types.contains(.cname)
            }
            return false
        }
        if let match = nsec3Matching(name) {
            return !match.types.contains(type) && !match.types.contains(.cname)
                && (type == .ds || !isDelegation(match.types))
        }
        guard let proof = nsec3ClosestEncloserProof(name) else { return false }
        // RFC 5155 §8.6: no DS under an opt-out span, an insecure delegation.
        if type == .ds, proof.optOut { return true }
        if let match = nsec3Matching(wildcard(of: proof.closestEncloser)) {
            return !match.types.contains(type) && !match.types.contains(.cname)
        }
        return false
    }

    /// An answer expanded from a wildcard whose signature has `labels` labels: the name itself
    /// must not exist (RFC 4035 §5.3.4, RFC 5155 §8.8).
    func provesWildcardExpansion(_ name: DomainName, labels: Int) -> Bool {
        if nsecs.contains(where: { nsecCovers(name, $0) }) { return true }
        guard name.labelCount > labels else { return false }
        var nextCloser = name
        while nextCloser.labelCount > labels + 1, let parent = nextCloser.parent { nextCloser = parent }
        return nsec3Covers(nextCloser)
    }

    /// The owners of the NSEC records that say something about `name`: the one matching or
    /// covering it, and the one matching or covering the wildcard at its closest encloser.
    func witnesses(for name: DomainName) -> [DomainName] {
        var owners = nsecs.filter { $0.owner == name.lowercased() || nsecCovers(name, $0) }.map(\.owner)
        if let closest = nsecClosestEncloser(name) {
            let star = wildcard(of: closest)
            owners += nsecs.filter { $0.owner == star || nsecCovers(star, $0) }.map(\.owner)
        }
        return owners
    }

    private func isDelegation(_ types: [RecordType]) -> Bool { types.contains(.ns) && !types.contains(.soa) }

    private func wildcard(of name: DomainName) -> DomainName {
        (try? DomainName(labels: [[UInt8(ascii: "*")]] + name.labels.map { Array($0) })) ?? name
    }

    // MARK: NSEC

    private func nsecCovers(_ name: DomainName) -> Bool { nsecs.contains { nsecCovers(name, $0) } }

    /// The NSEC's owner sorts before the name and its next name after it; the last NSEC of the
    /// zone points back to the apex and covers everything after its owner.
    ///
    /// An NSEC at a delegation (NS without SOA) or at a DNAME proves nothing below it: those names
    /// belong to another zone, or are not there to be denied (RFC 4035 §5.4, RFC 6672 §5.3.2).
    private func nsecCovers(_ name: DomainName, _ nsec: (owner: DomainName, record: NSECRecord)) -> Bool {
        guard name.isSubdomain(of: zone), DomainName.canonicalCompare(nsec.owner, name) < 0 else { return false }
        if name.isSubdomain(of: nsec.owner),
            isDelegation(nsec.record.types) || nsec.record.types.contains(.dname)
        {
            return false
        }
        let next = nsec.record.nextName
        if DomainName.canonicalCompare(next, nsec.owner) <= 0 { return true }
        return DomainName.canonicalCompare(name, next) < 0
    }

    /// For a name an NSEC covers: the deepest ancestor it shares with that NSEC's owner or next
    /// name, which exists, so the wildcard that could have answered is right below it.
    private func nsecClosestEncloser(_ name: DomainName) -> DomainName? {
        guard let covering = nsecs.first(where: { nsecCovers(name, $0) }) else { return nil }
        let fromOwner = commonAncestor(name, covering.owner)
        let fromNext = commonAncestor(name, covering.record.nextName)
        return fromOwner.labelCount >= fromNext.labelCount ? fromOwner : fromNext
    }

    private func commonAncestor(_ a: DomainName, _ b: DomainName) -> DomainName {
        var candidate: DomainName? = a
        while let current = candidate {
            if b.isSubdomain(of: current) { return current }
            candidate = current.parent
        }
        return .root
    }

    // MARK: NSEC3

    private func hash(_ name: DomainName) -> [UInt8]? {
        guard let parameters = nsec3s.first?.record, parameters.hashAlgorithm == 1 else { return nil }
        return DNSSEC.nsec3Hash(name, salt: parameters.salt, iterations: parameters.iterations)
    }

    private func nsec3Matching(_ name: DomainName) -> NSEC3Record? {
        guard let digest = hash(name) else { return nil }
        return nsec3s.first { $0.hash == digest }?.record
    }

    private func nsec3Covering(_ name: DomainName) -> NSEC3Record? {
        guard let digest = hash(name) else { return nil }
        return nsec3s.first { entry in
            let owner = entry.hash
            let next = entry.record.nextHashedOwner
            let afterOwner = owner.lexicographicallyPrecedes(digest)
            let beforeNext = digest.lexicographicallyPrecedes(next)
            // The last NSEC3 of the chain wraps around to the first.
            return next.lexicographicallyPrecedes(owner) || next == owner
                ? afterOwner || beforeNext : afterOwner && beforeNext
        }?.record
    }

    private func nsec3Covers(_ name: DomainName) -> Bool { nsec3Covering(name) != nil }

    /// RFC 5155 §8.3: the closest ancestor whose hash an NSEC3 matches, and an NSEC3 covering the
    /// next closer name (one label longer, towards the name).
    private func nsec3ClosestEncloserProof(_ name: DomainName) -> (closestEncloser: DomainName, optOut: Bool)? {
        var nextCloser = name
        var candidate = name.parent
        while let current = candidate, current.isSubdomain(of: zone) {
            if nsec3Matching(current) != nil {
                guard let covering = nsec3Covering(nextCloser) else { return nil }
                return (current, covering.flags & 1 == 1)
            }
            nextCloser = current
            candidate = current.parent
        }
        return nil
    }
}
