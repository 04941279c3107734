import NIOCore
import NIOPosix

/// One address a DNS service listens on: UDP on a `DatagramListener`'s thread of its own, TCP on
/// SwiftNIO.
public struct DNSListener: Sendable {
    public let udp: DatagramListener
    public let tcp: any Channel

    public init(udp: DatagramListener, tcp: any Channel) {
        self.udp = udp
        self.tcp = tcp
    }

    /// Binds UDP (a `DatagramListener`, each batch given to `answer`) and TCP (SwiftNIO: each
    /// connection framed by `DNSStreamFrameDecoder`, closed after `idleTimeout` without input, and
    /// handled by what `streamHandler` makes) on `address`; neither is left open if the other
    /// cannot bind.
    public static func bind(
        _ address: SocketAddress, group: any EventLoopGroup, idleTimeout: TimeAmount,
        answer: @escaping DatagramListener.Handler,
        streamHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> DNSListener {
        let udp = try DatagramListener.bind(to: address, completingOn: group.next(), handler: answer)
        do {
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: idleTimeout),
                            ByteToMessageHandler(DNSStreamFrameDecoder()),
                            streamHandler(),
                        ])
                    }
                }
                .bind(to: address)
                .get()
            return DNSListener(udp: udp, tcp: tcp)
        } catch {
            udp.close()
            throw error
        }
    }

    /// The addresses bound (with the port the system chose when 0 was asked for).
    public var localAddresses: [SocketAddress] { [udp.localAddress] + (tcp.localAddress.map { [$0] } ?? []) }

    /// Returns when both are closed.
    public func closed() async throws {
        try await udp.closeFuture.get()
        try await tcp.closeFuture.get()
    }

    public func close() {
        udp.close()
        tcp.close(promise: nil)
    }
}
