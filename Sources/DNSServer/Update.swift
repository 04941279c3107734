import DNS

/// Which TSIG key may change what (RFC 2136 updates are refused unless signed by a key a rule
/// names). A rule may narrow the zone, the names (a suffix) and the record types.
public struct UpdatePolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var key: DomainName
        public var zone: DomainName?
        /// Names at or below this one.
        public var names: DomainName?
        public var types: Set<RecordType>?

        public init(key: DomainName, zone: DomainName? = nil, names: DomainName? = nil, types: Set<RecordType>? = nil) {
            self.key = key
            self.zone = zone
            self.names = names
            self.types = types
        }

        /// `key:NAME[,zone=ZONE][,name=SUFFIX][,types=A+AAAA]`, as `--allow-update` spells it.
        public init?(_ text: String) {
            let parts = text.split(separator: ",").map(String.init)
            guard let first = parts.first, first.hasPrefix("key:"), let key = Self.name(String(first.dropFirst(4)))
            else {
                return nil
            }
            self.key = key
            for part in parts.dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { return nil }
                switch pair[0] {
                case "zone":
                    guard let zone = Self.name(pair[1]) else { return nil }
                    self.zone = zone
                case "name":
                    guard let names = Self.name(pair[1]) else { return nil }
                    self.names = names
                case "types":
                    var types: Set<RecordType> = []
                    for mnemonic in pair[1].split(separator: "+") {
                        guard let type = RecordType(String(mnemonic)) else { return nil }
                        types.insert(type)
                    }
                    self.types = types
                default:
                    return nil
                }
            }
        }

        private static func name(_ text: String) -> DomainName? {
            try? DomainName(text.hasSuffix(".") ? text : text + ".")
        }

        func allows(key: DomainName, zone: DomainName, name: DomainName, type: RecordType) -> Bool {
            key == self.key && (self.zone.map { $0 == zone } ?? true)
                && (names.map { name.isSubdomain(of: $0) } ?? true) && (types.map { $0.contains(type) } ?? true)
        }
    }

    public var rules: [Rule]

    public init(_ rules: [Rule] = []) {
        self.rules = rules
    }

    func allows(key: DomainName, zone: DomainName, name: DomainName, type: RecordType) -> Bool {
        rules.contains { $0.allows(key: key, zone: zone, name: name, type: type) }
    }
}

/// What an UPDATE leads to: an answer at once, or a new zone that must be stored before the
/// answer goes out (the caller writes it, then installs it, then answers).
public enum UpdateResult: Sendable {
    case rejected(ResponseCode, reason: String)
    /// Every prerequisite held and nothing changed (adding what exists, deleting what does not).
    case unchanged
    case changed(Zone, summary: String)
}

extension Authority {
    /// Processes a dynamic update (RFC 2136 §3) signed by `key` (nil when unsigned) against the
    /// zone it names, without changing `self`. Refuses unsigned updates and changes the policy
    /// does not allow; a rejected update changes nothing.
    public func update(_ message: Message, signedBy key: DomainName?, policy: UpdatePolicy) -> UpdateResult {
        // §3.1: the zone section is the question section, one SOA question.
        guard message.questions.count == 1, let question = message.questions.first, question.type == .soa else {
            return .rejected(.formatError, reason: "the zone section must hold one SOA question")
        }
        let origin = question.name
        guard question.recordClass == .internet, let zone = zones[origin]?.zone else {
            return .rejected(.notAuthoritative, reason: "not authoritative for \(origin)")
        }
        guard let key else { return .rejected(.refused, reason: "updates must be signed with TSIG") }
        let records = zone.canonicalRecords
        if let failure = checkPrerequisites(message.answers, origin: origin, records: records) { return failure }
        // §3.4.1: prescan every update before applying any.
        for update in message.authority {
            guard update.name.isSubdomain(of: origin) else {
                return .rejected(.notZone, reason: "\(update.name) is outside \(origin)")
            }
            switch update.recordClass {
            case .internet:
                guard !update.type.isMeta else { return .rejected(.formatError, reason: "cannot add \(update.type)") }
            case .any:
                guard update.ttl == 0, update.data.isEmptyUpdateData else {
                    return .rejected(.formatError, reason: "a delete of \(update.name) carries data or a TTL")
                }
            case .none:
                guard update.ttl == 0, !update.type.isMeta || update.type == .any else {
                    return .rejected(.formatError, reason: "a delete of one \(update.type) record is malformed")
                }
            default:
                return .rejected(.formatError, reason: "class \(update.recordClass) in the update section")
            }
            guard policy.allows(key: key, zone: origin, name: update.name, type: update.type) else {
                return .rejected(.refused, reason: "key \(key) may not change \(update.type) at \(update.name)")
            }
        }
        var updated = records
        var soaReplaced = false
        for update in message.authority {
            soaReplaced = apply(update, origin: origin, to: &updated) || soaReplaced
        }
        let before = Set(records.map(RecordIdentity.init))
        guard Set(updated.map(RecordIdentity.init)) != before else { return .unchanged }
        if !soaReplaced { updated = incrementSerial(updated, origin: origin) }
        do {
            let newZone = try Zone(origin: origin, records: updated)
            let serial = newZone[.soa, at: origin]?.records.first?.serial ?? 0
            return .changed(newZone, summary: "\(origin) serial \(serial) by key \(key)")
        } catch {
            return .rejected(.serverFailure, reason: "the update leaves no valid zone: \(error)")
        }
    }

    /// §3.2: nil when every prerequisite holds, otherwise the answer.
    private func checkPrerequisites(_ prerequisites: [ResourceRecord], origin: DomainName, records: [ResourceRecord])
        -> UpdateResult?
    {
        var valueDependent: [RRKey: Set<RData>] = [:]
        for prerequisite in prerequisites {
            guard prerequisite.name.isSubdomain(of: origin) else {
                return .rejected(.notZone, reason: "prerequisite \(prerequisite.name) is outside \(origin)")
            }
            guard prerequisite.ttl == 0 else { return .rejected(.formatError, reason: "a prerequisite with a TTL") }
            let atName = records.filter { $0.name == prerequisite.name }
            switch (prerequisite.recordClass, prerequisite.type) {
            case (.any, .any):
                guard prerequisite.data.isEmptyUpdateData else {
                    return .rejected(.formatError, reason: "data in YXDOMAIN")
                }
                if atName.isEmpty { return .rejected(.nameError, reason: "\(prerequisite.name) does not exist") }
            case (.any, let type):
                guard prerequisite.data.isEmptyUpdateData else {
                    return .rejected(.formatError, reason: "data in YXRRSET")
                }
                if !atName.contains(where: { $0.type == type }) {
                    return .rejected(.nxRRSet, reason: "no \(type) at \(prerequisite.name)")
                }
            case (.none, .any):
                if !atName.isEmpty { return .rejected(.yxDomain, reason: "\(prerequisite.name) exists") }
            case (.none, let type):
                if atName.contains(where: { $0.type == type }) {
                    return .rejected(.yxRRSet, reason: "\(type) exists at \(prerequisite.name)")
                }
            case (.internet, let type):
                valueDependent[RRKey(name: prerequisite.name, type: type), default: []].insert(prerequisite.data)
            default:
                return .rejected(.formatError, reason: "class \(prerequisite.recordClass) in a prerequisite")
            }
        }
        for (key, wanted) in valueDependent {
            let present = Set(records.filter { $0.name == key.name && $0.type == key.type }.map(\.data))
            if present != wanted { return .rejected(.nxRRSet, reason: "\(key.type) at \(key.name) differs") }
        }
        return nil
    }

    /// §3.4.2. Returns true when it replaced the SOA.
    private func apply(_ update: ResourceRecord, origin: DomainName, to records: inout [ResourceRecord]) -> Bool {
        let atApex = update.name == origin
        switch update.recordClass {
        case .internet:
            if update.type == .soa {
                guard atApex, case .soa(let new) = update.data,
                    case .soa(let old)? = records.first(where: {
                        $0.name == origin && $0.type == .soa
                    })?.data, serialIsNewer(new.serial, than: old.serial)
                else { return false }
                records.removeAll { $0.name == origin && $0.type == .soa }
                records.append(update)
                return true
            }
            let hasCNAME = records.contains { $0.name == update.name && $0.type == .cname }
            let hasOther = records.contains { $0.name == update.name && $0.type != .cname && !$0.type.isDNSSEC }
            // A CNAME cannot share its name with other data (RFC 2136 §3.4.2.2 ignores such adds).
            if (update.type == .cname && hasOther) || (update.type != .cname && hasCNAME) { return false }
            if update.type == .cname { records.removeAll { $0.name == update.name && $0.type == .cname } }
            if let index = records.firstIndex(where: { $0.name == update.name && $0.data == update.data }) {
                records[index].ttl = update.ttl
            } else {
                records.append(ResourceRecord(name: update.name, ttl: update.ttl, data: update.data))
            }
            // One TTL per RRset (RFC 2181 §5.2): the newest wins.
            for index in records.indices where records[index].name == update.name && records[index].type == update.type
            {
                records[index].ttl = update.ttl
            }
        case .any:
            records.removeAll { record in
                record.name == update.name && (update.type == .any || record.type == update.type)
                    && !(atApex && (record.type == .soa || record.type == .ns))
            }
        case .none:
            guard update.type != .soa else { return false }
            if atApex && update.type == .ns && records.filter({ $0.name == origin && $0.type == .ns }).count <= 1 {
                return false
            }
            records.removeAll { $0.name == update.name && $0.data == update.data }
        default:
            break
        }
        return false
    }

    private func incrementSerial(_ records: [ResourceRecord], origin: DomainName) -> [ResourceRecord] {
        records.map { record in
            guard record.name == origin, case .soa(var soa) = record.data else { return record }
            soa.serial = soa.serial &+ 1
            var bumped = record
            bumped.data = .soa(soa)
            return bumped
        }
    }
}

private struct RRKey: Hashable {
    var name: DomainName
    var type: RecordType
}

/// A record with its TTL, for telling whether an update changed anything (a new TTL is a change).
private struct RecordIdentity: Hashable {
    var name: DomainName
    var data: RData
    var ttl: UInt32

    init(_ record: ResourceRecord) {
        name = record.name
        data = record.data
        ttl = record.ttl
    }
}

extension RData {
    /// The empty RDATA of RFC 2136's delete and prerequisite records.
    var isEmptyUpdateData: Bool {
        if case .unknown(let record) = self { return record.bytes.isEmpty }
        return false
    }
}

extension RecordType {
    /// Types that are not data: queries only (RFC 6895 §3.1).
    var isMeta: Bool { rawValue >= 128 && rawValue <= 255 || self == .opt || self == .tsig }
    var isDNSSEC: Bool { self == .rrsig || self == .nsec || self == .nsec3 }
}
