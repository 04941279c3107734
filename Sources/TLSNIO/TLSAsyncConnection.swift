import NIOCore
import Synchronization
import TLS

/// A TLS connection for Swift concurrency: a `TLSHandler` in a channel wrapped as an
/// `NIOAsyncChannel` of plaintext `ByteBuffer`s, with the handshake's outcome to await.
///
/// Make one in a bootstrap's channel initializer, so that the handler is in place before the
/// channel is active (TLSNIO depends on NIOCore only; the bootstrap comes from NIOPosix or any
/// other transport):
///
/// ```swift
/// let connection = try await ClientBootstrap(group: group).connect(host: "example.com", port: 443) { channel in
///     channel.eventLoop.makeCompletedFuture {
///         try TLSAsyncConnection(client: configuration, serverName: "example.com", channel: channel)
///     }
/// }
/// let summary = try await connection.handshake()
/// try await connection.channel.executeThenClose { inbound, outbound in
///     try await outbound.write(ByteBuffer(string: "GET / HTTP/1.0\r\n\r\n"))
///     for try await chunk in inbound { print(String(buffer: chunk)) }
/// }
/// ```
///
/// A server binds with the same initializer and gets an `NIOAsyncChannel<TLSAsyncConnection, Never>`
/// whose inbound sequence is the accepted connections (see `quercus-tls server`). Writes made before
/// the handshake completes are held and then encrypted; leaving `executeThenClose` sends close_notify.
/// The inbound sequence ends after the peer's close_notify (`receivedCloseNotify` is then true; what
/// is still written goes out before our close_notify) or a bare TCP close (false), and throws the
/// engine's `TLSError` or a `TLSChannelError` on failure.
public struct TLSAsyncConnection: Sendable {
    /// Plaintext from and to the peer.
    public let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// The peer's address when the connection was set up (the channel forgets it once closed).
    public let remoteAddress: SocketAddress?
    private let handshakeResult: EventLoopFuture<HandshakeSummary>
    private let session: SessionState

    /// A client side with the system clock and randomness; call on the channel's event loop.
    public init(
        client configuration: TLSConfiguration, serverName: String?, resuming ticket: SessionTicket? = nil,
        handshakeTimeout: TimeAmount = .seconds(10), channel: any Channel
    ) throws {
        try self.init(
            TLSHandler(
                client: configuration, serverName: serverName, resuming: ticket, handshakeTimeout: handshakeTimeout),
            channel: channel)
    }

    /// A server side with the system clock and randomness; call on the channel's event loop.
    public init(
        server configuration: TLSConfiguration, handshakeTimeout: TimeAmount = .seconds(10), channel: any Channel
    )
        throws
    {
        try self.init(TLSHandler(server: configuration, handshakeTimeout: handshakeTimeout), channel: channel)
    }

    /// Any handler (for an injected environment); call on the channel's event loop.
    public init(_ handler: TLSHandler, channel: any Channel) throws {
        handler.halfClosesOnCloseNotify = true
        let promise = channel.eventLoop.makePromise(of: HandshakeSummary.self)
        let session = SessionState()
        try channel.pipeline.syncOperations.addHandlers(handler, SessionWatcher(handshake: promise, session: session))
        self.channel = try NIOAsyncChannel(wrappingChannelSynchronously: channel)
        self.remoteAddress = channel.remoteAddress
        self.handshakeResult = promise.futureResult
        self.session = session
    }

    /// Waits for the handshake: its summary, or the error that ended it.
    public func handshake() async throws -> HandshakeSummary {
        try await handshakeResult.get()
    }

    /// The newest session ticket the server sent (client side), to pass as `resuming:` next time.
    public var sessionTicket: SessionTicket? { session.state.withLock { $0.ticket } }

    /// Whether the peer ended the connection with close_notify (rather than a bare TCP close).
    public var receivedCloseNotify: Bool { session.state.withLock { $0.closeNotify } }

    /// TLS 1.3: updates our sending keys, and asks the peer to update its keys when `requestPeerUpdate`.
    public func updateKeys(requestPeerUpdate: Bool = true) async throws {
        try await channel.channel.triggerUserOutboundEvent(
            TLSChannelCommand.updateKeys(requestPeerUpdate: requestPeerUpdate)
        )
        .get()
    }
}

/// What the connection learned after the handshake, shared between the event loop and async code.
private final class SessionState: Sendable {
    struct State {
        var ticket: SessionTicket?
        var closeNotify = false
    }
    let state = Mutex(State())
}

/// Sits after the `TLSHandler`: completes the handshake promise and records tickets and
/// close_notify; passes everything on.
private final class SessionWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handshake: EventLoopPromise<HandshakeSummary>
    private let session: SessionState
    private var settled = false

    init(handshake: EventLoopPromise<HandshakeSummary>, session: SessionState) {
        self.handshake = handshake
        self.session = session
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSChannelEvent.handshakeCompleted(let summary):
            settle(.success(summary))
        case TLSChannelEvent.sessionTicket(let ticket):
            session.state.withLock { $0.ticket = ticket }
        case TLSChannelEvent.closeNotifyReceived:
            session.state.withLock { $0.closeNotify = true }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settle(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(.failure(TLSChannelError.closedDuringHandshake))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(.failure(TLSChannelError.closedDuringHandshake))
    }

    private func settle(_ result: Result<HandshakeSummary, any Error>) {
        guard !settled else { return }
        settled = true
        handshake.completeWith(result)
    }
}
