import ArgumentParser
import DNS
import DNSClient
import DNSServer
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOShell
import QuercusCLI
import Resolver
import ResolverNIO

@main
struct QuercusResolver: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-resolver",
        abstract: "A recursive caching DNS resolver.",
        discussion: """
            Resolves from the root (or --root-hints) with QNAME minimisation, or forwards every question to \
            --forward servers; caches answers and negative answers within --cache-size, and serves stale \
            answers when no authority answers. --local-zone answers a zone itself; --block answers NXDOMAIN \
            for listed names and everything below them. Stops on SIGINT or SIGTERM. \
            Exit codes: 0 stopped by a signal, 1 failure, 64 bad usage.
            """,
        version: QuercusVersion.string
    )

    @Option(help: "Address to listen on, UDP and TCP (repeatable): 127.0.0.1:5353 or [::1]:5353.")
    var listen: [String] = ["127.0.0.1:5353"]

    @Option(help: "A root hints file (named.root format): the root's NS records and their addresses.")
    var rootHints: String?

    @Option(
        help:
            "DS or DNSKEY records (zone-file lines) to validate from: DNSSEC validation of every answer, AD for secure ones, SERVFAIL for bogus ones."
    )
    var trustAnchor: String?

    @Option(help: "Forward every question to this server instead of iterating (repeatable): IP or IP:PORT.")
    var forward: [String] = []

    @Option(help: "A zone to answer from a file, as NAME=FILE (repeatable).")
    var localZone: [String] = []

    @Option(help: "A file of names to answer NXDOMAIN (with every name below them), one a line.")
    var block: String?

    @Option(help: "The cache's memory bound, in MB.")
    var cacheSize: Int = 64

    @Option(help: "Serve Prometheus metrics over HTTP at this address (GET /metrics): 127.0.0.1:9154.")
    var metrics: String?

    @Option(help: "Seconds to wait for an authority's answer before trying another.")
    var queryTimeout: Double = 1.0

    @Flag(help: "Also ask authorities at their IPv6 addresses (AAAA glue, root hints and NS names' AAAA records).")
    var ipv6Authorities = false

    @Flag(inversion: .prefixedNo, help: "Ask each authority only for the next label (RFC 9156).")
    var qnameMinimisation = true

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if trustAnchor != nil && !forward.isEmpty {
            throw ValidationError(
                "--trust-anchor with --forward: validation needs the zone each answer came from, which only iteration knows; validate at the forwarder, or iterate"
            )
        }
        guard cacheSize >= 1 else { throw ValidationError("--cache-size must be at least 1 (MB)") }
        guard queryTimeout > 0 else { throw ValidationError("--query-timeout must be positive") }
        if rootHints != nil && !forward.isEmpty {
            throw ValidationError("--root-hints and --forward exclude each other")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus.resolver")
        var settings = ResolverSettings(queryTimeout: queryTimeout)
        settings.qnameMinimisation = qnameMinimisation
        settings.forwarders = try forward.map(parseForwarder)
        settings.trustAnchors = try loadTrustAnchors()
        settings.ipv6Authorities = ipv6Authorities
        if settings.forwarders.isEmpty {
            settings.rootServers = try loadRootHints()
        }
        let resolver = RecursiveResolver(
            settings: settings, cache: ResolverCache(capacity: cacheSize << 20), blockList: try loadBlockList(),
            localZones: Authority(zones: try localZone.map(loadLocalZone)))
        let addresses = try listen.map { text in
            do { return try parseListenAddress(text) } catch { throw ValidationError("--listen \(error)") }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let service = ResolverService(resolver: resolver, group: group, logger: logger)
        var listeners: [DNSListener] = []
        for address in addresses {
            listeners.append(try await service.bind(address))
        }
        var channels: [any Channel] = []
        let mode =
            settings.forwarders.isEmpty
            ? "from \(settings.rootServers.count) root server address(es)"
            : "forwarding to \(settings.forwarders.map(\.description).joined(separator: " "))"
        let validation = settings.trustAnchors.isEmpty ? "" : ", validating DNSSEC"
        logger.info("resolving \(mode)\(validation) on \(listen.joined(separator: " ")) (UDP and TCP)")
        if let metrics {
            let address: SocketAddress
            do { address = try parseListenAddress(metrics) } catch { throw ValidationError("--metrics \(error)") }
            channels.append(
                try await PageEndpoint.bind(address, group: group) { path in
                    path == "/metrics"
                        ? Page(contentType: "text/plain; version=0.0.4", body: renderMetrics(service))
                        : .notFound("not found: try /metrics\n")
                })
            logger.info("metrics on http://\(metrics)/metrics")
        }
        try await withThrowingDiscardingTaskGroup { tasks in
            for listener in listeners {
                tasks.addTask { try await listener.closed() }
            }
            for channel in channels {
                tasks.addTask { try await channel.closeFuture.get() }
            }
        }
    }

    private func parseForwarder(_ text: String) throws -> ServerAddress {
        if let address = try? parseListenAddress(text), let host = address.ipAddress, let port = address.port {
            return ServerAddress(host: host, port: port)
        }
        guard let address = try? SocketAddress(ipAddress: text, port: 53), let host = address.ipAddress else {
            throw ValidationError("--forward \"\(text)\": expected IP or IP:PORT ([IPv6]:PORT)")
        }
        return ServerAddress(host: host, port: 53)
    }

    private func loadRootHints() throws -> [ServerAddress] {
        guard let rootHints else { return Self.builtInRootServers }
        guard let text = try? String(contentsOfFile: rootHints, encoding: .utf8) else {
            throw ValidationError("--root-hints \(rootHints): cannot read it")
        }
        do { return try RootHints.parse(text, includeIPv6: ipv6Authorities) } catch {
            throw ValidationError("--root-hints \(rootHints): \(error)")
        }
    }

    private func loadTrustAnchors() throws -> TrustAnchors {
        guard let trustAnchor else { return TrustAnchors() }
        guard let text = try? String(contentsOfFile: trustAnchor, encoding: .utf8) else {
            throw ValidationError("--trust-anchor \(trustAnchor): cannot read it")
        }
        do {
            return try TrustAnchors.parse(text)
        } catch {
            throw ValidationError("--trust-anchor \(trustAnchor): \(error)")
        }
    }

    private func loadBlockList() throws -> BlockList {
        guard let block else { return BlockList() }
        guard let text = try? String(contentsOfFile: block, encoding: .utf8) else {
            throw ValidationError("--block \(block): cannot read it")
        }
        do { return try BlockList.parse(text) } catch { throw ValidationError("--block \(block): \(error)") }
    }

    /// `NAME=FILE`; the file may not $INCLUDE others.
    private func loadLocalZone(_ text: String) throws -> Zone {
        guard let equals = text.firstIndex(of: "=") else {
            throw ValidationError("--local-zone \"\(text)\": expected NAME=FILE")
        }
        let name = String(text[..<equals])
        let file = String(text[text.index(after: equals)...])
        do {
            let origin = try DomainName(name.hasSuffix(".") ? name : name + ".")
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("--local-zone \(file): cannot read it")
            }
            let records = try ZoneParser(origin: origin, include: nil).parse(contents, file: file)
            return try Zone(origin: origin, records: records)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("--local-zone \(text): \(error)")
        }
    }

    /// The IPv4 addresses of a.root-servers.net … m.root-servers.net (IANA's named.root).
    static let builtInRootServers = [
        "198.41.0.4", "170.247.170.2", "192.33.4.12", "199.7.91.13", "192.203.230.10", "192.5.5.241",
        "192.112.36.4", "198.97.190.53", "192.36.148.17", "192.58.128.30", "193.0.14.129", "199.7.83.42",
        "202.12.27.33",
    ].map { ServerAddress(host: $0) }
}

/// The Prometheus text of the resolver's counters.
func renderMetrics(_ service: ResolverService) -> String {
    let (statistics, entries, bytes, evictions) = service.statistics
    let counters: [(String, String, Int)] = [
        ("quercus_resolver_client_queries_total", "Queries received from clients.", statistics.clientQueries),
        (
            "quercus_resolver_cache_answers_total", "Answers given without asking an authority.",
            statistics.answeredFromCache
        ),
        (
            "quercus_resolver_upstream_queries_total", "Queries sent to authorities or forwarders.",
            statistics.upstreamQueries
        ),
        (
            "quercus_resolver_upstream_timeouts_total", "Upstream queries that got no answer in time.",
            statistics.upstreamTimeouts
        ),
        (
            "quercus_resolver_ignored_responses_total", "Responses ignored as spoofed, stray or malformed.",
            statistics.ignoredResponses
        ),
        ("quercus_resolver_servfail_total", "Questions answered SERVFAIL.", statistics.serverFailures),
        ("quercus_resolver_stale_answers_total", "Stale answers served (RFC 8767).", statistics.staleAnswers),
        ("quercus_resolver_blocked_total", "Questions answered NXDOMAIN by the block list.", statistics.blocked),
        ("quercus_resolver_local_answers_total", "Questions answered from local zones.", statistics.localAnswers),
        ("quercus_resolver_prefetches_total", "Answers refreshed before they expired.", statistics.prefetches),
        ("quercus_resolver_cache_evictions_total", "Cache entries evicted for space.", evictions),
    ]
    var text = ""
    for (name, help, value) in counters {
        text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
    }
    text += "# HELP quercus_resolver_cache_entries Entries in the cache.\n# TYPE quercus_resolver_cache_entries gauge\n"
    text += "quercus_resolver_cache_entries \(entries)\n"
    text +=
        "# HELP quercus_resolver_cache_bytes Estimated bytes the cache holds.\n# TYPE quercus_resolver_cache_bytes gauge\n"
    text += "quercus_resolver_cache_bytes \(bytes)\n"
    return text
}
