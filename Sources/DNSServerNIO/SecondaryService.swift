import DNS
import DNSSecurity
import DNSServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the server's secondary zones current: asks each primary for its SOA when the zone's
/// clock says so (or at once after a NOTIFY), transfers with IXFR and falls back to AXFR on any
/// failure, signs and verifies with TSIG when a key is given, installs the new copy in the
/// server's authority, and withdraws a copy the primary has not confirmed for `expire` seconds.
public final class SecondaryService: Sendable {
    public struct Source: Sendable {
        public var origin: DomainName
        public var primary: SocketAddress
        public var key: TSIGKey?

        public init(origin: DomainName, primary: SocketAddress, key: TSIGKey?) {
            self.origin = origin
            self.primary = primary
            self.key = key
        }
    }

    private let sources: [DomainName: Source]
    private let zones: NIOLockedValueBox<[DomainName: SecondaryZone]>
    private let server: DNSNetworkServer
    private let group: any EventLoopGroup
    private let logger: Logger
    private let timeout: TimeAmount
    /// Called after a zone's copy changed (to send NOTIFY onwards, for instance).
    private let onChange: @Sendable (DomainName) async -> Void

    public init(
        sources: [Source], server: DNSNetworkServer, group: any EventLoopGroup, logger: Logger,
        timeout: TimeAmount = .seconds(10), onChange: @escaping @Sendable (DomainName) async -> Void = { _ in }
    ) {
        let now = Self.now()
        self.sources = Dictionary(sources.map { ($0.origin, $0) }, uniquingKeysWith: { first, _ in first })
        self.zones = NIOLockedValueBox(
            Dictionary(
                sources.map { ($0.origin, SecondaryZone(origin: $0.origin, now: now)) }, uniquingKeysWith: { a, _ in a }
            )
        )
        self.server = server
        self.group = group
        self.logger = logger
        self.timeout = timeout
        self.onChange = onChange
    }

    /// A NOTIFY for `origin` was acknowledged: check the primary now.
    public func notified(_ origin: DomainName) {
        zones.withLockedValue { $0[origin]?.notified(now: Self.now()) }
    }

    /// The state of one zone, for tests and logs.
    public func state(of origin: DomainName) -> SecondaryZone? {
        zones.withLockedValue { $0[origin] }
    }

    /// Checks every due zone, once a second, until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            let now = Self.now()
            let due = zones.withLockedValue { zones in zones.values.filter { $0.isDue(at: now) }.map(\.origin) }
            for origin in due { await refresh(origin) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func refresh(_ origin: DomainName) async {
        guard let source = sources[origin], let current = zones.withLockedValue({ $0[origin] }) else { return }
        do {
            var zone = current
            let check = try await exchange(zone.soaQuery(id: .random(in: 0...UInt16.max)), source: source)
            guard let answer = check.first else { throw SecondaryError.badResponse("no answer to the SOA query") }
            if try zone.checked(answer, now: Self.now()) == .transferNeeded {
                let (copy, kind) = try await transfer(zone, source: source)
                zone.transferred(copy, now: Self.now())
                install(copy)
                logger.info("secondary: \(origin) now at serial \(zone.serial.map(String.init) ?? "?") (\(kind))")
                zones.withLockedValue { $0[origin] = zone }
                await onChange(origin)
            } else {
                zones.withLockedValue { $0[origin] = zone }
            }
        } catch {
            var zone = current
            zone.failed(now: Self.now())
            logger.warning("secondary: \(origin) from \(source.primary): \(error)")
            if zone.zone != nil, zone.isExpired(at: Self.now()) {
                logger.error("secondary: \(origin) expired: the primary has not answered for its SOA's expire time")
                withdraw(origin)
            }
            zones.withLockedValue { $0[origin] = zone }
        }
    }

    /// IXFR when we have a copy, then AXFR if that fails in any way (RFC 1995 §4 allows it).
    private func transfer(_ zone: SecondaryZone, source: Source) async throws -> (Zone, String) {
        if zone.zone != nil {
            do {
                return try await transfer(zone.transferQuery(id: .random(in: 0...UInt16.max)), zone, source)
            } catch {
                logger.info("secondary: \(zone.origin): IXFR failed (\(error)); trying AXFR")
            }
        }
        return try await transfer(zone.transferQuery(id: .random(in: 0...UInt16.max), incremental: false), zone, source)
    }

    /// The new zone and how it came: "AXFR", "IXFR" (differences) or "IXFR, whole zone".
    private func transfer(_ query: Message, _ zone: SecondaryZone, _ source: Source) async throws -> (Zone, String) {
        var incoming = IncomingTransfer(for: query, current: zone.zone)
        _ = try await exchange(query, source: source) { message in try incoming.add(message) }
        let kind =
            query.questions.first?.type == .axfr ? "AXFR" : incoming.appliedDifferences ? "IXFR" : "IXFR, whole zone"
        return (try incoming.zone(), kind)
    }

    private func install(_ zone: Zone) {
        var responder = server.responder
        responder.authority.add(zone)
        server.replaceResponder(responder)
    }

    private func withdraw(_ origin: DomainName) {
        var responder = server.responder
        responder.authority.remove(origin)
        server.replaceResponder(responder)
    }

    /// Sends `query` over TCP and reads messages until `isLast` says the answer is complete
    /// (one message when not given). Every message must match the query's ID; with a key, the
    /// sequence must verify and its last message must be signed.
    private func exchange(
        _ query: Message, source: Source, isLast: (Message) throws -> Bool = { _ in true }
    ) async throws -> [Message] {
        var bytes = try query.encode()
        var verifier: TSIGSequenceVerifier?
        if let key = source.key {
            let signed = try TSIG.sign(bytes, key: key, time: UInt64(Self.now()))
            bytes = signed.bytes
            verifier = TSIGSequenceVerifier(keys: [key], requestMAC: signed.mac)
        }
        let timeout = self.timeout
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: source.primary) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: timeout), CloseWhenIdle(),
                        ByteToMessageHandler(DNSStreamFrameDecoder()),
                    ])
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var frame = ByteBuffer()
            frame.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
            frame.writeBytes(bytes)
            try await outbound.write(frame)
            var messages: [Message] = []
            for try await buffer in inbound {
                let received = Array(buffer.readableBytesView)
                let message: Message
                var signed = false
                if var active = verifier {
                    switch active.verify(received, now: UInt64(Self.now())) {
                    case .success(let verified):
                        message = verified.message
                        signed = verified.signed
                    case .failure(let error):
                        throw SecondaryError.badResponse("TSIG: \(error)")
                    }
                    verifier = active
                } else {
                    message = try Message.decode(received)
                }
                guard message.isResponse, message.id == query.id else {
                    throw SecondaryError.badResponse("a response that does not match the query")
                }
                messages.append(message)
                if try isLast(message) {
                    if verifier != nil && !signed {
                        throw SecondaryError.badResponse("TSIG: the last message is not signed")
                    }
                    return messages
                }
            }
            throw SecondaryError.badResponse("the primary closed the connection before the answer ended")
        }
    }

    static func now() -> Int64 {
        Int64(time(nil))
    }
}

/// Closes a client connection on which nothing arrived for the idle handler's timeout.
private final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
