import DNS
import DNSServer
import Logging
import NIOCore
import NIOPosix

/// Sends NOTIFY messages to secondaries and waits for each acknowledgement, retrying as RFC 1996
/// §3.6 asks (here: up to 5 tries, 2 seconds apart).
public struct Notifier: Sendable {
    let group: any EventLoopGroup
    let logger: Logger

    public init(group: any EventLoopGroup, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Returns whether the secondary acknowledged.
    @discardableResult
    public func send(_ message: Message, to target: SocketAddress, tries: Int = 5) async -> Bool {
        guard let bytes = try? message.encode() else { return false }
        for attempt in 1...tries {
            do {
                let reply = try await exchange(bytes, with: target, timeout: .seconds(2))
                if let response = try? Message.decode(reply), response.isResponse, response.id == message.id,
                    response.opcode == .notify
                {
                    logger.info("notify: \(target) acknowledged \(message.questions.first?.name.description ?? "")")
                    return true
                }
            } catch {
                logger.debug("notify: \(target) attempt \(attempt): \(error)")
            }
        }
        logger.warning("notify: \(target) did not acknowledge after \(tries) tries")
        return false
    }

    private func exchange(_ bytes: [UInt8], with target: SocketAddress, timeout: TimeAmount) async throws -> [UInt8] {
        let promise = group.next().makePromise(of: [UInt8].self)
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstDatagram(promise: promise))
                }
            }
            .bind(host: target.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            .get()
        defer { channel.close(promise: nil) }
        let envelope = AddressedEnvelope(remoteAddress: target, data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(envelope).get()
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(timeout)) }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }
}

/// Hands the first datagram a channel receives to a promise.
private final class FirstDatagram: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let promise: EventLoopPromise<[UInt8]>

    init(promise: EventLoopPromise<[UInt8]>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(Array(unwrapInboundIn(data).data.readableBytesView))
    }
}
