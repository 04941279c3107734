import DNS

/// What the cache knows about one name and type.
public enum CachedAnswer: Equatable, Sendable {
    /// The RRset (or a CNAME, or a DNAME), with TTLs counted down to now.
    case records([ResourceRecord])
    /// The name exists without this type (RFC 2308 NODATA); the SOA that says so, if any.
    case noData(authority: [ResourceRecord])
    /// The name does not exist (RFC 2308 NXDOMAIN); the SOA that says so, if any.
    case nameError(authority: [ResourceRecord])
}

/// How much a cached RRset may be believed (RFC 2181 §5.4.1): an answer from an authority beats
/// a delegation's NS set, which beats glue. Data of lower rank never replaces live data of higher.
public enum Credibility: Int, Comparable, Sendable {
    case glue = 0
    case referral = 1
    case answer = 2

    public static func < (lhs: Credibility, rhs: Credibility) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What validation needs beside a cached answer: the zone it came from, the RRSIGs over it, the
/// NSEC/NSEC3 records (and their RRSIGs) proving a negative answer or a wildcard expansion, and the
/// verdict once validated.
public struct ValidationData: Equatable, Sendable {
    public var zone: DomainName
    public var signatures: [ResourceRecord]
    public var proofs: [ResourceRecord]
    public var security: Security

    public init(
        zone: DomainName, signatures: [ResourceRecord], proofs: [ResourceRecord], security: Security = .unchecked
    ) {
        self.zone = zone
        self.signatures = signatures
        self.proofs = proofs
        self.security = security
    }
}

/// One cache lookup's result: the answer, the type it is stored under (the question's, CNAME, or
/// `wholeName` for NXDOMAIN), how credible it is, and what validation needs.
public struct CacheHit: Sendable {
    public var answer: CachedAnswer
    public var type: RecordType
    public var credibility: Credibility
    public var validation: ValidationData?
}

/// One entry a cache lookup used, and where it is while the cache's `generation` stays the same.
struct CacheDependency: Sendable {
    var key: ResolverCache.Key
    var index: Dictionary<ResolverCache.Key, ResolverCache.Entry>.Index
    var serial: UInt64
    var expires: Double
    var lifetime: Double
    /// How many records it holds (the SOA of a negative answer), and how many RRSIGs and
    /// NSEC/NSEC3 records it keeps for validation.
    var records: Int
    var negative: Bool
    var signatures: Int
    var proofs: Int
}

/// The resolver's cache: RRsets and negative answers with their expiry, a bound in bytes with
/// least-recently-used eviction, and expired entries kept for `staleWindow` seconds so they can
/// be served when every authority fails (RFC 8767).
public struct ResolverCache: Sendable {
    struct Key: Hashable, Sendable {
        var name: DomainName
        var type: RecordType
    }

    struct Entry: Sendable {
        var answer: CachedAnswer
        var expires: Double
        var credibility: Credibility
        /// When it was stored, and for how long.
        var stored: Double
        var lifetime: Double
        var size: Int
        var lastUse: UInt64
        var validation: ValidationData?
        /// Which insert (or verdict) made it: a wire-form answer made from it checks it is still this one.
        var serial: UInt64 = 0

        mutating func touch(_ expected: UInt64, at tick: UInt64) -> Bool {
            guard serial == expected else { return false }
            lastUse = tick
            return true
        }
    }

    /// An NXDOMAIN covers every type of a name, so it is kept once under this type (which no
    /// record has: type 0 is reserved).
    public static let wholeName = RecordType(rawValue: 0)

    public let capacity: Int
    public let staleWindow: Double
    public private(set) var bytes = 0
    public private(set) var evictions = 0
    public var count: Int { entries.count }
    /// Whether the entry the last lookup returned is live and in the last tenth of a lifetime of
    /// at least 10 seconds: a question asked then is worth refreshing before it expires.
    public private(set) var lastUseNearExpiry = false

    private var entries: [Key: Entry] = [:]
    /// Keys in the order they were used, oldest first; a key appears again each time it is used,
    /// and an occurrence older than the entry's `lastUse` is skipped (LRU without a linked list).
    private var usage: [(key: Key, tick: UInt64)] = []
    private var usageStart = 0
    private var tick: UInt64 = 0
    /// Bumped whenever an entry is added or removed (so positions in `entries` stay valid while it
    /// stays the same); the entries lookups used are collected in `trace` while it is not nil.
    private(set) var generation: UInt64 = 0
    var trace: [CacheDependency]?
    /// Answers as sent, for questions asked again (WireAnswers.swift).
    var wireAnswers = WireAnswers()

    public init(capacity: Int, staleWindow: Double = 86_400) {
        self.capacity = max(capacity, 4096)
        self.staleWindow = staleWindow
    }

    /// Stores an RRset, a NODATA or an NXDOMAIN for `ttl` seconds from `now`. Live data of higher
    /// credibility stays.
    public mutating func insert(
        _ answer: CachedAnswer, name: DomainName, type: RecordType, ttl: UInt32, credibility: Credibility,
        now: Double, validation: ValidationData? = nil
    ) {
        let key = Key(name: name, type: answerType(answer, type))
        if let existing = entries[key], existing.expires >= now, existing.credibility > credibility { return }
        let size =
            Self.estimatedSize(answer, name: name)
            + (validation.map { Self.estimatedSize(.records($0.signatures + $0.proofs), name: name) } ?? 0)
        guard size <= capacity else { return }
        remove(key)
        tick += 1
        entries[key] = Entry(
            answer: answer, expires: now + Double(ttl), credibility: credibility, stored: now, lifetime: Double(ttl),
            size: size, lastUse: tick, validation: validation, serial: tick)
        generation &+= 1
        bytes += size
        usage.append((key, tick))
        while bytes > capacity, evictOldest() {}
        compactUsage()
    }

    /// What is cached for `name` and `type`: an NXDOMAIN for the name, the RRset, NODATA, or a
    /// CNAME at the name (for any other type). With `allowStale`, expired entries within the stale
    /// window are returned with a TTL of `staleTTL`. With `storedSince`, entries stored before
    /// that time are passed over (a prefetch refreshing them).
    public mutating func lookup(
        _ name: DomainName, _ type: RecordType, now: Double, allowStale: Bool = false, staleTTL: UInt32 = 30,
        storedSince: Double? = nil
    ) -> CachedAnswer? {
        hit(name, type, now: now, allowStale: allowStale, staleTTL: staleTTL, storedSince: storedSince)?.answer
    }

    /// `lookup` with what the resolver needs to validate the answer.
    public mutating func hit(
        _ name: DomainName, _ type: RecordType, now: Double, allowStale: Bool = false, staleTTL: UInt32 = 30,
        storedSince: Double? = nil
    ) -> CacheHit? {
        // The RRset first: the common hit.
        var keyTypes = [type, Self.wholeName]
        if type != .cname { keyTypes.append(.cname) }
        for keyType in keyTypes {
            let key = Key(name: name, type: keyType)
            if let storedSince, let entry = entries[key], entry.stored < storedSince { continue }
            if let (answer, entry) = use(key, now: now, allowStale: allowStale, staleTTL: staleTTL) {
                return CacheHit(
                    answer: answer, type: keyType, credibility: entry.credibility, validation: entry.validation)
            }
        }
        return nil
    }

    /// Whether the entry a lookup used for a wire-form answer is still what `hit` would return
    /// now: the same insert, live, not near expiry (that lookup prefetches), and no live entry
    /// under a key `hit` tries first. If so it counts as used, as `hit` would count it.
    mutating func reuse(_ dependency: inout CacheDependency, asked type: RecordType, seen: UInt64, now: Double) -> Bool
    {
        guard now <= dependency.expires,
            dependency.lifetime < 10 || dependency.expires - now >= dependency.lifetime / 10
        else { return false }
        if seen != generation {
            // Entries came and went: find it again, and check nothing `hit` prefers appeared.
            guard let index = entries.index(forKey: dependency.key) else { return false }
            var first = [type, Self.wholeName]
            if let position = first.firstIndex(of: dependency.key.type) { first.removeSubrange(position...) }
            for earlier in first {
                if let entry = entries[Key(name: dependency.key.name, type: earlier)], entry.expires >= now {
                    return false
                }
            }
            dependency.index = index
        }
        // Checked and touched in place: reading the entry out would copy its records.
        guard entries.values[dependency.index].touch(dependency.serial, at: tick + 1) else { return false }
        tick += 1
        usage.append((dependency.key, tick))
        compactUsage()
        return true
    }

    /// The live entry stored under exactly this name and type (`wholeName` for NXDOMAIN), without
    /// counting it as used: validation reading keys and proofs.
    public func peek(_ name: DomainName, _ type: RecordType, now: Double) -> CacheHit? {
        guard let entry = entries[Key(name: name, type: type)], entry.expires >= now else { return nil }
        return CacheHit(
            answer: entry.answer, type: type, credibility: entry.credibility, validation: entry.validation)
    }

    /// Records validation's verdict on an entry.
    public mutating func setSecurity(_ security: Security, name: DomainName, type: RecordType) {
        guard let index = entries.index(forKey: Key(name: name, type: type)) else { return }
        entries.values[index].validation?.security = security
        tick += 1
        entries.values[index].serial = tick
    }

    /// The cached RRset of exactly this type (no CNAME, no negative answer).
    public mutating func records(_ name: DomainName, _ type: RecordType, now: Double) -> [ResourceRecord]? {
        guard
            case .records(let records)? = use(Key(name: name, type: type), now: now, allowStale: false, staleTTL: 0)?.0
        else { return nil }
        return records
    }

    /// Whether a negative answer for this name and type is live (an NS name with no address).
    public mutating func isNegative(_ name: DomainName, _ type: RecordType, now: Double) -> Bool {
        switch lookup(name, type, now: now) {
        case .noData?, .nameError?: return true
        default: return false
        }
    }

    private mutating func use(_ key: Key, now: Double, allowStale: Bool, staleTTL: UInt32) -> (CachedAnswer, Entry)? {
        // One hash of the key: the entry is read and touched through its index.
        guard let index = entries.index(forKey: key) else { return nil }
        let entry = entries.values[index]
        let ttl: UInt32
        if entry.expires >= now {
            ttl = UInt32(min(entry.expires - now, Double(UInt32.max)))
            lastUseNearExpiry = entry.lifetime >= 10 && entry.expires - now < entry.lifetime / 10
        } else if allowStale && now <= entry.expires + staleWindow {
            ttl = staleTTL
            lastUseNearExpiry = false
        } else {
            if now > entry.expires + staleWindow { remove(key) }
            return nil
        }
        tick += 1
        entries.values[index].lastUse = tick
        usage.append((key, tick))
        compactUsage()
        if trace != nil {
            var negative = true
            let listed: Int
            switch entry.answer {
            case .records(let list):
                listed = list.count
                negative = false
            case .noData(let list), .nameError(let list): listed = list.count
            }
            trace?.append(
                CacheDependency(
                    key: key, index: index, serial: entry.serial, expires: entry.expires, lifetime: entry.lifetime,
                    records: listed, negative: negative, signatures: entry.validation?.signatures.count ?? 0,
                    proofs: entry.validation?.proofs.count ?? 0))
        }
        var counted = entry
        if var validation = entry.validation {
            // RRSIGs and proofs count down with the records they go with (RFC 4035 §2.2).
            validation.signatures = Self.down(validation.signatures, ttl: ttl)
            validation.proofs = Self.down(validation.proofs, ttl: ttl)
            counted.validation = validation
        }
        return (Self.counted(entry.answer, ttl: ttl), counted)
    }

    private func answerType(_ answer: CachedAnswer, _ type: RecordType) -> RecordType {
        if case .nameError = answer { return Self.wholeName }
        return type
    }

    private mutating func remove(_ key: Key) {
        guard let old = entries.removeValue(forKey: key) else { return }
        generation &+= 1
        bytes -= old.size
    }

    private mutating func evictOldest() -> Bool {
        while usageStart < usage.count {
            let (key, tick) = usage[usageStart]
            usageStart += 1
            if let entry = entries[key], entry.lastUse == tick {
                remove(key)
                evictions += 1
                return true
            }
        }
        return false
    }

    /// Drops the skipped occurrences from the usage list once they are most of it, so it stays
    /// proportional to the number of entries. Every entry has exactly one occurrence that is not
    /// skipped (its `lastUse`), so the list kept is the entries in order of last use: made from
    /// them and sorted, without hashing a key (looking every occurrence up was a hash of a name
    /// per cache hit, amortised).
    private mutating func compactUsage() {
        guard usage.count > 64, usage.count > 4 * (entries.count + 16) || usageStart > usage.count / 2 else { return }
        var kept: [(key: Key, tick: UInt64)] = []
        kept.reserveCapacity(entries.count)
        for index in entries.indices {
            kept.append((entries.keys[index], entries.values[index].lastUse))
        }
        kept.sort { $0.tick < $1.tick }
        usage = kept
        usageStart = 0
    }

    private static func counted(_ answer: CachedAnswer, ttl: UInt32) -> CachedAnswer {
        switch answer {
        case .records(let records): return .records(down(records, ttl: ttl))
        case .noData(let authority): return .noData(authority: down(authority, ttl: ttl))
        case .nameError(let authority): return .nameError(authority: down(authority, ttl: ttl))
        }
    }

    private static func down(_ records: [ResourceRecord], ttl: UInt32) -> [ResourceRecord] {
        records.map { record in
            var record = record
            record.ttl = min(record.ttl, ttl)
            return record
        }
    }

    /// An estimate of what an entry costs in memory: the owner, a fixed overhead per entry and
    /// per record, and each record's presentation length as a stand-in for its data.
    static func estimatedSize(_ answer: CachedAnswer, name: DomainName) -> Int {
        let records: [ResourceRecord]
        switch answer {
        case .records(let list), .noData(let list), .nameError(let list): records = list
        }
        return 128 + name.wire.count
            + records.reduce(0) { $0 + 48 + $1.name.wire.count + $1.data.presentation.utf8.count }
    }
}
