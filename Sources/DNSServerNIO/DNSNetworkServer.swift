import DNS
import DNSServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOShell

#if canImport(Glibc)
    import Glibc
#endif

/// Carries a `Responder` over UDP and TCP with SwiftNIO: the shell around the pure core. Each
/// listen address gets a UDP socket and a TCP listener (RFC 7766: several queries per connection,
/// an idle timeout, a cap on open connections).
public final class DNSNetworkServer: Sendable {
    public struct Limits: Sendable {
        /// A TCP connection with no complete query for this long is closed.
        public var tcpIdleTimeout: TimeAmount
        /// Connections beyond this many are closed as soon as they are accepted.
        public var maximumTCPConnections: Int

        public init(tcpIdleTimeout: TimeAmount = .seconds(10), maximumTCPConnections: Int = 256) {
            self.tcpIdleTimeout = tcpIdleTimeout
            self.maximumTCPConnections = maximumTCPConnections
        }
    }

    /// The responder every packet is answered with; `replaceResponder` swaps it (a zone reload)
    /// without dropping a packet.
    private let current: NIOLockedValueBox<ServingState>
    private let limits: Limits
    private let group: any EventLoopGroup
    private let logger: Logger
    private let openConnections = NIOLockedValueBox(0)
    public let metrics = ServerMetrics()
    /// Told the origin of every NOTIFY the responder acknowledged (a secondary zone to refresh).
    private let notifyListener = NIOLockedValueBox<(@Sendable (DomainName) -> Void)?>(nil)

    public func onNotify(_ listener: @escaping @Sendable (DomainName) -> Void) {
        notifyListener.withLockedValue { $0 = listener }
    }

    /// Where UPDATE messages go instead of the responder: they must be stored before they are
    /// answered, which cannot happen on the event loop.
    private let updates = NIOLockedValueBox<UpdateCoordinator?>(nil)

    public func handleUpdates(with coordinator: UpdateCoordinator) {
        updates.withLockedValue { $0 = coordinator }
    }

    /// Response rate limiting for UDP answers; off unless asked for.
    private let rateLimiter = NIOLockedValueBox<ResponseRateLimiter?>(nil)

    public func limitResponses(_ limiter: ResponseRateLimiter) {
        rateLimiter.withLockedValue { $0 = limiter }
    }

    public init(responder: Responder, limits: Limits = Limits(), group: any EventLoopGroup, logger: Logger) {
        self.current = NIOLockedValueBox(ServingState(responder))
        self.limits = limits
        self.group = group
        self.logger = logger
    }

    /// Binds UDP and TCP on `address`; returns both channels (their local addresses tell the
    /// port when 0 was asked for).
    public var responder: Responder { current.withLockedValue { $0 }.responder }

    public func replaceResponder(_ responder: Responder) {
        let state = ServingState(responder)
        current.withLockedValue { $0 = state }
    }

    public func bind(_ address: SocketAddress) async throws -> DNSListener {
        let responder = self.current
        let logger = self.logger
        let metrics = self.metrics
        let notifyListener = self.notifyListener
        let updates = self.updates
        let rateLimiter = self.rateLimiter
        // A thread of its own reads up to 32 queries per system call and answers them with one
        // `sendmmsg` (NIOShell's DatagramListener).
        let answerer = UDPAnswerer(
            responder: responder, metrics: metrics, notifyListener: notifyListener, updates: updates,
            rateLimiter: rateLimiter, logger: logger)
        let limits = self.limits
        let openConnections = self.openConnections
        return try await DNSListener.bind(
            address, group: group, idleTimeout: limits.tcpIdleTimeout, answer: { answerer.answer(&$0) },
            streamHandler: {
                TCPQueryHandler(
                    responder: responder, maximumConnections: limits.maximumTCPConnections,
                    openConnections: openConnections, metrics: metrics, notifyListener: notifyListener,
                    updates: updates, logger: logger)
            })
    }
}

/// Answers the queries of one UDP batch. Used only on its listener's thread (the writer is reused
/// for every fast answer), hence unchecked.
final class UDPAnswerer: @unchecked Sendable {
    private let responder: NIOLockedValueBox<ServingState>
    private let metrics: ServerMetrics
    private let notifyListener: NIOLockedValueBox<(@Sendable (DomainName) -> Void)?>
    private let updates: NIOLockedValueBox<UpdateCoordinator?>
    private let rateLimiter: NIOLockedValueBox<ResponseRateLimiter?>
    private let logger: Logger
    /// Reused for every fast answer: no allocation per answer.
    private var writer = MessageWriter()

    init(
        responder: NIOLockedValueBox<ServingState>, metrics: ServerMetrics,
        notifyListener: NIOLockedValueBox<(@Sendable (DomainName) -> Void)?>,
        updates: NIOLockedValueBox<UpdateCoordinator?>, rateLimiter: NIOLockedValueBox<ResponseRateLimiter?>,
        logger: Logger
    ) {
        self.responder = responder
        self.metrics = metrics
        self.notifyListener = notifyListener
        self.updates = updates
        self.rateLimiter = rateLimiter
        self.logger = logger
    }

    /// The reply as rate limiting lets it go: unchanged, truncated (slip), or nothing.
    private func limited(_ reply: [UInt8], to peer: DatagramPeer) -> [UInt8]? {
        let decision = rateLimiter.withLockedValue { limiter -> ResponseRateLimiter.Decision? in
            guard limiter != nil else { return nil }
            return limiter?.decide(response: reply, client: peer.addressBytes, now: Int64(time(nil)))
        }
        switch decision {
        case nil, .send?: return reply
        case .slip?:
            metrics.recordRateLimited(slipped: true)
            return ResponseRateLimiter.truncated(reply)
        case .drop?:
            metrics.recordRateLimited(slipped: false)
            return nil
        }
    }

    func answer(_ batch: inout DatagramBatch) {
        let state = responder.withLockedValue { $0 }
        for index in 0..<batch.count {
            let query = batch.bytes(index)
            if state.fast.answer(query, into: &writer) {
                metrics.record(.udp, reply: writer.bytes)
                guard let reply = limited(writer.bytes, to: batch.peer(index)) else { continue }
                batch.reply(index, with: reply)
                continue
            }
            let peer = batch.peer(index)
            let address = peer.addressBytes
            let now = UInt32(truncatingIfNeeded: time(nil))
            if isUpdate(query), let coordinator = updates.withLockedValue({ $0 }) {
                let listener = batch.listener
                Task {
                    guard let reply = await coordinator.handle(query, over: .udp, from: address, at: now) else {
                        return
                    }
                    listener.send(reply, to: peer)
                }
                continue
            }
            let reply = state.responder.respond(to: query, over: .udp, from: address, at: now)
            metrics.record(.udp, reply: reply)
            guard let reply, let reply = limited(reply, to: peer) else { continue }
            if let origin = Responder.notifiedZone(inResponse: reply) { notifyListener.withLockedValue { $0 }?(origin) }
            batch.reply(index, with: reply)
        }
    }
}

final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: NIOLockedValueBox<ServingState>
    private let maximumConnections: Int
    private let openConnections: NIOLockedValueBox<Int>
    private let metrics: ServerMetrics
    private let notifyListener: NIOLockedValueBox<(@Sendable (DomainName) -> Void)?>
    private let updates: NIOLockedValueBox<UpdateCoordinator?>
    private let logger: Logger
    private var counted = false

    init(
        responder: NIOLockedValueBox<ServingState>, maximumConnections: Int, openConnections: NIOLockedValueBox<Int>,
        metrics: ServerMetrics, notifyListener: NIOLockedValueBox<(@Sendable (DomainName) -> Void)?>,
        updates: NIOLockedValueBox<UpdateCoordinator?>, logger: Logger
    ) {
        self.metrics = metrics
        self.notifyListener = notifyListener
        self.updates = updates
        self.responder = responder
        self.maximumConnections = maximumConnections
        self.openConnections = openConnections
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let admitted = openConnections.withLockedValue { count in
            guard count < maximumConnections else { return false }
            count += 1
            return true
        }
        counted = admitted
        if !admitted {
            metrics.recordRefusedConnection()
            logger.notice("tcp: refusing a connection beyond the limit of \(maximumConnections)")
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            openConnections.withLockedValue { $0 -= 1 }
            counted = false
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let address = context.channel.remoteAddress.map(addressBytes) ?? []
        let now = UInt32(truncatingIfNeeded: time(nil))
        let responder = self.responder.withLockedValue { $0 }.responder
        let query = Array(frame.readableBytesView)
        if isUpdate(query), let coordinator = updates.withLockedValue({ $0 }) {
            let channel = context.channel
            Task {
                guard let reply = await coordinator.handle(query, over: .tcp, from: address, at: now) else { return }
                var buffer = ByteBuffer()
                buffer.writeInteger(UInt16(truncatingIfNeeded: reply.count))
                buffer.writeBytes(reply)
                channel.writeAndFlush(buffer, promise: nil)
            }
            return
        }
        let replies = responder.responses(to: query, over: .tcp, from: address, at: now)
        metrics.record(.tcp, reply: replies.first)
        // Knot sends NOTIFY over TCP.
        if replies.count == 1, let origin = Responder.notifiedZone(inResponse: replies[0]) {
            notifyListener.withLockedValue { $0 }?(origin)
        }
        for reply in replies {
            var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(truncatingIfNeeded: reply.count))
            buffer.writeBytes(reply)
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("tcp: \(error)")
        context.close(promise: nil)
    }
}

/// The client's address bytes and the time, which over UDP only cookies need: skipped on that
/// hot path without a cookie secret.
/// What the event loops answer with: the responder and its fast path, replaced together.
final class ServingState: Sendable {
    let responder: Responder
    let fast: FastAnswers

    init(_ responder: Responder) {
        self.responder = responder
        self.fast = FastAnswers(responder.authority)
    }
}

/// 4 bytes for IPv4, 16 for IPv6, as cookies and address policies compare them.
private func addressBytes(_ address: SocketAddress) -> [UInt8] {
    switch address {
    case .v4(let v4): return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
    case .v6(let v6): return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
    default: return []
    }
}

/// Whether a message's header says UPDATE (RFC 2136), read from the opcode bits without decoding.
func isUpdate(_ message: [UInt8]) -> Bool {
    message.count > 2 && (message[2] >> 3) & 0x0F == Opcode.update.rawValue && message[2] & 0x80 == 0
}
