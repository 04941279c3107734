import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A UDP socket served by a thread of its own, without a channel pipeline: the thread reads up to
/// 32 datagrams per system call (`recvmmsg`) into buffers allocated once, hands them to the
/// handler as one batch, and sends every reply the handler gave in place with one `sendmmsg`, to
/// the address each query came from (kept as the kernel wrote it: no conversion to text, no
/// boxed address, no envelope, no buffer copy but the reply's). Replies made later, on any
/// thread, go out with `send(_:to:)`. `close()` ends the thread; `closeFuture` tells when.
public final class DatagramListener: Sendable {
    /// Called on the listener's thread with each batch read; replies given with
    /// `DatagramBatch.reply` are sent when it returns.
    public typealias Handler = @Sendable (inout DatagramBatch) -> Void

    /// Datagrams per read, as NSD reads them.
    public static let batchSize = 32
    /// Bytes kept for each datagram read and each reply sent in a batch: a larger query is cut
    /// short and dropped (not DNS over UDP in practice), a larger reply is sent on its own.
    public static let slotSize = 4096

    public let localAddress: SocketAddress
    public let closeFuture: EventLoopFuture<Void>
    /// The descriptor, -1 once closed; the lock keeps a late `send` from writing to a reused one.
    private let descriptor: Mutex<Int32>
    private let stopping = Atomic(false)

    /// Binds `address` and starts the thread; `eventLoop` completes `closeFuture`.
    public static func bind(
        to address: SocketAddress, completingOn eventLoop: any EventLoop, handler: @escaping Handler
    ) throws -> DatagramListener {
        let promise = eventLoop.makePromise(of: Void.self)
        let listener = try DatagramListener(address: address, promise: promise)
        let thread = ListenerThread(listener: listener, handler: handler, promise: promise)
        let context = Unmanaged.passRetained(thread).toOpaque()
        var id = pthread_t()
        let created = pthread_create(
            &id, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<ListenerThread>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<ListenerThread>.fromOpaque(context).release()
            listener.closeDescriptor()
            promise.fail(IOError(errnoCode: created, reason: "pthread_create"))
            throw IOError(errnoCode: created, reason: "pthread_create")
        }
        pthread_detach(id)
        return listener
    }

    private init(address: SocketAddress, promise: EventLoopPromise<Void>) throws {
        closeFuture = promise.futureResult
        let family: Int32
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: throw IOError(errnoCode: EAFNOSUPPORT, reason: "a UDP listener needs an IP address")
        }
        let fd = socket(family, Self.datagramType, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        descriptor = Mutex(fd)
        do {
            var on: Int32 = 1
            try Self.check(
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)), "SO_REUSEADDR")
            // A backstop for close(): the read wakes at least once a second to look.
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            try Self.check(
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)), "SO_RCVTIMEO")
            switch address {
            case .v4(let ip):
                var raw = ip.address
                try Self.check(Self.withSockAddr(&raw) { bindSocket(fd, $0, $1) }, "bind")
            case .v6(let ip):
                var raw = ip.address
                try Self.check(Self.withSockAddr(&raw) { bindSocket(fd, $0, $1) }, "bind")
            case .unixDomainSocket: break
            }
            var bound = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            try Self.check(Self.withSockAddr(&bound) { pointer, _ in getsockname(fd, pointer, &length) }, "getsockname")
            localAddress = try DatagramPeer(storage: bound, length: length).socketAddress
        } catch {
            closeSocket(fd)
            throw error
        }
    }

    /// Sends one datagram from any thread (a reply that was not ready in its batch); dropped when
    /// the listener is closed or the kernel refuses it, as a lost datagram would be.
    public func send(_ bytes: [UInt8], to peer: DatagramPeer) {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            var address = peer.storage
            _ = bytes.withUnsafeBytes { body in
                Self.withSockAddr(&address) { pointer, _ in
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), pointer, peer.length)
                }
            }
        }
    }

    /// Stops the thread (it wakes at once, or within a second) and closes the socket.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        descriptor.withLock { fd in
            // Wakes a read blocked on the socket; the thread closes it.
            if fd >= 0 { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    fileprivate var isStopping: Bool { stopping.load(ordering: .acquiring) }

    fileprivate func closeDescriptor() {
        descriptor.withLock { fd in
            if fd >= 0 { closeSocket(fd) }
            fd = -1
        }
    }

    /// The descriptor for the listener's own thread, which alone closes it.
    fileprivate var fd: Int32 { descriptor.withLock { $0 } }

    private static let datagramType: Int32 = {
        #if os(Linux)
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
            SOCK_DGRAM
        #endif
    }()

    private static func check(_ result: Int32, _ call: String) throws {
        if result < 0 { throw IOError(errnoCode: errno, reason: call) }
    }

    static func withSockAddr<Address, Result>(
        _ address: inout Address, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<Address>.size))
            }
        }
    }
}

/// Where a datagram came from, as the kernel wrote it; converted to a `SocketAddress` only when
/// asked.
public struct DatagramPeer: Sendable {
    var storage: sockaddr_storage
    var length: socklen_t

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// The IP address's bytes: 4 for IPv4, 16 for IPv6 (as cookies and address policies compare
    /// them); empty for another family.
    public var addressBytes: [UInt8] {
        var storage = self.storage
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: &storage) { raw in
            switch family {
            case AF_INET: return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
            case AF_INET6: return withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
            default: return []
            }
        }
    }

    public var socketAddress: SocketAddress {
        get throws {
            var storage = self.storage
            switch Int32(storage.ss_family) {
            case AF_INET:
                return withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in.self)) }
            case AF_INET6:
                return withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in6.self)) }
            default:
                throw IOError(errnoCode: EAFNOSUPPORT, reason: "address family \(storage.ss_family)")
            }
        }
    }
}

/// The datagrams of one read, valid only during the handler's call: each one's bytes, where it
/// came from, and the reply to send it in the batch's `sendmmsg`.
public struct DatagramBatch: ~Copyable {
    /// How many datagrams were read.
    public let count: Int
    /// The listener, to answer later with `send(_:to:)`.
    public let listener: DatagramListener
    fileprivate let buffers: BatchBuffers

    /// The bytes of datagram `index`, in the listener's buffer (valid during the handler's call);
    /// empty when it was cut short (larger than `DatagramListener.slotSize`).
    public func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        guard index >= 0, index < count, buffers.isWhole(index) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(
            start: buffers.receive + index * DatagramListener.slotSize, count: buffers.receivedLength(index))
    }

    /// The bytes of datagram `index` as an array, in storage reused from one datagram to the next
    /// (no allocation unless the previous one's array is still held).
    public func bytes(_ index: Int) -> [UInt8] {
        buffers.scratch.removeAll(keepingCapacity: true)
        buffers.scratch.append(contentsOf: datagram(index))
        return buffers.scratch
    }

    /// Where datagram `index` came from.
    public func peer(_ index: Int) -> DatagramPeer {
        DatagramPeer(storage: buffers.addresses[index], length: buffers.addressLength(index))
    }

    /// Replies to datagram `index` in the batch's send (a reply too large for its slot is sent on
    /// its own at once).
    public func reply(_ index: Int, with bytes: [UInt8]) {
        guard index >= 0, index < count else { return }
        guard bytes.count <= DatagramListener.slotSize else {
            listener.send(bytes, to: peer(index))
            return
        }
        bytes.withUnsafeBytes { body in
            guard let source = body.baseAddress else { return }
            (buffers.send + index * DatagramListener.slotSize).copyMemory(from: source, byteCount: body.count)
        }
        buffers.replyLengths[index] = bytes.count
    }
}

/// The memory a listener's thread reads into and sends from, allocated once.
private final class BatchBuffers {
    let receive: UnsafeMutableRawPointer
    let send: UnsafeMutableRawPointer
    let addresses: UnsafeMutablePointer<sockaddr_storage>
    let receiveIO: UnsafeMutablePointer<iovec>
    let sendIO: UnsafeMutablePointer<iovec>
    /// `struct mmsghdr` arrays (a `msghdr` and the `msg_len` the kernel writes), laid out by hand:
    /// Swift's Glibc module does not import the type.
    let receiveHeaders: UnsafeMutableRawPointer
    let sendHeaders: UnsafeMutableRawPointer
    /// The length of each datagram's reply in its slot, -1 for none.
    let replyLengths: UnsafeMutablePointer<Int>
    var scratch: [UInt8] = []

    static let capacity = DatagramListener.batchSize
    static let lengthOffset = MemoryLayout<msghdr>.size
    static let headerStride =
        (MemoryLayout<msghdr>.size + MemoryLayout<UInt32>.size + MemoryLayout<msghdr>.alignment - 1)
        / MemoryLayout<msghdr>.alignment * MemoryLayout<msghdr>.alignment

    init() {
        let capacity = Self.capacity
        let slot = DatagramListener.slotSize
        receive = .allocate(byteCount: capacity * slot, alignment: 16)
        send = .allocate(byteCount: capacity * slot, alignment: 16)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        receiveIO = .allocate(capacity: capacity)
        sendIO = .allocate(capacity: capacity)
        for index in 0..<capacity {
            (receiveIO + index).initialize(to: iovec(iov_base: receive + index * slot, iov_len: slot))
            (sendIO + index).initialize(to: iovec(iov_base: send + index * slot, iov_len: 0))
        }
        receiveHeaders = .allocate(byteCount: capacity * Self.headerStride, alignment: MemoryLayout<msghdr>.alignment)
        sendHeaders = .allocate(byteCount: capacity * Self.headerStride, alignment: MemoryLayout<msghdr>.alignment)
        receiveHeaders.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.headerStride)
        sendHeaders.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.headerStride)
        replyLengths = .allocate(capacity: capacity)
        replyLengths.initialize(repeating: -1, count: capacity)
    }

    deinit {
        receive.deallocate()
        send.deallocate()
        addresses.deallocate()
        receiveIO.deallocate()
        sendIO.deallocate()
        receiveHeaders.deallocate()
        sendHeaders.deallocate()
        replyLengths.deallocate()
    }

    func header(_ base: UnsafeMutableRawPointer, _ index: Int) -> UnsafeMutablePointer<msghdr> {
        (base + index * Self.headerStride).assumingMemoryBound(to: msghdr.self)
    }

    func messageLength(_ base: UnsafeMutableRawPointer, _ index: Int) -> Int {
        Int((base + index * Self.headerStride).load(fromByteOffset: Self.lengthOffset, as: UInt32.self))
    }

    func receivedLength(_ index: Int) -> Int { messageLength(receiveHeaders, index) }

    func addressLength(_ index: Int) -> socklen_t { header(receiveHeaders, index).pointee.msg_namelen }

    /// Sets the receive headers up for the next read (the kernel overwrites the address lengths).
    func prepareReceive() {
        for index in 0..<Self.capacity {
            let header = header(receiveHeaders, index)
            header.pointee.msg_name = UnsafeMutableRawPointer(addresses + index)
            header.pointee.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            header.pointee.msg_iov = receiveIO + index
            header.pointee.msg_iovlen = 1
            header.pointee.msg_control = nil
            header.pointee.msg_controllen = 0
            header.pointee.msg_flags = 0
        }
        replyLengths.update(repeating: -1, count: Self.capacity)
    }

    /// Whether datagram `index` arrived whole.
    func isWhole(_ index: Int) -> Bool {
        header(receiveHeaders, index).pointee.msg_flags & Int32(MSG_TRUNC) == 0
    }

    /// The send headers for the replies given, in order; returns how many.
    func prepareSend() -> Int {
        var position = 0
        for index in 0..<Self.capacity where replyLengths[index] >= 0 {
            sendIO[index].iov_len = replyLengths[index]
            let header = header(sendHeaders, position)
            header.pointee.msg_name = UnsafeMutableRawPointer(addresses + index)
            header.pointee.msg_namelen = addressLength(index)
            header.pointee.msg_iov = sendIO + index
            header.pointee.msg_iovlen = 1
            header.pointee.msg_control = nil
            header.pointee.msg_controllen = 0
            header.pointee.msg_flags = 0
            position += 1
        }
        return position
    }
}

/// The listener's thread: read a batch, hand it over, send the replies, until closed.
private final class ListenerThread {
    let listener: DatagramListener
    let handler: DatagramListener.Handler
    let promise: EventLoopPromise<Void>

    init(listener: DatagramListener, handler: @escaping DatagramListener.Handler, promise: EventLoopPromise<Void>) {
        self.listener = listener
        self.handler = handler
        self.promise = promise
    }

    func run() {
        let buffers = BatchBuffers()
        let fd = listener.fd
        var failure: IOError?
        while !listener.isStopping {
            buffers.prepareReceive()
            let count = Syscalls.receive(fd, buffers)
            if count < 0 {
                // A timeout (the close backstop), a signal, an error a peer caused: read on. One
                // that says the socket itself is unusable ends the listener with that error.
                let error = errno
                if error == EBADF || error == ENOTSOCK || error == EINVAL || error == EFAULT {
                    failure = IOError(errnoCode: error, reason: "recvmmsg")
                    break
                }
                continue
            }
            if listener.isStopping { break }
            var batch = DatagramBatch(count: count, listener: listener, buffers: buffers)
            handler(&batch)
            Syscalls.send(fd, buffers, count: buffers.prepareSend())
        }
        listener.closeDescriptor()
        if let failure { promise.fail(failure) } else { promise.succeed(()) }
    }
}

/// `recvmmsg` and `sendmmsg`, looked up in the C library once: Swift's Glibc module declares
/// neither (they are GNU extensions).
private enum Syscalls {
    typealias Receive =
        @convention(c) (
            Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutablePointer<timespec>?
        ) -> Int32
    typealias Send = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

    static let receiveMany: Receive? = dlsym(nil, "recvmmsg").map { unsafeBitCast($0, to: Receive.self) }
    static let sendMany: Send? = dlsym(nil, "sendmmsg").map { unsafeBitCast($0, to: Send.self) }
    /// Block for the first datagram only, then take what is queued (Linux's MSG_WAITFORONE).
    static let waitForOne: Int32 = 0x10000

    /// Reads up to a batch; returns how many datagrams, or -1 with errno set.
    static func receive(_ fd: Int32, _ buffers: BatchBuffers) -> Int {
        if let receiveMany {
            return Int(receiveMany(fd, buffers.receiveHeaders, UInt32(BatchBuffers.capacity), waitForOne, nil))
        }
        let length = recvmsg(fd, buffers.header(buffers.receiveHeaders, 0), 0)
        guard length >= 0 else { return -1 }
        buffers.receiveHeaders.storeBytes(of: UInt32(length), toByteOffset: BatchBuffers.lengthOffset, as: UInt32.self)
        return 1
    }

    /// Sends the first `count` prepared replies; one the kernel refuses is skipped, as if lost.
    static func send(_ fd: Int32, _ buffers: BatchBuffers, count: Int) {
        var sent = 0
        while sent < count {
            if let sendMany {
                let result = sendMany(
                    fd, buffers.sendHeaders + sent * BatchBuffers.headerStride, UInt32(count - sent), 0)
                if result > 0 {
                    sent += Int(result)
                } else if result < 0, errno == EINTR {
                    continue
                } else {
                    sent += 1
                }
            } else {
                _ = sendmsg(fd, buffers.header(buffers.sendHeaders, sent), Int32(MSG_NOSIGNAL))
                sent += 1
            }
        }
    }
}

private func bindSocket(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    bind(fd, address, length)
}

private func closeSocket(_ fd: Int32) {
    _ = close(fd)
}
