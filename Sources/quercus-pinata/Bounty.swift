import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell
import Pinata
import TLS
import TLSNIO

/// The running bounty: credentials, the secret, the ledger of attempts, and the endpoints' wiring.
final class Bounty: Sendable {
    let credentials: PinataCredentials
    private let secret: [UInt8]
    private let logger: Logger
    private let handshakeTimeout: TimeAmount
    private let connectBackPort: Int
    private let maxConnectBacks: Int
    private let ledger = NIOLockedValueBox(AttemptLedger())
    private let connectBacksInProgress = NIOLockedValueBox(0)

    init(
        credentials: PinataCredentials, secret: [UInt8], logger: Logger, handshakeTimeout: TimeAmount,
        connectBackPort: Int, maxConnectBacks: Int
    ) {
        self.credentials = credentials
        self.secret = secret
        self.logger = logger
        self.handshakeTimeout = handshakeTimeout
        self.connectBackPort = connectBackPort
        self.maxConnectBacks = maxConnectBacks
    }

    func record(_ attempt: Attempt) {
        ledger.withLockedValue { $0.record(attempt) }
        logger.info(
            "\(attempt.endpoint.rawValue) \(attempt.peer): \(attempt.outcome)",
            metadata: attempt.detail.isEmpty ? nil : ["why": .string(attempt.detail)])
    }

    func page(_ path: String, addresses: BountyAddresses, startedAt: Int64) -> Page {
        let snapshot = ledger.withLockedValue { $0 }
        switch path {
        case "/", "/index.html":
            return Page(
                contentType: "text/html; charset=utf-8",
                body: BountyPages.index(
                    credentials: credentials, ledger: snapshot, addresses: addresses, startedAt: startedAt,
                    timestamp: utcTimestamp))
        case "/ca.pem":
            return Page(contentType: "application/x-pem-file", body: credentials.authority.certificatePEM)
        case "/metrics":
            return Page(
                contentType: "text/plain; version=0.0.4",
                body: BountyPages.metrics(ledger: snapshot, isTestAuthority: credentials.isTestAuthority))
        default:
            return .notFound("not found: try /, /ca.pem or /metrics\n")
        }
    }

    func bind(_ endpoint: BountyEndpoint, _ address: SocketAddress, group: any EventLoopGroup) async throws
        -> any Channel
    {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = channel.remoteAddress.map(describe) ?? "?"
                    switch endpoint {
                    case .tlsServer:
                        try channel.pipeline.syncOperations.addHandlers(
                            TLSHandler(server: credentials.serverConfiguration, handshakeTimeout: handshakeTimeout),
                            BountyHandler(endpoint: endpoint, peer: peer, bounty: self))
                    case .tlsClient:
                        try channel.pipeline.syncOperations.addHandlers(
                            TLSHandler(
                                client: credentials.clientConfiguration, serverName: nil,
                                handshakeTimeout: handshakeTimeout),
                            BountyHandler(endpoint: endpoint, peer: peer, bounty: self))
                    case .connectBack:
                        channel.close(promise: nil)
                        if let remote = channel.remoteAddress { connectBack(to: remote, group: group) }
                    }
                }
            }
            .bind(to: address)
            .get()
    }

    /// Dials the caller back on `connectBackPort` and runs the client side of a handshake.
    private func connectBack(to caller: SocketAddress, group: any EventLoopGroup) {
        let peer = describe(caller)
        let admitted = connectBacksInProgress.withLockedValue { count in
            guard count < maxConnectBacks else { return false }
            count += 1
            return true
        }
        guard admitted, let host = caller.ipAddress else {
            record(
                Attempt(
                    endpoint: .connectBack, peer: peer, time: secondsNow(), outcome: .unreachable,
                    detail: "too many connect-backs in progress"))
            return
        }
        let target = "\(host.contains(":") ? "[\(host)]" : host):\(connectBackPort)"
        let configuration = credentials.clientConfiguration
        let timeout = handshakeTimeout
        let connection = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        TLSHandler(client: configuration, serverName: nil, handshakeTimeout: timeout),
                        BountyHandler(endpoint: .connectBack, peer: target, bounty: self))
                }
            }
            .connect(host: host, port: connectBackPort)
        connection.whenComplete { [self] result in
            switch result {
            case .success(let channel):
                channel.closeFuture.whenComplete { _ in self.connectBackFinished() }
            case .failure(let error):
                connectBackFinished()
                record(
                    Attempt(
                        endpoint: .connectBack, peer: target, time: secondsNow(), outcome: .unreachable,
                        detail: "\(error)"))
            }
        }
    }

    private func connectBackFinished() {
        connectBacksInProgress.withLockedValue { $0 -= 1 }
    }

    /// The secret, for the one handler whose peer has just authenticated.
    fileprivate var secretBytes: [UInt8] { secret }
}

/// Sits above the TLS handler on a bounty connection: the secret goes out only after the handshake
/// completed with a peer certificate the CA vouches for; every other end is recorded with its reason.
private final class BountyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let endpoint: BountyEndpoint
    private let peer: String
    private let bounty: Bounty
    private var finished = false

    init(endpoint: BountyEndpoint, peer: String, bounty: Bounty) {
        self.endpoint = endpoint
        self.peer = peer
        self.bounty = bounty
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSChannelEvent.handshakeCompleted(let summary) = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The engine completes a handshake only after the authenticator accepted the peer's chain;
        // a summary without a certificate would mean a resumed or unauthenticated session, never offered.
        guard !summary.peerCertificates.isEmpty else {
            finish(.rejected(.certificateRequired), detail: "handshake completed without a peer certificate")
            context.close(promise: nil)
            return
        }
        finish(.secretSent, detail: "\(summary.cipherSuite), \(summary.peerCertificates.count) certificate(s)")
        context.writeAndFlush(
            wrapOutboundOut(context.channel.allocator.buffer(bytes: bounty.secretBytes)), promise: nil)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the peer sends after the handshake is not read: the secret is the whole exchange.
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let failure as TLSError:
            finish(AttemptOutcome(failure), detail: failure.description)
        case TLSChannelError.handshakeTimedOut:
            finish(.timedOut, detail: "\(error)")
        default:
            finish(.closedEarly, detail: "\(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.closedEarly, detail: "connection closed")
        context.fireChannelInactive()
    }

    private func finish(_ outcome: AttemptOutcome, detail: String) {
        guard !finished else { return }
        finished = true
        bounty.record(Attempt(endpoint: endpoint, peer: peer, time: secondsNow(), outcome: outcome, detail: detail))
    }
}

private func describe(_ address: SocketAddress) -> String {
    let host = address.ipAddress ?? "?"
    let port = address.port.map(String.init) ?? "?"
    return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
}

private func secondsNow() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

private func utcTimestamp(_ seconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
    return formatter.string(from: Date(timeIntervalSince1970: Double(seconds))) + " UTC"
}
