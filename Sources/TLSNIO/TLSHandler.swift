import NIOCore
import TLS

#if canImport(Glibc)
    import Glibc
#endif

/// What the handler tells the handlers after it, as user inbound events.
public enum TLSChannelEvent: Sendable {
    /// The handshake finished and the peer was authenticated as the configuration asked.
    case handshakeCompleted(HandshakeSummary)
    /// A client received a ticket it may use to resume later.
    case sessionTicket(SessionTicket)
    /// The peer sent close_notify: the handler answers with its own and closes the channel (or, under
    /// `TLSAsyncConnection`, passes `ChannelEvent.inputClosed` up and answers when the channel closes).
    case closeNotifyReceived
}

/// What the handlers after it may ask of the handler, as user outbound events
/// (`channel.triggerUserOutboundEvent`).
public enum TLSChannelCommand: Sendable {
    /// TLS 1.3: update our sending keys, and ask the peer to update its keys when `requestPeerUpdate`.
    /// Fails the promise on a TLS 1.2 connection or before the handshake completes.
    case updateKeys(requestPeerUpdate: Bool)
}

/// Failures of the connection itself rather than of the protocol (those are `TLSError`).
public enum TLSChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The handshake did not finish within the handler's limit.
    case handshakeTimedOut
    /// The peer closed the TCP connection before the handshake finished.
    case closedDuringHandshake

    public var description: String {
        switch self {
        case .handshakeTimedOut: return "the handshake did not finish in time"
        case .closedDuringHandshake: return "the peer closed the connection during the handshake"
        }
    }
}

/// Carries a `TLSConnection` over a SwiftNIO channel: ciphertext `ByteBuffer`s below, plaintext
/// `ByteBuffer`s above. The engine does all the protocol work; this only moves bytes, starts the
/// handshake when the channel becomes active, bounds how long the handshake may take, holds
/// writes until the handshake completes, and reports failures with `fireErrorCaught` (a
/// `TLSError` or a `TLSChannelError`) before closing the channel. The alert, when there is one,
/// is written before the close.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private var connection: TLSConnection
    private let handshakeTimeout: TimeAmount
    private var timeout: Scheduled<Void>?
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var started = false
    /// Set when the handshake completes; stays set after the connection closes (when the engine's
    /// `isHandshakeComplete` no longer holds), so a close after close_notify is not a failed handshake.
    private var handshakeDone = false
    /// When set (as `TLSAsyncConnection` does), the peer's close_notify is passed up as
    /// `ChannelEvent.inputClosed` and the channel stays open for what the application still has to
    /// send; our close_notify goes when the channel is closed from above. Otherwise the handler
    /// answers at once and closes.
    var halfClosesOnCloseNotify = false
    /// Set once an error was reported, so the channel's end is not reported a second time.
    private var failed = false

    public init(_ connection: TLSConnection, handshakeTimeout: TimeAmount = .seconds(10)) {
        self.connection = connection
        self.handshakeTimeout = handshakeTimeout
    }

    /// A server side with the system clock and randomness.
    public convenience init(server configuration: TLSConfiguration, handshakeTimeout: TimeAmount = .seconds(10)) {
        self.init(
            TLSConnection(server: configuration, environment: .system(now: secondsSinceEpoch)),
            handshakeTimeout: handshakeTimeout)
    }

    /// A client side with the system clock and randomness.
    public convenience init(
        client configuration: TLSConfiguration, serverName: String?, resuming ticket: SessionTicket? = nil,
        handshakeTimeout: TimeAmount = .seconds(10)
    ) {
        self.init(
            TLSConnection(
                client: configuration, serverName: serverName, resuming: ticket,
                environment: .system(now: secondsSinceEpoch)),
            handshakeTimeout: handshakeTimeout)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a failure the channel is closing: what the peer still sends is not read.
        guard !failed else { return }
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        apply(connection.receive(bytes), context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if !handshakeDone && !failed {
            failed = true
            context.fireErrorCaught(TLSChannelError.closedDuringHandshake)
        }
        failHeldWrites(TLSError.closed)
        context.fireChannelInactive()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        guard connection.isHandshakeComplete else {
            heldWrites.append((buffer, promise))
            return
        }
        protectAndWrite(buffer, promise: promise, context: context)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && started {
            let alert = connection.close()
            if !alert.isEmpty {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: alert)), promise: nil)
            }
        }
        context.close(mode: mode, promise: promise)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard case TLSChannelCommand.updateKeys(let requestPeerUpdate) = event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        do {
            let records = try connection.updateKeys(requestPeerUpdate: requestPeerUpdate)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: records)), promise: promise)
        } catch {
            promise?.fail(error)
        }
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [self] in
            guard !handshakeDone, !failed else { return }
            failed = true
            context.fireErrorCaught(TLSChannelError.handshakeTimedOut)
            context.close(promise: nil)
        }
        apply(connection.start(), context: context)
    }

    private func apply(_ output: TLSOutput, context: ChannelHandlerContext) {
        if !output.bytesToSend.isEmpty {
            context.writeAndFlush(
                wrapOutboundOut(context.channel.allocator.buffer(bytes: output.bytesToSend)), promise: nil)
        }
        for event in output.events {
            switch event {
            case .handshakeComplete(let summary):
                handshakeDone = true
                timeout?.cancel()
                context.fireUserInboundEventTriggered(TLSChannelEvent.handshakeCompleted(summary))
                releaseHeldWrites(context: context)
            case .applicationData(let data):
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: data)))
            case .sessionTicket(let ticket):
                context.fireUserInboundEventTriggered(TLSChannelEvent.sessionTicket(ticket))
            case .closed:
                // The peer's close_notify: answer with ours and end the connection. (`context.close`
                // starts below this handler, so our own `close` would not send it.)
                context.fireUserInboundEventTriggered(TLSChannelEvent.closeNotifyReceived)
                if halfClosesOnCloseNotify {
                    context.fireChannelReadComplete()
                    context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                    return
                }
                let alert = connection.close()
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: alert)), promise: nil)
                context.close(promise: nil)
                return
            }
        }
        if !output.events.isEmpty { context.fireChannelReadComplete() }
        if let error = output.error {
            timeout?.cancel()
            failed = true
            failHeldWrites(error)
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    private func protectAndWrite(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext)
    {
        do {
            let records = try connection.send(Array(buffer.readableBytesView))
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: records)), promise: promise)
        } catch {
            promise?.fail(error)
        }
    }

    private func releaseHeldWrites(context: ChannelHandlerContext) {
        guard !heldWrites.isEmpty else { return }
        let writes = heldWrites
        heldWrites = []
        for (buffer, promise) in writes { protectAndWrite(buffer, promise: promise, context: context) }
        context.flush()
    }

    private func failHeldWrites(_ error: any Error) {
        let writes = heldWrites
        heldWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }
}

/// The wall clock, for certificate validity: the engine reads no clock of its own.
@Sendable func secondsSinceEpoch() -> Int64 {
    Int64(time(nil))
}
