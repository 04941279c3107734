import DNS
import DNSClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A stub resolver: asks the configured name servers (resolv.conf's, or the ones given), in
/// order or rotated, `attempts` rounds of `timeout` each, retries over TCP when an answer comes
/// back truncated, and hands back typed answers.
///
/// ```swift
/// let resolver = try StubResolver.system()
/// let exchanges = try await resolver.lookup("example.com", .mx)   // RRSet<MXRecord>?
/// ```
public final class StubResolver: Sendable {
    public let configuration: ResolverConfiguration
    public let port: Int
    let exchanger: DNSExchanger
    private let queryCount = NIOLockedValueBox(0)

    public init(
        configuration: ResolverConfiguration, port: Int = 53,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.port = port
        self.exchanger = DNSExchanger(group: group)
    }

    /// A resolver configured by /etc/resolv.conf (or another file): its servers, search list and
    /// options. A missing file gives the C library's default, the local server.
    public static func system(path: String = "/etc/resolv.conf") throws -> StubResolver {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return StubResolver(configuration: .fallback)
        }
        var configuration = try ResolverConfiguration.parse(text)
        if configuration.nameservers.isEmpty { configuration.nameservers = ResolverConfiguration.fallback.nameservers }
        return StubResolver(configuration: configuration)
    }

    /// An answered query: the response, who gave it, and over what.
    public struct Answer: Sendable {
        public var response: ClientResponse
        public var server: ServerAddress
        public var transport: Transport
        public var clientCookie: [UInt8]
    }

    /// Looks `name` up through the search list and returns the typed RRset of the first
    /// candidate name that has one (following CNAMEs in the answer); nil when none has.
    public func lookup<Data: RecordData>(_ name: String, _ key: RecordKey<Data>, options: QueryOptions = QueryOptions())
        async throws -> RRSet<Data>?
    {
        for candidate in try configuration.candidateNames(for: name) {
            let answer = try await query(Question(name: candidate, type: key.type), options: options)
            if let rrset = answer.response.answer(key, for: candidate) { return rrset }
        }
        return nil
    }

    /// Sends one question to the servers until one answers. `onFailure` hears of each try that
    /// failed (dig prints them); throws `NoServerReached` when every try failed.
    public func query(
        _ question: Question, options: QueryOptions, servers: [ServerAddress]? = nil, forceTCP: Bool = false,
        timeout: Int? = nil, tries: Int? = nil, onFailure: (ServerAddress, ExchangeError) -> Void = { _, _ in }
    ) async throws -> Answer {
        let sequence = queryCount.withLockedValue { count in
            defer { count += 1 }
            return count
        }
        let targets =
            servers ?? configuration.serverOrder(forQueryNumber: sequence).map { ServerAddress(host: $0, port: port) }
        let wait = TimeAmount.seconds(Int64(timeout ?? configuration.timeout))
        var options = options
        let rounds = max(1, tries ?? configuration.attempts)
        for _ in 0..<rounds {
            for server in targets {
                options.clientCookie = options.edns && options.sendsCookie ? randomBytes(8) : []
                do {
                    let query = try ClientQuery(
                        question: question, options: options, id: UInt16.random(in: 0...UInt16.max), server: server,
                        now: now())
                    var transport = Transport.udp
                    var verdict =
                        forceTCP
                        ? try await exchanger.tcp(query, timeout: wait) : try await exchanger.udp(query, timeout: wait)
                    if forceTCP { transport = .tcp }
                    if case .truncated = verdict, !forceTCP {
                        // RFC 7766 §5: a truncated UDP answer is asked again over TCP.
                        let retry = try ClientQuery(
                            question: question, options: options, id: UInt16.random(in: 0...UInt16.max),
                            server: server, now: now())
                        verdict = try await exchanger.tcp(retry, timeout: wait)
                        transport = .tcp
                    }
                    switch verdict {
                    case .accepted(let response), .truncated(let response):
                        return Answer(
                            response: response, server: server, transport: transport,
                            clientCookie: options.clientCookie)
                    case .ignored:
                        onFailure(server, .closed)
                    }
                } catch let error as ExchangeError {
                    onFailure(server, error)
                } catch {
                    onFailure(server, .network("\(error)"))
                }
            }
        }
        throw NoServerReached()
    }

    /// Streams a zone transfer from `server`.
    public func transfer(
        zone: DomainName, options: QueryOptions, server: ServerAddress, timeout: Int? = nil,
        onMessage: @escaping @Sendable (Message) -> Void
    ) async throws -> ZoneTransferReader {
        var options = options
        options.recursionDesired = false
        options.edns = false
        let query = try ClientQuery(
            question: Question(name: zone, type: .axfr), options: options, id: UInt16.random(in: 0...UInt16.max),
            server: server, now: now())
        return try await exchanger.transfer(
            query, timeout: .seconds(Int64(timeout ?? configuration.timeout)), onMessage: onMessage)
    }

    /// Sends a prepared message (an UPDATE) and waits for its answer, over UDP then TCP if truncated.
    public func send(_ query: ClientQuery, timeout: Int? = nil) async throws -> ClientResponse {
        let wait = TimeAmount.seconds(Int64(timeout ?? configuration.timeout))
        var verdict = try await exchanger.udp(query, timeout: wait)
        if case .truncated = verdict { verdict = try await exchanger.tcp(query, timeout: wait) }
        switch verdict {
        case .accepted(let response), .truncated(let response): return response
        case .ignored: throw ExchangeError.closed
        }
    }
}

/// Every try at every server failed.
public struct NoServerReached: Error, CustomStringConvertible {
    public var description: String { "no servers could be reached" }
}

private func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}
