import DNS
import Wire

/// The zones a server is authoritative for, and the answers RFC 1034 §4.3.2 (with RFC 2308
/// negative answers, RFC 4592 wildcards, RFC 6672 DNAME and RFC 8482 minimal ANY) gives from them.
///
/// A pure value: `answer(_:)` is a function of the zones and the question, so tests and fuzzers
/// drive it with no network, and a server swaps in new zones by replacing the value.
public struct Authority: Sendable {
    private(set) var zones: [DomainName: IndexedZone] = [:]
    /// What changed in each zone, for IXFR out.
    private(set) var journals: [DomainName: ZoneJournal] = [:]

    public init(zones: [Zone] = []) {
        for zone in zones { add(zone) }
    }

    /// Adds or replaces the zone with this origin; a replacement is journaled for IXFR.
    public mutating func add(_ zone: Zone) {
        if let old = zones[zone.origin]?.zone {
            journals[zone.origin, default: ZoneJournal()].record(from: old, to: zone)
        }
        zones[zone.origin] = IndexedZone(zone)
    }

    /// Stops answering for the zone with this origin (a secondary's copy that expired).
    public mutating func remove(_ origin: DomainName) {
        zones[origin] = nil
        journals[origin] = nil
    }

    public var origins: [DomainName] { zones.keys.sorted() }

    public func zone(named origin: DomainName) -> Zone? { zones[origin]?.zone }

    /// The zone holding `name`: the one whose origin is the closest ancestor.
    func indexedZone(for name: DomainName) -> IndexedZone? {
        var candidate: DomainName? = name
        while let current = candidate {
            if let zone = zones[current] { return zone }
            candidate = current.parent
        }
        return nil
    }

    /// The response to a decoded query (without the transport's size limit, which `Responder`
    /// applies).
    public func answer(_ query: Message) -> Message {
        var response = Message.response(to: query)
        guard query.opcode == .query else {
            response.rcode = .notImplemented
            return response
        }
        guard query.questions.count == 1, let question = query.questions.first else {
            response.rcode = .formatError
            return response
        }
        guard question.recordClass == .internet else {
            response.rcode = .refused
            return response
        }
        if question.type == .axfr || question.type == .ixfr || question.type == .opt || question.type == .tsig {
            // Transfers come with the primary/secondary work; meta types are not queries.
            response.rcode = question.type == .axfr || question.type == .ixfr ? .refused : .formatError
            return response
        }
        guard let zone = indexedZone(for: question.name) else {
            response.rcode = .refused
            response.extendedError = (code: ExtendedError.notAuthoritative, text: "not authoritative for this name")
            return response
        }
        var resolution = Resolution(dnssec: query.edns?.dnssecOK ?? false)
        resolution.resolve(question.name, type: question.type, in: zone)
        response.authoritative = resolution.authoritative
        response.rcode = resolution.rcode
        response.answers = resolution.answers
        response.authority = resolution.authority
        response.additional = resolution.additional
        return response
    }
}

/// RFC 8914 codes this server gives.
public enum ExtendedError {
    public static let notAuthoritative: UInt16 = 20
    public static let notSupported: UInt16 = 21
    public static let noReachableAuthority: UInt16 = 22
}

extension Message {
    /// A response skeleton: the query's ID, opcode, RD flag and question; EDNS when the query had it.
    static func response(to query: Message) -> Message {
        var response = Message()
        response.id = query.id
        response.isResponse = true
        response.opcode = query.opcode
        response.recursionDesired = query.recursionDesired
        response.checkingDisabled = query.checkingDisabled
        response.questions = query.questions
        if let edns = query.edns {
            response.edns = EDNS(udpPayloadSize: Responder.advertisedPayloadSize, dnssecOK: edns.dnssecOK)
        }
        return response
    }

    /// An extended DNS error (RFC 8914) in the response's OPT record, when the query had EDNS.
    var extendedError: (code: UInt16, text: String)? {
        get {
            for case .extendedError(let code, let text) in edns?.options ?? [] {
                return (code, String(decoding: text, as: UTF8.self))
            }
            return nil
        }
        set {
            guard var edns else { return }
            edns.options.removeAll {
                if case .extendedError = $0 { return true }
                return false
            }
            if let newValue {
                edns.options.append(.extendedError(code: newValue.code, text: Array(newValue.text.utf8)))
            }
            self.edns = edns
        }
    }
}

/// A zone with what answering needs precomputed: every name that exists, including empty
/// non-terminals (names with no records but with descendants, RFC 4592 §2.2.2).
struct IndexedZone: Sendable {
    let zone: Zone
    let existingNames: Set<DomainName>
    let soa: RRSet<SOARecord>?
    /// Names below the apex where a lookup is interrupted: delegations (NS) and DNAME owners,
    /// shortest first. Most zones have few, so checking each beats walking every ancestor of the
    /// query name; a zone with many (a TLD) walks the ancestors and looks them up instead.
    let interruptingNames: [DomainName]
    let interruptingSet: Set<DomainName>
    /// The NSEC or NSEC3 chain of a signed zone, for denial proofs when DO is set.
    let denialChain: DenialChain?

    init(_ zone: Zone) {
        self.zone = zone
        var names: Set<DomainName> = []
        for name in zone.nodes.keys {
            var current: DomainName? = name
            while let name = current, name.isSubdomain(of: zone.origin), names.insert(name).inserted {
                current = name.parent
            }
        }
        existingNames = names
        soa = zone[.soa, at: zone.origin]
        interruptingNames = zone.nodes
            .filter { name, node in name != zone.origin && (node.rrset(.ns) != nil || node.rrset(.dname) != nil) }
            .keys.sorted { $0.labelCount < $1.labelCount }
        interruptingSet = Set(interruptingNames)
        denialChain = DenialChain(zone)
    }

    var origin: DomainName { zone.origin }

    /// The apex and the interrupting names at or above `name`, from the apex down.
    func interruptions(above name: DomainName) -> [DomainName] {
        guard interruptingNames.count > 32 else {
            return [origin] + interruptingNames.filter { name.isSubdomain(of: $0) }
        }
        var found: [DomainName] = []
        var current: DomainName? = name
        while let candidate = current, candidate != origin, candidate.isSubdomain(of: origin) {
            if interruptingSet.contains(candidate) { found.append(candidate) }
            current = candidate.parent
        }
        return [origin] + found.reversed()
    }
}
