import NIOCore

/// One address a DNS service listens on: UDP on a `DatagramListener`'s thread of its own, TCP on
/// SwiftNIO.
public struct DNSListener: Sendable {
    public let udp: DatagramListener
    public let tcp: any Channel

    public init(udp: DatagramListener, tcp: any Channel) {
        self.udp = udp
        self.tcp = tcp
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
