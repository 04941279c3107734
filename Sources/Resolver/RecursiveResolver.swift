import DNS
import DNSClient
import DNSServer

/// Who asked: a number the shell picks for each client query, handed back with the answer.
public struct ClientHandle: Hashable, Sendable {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}

/// One query the resolver sent, named so its answer or timeout can be handed back.
public struct QueryToken: Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// A query for the shell to send, and how long to wait before calling `timedOut`.
public struct OutgoingQuery: Sendable {
    public let token: QueryToken
    public let server: ServerAddress
    public let transport: DNSClient.Transport
    public let bytes: [UInt8]
    public let timeout: Double
}

/// What the shell must do next.
public enum ResolverAction: Sendable {
    case send(OutgoingQuery)
    /// The answer to a client (already within the client's UDP size; TC set when it did not fit).
    case reply(ClientHandle, [UInt8])
}

/// Counters for `/metrics`.
public struct ResolverStatistics: Sendable {
    public var clientQueries = 0
    public var answeredFromCache = 0
    public var upstreamQueries = 0
    public var upstreamTimeouts = 0
    public var ignoredResponses = 0
    public var serverFailures = 0
    public var staleAnswers = 0
    public var blocked = 0
    public var localAnswers = 0
    /// Resolutions started to refresh a popular answer before it expires.
    public var prefetches = 0
    /// NXDOMAIN and NODATA answered from validated NSEC records without asking (RFC 8198).
    public var synthesizedDenials = 0
}

/// The recursive resolver as a value: client queries, upstream responses, timeouts and the time
/// go in; queries to send and answers to return come out (the ocaml-dns resolver's shape). It
/// never touches a socket or a clock.
///
/// Resolution is driven by the cache: each step looks the current question up; on a miss it finds
/// the closest cached delegation, picks that zone's fastest server, and asks; whatever the answer
/// teaches (records, a referral, a negative answer) goes into the cache, and the step repeats.
/// Only one query per client question is outstanding at a time.
public struct RecursiveResolver: Sendable {
    public private(set) var settings: ResolverSettings
    public internal(set) var cache: ResolverCache
    public internal(set) var statistics = ResolverStatistics()
    /// Validated NSEC records, for answering denials without asking (RFC 8198).
    var provenDenials = ProvenDenials()
    public var blockList: BlockList
    public var localZones: Authority {
        didSet { localOrigins = localZones.origins }
    }
    /// The local zones' origins, kept because `Authority.origins` sorts on every call.
    private var localOrigins: [DomainName]
    /// Smoothed round-trip times in seconds (RFC 6298's 7/8 weighting), by server.
    public private(set) var smoothedRTT: [ServerAddress: Double] = [:]

    private var requests: [ClientHandle: Request] = [:]
    /// The client whose resolution of a question is under way, so that others asking the same
    /// question wait for it instead of resolving it again (and multiplying the queries a spoofer
    /// could race).
    private var inFlight: [Question: ClientHandle] = [:]
    private var waitingClients: Set<ClientHandle> = []
    private var pending: [QueryToken: PendingQuery] = [:]
    private var nextToken: UInt64 = 0
    private var nextPrefetch: UInt64 = 0
    /// Set by `cachedAnswer`: some record of the answer it gave is near the end of its TTL.
    private var lastAnswerNearExpiry = false
    private let randomID: @Sendable () -> UInt16
    /// DNS cookies (RFC 7873): the secret our client cookies are made from, and the server cookie
    /// each server last gave.
    private let cookieSecret: UInt64
    private var serverCookies: [ServerAddress: [UInt8]] = [:]
    /// Servers a UDP query with EDNS timed out on: asked with a 512-byte buffer since.
    private var smallBufferServers: Set<ServerAddress> = []

    public init(
        settings: ResolverSettings, cache: ResolverCache = ResolverCache(capacity: 64 << 20),
        blockList: BlockList = BlockList(), localZones: Authority = Authority(),
        randomID: @escaping @Sendable () -> UInt16 = { UInt16.random(in: 0...UInt16.max) }
    ) {
        self.settings = settings
        self.cache = cache
        self.blockList = blockList
        self.localZones = localZones
        self.localOrigins = localZones.origins
        self.randomID = randomID
        cookieSecret = (0..<4).reduce(UInt64(0)) { value, _ in value << 16 | UInt64(randomID()) }
    }

    /// The client cookie for one server (RFC 7873 §4.1): a keyed hash of its address, the same
    /// for every query to it, different for each server, unguessable without the secret.
    func clientCookie(for server: ServerAddress) -> [UInt8] {
        var hasher = Hasher()
        hasher.combine(cookieSecret)
        hasher.combine(server)
        let value = UInt64(bitPattern: Int64(hasher.finalize()))
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    /// Whether the query is still waiting for its answer (the shell closes its socket otherwise).
    public func isWaiting(for token: QueryToken) -> Bool { pending[token] != nil }

    public var outstandingRequests: Int { requests.count }

    /// Whether a client's question is still being resolved.
    public func isResolving(_ client: ClientHandle) -> Bool {
        requests[client] != nil || waitingClients.contains(client)
    }

    // MARK: Inputs

    /// A client's query. Malformed queries get FORMERR when their header can be read.
    public mutating func receiveQuery(
        _ bytes: [UInt8], from client: ClientHandle, over transport: DNSClient.Transport, now: Double
    ) -> [ResolverAction] {
        statistics.clientQueries += 1
        // A question the cache answered before, from entries still current: that answer's bytes,
        // patched for this query (WireAnswers.swift), without decoding or encoding anything.
        let view = QueryView(bytes)
        if let view, let answer = wireAnswer(bytes, view, over: transport, now: now) {
            statistics.answeredFromCache += 1
            return [.reply(client, answer)]
        }
        let query: Message
        do {
            query = try Message.decode(bytes)
        } catch {
            guard bytes.count >= Message.headerSize, bytes[2] & 0x80 == 0 else { return [] }
            let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            return reply(client, Message(id: id, isResponse: true, rcode: .formatError), maximumSize: 512)
        }
        guard !query.isResponse else { return [] }
        let limit = transport == .udp ? query.maximumResponseSize : 65535
        var response = Self.response(to: query)
        guard query.opcode == .query else {
            response.rcode = .notImplemented
            return reply(client, response, maximumSize: limit)
        }
        guard query.questions.count == 1, let question = query.questions.first else {
            response.rcode = .formatError
            return reply(client, response, maximumSize: limit)
        }
        guard question.recordClass == .internet, question.type != .axfr, question.type != .ixfr else {
            response.rcode = .refused
            return reply(client, response, maximumSize: limit)
        }
        guard question.type != .opt, question.type != .tsig else {
            response.rcode = .formatError
            return reply(client, response, maximumSize: limit)
        }
        if blockList.blocks(question.name) {
            statistics.blocked += 1
            response.rcode = .nameError
            Self.addExtendedError(&response, code: 15, text: "blocked")
            return reply(client, response, maximumSize: limit)
        }
        if !localOrigins.isEmpty, localOrigins.contains(where: { question.name.isSubdomain(of: $0) }) {
            statistics.localAnswers += 1
            var local = localZones.answer(query)
            local.recursionAvailable = true
            return reply(client, local, maximumSize: limit)
        }
        // The common case first: the whole answer is in the cache.
        cache.trace = view == nil ? nil : []
        let generation = cache.generation
        let cached = cachedAnswer(question, checkingDisabled: query.checkingDisabled, now: now, allowStale: false)
        let trace = cache.trace
        cache.trace = nil
        if let answer = cached {
            statistics.answeredFromCache += 1
            var actions = reply(client, Self.respond(to: query, answer), maximumSize: limit)
            if lastAnswerNearExpiry {
                actions += prefetch(question, query: query, now: now)
            } else if let view, let trace, case .reply(_, let encoded)? = actions.first {
                cache.keepWireAnswer(
                    encoded, view: view, shape: view.shape(over: transport), trace: trace, generation: generation,
                    records: answer.records.count, authority: answer.authority.count,
                    signatures: answer.signatures.count, proofs: answer.proofs.count, validates: validates, now: now)
            }
            return actions
        }
        guard requests.count < settings.maximumOutstandingRequests else {
            statistics.serverFailures += 1
            response.rcode = .serverFailure
            Self.addExtendedError(&response, code: 14, text: "too many questions in flight")
            return reply(client, response, maximumSize: limit)
        }
        if let leader = inFlight[question], requests[leader]?.refreshSince == nil, requests[leader] != nil {
            requests[leader]?.waiters.append(Waiter(client: client, query: query, limit: limit))
            waitingClients.insert(client)
            return []
        }
        requests[client] = Request(
            client: client, query: query, question: question, limit: limit,
            goals: [Goal(name: question.name, type: question.type)])
        inFlight[question] = client
        return advance(client, now: now)
    }

    /// The cache's wire-form answer to this query, unless the name is blocked or in a local zone.
    private mutating func wireAnswer(
        _ bytes: [UInt8], _ view: QueryView, over transport: DNSClient.Transport, now: Double
    )
        -> [UInt8]?
    {
        if !blockList.names.isEmpty || !localOrigins.isEmpty {
            guard let name = view.name(in: bytes), !blockList.blocks(name),
                !localOrigins.contains(where: { name.isSubdomain(of: $0) })
            else { return nil }
        }
        return cache.wireAnswer(to: bytes, view, shape: view.shape(over: transport), now: now)
    }

    /// Resolves `question` again in the background, passing over the cached entries it refreshes;
    /// its answer goes only into the cache (and to clients that ask meanwhile).
    private mutating func prefetch(_ question: Question, query: Message, now: Double) -> [ResolverAction] {
        guard inFlight[question] == nil, requests.count < settings.maximumOutstandingRequests else { return [] }
        nextPrefetch &+= 1
        let handle = ClientHandle(Self.prefetchHandles | nextPrefetch)
        var request = Request(
            client: handle, query: query, question: question, limit: 65535,
            goals: [Goal(name: question.name, type: question.type)])
        request.refreshSince = now
        requests[handle] = request
        inFlight[question] = handle
        statistics.prefetches += 1
        return advance(handle, now: now)
    }

    /// Client handles with the top bit set belong to prefetches (the shell numbers from 1 up).
    static let prefetchHandles: UInt64 = 1 << 63

    /// The answer the cache alone gives, following CNAMEs: live data, or with `allowStale` data
    /// expired within the stale window (TTL `staleTTL`).
    /// When validating, an entry not validated yet is a miss (the resolution loop validates it),
    /// and a bogus one is SERVFAIL unless the client set CD.
    private mutating func cachedAnswer(_ question: Question, checkingDisabled: Bool, now: Double, allowStale: Bool)
        -> Answer?
    {
        var name = question.name
        var answer = Answer(rcode: .noError, secure: validates)
        lastAnswerNearExpiry = false
        for _ in 0...settings.maximumChain {
            guard
                let hit = cache.hit(name, question.type, now: now, allowStale: allowStale, staleTTL: settings.staleTTL)
            else { return nil }
            // Any link of the chain about to expire is worth a refresh of the whole question.
            lastAnswerNearExpiry = lastAnswerNearExpiry || cache.lastUseNearExpiry
            if validates {
                // A delegation's NS set or glue is the parent's unsigned copy: ask the zone itself.
                guard hit.credibility == .answer else { return nil }
                if let data = hit.validation {
                    switch data.security {
                    case .unchecked: return nil
                    case .secure: break
                    case .insecure: answer.secure = false
                    case .bogus(let code, let reason):
                        guard checkingDisabled else {
                            return Answer(rcode: .serverFailure, secure: false, extendedError: (code, reason))
                        }
                        answer.secure = false
                    }
                    answer.signatures += data.signatures
                    answer.proofs += data.proofs
                } else {
                    answer.secure = false
                }
            }
            switch hit.answer {
            case .records(let records):
                if let first = records.first, first.type == .cname, question.type != .cname,
                    case .cname(let alias) = first.data
                {
                    answer.records.append(first)
                    name = alias.target
                    continue
                }
                answer.records += records
                return answer
            case .noData(let authority):
                answer.authority = authority
                return answer
            case .nameError(let authority):
                answer.rcode = .nameError
                answer.authority = authority
                return answer
            }
        }
        return nil
    }

    /// Bytes that arrived from `source` on the socket of query `token`. A response that is not
    /// the answer (wrong source, ID or question, malformed) is ignored and the query keeps waiting.
    public mutating func receiveResponse(
        _ bytes: [UInt8], for token: QueryToken, from source: ServerAddress, now: Double
    ) -> [ResolverAction] {
        guard let sent = pending[token] else { return [] }
        let response: ClientResponse
        switch sent.query.accept(bytes, from: source, now: UInt64(max(0, now))) {
        case .ignored:
            statistics.ignoredResponses += 1
            return []
        case .truncated(let truncated):
            pending[token] = nil
            guard sent.transport == .udp else {
                response = truncated
                break
            }
            // RFC 7766 §5: ask the same server the same question over TCP.
            guard var request = requests[sent.client] else { return [] }
            let actions = send(
                sent.question, to: sent.server, over: .tcp, zone: sent.zone,
                minimised: sent.minimised, edns: sent.edns, request: &request, now: now)
            requests[sent.client] = request
            return actions ?? fail(sent.client, now: now)
        case .accepted(let accepted):
            pending[token] = nil
            response = accepted
        }
        if case .cookie(let client, let server)? = response.message.edns?.options.first(where: {
            if case .cookie = $0 { return true } else { return false }
        }), client == sent.query.options.clientCookie, (8...32).contains(server.count) {
            if serverCookies.count > 50_000 { serverCookies.removeAll() }
            serverCookies[sent.server] = server
        }
        let rcode = response.message.rcode
        if sent.edns, response.message.edns == nil, rcode == .formatError || rcode == .notImplemented,
            var request = requests[sent.client], request.queriesSent < settings.maximumQueriesPerRequest
        {
            // RFC 6891 §7: a server that does not know EDNS says FORMERR without an OPT record;
            // ask it again without one.
            let actions = send(
                sent.question, to: sent.server, over: sent.transport, zone: sent.zone, minimised: sent.minimised,
                edns: false, request: &request, now: now)
            requests[sent.client] = request
            return actions ?? fail(sent.client, now: now)
        }
        guard var request = requests[sent.client] else {
            recordRTT(sent.server, sample: max(0, now - sent.sentAt))
            return []
        }
        request.outstanding = nil
        if absorb(response.message, answering: sent, request: &request, now: now) == .lame {
            request.markFailed(sent.server, attempts: settings.attemptsPerServer)
            // A lame server answers fast but uselessly: rank it as if it had timed out.
            recordRTT(sent.server, sample: settings.queryTimeout)
        } else {
            recordRTT(sent.server, sample: max(0, now - sent.sentAt))
        }
        requests[sent.client] = request
        return advance(sent.client, now: now)
    }

    /// The query `token` got no answer in time: the server is slower in our books, and tried
    /// once more or given up for this zone.
    public mutating func timedOut(_ token: QueryToken, now: Double) -> [ResolverAction] {
        guard let sent = pending.removeValue(forKey: token) else { return [] }
        statistics.upstreamTimeouts += 1
        if sent.transport == .udp, sent.edns {
            // Large UDP answers are the ones lost to fragments and middleboxes: ask this server
            // with a 512-byte buffer from now on, so what does not fit comes back truncated and
            // goes over TCP (RFC 6891 §6.2.5).
            if smallBufferServers.count > 50_000 { smallBufferServers.removeAll() }
            smallBufferServers.insert(sent.server)
        }
        let previous = smoothedRTT[sent.server] ?? 0
        smoothedRTT[sent.server] = min(max(previous * 2, settings.queryTimeout), 60)
        guard var request = requests[sent.client] else { return [] }
        request.outstanding = nil
        request.markFailed(sent.server, attempts: 1)
        requests[sent.client] = request
        return advance(sent.client, now: now)
    }

    // MARK: The resolution loop

    private mutating func advance(_ client: ClientHandle, now: Double) -> [ResolverAction] {
        guard var request = requests[client] else { return [] }
        // Each pass either answers, sends, or changes the goal stack, whose growth is bounded by
        // maximumDepth and the query budget; the cap is a second guard against a cycle.
        for _ in 0..<512 {
            guard let goal = request.goals.last else { break }
            let refreshing = request.goals.count == 1 ? request.refreshSince : nil
            if let hit = cache.hit(goal.name, goal.type, now: now, storedSince: refreshing),
                !(validates && request.goals.count == 1 && hit.credibility < .answer)
            {
                if request.goals.count > 1 {
                    let finished = request.goals.removeLast()
                    if finished.fetchesKeys {
                        if cache.peek(finished.name, finished.type, now: now) == nil,
                            cache.peek(finished.name, ResolverCache.wholeName, now: now) == nil
                        {
                            request.unobtainable.insert(Question(name: finished.name, type: finished.type))
                        }
                        continue
                    }
                    if case .records(let records) = hit.answer, records.first?.type == goal.type { continue }
                    if goal.type == .a, settings.ipv6Authorities, !cache.isNegative(goal.name, .aaaa, now: now) {
                        // No IPv4 address: perhaps an IPv6 one.
                        request.goals.append(Goal(name: goal.name, type: .aaaa))
                        continue
                    }
                    request.goals[request.goals.count - 1].unresolvable.insert(goal.name)
                    continue
                }
                if validates {
                    switch judge(goal.name, hit, request: &request, now: now) {
                    case .proceed: break
                    case .fetching: continue
                    case .bogus(let answer): return finish(&request, answer)
                    }
                }
                switch hit.answer {
                case .records(let records):
                    guard let first = records.first, first.type == .cname, goal.type != .cname,
                        case .cname(let alias) = first.data
                    else {
                        return finish(&request, request.answer(.noError, records: records, authority: []))
                    }
                    guard follow(alias.target, adding: [first], request: &request) else {
                        return fail(request, now: now)
                    }
                case .noData(let authority):
                    return finish(&request, request.answer(.noError, records: [], authority: authority))
                case .nameError(let authority):
                    return finish(&request, request.answer(.nameError, records: [], authority: authority))
                }
                continue
            }
            if request.goals.count == 1, let (dname, target) = cachedDNAME(above: goal.name, now: now) {
                if validates, let hit = cache.peek(dname.name, .dname, now: now) {
                    switch judge(dname.name, hit, request: &request, now: now) {
                    case .proceed: break
                    case .fetching: continue
                    case .bogus(let answer): return finish(&request, answer)
                    }
                }
                let synthesized = ResourceRecord(
                    name: goal.name, ttl: dname.ttl, data: .cname(CNAMERecord(target: target)))
                guard follow(target, adding: [dname, synthesized], request: &request) else {
                    return fail(request, now: now)
                }
                continue
            }
            if validates, request.goals.count == 1, synthesizeDenial(goal.name, goal.type, now: now) { continue }
            let delegation = self.delegation(for: goal, now: now)
            if goal.zone != delegation.zone {
                request.goals[request.goals.count - 1].enter(delegation.zone)
            }
            let current = request.goals[request.goals.count - 1]
            let usable = delegation.servers.filter { current.failures[$0, default: 0] < settings.attemptsPerServer }
            if let server = fastest(usable) {
                let question = nextQuestion(for: current, zone: delegation.zone)
                guard request.queriesSent < settings.maximumQueriesPerRequest,
                    let actions = send(
                        question.question, to: server, over: .udp, zone: delegation.zone,
                        minimised: question.minimised, edns: true, request: &request, now: now)
                else { return fail(request, now: now) }
                requests[client] = request
                return actions
            }
            let lookup = delegation.unresolvedNames.first { name in
                !current.unresolvable.contains(name) && !request.goals.contains { $0.name == name }
            }
            if let lookup, request.goals.count < settings.maximumDepth {
                request.goals.append(Goal(name: lookup, type: .a))
                continue
            }
            guard request.goals.count > 1 else { return fail(request, now: now) }
            let failed = request.goals.removeLast()
            if failed.fetchesKeys {
                request.unobtainable.insert(Question(name: failed.name, type: failed.type))
            } else {
                request.goals[request.goals.count - 1].unresolvable.insert(failed.name)
            }
        }
        return fail(request, now: now)
    }

    enum Judgement {
        case proceed
        /// A DS or DNSKEY set it needs is now the goal on top.
        case fetching
        /// The SERVFAIL to answer.
        case bogus(Answer)
    }

    /// Validates a cached entry the answer uses; a secure one adds its RRSIGs and proofs to the
    /// answer, an insecure one takes away its AD bit, a bogus one fails it (unless the client set CD).
    private mutating func judge(_ name: DomainName, _ hit: CacheHit, request: inout Request, now: Double)
        -> Judgement
    {
        guard let data = hit.validation else {
            request.secure = false
            return .proceed
        }
        switch security(of: name, hit.type, now: now, unobtainable: request.unobtainable) {
        case .fetch(let name, let type):
            request.goals.append(Goal(name: name, type: type, fetchesKeys: true))
            return .fetching
        case .done(.secure): break
        case .done(.insecure), .done(.unchecked): request.secure = false
        case .done(.bogus(let code, let reason)):
            guard request.query.checkingDisabled else {
                statistics.serverFailures += 1
                return .bogus(Answer(rcode: .serverFailure, secure: false, extendedError: (code, reason)))
            }
            request.secure = false
        }
        request.signatures += data.signatures
        request.proofs += data.proofs
        return .proceed
    }

    /// Moves the main question to an alias's target, keeping the records that led there.
    private func follow(_ target: DomainName, adding records: [ResourceRecord], request: inout Request) -> Bool {
        let visited = Set(request.chain.map(\.name)).union([request.question.name])
        guard request.chain.count < settings.maximumChain * 2, !visited.contains(target) else { return false }
        request.chain += records
        request.goals = [Goal(name: target, type: request.question.type)]
        return true
    }

    /// A live DNAME at a proper ancestor of `name`, and the name it rewrites `name` to.
    private mutating func cachedDNAME(above name: DomainName, now: Double) -> (ResourceRecord, DomainName)? {
        var ancestor = name.parent
        while let owner = ancestor {
            if let record = cache.records(owner, .dname, now: now)?.first, case .dname(let dname) = record.data,
                let target = Self.substitute(name, owner: owner, target: dname.target)
            {
                return (record, target)
            }
            ancestor = owner.parent
        }
        return nil
    }

    /// `name` with its suffix `owner` replaced by `target` (RFC 6672 §2.2); nil when too long.
    static func substitute(_ name: DomainName, owner: DomainName, target: DomainName) -> DomainName? {
        let keep = name.labelCount - owner.labelCount
        guard keep > 0 else { return nil }
        let prefix = name.labels.prefix(keep).map { Array($0) }
        return try? DomainName(labels: prefix).appending(target)
    }

    struct Delegation {
        var zone: DomainName
        var servers: [ServerAddress]
        /// NS names of the zone with no address cached.
        var unresolvedNames: [DomainName]
    }

    /// The closest enclosing zone with a cached NS set, its servers' addresses, and the NS names
    /// still to look up; the root hints when nothing is cached; the forwarders in forward mode.
    private mutating func delegation(for goal: Goal, now: Double) -> Delegation {
        guard settings.forwarders.isEmpty else {
            return Delegation(zone: .root, servers: settings.forwarders, unresolvedNames: [])
        }
        // A DS set lives on the parent side of a zone cut.
        var candidate: DomainName? = goal.type == .ds ? goal.name.parent : goal.name
        while let name = candidate {
            if let nsRecords = cache.records(name, .ns, now: now) {
                var servers: [ServerAddress] = []
                var unresolved: [DomainName] = []
                for case .ns(let ns) in nsRecords.map(\.data) {
                    var found = false
                    if let addresses = cache.records(ns.target, .a, now: now) {
                        for case .a(let a) in addresses.map(\.data) {
                            servers.append(ServerAddress(host: a.address.description, port: settings.authorityPort))
                        }
                        found = true
                    }
                    if settings.ipv6Authorities, let addresses = cache.records(ns.target, .aaaa, now: now) {
                        for case .aaaa(let aaaa) in addresses.map(\.data) {
                            servers.append(
                                ServerAddress(host: aaaa.address.description, port: settings.authorityPort))
                        }
                        found = true
                    }
                    if !found,
                        !cache.isNegative(ns.target, .a, now: now)
                            || (settings.ipv6Authorities && !cache.isNegative(ns.target, .aaaa, now: now))
                    {
                        unresolved.append(ns.target)
                    }
                }
                if !servers.isEmpty || !unresolved.isEmpty {
                    return Delegation(zone: name, servers: servers, unresolvedNames: unresolved)
                }
            }
            candidate = name.parent
        }
        return Delegation(zone: .root, servers: settings.rootServers, unresolvedNames: [])
    }

    /// The question to ask the zone's server: with QNAME minimisation, only one label more than
    /// the zone (or than the deepest name already known not to be a zone cut), as type A.
    private func nextQuestion(for goal: Goal, zone: DomainName) -> (question: Question, minimised: Bool) {
        let full = Question(name: goal.name, type: goal.type)
        guard settings.qnameMinimisation, settings.forwarders.isEmpty, goal.type != .ds else { return (full, false) }
        let base = goal.probed ?? zone
        guard goal.name.labelCount > base.labelCount + 1 else { return (full, false) }
        var probe = goal.name
        while probe.labelCount > base.labelCount + 1, let parent = probe.parent { probe = parent }
        return (Question(name: probe, type: .a), true)
    }

    /// The server with the lowest smoothed RTT; a server never measured counts as 0 so that each
    /// is tried once.
    private func fastest(_ servers: [ServerAddress]) -> ServerAddress? {
        servers.min { (smoothedRTT[$0] ?? 0) < (smoothedRTT[$1] ?? 0) }
    }

    private mutating func recordRTT(_ server: ServerAddress, sample: Double) {
        if smoothedRTT.count > 50_000 { smoothedRTT.removeAll() }
        if let previous = smoothedRTT[server] {
            smoothedRTT[server] = previous * 7 / 8 + sample / 8
        } else {
            smoothedRTT[server] = sample
        }
    }

    private mutating func send(
        _ question: Question, to server: ServerAddress, over transport: DNSClient.Transport, zone: DomainName,
        minimised: Bool, edns: Bool, request: inout Request, now: Double
    ) -> [ResolverAction]? {
        var options = QueryOptions(
            recursionDesired: !settings.forwarders.isEmpty, authenticData: false, edns: edns,
            udpPayloadSize: smallBufferServers.contains(server) ? 512 : 1232, dnssecOK: edns && validates,
            clientCookie: clientCookie(for: server),
            sendsCookie: false)
        options.serverCookie = serverCookies[server] ?? []
        guard
            let query = try? ClientQuery(
                question: question, options: options, id: randomID(), server: server, now: UInt64(max(0, now)))
        else { return nil }
        nextToken += 1
        let token = QueryToken(rawValue: nextToken)
        pending[token] = PendingQuery(
            client: request.client, query: query, question: question, server: server, transport: transport,
            zone: zone, minimised: minimised, edns: edns, sentAt: now)
        request.queriesSent += 1
        request.outstanding = token
        statistics.upstreamQueries += 1
        return [
            .send(
                OutgoingQuery(
                    token: token, server: server, transport: transport, bytes: query.bytes,
                    timeout: settings.queryTimeout * (transport == .tcp ? 2 : 1)))
        ]
    }

    // MARK: Learning from a response

    enum Outcome { case learned, lame }

    /// Caches what an accepted response may teach: only records within the zone the server was
    /// asked about (its bailiwick), only on the path of the question (the answer chain, the
    /// delegation or SOA above it, glue for that delegation's NS names). Everything else in it is
    /// dropped, so unrelated additional records cannot poison the cache.
    private mutating func absorb(_ message: Message, answering sent: PendingQuery, request: inout Request, now: Double)
        -> Outcome
    {
        guard message.rcode == .noError || message.rcode == .nameError else { return .lame }
        let zone = sent.zone
        let asked = sent.question
        let validating = validates
        // What validation needs: the RRSIGs over each RRset kept, and the NSEC/NSEC3 records (with
        // their RRSIGs and the SOA's) that prove a denial or a wildcard expansion.
        let denial =
            validating
            ? message.authority.filter { record in
                guard record.name.isSubdomain(of: zone) else { return false }
                switch record.data {
                case .nsec, .nsec3: return true
                case .rrsig(let signature): return [.nsec, .nsec3, .soa].contains(signature.typeCovered)
                default: return false
                }
            } : []
        func signed(_ owner: DomainName, _ type: RecordType, in section: [ResourceRecord]) -> ValidationData? {
            guard validating, type != .any else { return nil }
            let signatures = section.filter { record in
                guard case .rrsig(let signature) = record.data else { return false }
                return record.name == owner && signature.typeCovered == type
            }
            return ValidationData(zone: zone, signatures: signatures, proofs: denial)
        }
        let negative = validating ? ValidationData(zone: zone, signatures: [], proofs: denial) : nil
        var name = asked.name
        var answered = false
        var visited: Set<DomainName> = []
        var looped = false
        for _ in 0...settings.maximumChain {
            guard name.isSubdomain(of: zone) else { break }
            guard visited.insert(name).inserted else {
                looped = true
                break
            }
            let owned = message.answers.filter { $0.name == name && $0.recordClass == .internet }
            let matching = owned.filter { asked.type == .any ? $0.type != .rrsig : $0.type == asked.type }
            if let first = matching.first {
                cacheRecords(
                    matching, name: name, type: asked.type, ttl: first.ttl, now: now,
                    validation: signed(name, asked.type, in: message.answers))
                answered = true
                break
            }
            if let dname = message.answers.first(where: {
                $0.type == .dname && name != $0.name && name.isSubdomain(of: $0.name) && $0.name.isSubdomain(of: zone)
            }), case .dname(let data) = dname.data,
                let target = Self.substitute(name, owner: dname.name, target: data.target)
            {
                cacheRecords(
                    [dname], name: dname.name, type: .dname, ttl: dname.ttl, now: now,
                    validation: signed(dname.name, .dname, in: message.answers))
                name = target
                continue
            }
            if let cname = owned.first(where: { $0.type == .cname }), case .cname(let alias) = cname.data {
                cacheRecords(
                    [cname], name: name, type: .cname, ttl: cname.ttl, now: now,
                    validation: signed(name, .cname, in: message.answers))
                name = alias.target
                continue
            }
            break
        }
        if answered || looped || !name.isSubdomain(of: zone) {
            // An answer, a loop, or a chain that leaves the zone: the next step goes on from the cache
            // (where following a loop ends in SERVFAIL).
            if sent.minimised { request.probed(asked.name) }
            return .learned
        }
        let soa = message.authority.first {
            $0.type == .soa && name.isSubdomain(of: $0.name) && $0.name.isSubdomain(of: zone)
        }
        let negativeTTL = min(soa.map(Self.negativeTTL) ?? 0, settings.maximumNegativeTTL)
        if message.rcode == .nameError {
            let authority = soa.map { [$0] } ?? []
            cache.insert(
                .nameError(authority: authority), name: name, type: asked.type, ttl: negativeTTL,
                credibility: .answer, now: now, validation: negative)
            // RFC 8020: nothing exists below a name that does not exist.
            if sent.minimised, let goal = request.goals.last, goal.name.isSubdomain(of: name) {
                cache.insert(
                    .nameError(authority: authority), name: goal.name, type: goal.type, ttl: negativeTTL,
                    credibility: .answer, now: now, validation: negative)
            }
            return .learned
        }
        let referral = message.authority.filter {
            $0.type == .ns && $0.recordClass == .internet && name.isSubdomain(of: $0.name) && $0.name != zone
                && $0.name.isSubdomain(of: zone)
        }
        if let cut = referral.first?.name, soa == nil, !message.answers.contains(where: { $0.name == name }) {
            let nsSet = referral.filter { $0.name == cut }
            cacheRecords(
                nsSet, name: cut, type: .ns, ttl: nsSet.map(\.ttl).min() ?? 0, now: now, credibility: .referral)
            let targets = Set(
                nsSet.compactMap { record -> DomainName? in
                    if case .ns(let ns) = record.data { return ns.target }
                    return nil
                })
            // Glue only for this delegation's NS names, and only within the asked zone.
            let glueTypes: [RecordType] = settings.ipv6Authorities ? [.a, .aaaa] : [.a]
            for target in targets where target.isSubdomain(of: zone) {
                for type in glueTypes {
                    let glue = message.additional.filter { $0.name == target && $0.type == type }
                    if let first = glue.first {
                        cacheRecords(glue, name: target, type: type, ttl: first.ttl, now: now, credibility: .glue)
                    }
                }
            }
            if validating {
                // The parent's word on the child's DS set (RFC 4035 §3.1.4): the DS records, or the
                // NSEC/NSEC3 proving there are none (an insecure delegation).
                let signers = message.authority.filter { $0.name == cut && $0.type == .ds }
                if let first = signers.first {
                    cacheRecords(
                        signers, name: cut, type: .ds, ttl: first.ttl, now: now,
                        validation: signed(cut, .ds, in: message.authority))
                } else if !denial.isEmpty {
                    // Without the parent's SOA, so only validation uses it: a client asking gets
                    // the parent's own answer, SOA included (referral credibility is never served).
                    let ttl = min(denial.map(\.ttl).min() ?? 0, settings.maximumNegativeTTL)
                    cache.insert(
                        .noData(authority: []), name: cut, type: .ds, ttl: ttl, credibility: .referral, now: now,
                        validation: negative)
                }
            }
            return .learned
        }
        // NOERROR without the data: NODATA, which only an authority (or a forwarder) can say.
        guard message.authoritative || !settings.forwarders.isEmpty || soa != nil else { return .lame }
        if sent.minimised { request.probed(asked.name) }
        let authority = soa.map { [$0] } ?? []
        cache.insert(
            .noData(authority: authority), name: name, type: asked.type, ttl: negativeTTL,
            credibility: .answer, now: now, validation: negative)
        return .learned
    }

    private mutating func cacheRecords(
        _ records: [ResourceRecord], name: DomainName, type: RecordType, ttl: UInt32, now: Double,
        credibility: Credibility = .answer, validation: ValidationData? = nil
    ) {
        let capped = min(ttl, settings.maximumTTL)
        let uniform = records.map { record in
            var record = record
            record.ttl = capped
            return record
        }
        cache.insert(
            .records(uniform), name: name, type: type, ttl: capped, credibility: credibility, now: now,
            validation: validation)
    }

    /// RFC 2308 §5: the smaller of the SOA's TTL and its MINIMUM field.
    static func negativeTTL(_ soa: ResourceRecord) -> UInt32 {
        guard case .soa(let data) = soa.data else { return 0 }
        return min(soa.ttl, data.minimum)
    }

    // MARK: Answering the client

    private mutating func finish(_ request: inout Request, _ validated: Answer) -> [ResolverAction] {
        var answer = validated
        if !validates { answer.secure = false }
        if request.queriesSent == 0, request.refreshSince == nil { statistics.answeredFromCache += 1 }
        requests[request.client] = nil
        if inFlight[request.question] == request.client { inFlight[request.question] = nil }
        if let token = request.outstanding { pending[token] = nil }
        var actions =
            request.refreshSince == nil
            ? reply(request.client, Self.respond(to: request.query, answer), maximumSize: request.limit) : []
        for waiter in request.waiters {
            waitingClients.remove(waiter.client)
            actions += reply(waiter.client, Self.respond(to: waiter.query, answer), maximumSize: waiter.limit)
        }
        return actions
    }

    /// No authority answered: a stale answer if the cache still has one (RFC 8767), else SERVFAIL.
    private mutating func fail(_ client: ClientHandle, now: Double) -> [ResolverAction] {
        guard let request = requests[client] else { return [] }
        return fail(request, now: now)
    }

    private mutating func fail(_ failed: Request, now: Double) -> [ResolverAction] {
        var request = failed
        if var answer = cachedAnswer(
            request.question, checkingDisabled: request.query.checkingDisabled, now: now, allowStale: true),
            answer.rcode != .serverFailure
        {
            if request.refreshSince == nil { statistics.staleAnswers += 1 }
            answer.extendedError = (3, "stale answer")
            return finish(&request, answer)
        }
        statistics.serverFailures += 1
        return finish(
            &request, Answer(rcode: .serverFailure, secure: false, extendedError: (22, "no reachable authority")))
    }

    private func reply(_ client: ClientHandle, _ message: Message, maximumSize: Int) -> [ResolverAction] {
        guard let bytes = try? message.encode(maximumSize: maximumSize) else { return [] }
        return [.reply(client, bytes)]
    }

    static func response(to query: Message) -> Message {
        var response = Message(
            id: query.id, isResponse: true, opcode: query.opcode, recursionDesired: query.recursionDesired,
            recursionAvailable: true, checkingDisabled: query.checkingDisabled, questions: query.questions)
        if let edns = query.edns {
            response.edns = EDNS(udpPayloadSize: 1232)
            response.edns?.dnssecOK = edns.dnssecOK
        }
        return response
    }

    /// The answer as this client asked for it: RRSIGs and proofs only with DO, AD only when every
    /// part validated and the client understands it (AD or DO set, RFC 6840 §5.8).
    static func respond(to query: Message, _ answer: Answer) -> Message {
        var response = Self.response(to: query)
        response.rcode = answer.rcode
        response.answers = answer.records
        response.authority = answer.authority
        let dnssecOK = query.edns?.dnssecOK == true
        if dnssecOK {
            response.answers += answer.signatures
            response.authority += answer.proofs
        }
        response.authenticData = answer.secure && (query.authenticData || dnssecOK)
        if let (code, text) = answer.extendedError { addExtendedError(&response, code: code, text: text) }
        return response
    }

    static func addExtendedError(_ response: inout Message, code: UInt16, text: String) {
        guard response.edns != nil else { return }
        response.edns?.options.append(.extendedError(code: code, text: Array(text.utf8)))
    }
}

/// One client question being resolved.
struct Request: Sendable {
    let client: ClientHandle
    let query: Message
    let question: Question
    /// The most the answer may take (the client's UDP size, or 65535 over TCP).
    let limit: Int
    /// The main goal first; NS address lookups it needs on top.
    var goals: [Goal]
    /// CNAMEs and DNAMEs followed so far, in order.
    var chain: [ResourceRecord] = []
    var queriesSent = 0
    var outstanding: QueryToken?
    /// Clients that asked the same question meanwhile, answered with this answer.
    var waiters: [Waiter] = []
    /// A prefetch: cached answers to the question stored before this time do not count.
    var refreshSince: Double?
    /// Validation: whether every part of the answer so far is secure, the RRSIGs and proofs of
    /// those parts, and the keys or DS sets that could not be fetched.
    var secure = true
    var signatures: [ResourceRecord] = []
    var proofs: [ResourceRecord] = []
    var unobtainable: Set<Question> = []

    /// The final answer: the aliases followed, then `records`.
    func answer(_ rcode: ResponseCode, records: [ResourceRecord], authority: [ResourceRecord]) -> Answer {
        Answer(
            rcode: rcode, records: chain + records, authority: authority, signatures: signatures, proofs: proofs,
            secure: secure)
    }

    init(client: ClientHandle, query: Message, question: Question, limit: Int, goals: [Goal]) {
        self.client = client
        self.query = query
        self.question = question
        self.limit = limit
        self.goals = goals
    }

    /// QNAME minimisation learned that `name` is not a zone cut.
    mutating func probed(_ name: DomainName) {
        guard !goals.isEmpty else { return }
        goals[goals.count - 1].probed = name
    }

    mutating func markFailed(_ server: ServerAddress, attempts: Int) {
        guard !goals.isEmpty else { return }
        goals[goals.count - 1].failures[server, default: 0] += attempts
    }
}

/// An answer for clients, before it is shaped to each one's flags.
struct Answer: Sendable {
    var rcode: ResponseCode
    var records: [ResourceRecord] = []
    var authority: [ResourceRecord] = []
    /// For clients that set DO: the RRSIGs over `records`, and the NSEC/NSEC3 records and RRSIGs
    /// for `authority`.
    var signatures: [ResourceRecord] = []
    var proofs: [ResourceRecord] = []
    /// Validated: every part of it is secure.
    var secure: Bool
    var extendedError: (UInt16, String)? = nil
}

struct Waiter: Sendable {
    let client: ClientHandle
    let query: Message
    let limit: Int
}

/// A name and type to find, and what was learned about asking for it in the current zone.
struct Goal: Sendable {
    var name: DomainName
    var type: RecordType
    /// The zone whose servers are being asked; failures and probes are about it.
    var zone: DomainName?
    /// Failed tries per server in `zone`.
    var failures: [ServerAddress: Int] = [:]
    /// QNAME minimisation: the deepest name below `zone` known not to be a zone cut.
    var probed: DomainName?
    /// NS names whose address could not be found.
    var unresolvable: Set<DomainName> = []
    /// A DS or DNSKEY set validation needs (its answer is not an address).
    var fetchesKeys: Bool

    init(name: DomainName, type: RecordType, fetchesKeys: Bool = false) {
        self.name = name
        self.type = type
        self.fetchesKeys = fetchesKeys
    }

    mutating func enter(_ newZone: DomainName) {
        zone = newZone
        failures = [:]
        if let probed, !probed.isSubdomain(of: newZone) || probed == newZone { self.probed = nil }
    }
}

struct PendingQuery: Sendable {
    let client: ClientHandle
    let query: ClientQuery
    let question: Question
    let server: ServerAddress
    let transport: DNSClient.Transport
    /// The zone the server was asked as an authority for: the bailiwick of its answer.
    let zone: DomainName
    let minimised: Bool
    /// Whether the query carried an OPT record (dropped after a FORMERR from a server without EDNS).
    let edns: Bool
    let sentAt: Double
}
