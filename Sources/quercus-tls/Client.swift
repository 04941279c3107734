import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import QuercusCLI
import TLS
import TLSNIO

struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect, verify the server, send standard input and print what comes back.",
        discussion:
            "Exits 0 after the server closes cleanly (close_notify), 1 on any handshake, verification or network failure."
    )

    @Argument(help: "The server, HOST:PORT.")
    var address: String

    @Option(help: "Trust only servers whose chain leads to these CA certificates (PEM).")
    var ca: String?

    @Option(help: "A client certificate chain (PEM) for mutual TLS.")
    var cert: String?

    @Option(help: "The private key of --cert.")
    var key: String?

    @Option(help: "The name to send as SNI and to verify the certificate against (default: HOST).")
    var servername: String?

    @Option(help: "Application protocols to offer (ALPN), comma-separated.")
    var alpn: String?

    @Flag(help: "Accept any server certificate (testing only).")
    var insecure = false

    @Flag(help: "After the handshake, update keys and ask the server to update its keys too.")
    var keyUpdate = false

    @Option(help: "Connect this many times, resuming each session from the previous one's ticket.")
    var connections: Int = 1

    @Option(help: "Seconds to wait for the server before giving up.")
    var timeout: Int = 10

    @OptionGroup var algorithms: AlgorithmOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard Endpoint(address) != nil else { throw ValidationError("\(address): expected HOST:PORT") }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
        guard ca != nil || insecure else { throw ValidationError("give --ca to verify the server (or --insecure)") }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus-tls")
        guard let endpoint = Endpoint(address) else { throw ValidationError("\(address): expected HOST:PORT") }
        var configuration = TLSConfiguration()
        configuration.authenticator = insecure ? .insecureAcceptAnything : try loadAuthorities(ca ?? "")
        if let cert, let key { configuration.identities = [try loadIdentity(certificate: cert, key: key)] }
        if let alpn { configuration.applicationProtocols = alpn.split(separator: ",").map(String.init) }
        try algorithms.apply(to: &configuration)
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())

        let group = MultiThreadedEventLoopGroup.singleton
        var ticket: SessionTicket?
        for _ in 0..<connections {
            ticket = try await connect(
                endpoint, group: group, configuration: configuration, input: input, ticket: ticket, logger: logger)
        }
    }

    /// One connection over TLSNIO's async API: handshake, send `input`, print until the server
    /// closes. Returns the newest ticket.
    private func connect(
        _ endpoint: Endpoint, group: any EventLoopGroup, configuration: TLSConfiguration, input: [UInt8],
        ticket: SessionTicket?, logger: Logger
    ) async throws -> SessionTicket? {
        let seconds = Int64(timeout)
        let serverName = servername ?? endpoint.host
        let keyUpdate = self.keyUpdate
        do {
            let connection = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(seconds))
                .connect(host: endpoint.host, port: Int(endpoint.port)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ReadTimeout(seconds: seconds))
                        return try TLSAsyncConnection(
                            client: configuration, serverName: serverName, resuming: ticket,
                            handshakeTimeout: .seconds(seconds), channel: channel)
                    }
                }
            try await connection.channel.executeThenClose { inbound, outbound in
                let summary = try await connection.handshake()
                logger.info("handshake complete: \(describe(summary))")
                if keyUpdate { try await connection.updateKeys(requestPeerUpdate: true) }
                if !input.isEmpty { try await outbound.write(ByteBuffer(bytes: input)) }
                for try await chunk in inbound { writeStandardOutput(Array(chunk.readableBytesView)) }
            }
            guard connection.receivedCloseNotify else {
                throw ConnectionFailure(description: "\(endpoint) closed the connection without close_notify")
            }
            return connection.sessionTicket ?? ticket
        } catch let failure as ConnectionFailure {
            throw failure
        } catch {
            throw ConnectionFailure(description: "\(endpoint): \(error)")
        }
    }
}

/// Fails the connection when the server sends nothing for `seconds` (before the TLS handler, so
/// it sees ciphertext arriving).
private final class ReadTimeout: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let seconds: Int64
    private var timer: Scheduled<Void>?

    init(seconds: Int64) { self.seconds = seconds }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arm(context)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let seconds = self.seconds
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) {
            context.fireErrorCaught(ConnectionFailure(description: "no answer for \(seconds) s"))
            context.close(promise: nil)
        }
    }
}
