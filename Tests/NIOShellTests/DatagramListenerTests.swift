import NIOCore
import NIOPosix
import NIOShell
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The datagram listener over real sockets, IPv4 and IPv6: replies in the batch (one larger than
/// its slot too), a reply sent later from another thread, a datagram cut short handed over empty,
/// and close() ending the thread.
@Suite struct DatagramListenerTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func answersInTheBatchAndLaterAndStopsWhenClosed(host: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let waiting = Mutex<DatagramPeer?>(nil)
        let listener = try DatagramListener.bind(
            to: try SocketAddress(ipAddress: host, port: 0), completingOn: group.next()
        ) { batch in
            for index in 0..<batch.count {
                let bytes = batch.bytes(index)
                switch bytes.first {
                case 1: batch.reply(index, with: bytes.reversed())
                case 2: batch.reply(index, with: [UInt8](repeating: 7, count: DatagramListener.slotSize + 1))
                case 3: waiting.withLock { $0 = batch.peer(index) }
                case nil: batch.reply(index, with: [0])
                default: break
                }
            }
        }
        let port = try #require(listener.localAddress.port)
        let client = try Client(to: try SocketAddress(ipAddress: host, port: port))
        defer { client.close() }

        #expect(client.exchange([1, 2, 3]) == [3, 2, 1])
        #expect(client.exchange([2]) == [UInt8](repeating: 7, count: DatagramListener.slotSize + 1))
        client.send([3])
        var peer: DatagramPeer?
        for _ in 0..<200 where peer == nil {
            peer = waiting.withLock { $0 }
            if peer == nil { usleep(10_000) }
        }
        let later = try #require(peer)
        #expect(try later.socketAddress.port == client.localPort)
        #expect(later.addressBytes.count == (host.contains(":") ? 16 : 4))
        listener.send([9, 9], to: later)
        #expect(client.receive() == [9, 9])
        #expect(client.exchange([UInt8](repeating: 1, count: DatagramListener.slotSize + 1)) == [0])

        // close() shuts the socket down, which wakes the blocked read (no time is asserted: the
        // machine is shared; a second is the backstop).
        listener.close()
        try await listener.closeFuture.get()
        // Sending after close is dropped, not written to a descriptor the system may reuse.
        listener.send([1], to: later)
        try await group.shutdownGracefully()
    }
}

/// A blocking UDP client with a 2-second receive timeout.
private struct Client {
    let fd: Int32
    let target: SocketAddress

    init(to target: SocketAddress) throws {
        self.target = target
        fd = socket(target.protocol == .inet6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    var localPort: Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { raw in
            Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
        }
    }

    func send(_ bytes: [UInt8]) {
        switch target {
        case .v4(let address):
            var raw = address.address
            _ = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let address):
            var raw = address.address
            _ = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        case .unixDomainSocket: break
        }
    }

    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count < 0 ? nil : Array(buffer[..<count])
    }

    func exchange(_ bytes: [UInt8]) -> [UInt8]? {
        send(bytes)
        return receive()
    }

    func close() { _ = Glibc.close(fd) }
}
