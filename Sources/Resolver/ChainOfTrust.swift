import DNS
import DNSSecurity

/// Validation over the cache (RFC 4035 §5): an entry is judged once, when an answer first needs
/// it, and its verdict is kept with it. Judging needs the signer's keys, which need the DS set in
/// the parent, which needs the parent's keys, up to a trust anchor; whatever is missing is named
/// (`.fetch`) and the resolution loop resolves it like any other goal, then asks again.
extension RecursiveResolver {
    enum ValidationStep: Equatable {
        case done(Security)
        case fetch(DomainName, RecordType)
    }

    enum KeyState {
        case fetch(DomainName, RecordType)
        case insecure
        case bogus(code: UInt16, reason: String)
        case secure([DNSKEYRecord])
    }

    var validates: Bool { !settings.trustAnchors.isEmpty }

    /// The verdict on the cached entry stored under `name` and `type` (`wholeName` for NXDOMAIN),
    /// validating it now if it has not been. `unobtainable` are RRsets the resolution could not
    /// fetch: a chain that needs one is bogus.
    mutating func security(
        of name: DomainName, _ type: RecordType, now: Double, unobtainable: Set<Question>, depth: Int = 0
    ) -> ValidationStep {
        guard let hit = cache.peek(name, type, now: now), let data = hit.validation else { return .done(.insecure) }
        guard data.security == .unchecked else { return .done(data.security) }
        guard depth < 32 else { return .done(.bogus(code: ValidationError.bogus, reason: "chain of trust too long")) }
        let step = evaluate(
            name, type, answer: hit.answer, data: data, now: now, unobtainable: unobtainable, depth: depth)
        if case .done(let verdict) = step { cache.setSecurity(verdict, name: name, type: type) }
        return step
    }

    private mutating func evaluate(
        _ name: DomainName, _ type: RecordType, answer: CachedAnswer, data: ValidationData, now: Double,
        unobtainable: Set<Question>, depth: Int
    ) -> ValidationStep {
        let timestamp = Self.timestamp(now)
        switch answer {
        case .records(let records):
            guard let first = records.first else {
                return .done(.bogus(code: ValidationError.bogus, reason: "empty RRset"))
            }
            if first.type == .dnskey {
                return Self.step(keys(of: name, now: now, unobtainable: unobtainable, depth: depth + 1))
            }
            let signatures = Self.rrsigs(data.signatures)
            let signer: DomainName
            let keys: [DNSKEYRecord]
            switch signingKeys(
                of: name, signatures: signatures, zone: data.zone, what: "\(name) \(first.type)", now: now,
                unobtainable: unobtainable, depth: depth)
            {
            case .signed(let zone, let found): (signer, keys) = (zone, found)
            case .decided(let step): return step
            }
            switch Validator.verify(records, signatures: signatures, keys: keys, signer: signer, now: timestamp) {
            case .invalid(let code, let reason): return .done(.bogus(code: code, reason: reason))
            case .valid(let labels):
                let ownerLabels = name.labelCount - (name.labels.first == [UInt8(ascii: "*")] ? 1 : 0)
                guard labels < ownerLabels else { return .done(.secure) }
                let (proof, _) = Self.verifiedProof(data.proofs, signer: signer, keys: keys, now: timestamp)
                return proof.provesWildcardExpansion(name, labels: labels)
                    ? .done(.secure)
                    : .done(
                        .bogus(
                            code: ValidationError.nsecMissing,
                            reason: "no proof that \(name) does not exist besides the wildcard"))
            }
        case .noData, .nameError:
            let signer: DomainName
            let keys: [DNSKEYRecord]
            switch signingKeys(
                of: name, signatures: Self.rrsigs(data.proofs), zone: data.zone, what: "the denial of \(name)",
                now: now, unobtainable: unobtainable, depth: depth)
            {
            case .signed(let zone, let found): (signer, keys) = (zone, found)
            case .decided(let step): return step
            }
            let (proof, failure) = Self.verifiedProof(data.proofs, signer: signer, keys: keys, now: timestamp)
            let proven: Bool
            let authority: [ResourceRecord]
            switch answer {
            case .nameError(let soa):
                proven = proof.provesNameError(name)
                authority = soa
            case .noData(let soa):
                proven = proof.provesNoData(name, type)
                authority = soa
            case .records: return .done(.bogus(code: ValidationError.bogus, reason: "unreachable"))
            }
            if proven {
                provenDenials.remember(
                    zone: signer, soa: authority, proofs: data.proofs, verified: proof,
                    ttl: Double(settings.maximumNegativeTTL), now: now)
                return .done(.secure)
            }
            let (code, reason) =
                failure ?? (ValidationError.nsecMissing, "no NSEC or NSEC3 proves the denial of \(name) \(type)")
            return .done(.bogus(code: code, reason: reason))
        }
    }

    enum Signing {
        case signed(DomainName, [DNSKEYRecord])
        case decided(ValidationStep)
    }

    /// The zone that signed data about `name` and its validated keys; or, when that already
    /// decides, the verdict: keys still to fetch, an insecure or bogus zone, or data without
    /// signatures (insecure if its zone is, bogus if its zone is signed).
    private mutating func signingKeys(
        of name: DomainName, signatures: [RRSIGRecord], zone: DomainName, what: String, now: Double,
        unobtainable: Set<Question>, depth: Int
    ) -> Signing {
        let signer = Self.signer(of: name, among: signatures, zone: zone)
        switch keys(of: signer ?? zone, now: now, unobtainable: unobtainable, depth: depth + 1) {
        case .secure(let keys):
            guard let signer else {
                let reason = "\(what) is unsigned in the signed zone \(zone)"
                return .decided(.done(.bogus(code: ValidationError.rrsigsMissing, reason: reason)))
            }
            return .signed(signer, keys)
        case let other: return .decided(Self.step(other))
        }
    }

    /// The zone's validated keys, found from the trust anchor or from the parent's validated DS set.
    mutating func keys(of zone: DomainName, now: Double, unobtainable: Set<Question>, depth: Int) -> KeyState {
        guard let anchor = settings.trustAnchors.closest(to: zone) else { return .insecure }
        guard depth < 32 else { return .bogus(code: ValidationError.bogus, reason: "chain of trust too long") }
        if zone == anchor {
            let anchors = settings.trustAnchors
            return keySet(of: zone, now: now, unobtainable: unobtainable) { anchors.trusts($0, owner: zone) }
        }
        guard let found = cache.peek(zone, .ds, now: now) ?? cache.peek(zone, ResolverCache.wholeName, now: now) else {
            return Self.need(zone, .ds, unobtainable: unobtainable)
        }
        switch security(of: zone, found.type, now: now, unobtainable: unobtainable, depth: depth + 1) {
        case .fetch(let name, let type): return .fetch(name, type)
        case .done(.bogus(let code, let reason)): return .bogus(code: code, reason: reason)
        case .done(.insecure), .done(.unchecked): return .insecure
        case .done(.secure):
            // A proven absence of DS: an insecure delegation.
            guard case .records(let records) = found.answer else { return .insecure }
            let signers = records.compactMap { record -> DSRecord? in
                guard case .ds(let ds) = record.data, Validator.isUsable(ds) else { return nil }
                return ds
            }
            guard !signers.isEmpty else { return .insecure }
            return keySet(of: zone, now: now, unobtainable: unobtainable) {
                Validator.matches($0, owner: zone, any: signers)
            }
        }
    }

    /// The zone's DNSKEY set, valid when one of its `trusted` keys signed it.
    private mutating func keySet(
        of zone: DomainName, now: Double, unobtainable: Set<Question>, trusted: (DNSKEYRecord) -> Bool
    ) -> KeyState {
        guard let found = cache.peek(zone, .dnskey, now: now) else {
            if cache.peek(zone, ResolverCache.wholeName, now: now) != nil {
                return .bogus(code: ValidationError.dnskeyMissing, reason: "\(zone) does not exist, so has no DNSKEY")
            }
            return Self.need(zone, .dnskey, unobtainable: unobtainable)
        }
        guard case .records(let records) = found.answer else {
            return .bogus(code: ValidationError.dnskeyMissing, reason: "\(zone) has no DNSKEY set")
        }
        let keys = records.compactMap { record -> DNSKEYRecord? in
            guard case .dnskey(let key) = record.data else { return nil }
            return key
        }
        switch found.validation?.security {
        case .secure?: return .secure(keys)
        case .bogus(let code, let reason)?: return .bogus(code: code, reason: reason)
        default: break
        }
        let anchored = keys.filter(trusted)
        let verdict: Security
        if anchored.isEmpty {
            verdict = .bogus(
                code: ValidationError.dnskeyMissing, reason: "no DNSKEY of \(zone) matches its DS or anchor")
        } else {
            switch Validator.verify(
                records, signatures: Self.rrsigs(found.validation?.signatures ?? []), keys: anchored, signer: zone,
                now: Self.timestamp(now))
            {
            case .valid: verdict = .secure
            case .invalid(let code, let reason): verdict = .bogus(code: code, reason: reason)
            }
        }
        cache.setSecurity(verdict, name: zone, type: .dnskey)
        if case .bogus(let code, let reason) = verdict { return .bogus(code: code, reason: reason) }
        return .secure(keys)
    }

    private static func need(_ name: DomainName, _ type: RecordType, unobtainable: Set<Question>) -> KeyState {
        guard !unobtainable.contains(Question(name: name, type: type)) else {
            return .bogus(
                code: type == .dnskey ? ValidationError.dnskeyMissing : ValidationError.bogus,
                reason: "could not fetch \(name) \(type)")
        }
        return .fetch(name, type)
    }

    private static func step(_ state: KeyState) -> ValidationStep {
        switch state {
        case .fetch(let name, let type): return .fetch(name, type)
        case .insecure: return .done(.insecure)
        case .bogus(let code, let reason): return .done(.bogus(code: code, reason: reason))
        case .secure: return .done(.secure)
        }
    }

    /// The zone that signed data about `name`: a signer at or above the name, within the zone
    /// whose server answered.
    private static func signer(of name: DomainName, among signatures: [RRSIGRecord], zone: DomainName) -> DomainName? {
        signatures.first { name.isSubdomain(of: $0.signerName) && $0.signerName.isSubdomain(of: zone) }?.signerName
    }

    static func rrsigs(_ records: [ResourceRecord]) -> [RRSIGRecord] {
        records.compactMap { record in
            guard case .rrsig(let signature) = record.data else { return nil }
            return signature
        }
    }

    /// The NSEC and NSEC3 RRsets among `records` whose signatures verify, and why the last one
    /// that did not failed.
    static func verifiedProof(
        _ records: [ResourceRecord], signer: DomainName, keys: [DNSKEYRecord], now: UInt32
    ) -> (DenialProof, (UInt16, String)?) {
        var verified: [ResourceRecord] = []
        var failure: (UInt16, String)? = nil
        var groups: [Question: [ResourceRecord]] = [:]
        for record in records where record.type == .nsec || record.type == .nsec3 {
            groups[Question(name: record.name, type: record.type), default: []].append(record)
        }
        // At most 16 NSEC or NSEC3 sets are checked per denial: a proof needs three at most.
        for (key, rrset) in groups.prefix(16) {
            let owned = rrsigs(records.filter { $0.name == key.name && $0.type == .rrsig })
            switch Validator.verify(rrset, signatures: owned, keys: keys, signer: signer, now: now) {
            case .valid: verified += rrset
            case .invalid(let code, let reason): failure = (code, reason)
            }
        }
        return (DenialProof(zone: signer, records: verified), failure)
    }

    /// RFC 8198: a question the validated NSEC records already cached answer (a name between two
    /// of them, or a name they list without the type) is answered NXDOMAIN or NODATA without asking,
    /// the entry stored as secure. Only NSEC: NSEC3's opt-out spans cannot deny names this way.
    mutating func synthesizeDenial(_ name: DomainName, _ type: RecordType, now: Double) -> Bool {
        guard let (zone, known) = provenDenials.closest(to: name, now: now) else { return false }
        let proof = DenialProof(zone: zone, records: known.records)
        let answer: CachedAnswer
        if proof.provesNameError(name) {
            answer = .nameError(authority: known.soa)
        } else if proof.provesNoData(name, type) {
            answer = .noData(authority: known.soa)
        } else {
            return false
        }
        let ttl = UInt32(max(0, min(known.expires - now, Double(settings.maximumNegativeTTL))))
        guard ttl > 0 else { return false }
        let witnesses = Set(proof.witnesses(for: name))
        let proofs = known.records.filter { record in
            guard witnesses.contains(record.name) else { return false }
            if case .rrsig(let signature) = record.data { return signature.typeCovered == .nsec }
            return record.type == .nsec
        }
        cache.insert(
            answer, name: name, type: type, ttl: ttl, credibility: .answer, now: now,
            validation: ValidationData(zone: zone, signatures: [], proofs: proofs, security: .secure))
        statistics.synthesizedDenials += 1
        return true
    }

    static func timestamp(_ now: Double) -> UInt32 {
        UInt32(truncatingIfNeeded: Int64(max(0, min(now, 1e15))))
    }
}

/// Validated NSEC records by zone, with the zone's SOA, kept for RFC 8198's aggressive use: at
/// most 512 records a zone and 1,024 zones, each zone forgotten when its shortest TTL runs out.
struct ProvenDenials: Sendable {
    struct Known: Sendable {
        var soa: [ResourceRecord]
        /// NSEC records and the RRSIGs over them.
        var records: [ResourceRecord]
        var expires: Double
    }

    private(set) var zones: [DomainName: Known] = [:]
    static let maximumZones = 1024
    static let maximumRecordsPerZone = 512

    /// Keeps the NSEC records `verified` found valid among `proofs`, with their RRSIGs.
    mutating func remember(
        zone: DomainName, soa: [ResourceRecord], proofs: [ResourceRecord], verified: DenialProof, ttl: Double,
        now: Double
    ) {
        let owners = Set(verified.nsecs.map(\.owner))
        guard !owners.isEmpty, soa.contains(where: { $0.type == .soa }) else { return }
        let kept = proofs.filter { record in
            guard owners.contains(record.name) else { return false }
            if case .rrsig(let signature) = record.data { return signature.typeCovered == .nsec }
            return record.type == .nsec
        }
        let lifetime = min(ttl, Double(kept.map(\.ttl).min() ?? 0), Double(soa.map(\.ttl).min() ?? 0))
        guard lifetime > 0 else { return }
        if zones.count >= Self.maximumZones, zones[zone] == nil { zones.removeAll() }
        var known =
            zones[zone].flatMap { $0.expires >= now ? $0 : nil }
            ?? Known(soa: soa, records: [], expires: now + lifetime)
        let present = Set(known.records)
        known.records += kept.filter { !present.contains($0) }
        if known.records.count > Self.maximumRecordsPerZone {
            known.records.removeFirst(known.records.count - Self.maximumRecordsPerZone)
        }
        known.soa = soa
        known.expires = min(known.expires, now + lifetime)
        zones[zone] = known
    }

    /// The closest enclosing zone with live validated NSEC records.
    func closest(to name: DomainName, now: Double) -> (DomainName, Known)? {
        guard !zones.isEmpty else { return nil }
        var candidate: DomainName? = name
        while let current = candidate {
            if let known = zones[current], known.expires >= now { return (current, known) }
            candidate = current.parent
        }
        return nil
    }
}
