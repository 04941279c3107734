import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import QuercusCLI
import TLS
import TLSNIO

struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept TLS connections; echo what each client sends, or answer HTTP GETs with --http.",
        discussion: "Connections are served concurrently over SwiftNIO (TLSNIO); the client uses a blocking socket."
    )

    @Option(help: "The certificate chain (PEM, leaf first).")
    var cert: String

    @Option(help: "The private key of the certificate (PEM: PKCS#8, SEC 1 or PKCS#1).")
    var key: String

    @Option(help: "More certificate and key pairs, chosen by SNI: CERT:KEY.")
    var sni: [String] = []

    @Option(help: "Where to listen, HOST:PORT.")
    var listen: String = "127.0.0.1:4433"

    @Option(help: "Ask every client for a certificate and accept only those that chain to this CA (PEM).")
    var ca: String?

    @Flag(help: "Answer GET requests with a small page describing the connection, as `openssl s_server -www` does.")
    var http = false

    @Option(help: "Session tickets to send after each handshake (0 disables resumption).")
    var tickets: Int = 2

    @Option(help: "Stop after this many connections (default: serve forever).")
    var maxConnections: Int?

    @OptionGroup var algorithms: AlgorithmOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus-tls")
        guard let endpoint = Endpoint(listen) else { throw ValidationError("--listen \(listen): expected HOST:PORT") }
        var configuration = TLSConfiguration()
        configuration.identities = [try loadIdentity(certificate: cert, key: key)]
        for pair in sni {
            let parts = pair.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--sni \(pair): expected CERT:KEY") }
            configuration.identities.append(try loadIdentity(certificate: parts[0], key: parts[1]))
        }
        if let ca { configuration.authenticator = try loadAuthorities(ca) }
        if http { configuration.applicationProtocols = ["http/1.1"] }
        configuration.ticketsToSend = tickets
        configuration.ticketKey = TLSEnvironment.system(now: wallClockSeconds).random(32)
        try algorithms.apply(to: &configuration)

        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(endpoint.host, port: Int(endpoint.port))
        } catch {
            throw ValidationError("--listen \(listen): \(error)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let finished = NIOLockedValueBox(0)
        let limit = maxConnections
        let http = self.http
        let done = group.next().makePromise(of: Void.self)
        let settled = configuration
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        TLSHandler(server: settled, handshakeTimeout: .seconds(30)),
                        ConnectionHandler(http: http, logger: logger) {
                            let count = finished.withLockedValue { count in
                                count += 1
                                return count
                            }
                            if let limit, count >= limit { done.succeed() }
                        })
                }
            }
            .bind(to: address)
            .get()
        logger.info("listening on \(endpoint)")
        try await done.futureResult.get()
        try await listener.close()
        try await group.shutdownGracefully()
    }
}

/// Serves one connection above the TLS handler: echoes what arrives (and prints it), or answers
/// one HTTP GET with a page describing the connection.
private final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let http: Bool
    private let logger: Logger
    private let onClose: @Sendable () -> Void
    private var summary: HandshakeSummary?
    private var request: [UInt8] = []

    init(http: Bool, logger: Logger, onClose: @escaping @Sendable () -> Void) {
        self.http = http
        self.logger = logger
        self.onClose = onClose
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSChannelEvent.handshakeCompleted(let done) = event {
            summary = done
            logger.info("handshake complete: \(describe(done))")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        guard http else {
            writeStandardOutput(bytes)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            return
        }
        request += bytes
        if request.count > 1 << 16 {
            context.close(promise: nil)
            return
        }
        guard request.firstRange(of: Array("\r\n\r\n".utf8)) != nil else { return }
        let page = Server.page(for: request, summary: summary)
        request = []
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: page)), promise: nil)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("connection from \(context.channel.remoteAddress.map { "\($0)" } ?? "?"): \(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
        context.fireChannelInactive()
    }
}

extension Server {
    static func page(for request: [UInt8], summary: HandshakeSummary?) -> [UInt8] {
        let firstLine = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        guard firstLine.hasPrefix("GET ") else {
            return Array("HTTP/1.0 405 Method Not Allowed\r\nContent-Type: text/plain\r\n\r\nonly GET\n".utf8)
        }
        let details = summary.map(describe) ?? "unknown"
        let peer =
            summary.map { $0.peerCertificates.isEmpty ? "none" : "\($0.peerCertificates.count) certificate(s)" }
            ?? "none"
        let body =
            "<html><body><h1>Quercus TLS</h1><p>Connection: \(details)</p><p>Client certificate: \(peer)</p></body></html>\n"
        return Array(
            "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }
}
