import ArgumentParser
import DNS
import DNSSecurity
import DNSServer
import DNSServerNIO
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOShell
import QuercusCLI

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve zones authoritatively over UDP and TCP.",
        discussion: """
            Answers for every --zone from memory: AA set, referrals with glue, CNAME and DNAME within \
            the zone, wildcards, NXDOMAIN and NODATA with the SOA, REFUSED for names outside its zones, \
            minimal ANY. Each --listen address gets UDP and TCP. SIGHUP reloads the zone files and sends \
            NOTIFY to every --notify secondary for each zone whose serial changed. Stops on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Address to listen on, UDP and TCP (repeatable): 127.0.0.1:5300 or [::1]:5300.")
    var listen: [String] = ["127.0.0.1:5300"]

    @Option(help: "A zone to serve, as ORIGIN=FILE (repeatable); $INCLUDE stays within the file's folder.")
    var zone: [String] = []

    @Option(help: "Event-loop threads.")
    var threads: Int = 1

    @Option(help: "Seconds a TCP connection may stay idle.")
    var tcpIdleTimeout: Int = 10

    @Option(help: "Open TCP connections at most.")
    var tcpMaxConnections: Int = 256

    @Option(
        help: """
            The 16-byte secret of RFC 9018 server cookies, as 32 hex digits; servers sharing an address \
            should share it. Default: a random secret per start.
            """)
    var cookieSecret: String?

    @Option(
        help: """
            Who may transfer zones (AXFR, IXFR) over TCP (repeatable): an address or prefix (127.0.0.1, \
            192.0.2.0/24) or key:NAME for requests signed with that TSIG key.
            """)
    var allowTransfer: [String] = []

    @Option(
        help: """
            Who may change zones by dynamic update (RFC 2136), repeatable: key:NAME for a TSIG key, narrowed \
            by ,zone=ZONE ,name=SUFFIX ,types=A+AAAA+TXT. Changes are written to the zone file before the \
            answer. Nobody by default.
            """)
    var allowUpdate: [String] = []

    @Option(help: "A TSIG key as ALGORITHM:NAME:BASE64 (the order dig -y uses); repeatable.")
    var key: [String] = []

    @Option(help: "A file of TSIG keys in BIND's key \"name\" { algorithm …; secret \"…\"; }; form.")
    var keys: String?

    @Option(
        help: """
            A git repository (anything git clone takes) whose top folder holds one zone per file, named \
            after the zone (example.com or example.com.zone). Pushes are picked up every --git-poll seconds, \
            on SIGHUP and on an allowed NOTIFY; dynamic updates are committed, naming the key, and pushed.
            """)
    var zonesGit: String?

    @Option(help: "The checkout of --zones-git this server owns (created by cloning when missing).")
    var gitCheckout = "quercus-dns-zones"

    @Option(help: "Seconds between fetches of --zones-git (0: only on SIGHUP or NOTIFY).")
    var gitPoll = 30

    @Option(help: "Who may NOTIFY this server to reload a zone it is primary for (repeatable): an address or prefix.")
    var allowNotify: [String] = []

    @Option(
        help: """
            A zone to copy from its primary, as ZONE=IP:PORT or ZONE=IP:PORT@KEY to sign the SOA checks and \
            transfers with that TSIG key (repeatable). NOTIFY from that address (or signed with a key) \
            triggers a refresh; the copy is served until the SOA's expire time passes without the primary.
            """)
    var secondary: [String] = []

    @Option(help: "A secondary to send NOTIFY to when a zone loads or changes (repeatable): 127.0.0.1:5301.")
    var notify: [String] = []

    @Option(
        help: """
            Response rate limiting over UDP: identical responses to one client network (/24, /56) per second \
            at most (off by default). Beyond it responses are dropped, except every --rrl-slip-th, sent \
            truncated so real clients retry over TCP.
            """)
    var rrl: Int?

    @Option(help: "With --rrl: every this many limited responses one goes out truncated (0: drop them all).")
    var rrlSlip = 2

    @Option(help: "Serve Prometheus metrics over HTTP at this address (GET /metrics): 127.0.0.1:9153.")
    var metrics: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard !zone.isEmpty || !secondary.isEmpty || zonesGit != nil else {
            throw ValidationError("give at least one --zone ORIGIN=FILE, --secondary ZONE=IP:PORT or --zones-git REPO")
        }
        for prefix in allowNotify where AddressPolicy.Prefix(prefix) == nil {
            throw ValidationError("--allow-notify \"\(prefix)\": expected an IP address or a prefix")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        for prefix in allowTransfer where !prefix.hasPrefix("key:") && AddressPolicy.Prefix(prefix) == nil {
            throw ValidationError(
                "--allow-transfer \"\(prefix)\": expected an IP address, a prefix such as 192.0.2.0/24, or key:NAME")
        }
        if let rrl, rrl < 1 { throw ValidationError("--rrl must be at least 1 response per second") }
        guard rrlSlip >= 0 else { throw ValidationError("--rrl-slip must be 0 or more") }
        for rule in allowUpdate where UpdatePolicy.Rule(rule) == nil {
            throw ValidationError(
                "--allow-update \"\(rule)\": expected key:NAME[,zone=ZONE][,name=SUFFIX][,types=A+AAAA]")
        }
        if let cookieSecret, TextEncoding.decodeHex(cookieSecret).flatMap(CookieSecret.init) == nil {
            throw ValidationError("--cookie-secret must be 32 hex digits (16 bytes)")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus.dns")
        let repository = zonesGit.map { ZoneRepository(remote: $0, checkout: gitCheckout, logger: logger) }
        if let repository {
            do { try repository.prepare() } catch {
                throw ValidationError("--zones-git \(repository.remote): \(error)")
            }
        }
        let fixedSpecifications = try zone.map(ZoneSpecification.init)
        let currentSpecifications: @Sendable () -> [ZoneSpecification] = {
            fixedSpecifications + (repository?.specifications() ?? [])
        }
        var zones = try fixedSpecifications.map { try $0.load() }
        for specification in repository?.specifications() ?? [] {
            // A bad file in the repository is reported, not fatal: the next push can fix it.
            do { zones.append(try specification.load()) } catch { logger.error("--zones-git: \(error)") }
        }
        let addresses = try listen.map { text in
            do { return try parseListenAddress(text) } catch { throw ValidationError("--listen \(error)") }
        }
        let secondaries = try notify.map { text in
            do { return try parseListenAddress(text) } catch { throw ValidationError("--notify \(error)") }
        }
        var generator = SystemRandomNumberGenerator()
        let secret =
            cookieSecret.flatMap { TextEncoding.decodeHex($0) }.flatMap(CookieSecret.init)
            ?? CookieSecret((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let tsigKeys = try loadKeys()
        let transferKeys = try Set(
            allowTransfer.filter { $0.hasPrefix("key:") }.map { entry in
                let text = String(entry.dropFirst(4))
                let name = try? DomainName(text.hasSuffix(".") ? text : text + ".")
                guard let key = tsigKeys.first(where: { $0.name == name }) else {
                    throw ValidationError("--allow-transfer \(entry): no --key or --keys names that key")
                }
                return key.name
            })
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = DNSNetworkServer(
            responder: Responder(
                authority: Authority(zones: zones), cookieSecret: secret,
                transferPolicy: AddressPolicy(allowTransfer.compactMap(AddressPolicy.Prefix.init)), keys: tsigKeys,
                transferKeys: transferKeys),
            limits: .init(tcpIdleTimeout: .seconds(Int64(tcpIdleTimeout)), maximumTCPConnections: tcpMaxConnections),
            group: group, logger: logger)
        let updateRules = allowUpdate.compactMap(UpdatePolicy.Rule.init)
        for rule in updateRules where !tsigKeys.contains(where: { $0.name == rule.key }) {
            throw ValidationError("--allow-update: no --key or --keys names the key \(rule.key)")
        }
        if !updateRules.isEmpty {
            var responder = server.responder
            responder.updatePolicy = UpdatePolicy(updateRules)
            server.replaceResponder(responder)
        }
        if !allowNotify.isEmpty {
            var responder = server.responder
            responder.primaryNotifiers = AddressPolicy(allowNotify.compactMap(AddressPolicy.Prefix.init))
            server.replaceResponder(responder)
        }
        let sources = try secondary.map { try secondarySource($0, keys: tsigKeys) }
        if !sources.isEmpty {
            var responder = server.responder
            for source in sources {
                var primaries = AddressPolicy()
                if let address = source.primary.ipAddress, let prefix = AddressPolicy.Prefix(address) {
                    primaries.prefixes.append(prefix)
                }
                responder.secondaries[source.origin] = primaries
            }
            server.replaceResponder(responder)
        }
        if let rrl { server.limitResponses(ResponseRateLimiter(responsesPerSecond: rrl, slip: rrlSlip)) }
        var listeners: [DNSListener] = []
        for address in addresses {
            listeners.append(try await server.bind(address))
        }
        var channels: [any Channel] = []
        let origins = zones.map { "\($0.origin)" }.joined(separator: " ")
        let bound = Set(listeners.flatMap(\.localAddresses).map(describe)).sorted().joined(separator: " ")
        logger.info("serving \(origins) on \(bound) (UDP and TCP)")
        if let metrics {
            let address: SocketAddress
            do { address = try parseListenAddress(metrics) } catch { throw ValidationError("--metrics \(error)") }
            let endpoint = try await MetricsEndpoint.bind(address, group: group, render: server.metrics.render)
            channels.append(endpoint)
            logger.info("metrics on http://\(metrics)/metrics")
        }

        let notifier = Notifier(group: group, logger: logger)
        let announce: @Sendable (Authority, [DomainName]) async -> Void = { authority, origins in
            for origin in origins {
                for secondary in secondaries {
                    guard let message = authority.notify(origin, id: .random(in: 0...UInt16.max)) else { continue }
                    await notifier.send(message, to: secondary)
                }
            }
        }
        let initial = server.responder.authority
        Task { await announce(initial, initial.origins) }
        if !updateRules.isEmpty {
            let coordinator = UpdateCoordinator(
                server: server, logger: logger,
                store: { zone, summary in
                    let specification = currentSpecifications().first {
                        (try? DomainName($0.origin.hasSuffix(".") ? $0.origin : $0.origin + ".")) == zone.origin
                    }
                    guard let file = specification?.file else {
                        throw ZoneFileWriter.Failure(description: "no zone file for \(zone.origin)")
                    }
                    try ZoneFileWriter.write(
                        zone, to: file, comment: "written by quercus-dns after a dynamic update: \(summary)")
                    if let repository, file.hasPrefix(repository.checkout + "/") {
                        try repository.commit(file: file, message: "dynamic update: \(summary)")
                    }
                },
                onChange: { origin in await announce(server.responder.authority, [origin]) })
            server.handleUpdates(with: coordinator)
        }
        // Reloads run one at a time, off the event loops: git and file reads may take a while.
        let reloadQueue = DispatchQueue(label: "quercus-dns.reload")
        let secondaryOrigins = Set(sources.map(\.origin))
        let reload: @Sendable (String) -> Void = { reason in
            if let repository {
                do {
                    let moved = try repository.sync()
                    if !moved && reason == "git poll" { return }
                } catch {
                    logger.error("git: \(error)")
                }
            }
            let before = server.responder
            var updated = before
            let current = currentSpecifications()
            var present = secondaryOrigins
            for specification in current {
                if let origin = try? DomainName(
                    specification.origin.hasSuffix(".") ? specification.origin : specification.origin + ".")
                {
                    present.insert(origin)
                }
                do {
                    updated.authority.add(try specification.load())
                } catch {
                    logger.error("reload: \(error); keeping the zone as it was")
                }
            }
            // A zone whose file left the repository is no longer served.
            for origin in updated.authority.origins where !present.contains(origin) {
                updated.authority.remove(origin)
                logger.info("reload: \(origin) is gone from the repository")
            }
            server.replaceResponder(updated)
            let changed = before.authority.changedZones(in: updated.authority)
            let names = changed.map(\.description).joined(separator: " ")
            logger.info("reload (\(reason)): \(changed.isEmpty ? "no zone changed" : "changed \(names)")")
            Task { await announce(updated.authority, changed) }
        }

        var secondaryService: SecondaryService?
        if !sources.isEmpty {
            let secondaries = SecondaryService(
                sources: sources, server: server, group: group, logger: logger,
                onChange: { origin in await announce(server.responder.authority, [origin]) })
            secondaryService = secondaries
            Task { await secondaries.run() }
        }
        let notified = secondaryService
        server.onNotify { origin in
            if secondaryOrigins.contains(origin) {
                notified?.notified(origin)
            } else {
                reloadQueue.async { reload("NOTIFY") }
            }
        }
        if repository != nil, gitPoll > 0 {
            let interval = gitPoll
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(interval))
                    reloadQueue.async { reload("git poll") }
                }
            }
        }

        signal(SIGHUP, SIG_IGN)
        let reloads = DispatchSource.makeSignalSource(signal: SIGHUP, queue: reloadQueue)
        reloads.setEventHandler { reload("SIGHUP") }
        reloads.resume()
        defer { reloads.cancel() }

        try await withThrowingDiscardingTaskGroup { tasks in
            for listener in listeners {
                tasks.addTask { try await listener.closed() }
            }
            for channel in channels {
                tasks.addTask { try await channel.closeFuture.get() }
            }
        }
    }

    /// `ZONE=IP:PORT` or `ZONE=IP:PORT@KEY`.
    private func secondarySource(_ text: String, keys: [TSIGKey]) throws -> SecondaryService.Source {
        guard let equals = text.firstIndex(of: "=") else {
            throw ValidationError("--secondary \"\(text)\": expected ZONE=IP:PORT or ZONE=IP:PORT@KEY")
        }
        let zoneText = String(text[..<equals])
        let origin: DomainName
        do { origin = try DomainName(zoneText.hasSuffix(".") ? zoneText : zoneText + ".") } catch {
            throw ValidationError("--secondary \(text): \(error)")
        }
        var rest = String(text[text.index(after: equals)...])
        var key: TSIGKey?
        if let at = rest.lastIndex(of: "@") {
            let keyText = String(rest[rest.index(after: at)...])
            let name = try? DomainName(keyText.hasSuffix(".") ? keyText : keyText + ".")
            guard let found = keys.first(where: { $0.name == name }) else {
                throw ValidationError("--secondary \(text): no --key or --keys names the key \(keyText)")
            }
            key = found
            rest = String(rest[..<at])
        }
        do {
            return SecondaryService.Source(origin: origin, primary: try parseListenAddress(rest), key: key)
        } catch {
            throw ValidationError("--secondary \(text): \(error)")
        }
    }

    /// The keys of every --key and of the --keys file.
    private func loadKeys() throws -> [TSIGKey] {
        var loaded: [TSIGKey] = []
        for text in key {
            do { loaded.append(try TSIGKey(dashY: text)) } catch { throw ValidationError("--key: \(error)") }
        }
        if let keys {
            guard let text = try? String(contentsOfFile: keys, encoding: .utf8) else {
                throw ValidationError("--keys \(keys): cannot read it")
            }
            do { loaded += try TSIGKey.parseBIND(text) } catch { throw ValidationError("--keys \(keys): \(error)") }
        }
        return loaded
    }

    private func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port.map(String.init) ?? "?"
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// One `--zone ORIGIN=FILE`, kept so the file can be read again on reload.
struct ZoneSpecification: Sendable {
    let origin: String
    let file: String

    init(origin: String, file: String) {
        self.origin = origin
        self.file = file
    }

    init(_ text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ValidationError("--zone \"\(text)\": expected ORIGIN=FILE")
        }
        origin = String(text[..<equals])
        file = String(text[text.index(after: equals)...])
    }

    func load() throws -> Zone {
        try loadZone(origin: origin, file: file)
    }
}

/// Reads and parses a zone file the way `check-zone` does: $INCLUDE confined to the file's
/// folder, errors as file:line:column.
func loadZone(origin: String, file: String, includeRoot: String? = nil) throws -> Zone {
    let originName: DomainName
    do {
        originName = try DomainName(origin.hasSuffix(".") ? origin : origin + ".")
    } catch {
        throw ValidationError("origin \"\(origin)\": \(error)")
    }
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
        throw ZoneFileFailure(description: "\(file): cannot read it as UTF-8 text")
    }
    let root = includeRoot ?? (file as NSString).deletingLastPathComponent
    let parser = ZoneParser(origin: originName, include: confinedLoader(root: root.isEmpty ? "." : root))
    let records: [ResourceRecord]
    do {
        records = try parser.parse(text, file: file)
    } catch {
        throw ZoneFileFailure(description: error.description)
    }
    do {
        return try Zone(origin: originName, records: records)
    } catch {
        throw ZoneFileFailure(description: "\(file): \(error)")
    }
}
