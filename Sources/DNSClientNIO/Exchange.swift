import DNS
import DNSClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell

#if canImport(Glibc)
    import Glibc
#endif

/// Why one try at one server gave no answer.
public enum ExchangeError: Error, Sendable, CustomStringConvertible {
    case timedOut
    case connectionRefused
    case closed
    case network(String)

    public var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .connectionRefused: return "connection refused"
        case .closed: return "end of file"
        case .network(let reason): return reason
        }
    }
}

/// Sends one query and waits for its answer over UDP or TCP, or streams a zone transfer. The
/// decisions (is this datagram the answer? is the transfer over?) are the core's
/// (`ClientQuery.accept`, `ZoneTransferReader`); this only moves bytes and keeps the time.
public struct DNSExchanger: Sendable {
    let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// One UDP try: datagrams that are not the answer are ignored until `timeout` passes.
    public func udp(_ query: ClientQuery, timeout: TimeAmount) async throws -> ResponseVerdict {
        let target = try socketAddress(query.server)
        let promise = group.next().makePromise(of: ResponseVerdict.self)
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65535))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AnswerWaiter(query: query, promise: promise))
                    }
                }
                // A connected socket hears the ICMP "port unreachable" as ECONNREFUSED, as dig's does.
                .connect(to: target)
                .get()
        } catch {
            promise.fail(error)
            throw ExchangeError.network("\(error)")
        }
        defer { channel.close(promise: nil) }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(ExchangeError.timedOut) }
        defer { timer.cancel() }
        let envelope = AddressedEnvelope(remoteAddress: target, data: channel.allocator.buffer(bytes: query.bytes))
        // A failed write still completes the promise: NIO treats a promise left pending as a leak.
        channel.writeAndFlush(envelope).cascadeFailure(to: promise)
        return try await promise.futureResult.get()
    }

    /// One TCP try: connect, send the length-prefixed query, read the first answer.
    public func tcp(_ query: ClientQuery, timeout: TimeAmount) async throws -> ResponseVerdict {
        let verdict = NIOLockedValueBox<ResponseVerdict?>(nil)
        try await stream(query, timeout: timeout) { frame in
            let result = query.accept(frame, from: query.server, now: now())
            if case .ignored = result { return true }
            verdict.withLockedValue { $0 = result }
            return false
        }
        guard let answer = verdict.withLockedValue({ $0 }) else { throw ExchangeError.closed }
        return answer
    }

    /// A zone transfer over TCP: every message goes to `onMessage` as it arrives; returns the
    /// reader with its counts once the closing SOA came.
    public func transfer(
        _ query: ClientQuery, timeout: TimeAmount, onMessage: @escaping @Sendable (Message) -> Void
    ) async throws -> ZoneTransferReader {
        let state = NIOLockedValueBox<(ZoneTransferReader, TransferFailure?)>(
            (ZoneTransferReader(query: query), .closedEarly))
        try await stream(query, timeout: timeout) { frame in
            let step = state.withLockedValue { $0.0.receive(frame, now: now()) }
            switch step {
            case .message(let message):
                onMessage(message)
                return true
            case .finished(let message):
                onMessage(message)
                state.withLockedValue { $0.1 = nil }
                return false
            case .failed(let error):
                state.withLockedValue { $0.1 = error }
                return false
            }
        }
        let (reader, failure) = state.withLockedValue { $0 }
        if let failure { throw failure }
        return reader
    }

    /// Connects, sends the query, and hands each received message to `handle` until it returns
    /// false, the connection closes, or `timeout` passes without a message.
    private func stream(_ query: ClientQuery, timeout: TimeAmount, handle: @escaping @Sendable ([UInt8]) -> Bool)
        async throws
    {
        let target = try socketAddress(query.server)
        let done = group.next().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: timeout),
                            ByteToMessageHandler(DNSStreamFrameDecoder()),
                            FrameConsumer(handle: handle, done: done),
                        ])
                    }
                }
                .connect(to: target)
                .get()
        } catch let error as NIOConnectionError {
            done.fail(error)
            throw error.connectionErrors.isEmpty ? ExchangeError.timedOut : ExchangeError.connectionRefused
        } catch ChannelError.connectTimeout {
            done.fail(ExchangeError.timedOut)
            throw ExchangeError.timedOut
        } catch {
            done.fail(error)
            throw ExchangeError.network("\(error)")
        }
        defer { channel.close(promise: nil) }
        var buffer = channel.allocator.buffer(capacity: query.bytes.count + 2)
        buffer.writeInteger(UInt16(truncatingIfNeeded: query.bytes.count))
        buffer.writeBytes(query.bytes)
        channel.writeAndFlush(buffer).cascadeFailure(to: done)
        try await done.futureResult.get()
    }

    private func socketAddress(_ server: ServerAddress) throws -> SocketAddress {
        do {
            return try SocketAddress(ipAddress: server.host, port: server.port)
        } catch {
            throw ExchangeError.network("\(server.host) is not an IP address")
        }
    }
}

/// Seconds since 1970, for TSIG.
func now() -> UInt64 { UInt64(max(0, time(nil))) }

/// Hands every datagram to the core, and the first it accepts to the promise.
private final class AnswerWaiter: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let query: ClientQuery
    private let promise: EventLoopPromise<ResponseVerdict>

    init(query: ClientQuery, promise: EventLoopPromise<ResponseVerdict>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = ServerAddress(host: envelope.remoteAddress.ipAddress ?? "", port: envelope.remoteAddress.port ?? 0)
        let verdict = query.accept(Array(envelope.data.readableBytesView), from: source, now: now())
        if case .ignored = verdict { return }
        promise.succeed(verdict)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP port unreachable arrives as a read error on the socket: the server is not there.
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            promise.fail(ExchangeError.connectionRefused)
        }
    }
}

/// Feeds frames to a closure until it says stop; ends the wait on close, idle timeout or error.
private final class FrameConsumer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let handle: @Sendable ([UInt8]) -> Bool
    private let done: EventLoopPromise<Void>
    private var finished = false

    init(handle: @escaping @Sendable ([UInt8]) -> Bool, done: EventLoopPromise<Void>) {
        self.handle = handle
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        if !handle(Array(unwrapInboundIn(data).readableBytesView)) { finish(.success(())) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.success(()))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            finish(.failure(ExchangeError.timedOut))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(ExchangeError.network("\(error)")))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }
}
