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
            guard let signer = Self.signer(of: name, among: signatures, zone: data.zone) else {
                return unsigned(
                    zone: data.zone, what: "\(name) \(first.type)", now: now, unobtainable: unobtainable, depth: depth)
            }
            let keys: [DNSKEYRecord]
            switch self.keys(of: signer, now: now, unobtainable: unobtainable, depth: depth + 1) {
            case .secure(let found): keys = found
            case let other: return Self.step(other)
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
            let signatures = Self.rrsigs(data.proofs)
            guard let signer = Self.signer(of: name, among: signatures, zone: data.zone) else {
                return unsigned(
                    zone: data.zone, what: "the denial of \(name)", now: now, unobtainable: unobtainable, depth: depth)
            }
            let keys: [DNSKEYRecord]
            switch self.keys(of: signer, now: now, unobtainable: unobtainable, depth: depth + 1) {
            case .secure(let found): keys = found
            case let other: return Self.step(other)
            }
            let (proof, failure) = Self.verifiedProof(data.proofs, signer: signer, keys: keys, now: timestamp)
            let proven: Bool
            if case .nameError = answer {
                proven = proof.provesNameError(name)
            } else {
                proven = proof.provesNoData(name, type)
            }
            if proven { return .done(.secure) }
            let (code, reason) =
                failure ?? (ValidationError.nsecMissing, "no NSEC or NSEC3 proves the denial of \(name) \(type)")
            return .done(.bogus(code: code, reason: reason))
        }
    }

    /// Data without signatures: insecure if its zone is, bogus if its zone is signed.
    private mutating func unsigned(
        zone: DomainName, what: String, now: Double, unobtainable: Set<Question>, depth: Int
    ) -> ValidationStep {
        switch keys(of: zone, now: now, unobtainable: unobtainable, depth: depth + 1) {
        case .secure:
            return .done(
                .bogus(code: ValidationError.rrsigsMissing, reason: "\(what) is unsigned in the signed zone \(zone)"))
        case let other: return Self.step(other)
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
    private static func verifiedProof(
        _ records: [ResourceRecord], signer: DomainName, keys: [DNSKEYRecord], now: UInt32
    ) -> (DenialProof, (UInt16, String)?) {
        var verified: [ResourceRecord] = []
        var failure: (UInt16, String)? = nil
        var groups: [Question: [ResourceRecord]] = [:]
        for record in records where record.type == .nsec || record.type == .nsec3 {
            groups[Question(name: record.name, type: record.type), default: []].append(record)
        }
        for (key, rrset) in groups {
            let owned = rrsigs(records.filter { $0.name == key.name && $0.type == .rrsig })
            switch Validator.verify(rrset, signatures: owned, keys: keys, signer: signer, now: now) {
            case .valid: verified += rrset
            case .invalid(let code, let reason): failure = (code, reason)
            }
        }
        return (DenialProof(zone: signer, records: verified), failure)
    }

    static func timestamp(_ now: Double) -> UInt32 {
        UInt32(truncatingIfNeeded: Int64(max(0, min(now, 1e15))))
    }
}
