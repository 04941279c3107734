import DNS
import DNSClient

/// How the resolver resolves: from root hints or through forwarders, and its limits.
public struct ResolverSettings: Sendable {
    /// The root servers' addresses (from `RootHints`); used when no delegation is cached.
    public var rootServers: [ServerAddress]
    /// Forwarding mode: every question goes to these servers with RD set, and nothing is iterated.
    public var forwarders: [ServerAddress]
    /// The port authorities are asked on (53; NS records cannot carry a port).
    public var authorityPort: Int
    /// RFC 9156: ask each authority only for the next label below its zone.
    public var qnameMinimisation: Bool
    /// Seconds before an unanswered query counts as lost.
    public var queryTimeout: Double
    /// Tries per server and zone before the server is given up for this question.
    public var attemptsPerServer: Int
    /// Queries one client question may cost, all CNAMEs and NS lookups included.
    public var maximumQueriesPerRequest: Int
    /// Nested lookups (an NS name's address, to find another NS name's address…) at most.
    public var maximumDepth: Int
    /// CNAME and DNAME steps followed for one answer.
    public var maximumChain: Int
    /// Cap on how long anything is cached (seconds), and on negative answers (RFC 2308 §5).
    public var maximumTTL: UInt32
    public var maximumNegativeTTL: UInt32
    /// The TTL of a stale answer (RFC 8767 §4 suggests 30 s).
    public var staleTTL: UInt32
    /// Client questions being resolved at once; beyond this a question not answerable from the
    /// cache gets SERVFAIL at once, so a flood of random names cannot grow memory without bound.
    public var maximumOutstandingRequests: Int
    /// DNSSEC: validate every answer from these anchors down (empty: no validation).
    public var trustAnchors: TrustAnchors
    /// Ask authorities at their IPv6 addresses too (AAAA glue and AAAA lookups of NS names).
    public var ipv6Authorities: Bool

    public init(
        rootServers: [ServerAddress] = [], forwarders: [ServerAddress] = [], authorityPort: Int = 53,
        qnameMinimisation: Bool = true, queryTimeout: Double = 1.0, attemptsPerServer: Int = 2,
        maximumQueriesPerRequest: Int = 64, maximumDepth: Int = 6, maximumChain: Int = 12,
        maximumTTL: UInt32 = 86_400, maximumNegativeTTL: UInt32 = 3_600, staleTTL: UInt32 = 30,
        maximumOutstandingRequests: Int = 10_000, trustAnchors: TrustAnchors = TrustAnchors(),
        ipv6Authorities: Bool = false
    ) {
        self.ipv6Authorities = ipv6Authorities
        self.trustAnchors = trustAnchors
        self.rootServers = rootServers
        self.forwarders = forwarders
        self.authorityPort = authorityPort
        self.qnameMinimisation = qnameMinimisation
        self.queryTimeout = queryTimeout
        self.attemptsPerServer = attemptsPerServer
        self.maximumQueriesPerRequest = maximumQueriesPerRequest
        self.maximumDepth = maximumDepth
        self.maximumChain = maximumChain
        self.maximumTTL = maximumTTL
        self.maximumNegativeTTL = maximumNegativeTTL
        self.staleTTL = staleTTL
        self.maximumOutstandingRequests = maximumOutstandingRequests
    }
}

/// Why a root hints or block list file was refused: where, and what was wrong.
public struct ResolverFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

/// A root hints file (named.root): the root's NS records and their addresses, in zone-file syntax.
public enum RootHints {
    /// The IPv4 (and, with `includeIPv6`, IPv6) addresses of the root's name servers.
    public static func parse(_ text: String, port: Int = 53, includeIPv6: Bool = false) throws(ResolverFileError)
        -> [ServerAddress]
    {
        let records: [ResourceRecord]
        do {
            records = try ZoneParser(origin: .root, include: nil).parse(text, file: "root hints")
        } catch {
            throw ResolverFileError(line: 0, reason: "\(error)")
        }
        let names = Set(
            records.compactMap { record -> DomainName? in
                guard record.name.isRoot, case .ns(let ns) = record.data else { return nil }
                return ns.target
            })
        guard !names.isEmpty else { throw ResolverFileError(line: 0, reason: "no NS records for the root (.)") }
        var servers: [ServerAddress] = []
        for record in records where names.contains(record.name) {
            switch record.data {
            case .a(let a): servers.append(ServerAddress(host: a.address.description, port: port))
            case .aaaa(let aaaa) where includeIPv6:
                servers.append(ServerAddress(host: aaaa.address.description, port: port))
            default: continue
            }
        }
        guard !servers.isEmpty else {
            throw ResolverFileError(line: 0, reason: "no addresses for the root's name servers")
        }
        return servers
    }
}

/// Names answered NXDOMAIN, with everything below them: one name a line, `#` starts a comment.
/// A hosts-file line (`0.0.0.0 ads.example`) also counts, for the name.
public struct BlockList: Sendable {
    public private(set) var names: Set<DomainName> = []

    public init(names: Set<DomainName> = []) {
        self.names = names
    }

    public static func parse(_ text: String) throws(ResolverFileError) -> BlockList {
        var list = BlockList()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.prefix { $0 != "#" }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let last = words.last else { continue }
            guard words.count <= 2 else {
                throw ResolverFileError(line: index + 1, reason: "expected one name, found \(words.count) words")
            }
            let text = last.hasSuffix(".") ? String(last) : last + "."
            do {
                list.names.insert(try DomainName(text).lowercased())
            } catch {
                throw ResolverFileError(line: index + 1, reason: "\"\(last)\" is not a domain name: \(error)")
            }
        }
        return list
    }

    /// Whether the name or one of its ancestors is listed.
    public func blocks(_ name: DomainName) -> Bool {
        guard !names.isEmpty else { return false }
        var current: DomainName? = name
        while let candidate = current {
            if names.contains(candidate) { return true }
            current = candidate.parent
        }
        return false
    }
}
