import DNSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell
import Resolver

#if canImport(Glibc)
    import Glibc
#endif

/// Carries a `Resolver` over SwiftNIO: listens for clients over UDP and TCP, sends the core's
/// queries (each UDP query from its own socket, so from a fresh random port, RFC 5452 §10),
/// feeds back every datagram, every TCP message and every timeout, and writes the core's answers.
/// The core decides everything; this only moves bytes and keeps the time.
public final class ResolverService: Sendable {
    private let core: NIOLockedValueBox<RecursiveResolver>
    private let group: any EventLoopGroup
    private let logger: Logger
    private let clients = NIOLockedValueBox<[ClientHandle: @Sendable ([UInt8]) -> Void]>([:])
    /// The last client handle given out; only touched under the core's lock (one lock per query).
    private nonisolated(unsafe) var nextClient: UInt64 = 0
    private let epochOffset: Double

    public init(resolver: RecursiveResolver, group: any EventLoopGroup, logger: Logger) {
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        epochOffset =
            Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9 - Double(NIODeadline.now().uptimeNanoseconds) / 1e9
        self.core = NIOLockedValueBox(resolver)
        self.group = group
        self.logger = logger
    }

    /// A copy of the core's counters and cache figures, for `/metrics`.
    public var statistics: (ResolverStatistics, cacheEntries: Int, cacheBytes: Int, evictions: Int) {
        core.withLockedValue { ($0.statistics, $0.cache.count, $0.cache.bytes, $0.cache.evictions) }
    }

    /// Binds UDP (a thread of its own, `DatagramListener`) and TCP (SwiftNIO) on `address` for
    /// clients.
    public func bind(_ address: SocketAddress) async throws -> DNSListener {
        try await DNSListener.bind(
            address, group: group, idleTimeout: .seconds(10), answer: { [self] in answer(&$0) },
            streamHandler: { [self] in ClientStreamHandler(service: self) })
    }

    /// A batch of UDP queries, under one lock: the answers the core has at once (the cache, a
    /// local zone, an error) go out in the batch's one `sendmmsg`; the others are sent with
    /// `sendto` when the core has them.
    private func answer(_ batch: inout DatagramBatch) {
        let now = clock()
        var waiting: [(index: Int, handle: ClientHandle, actions: [ResolverAction])] = []
        core.withLockedValue { core in
            for index in 0..<batch.count {
                nextClient &+= 1
                let handle = ClientHandle(nextClient)
                let actions = core.receiveQuery(batch.bytes(index), from: handle, over: .udp, now: now)
                if core.isResolving(handle) {
                    // Registered under the core's lock: upstream answers arrive on the event loop,
                    // another thread, and one for a question already asked may come at once.
                    let listener = batch.listener
                    let peer = batch.peer(index)
                    clients.withLockedValue { $0[handle] = { reply in listener.send(reply, to: peer) } }
                } else if actions.count == 1, case .reply(let client, let reply) = actions[0], client == handle {
                    batch.reply(index, with: reply)
                    continue
                }
                if !actions.isEmpty { waiting.append((index, handle, actions)) }
            }
        }
        for (index, handle, actions) in waiting {
            var later: [ResolverAction] = []
            for action in actions {
                if case .reply(let client, let reply) = action, client == handle {
                    batch.reply(index, with: reply)
                } else {
                    later.append(action)
                }
            }
            perform(later)
        }
    }

    /// A client's query over TCP. An answer the core has at once (from the cache, a local zone, an error)
    /// is returned for the caller to write in its read burst; otherwise the function `respond`
    /// makes is called once with the answer later (or never, for garbage). `respond` is called
    /// only then, so a cache hit allocates no closure.
    func query(_ bytes: [UInt8], over transport: Transport, respond: () -> @Sendable ([UInt8]) -> Void)
        -> [UInt8]?
    {
        let (handle, actions, resolving) = core.withLockedValue { core in
            nextClient &+= 1
            let handle = ClientHandle(nextClient)
            let actions = core.receiveQuery(bytes, from: handle, over: transport, now: clock())
            return (handle, actions, core.isResolving(handle))
        }
        if !resolving, actions.count == 1, case .reply(let client, let reply) = actions[0], client == handle {
            return reply
        }
        var immediate: [UInt8]?
        var later: [ResolverAction] = []
        for action in actions {
            if case .reply(let client, let reply) = action, client == handle {
                immediate = reply
            } else {
                later.append(action)
            }
        }
        // Registered before any query goes out, so an answer cannot arrive before its client.
        if resolving {
            let respond = respond()
            clients.withLockedValue { $0[handle] = respond }
        }
        perform(later)
        return immediate
    }

    func received(_ bytes: [UInt8], for token: QueryToken, from source: ServerAddress) -> Bool {
        let (actions, waiting) = core.withLockedValue { core in
            let actions = core.receiveResponse(bytes, for: token, from: source, now: clock())
            return (actions, core.isWaiting(for: token))
        }
        perform(actions)
        return waiting
    }

    func timedOut(_ token: QueryToken) {
        perform(core.withLockedValue { $0.timedOut(token, now: clock()) })
    }

    private func perform(_ actions: [ResolverAction]) {
        for action in actions {
            switch action {
            case .reply(let client, let bytes):
                clients.withLockedValue { $0.removeValue(forKey: client) }?(bytes)
            case .send(let query):
                send(query)
            }
        }
    }

    private func send(_ query: OutgoingQuery) {
        guard let target = try? SocketAddress(ipAddress: query.server.host, port: query.server.port) else {
            timedOut(query.token)
            return
        }
        switch query.transport {
        case .udp: sendDatagram(query, to: target)
        case .tcp: sendStream(query, to: target)
        }
    }

    private func sendDatagram(_ query: OutgoingQuery, to target: SocketAddress) {
        let service = self
        DatagramBootstrap(group: group)
            // We advertise 1232 bytes (512 without EDNS); a larger datagram is cut short, fails to decode
            // and is ignored. A 64 KiB buffer per query would cost more than the query (page faults).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UpstreamDatagramHandler(token: query.token, service: service))
                }
            }
            .connect(to: target)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    service.logger.debug("upstream \(query.server): \(error)")
                    service.timedOut(query.token)
                case .success(let channel):
                    service.expire(query, channel: channel)
                    let envelope = AddressedEnvelope(
                        remoteAddress: target, data: channel.allocator.buffer(bytes: query.bytes))
                    channel.writeAndFlush(envelope, promise: nil)
                }
            }
    }

    private func sendStream(_ query: OutgoingQuery, to target: SocketAddress) {
        let service = self
        ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(query.timeout * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(DNSStreamFrameDecoder()),
                        UpstreamStreamHandler(token: query.token, server: query.server, service: service),
                    ])
                }
            }
            .connect(to: target)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    service.logger.debug("upstream \(query.server) over TCP: \(error)")
                    service.timedOut(query.token)
                case .success(let channel):
                    service.expire(query, channel: channel)
                    var buffer = channel.allocator.buffer(capacity: query.bytes.count + 2)
                    buffer.writeInteger(UInt16(truncatingIfNeeded: query.bytes.count))
                    buffer.writeBytes(query.bytes)
                    channel.writeAndFlush(buffer, promise: nil)
                }
            }
    }

    /// After the query's timeout the socket closes and the core hears of it (a no-op when the
    /// answer came first).
    private func expire(_ query: OutgoingQuery, channel: any Channel) {
        channel.eventLoop.scheduleTask(in: .milliseconds(Int64(query.timeout * 1000))) { [self] in
            channel.close(promise: nil)
            timedOut(query.token)
        }
    }

    /// Monotonic seconds, so TTLs and RTTs do not jump with the wall clock, counted from the Unix
    /// epoch as it was at start, so DNSSEC signatures' validity windows can be checked against it.
    private func clock() -> Double {
        Double(NIODeadline.now().uptimeNanoseconds) / 1e9 + epochOffset
    }
}

/// Clients over TCP: several queries per connection (RFC 7766), answered in any order.
private final class ClientStreamHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let service: ResolverService

    init(service: ResolverService) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let channel = context.channel
        let immediate = service.query(Array(frame.readableBytesView), over: .tcp) {
            { reply in channel.writeAndFlush(Self.framed(reply), promise: nil) }
        }
        if let immediate { context.write(wrapOutboundOut(Self.framed(immediate)), promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private static func framed(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + 2)
        buffer.writeInteger(UInt16(truncatingIfNeeded: message.count))
        buffer.writeBytes(message)
        return buffer
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The socket of one upstream UDP query: every datagram goes to the core until it has its answer.
private final class UpstreamDatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let token: QueryToken
    private let service: ResolverService

    init(token: QueryToken, service: ResolverService) {
        self.token = token
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = ServerAddress(
            host: envelope.remoteAddress.ipAddress ?? "", port: envelope.remoteAddress.port ?? 0)
        if !service.received(Array(envelope.data.readableBytesView), for: token, from: source) {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP port unreachable: nobody serves there, so there is no point waiting.
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            context.close(promise: nil)
            service.timedOut(token)
        }
    }
}

/// The connection of one upstream TCP query.
private final class UpstreamStreamHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let token: QueryToken
    private let server: ServerAddress
    private let service: ResolverService

    init(token: QueryToken, server: ServerAddress, service: ResolverService) {
        self.token = token
        self.server = server
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !service.received(Array(frame.readableBytesView), for: token, from: server) {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.timedOut(token)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
