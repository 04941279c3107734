import ArgumentParser
import Foundation
import Logging
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
        let settled = configuration
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try TLSAsyncConnection(server: settled, handshakeTimeout: .seconds(30), channel: channel)
                }
            }
        logger.info("listening on \(endpoint)")
        let http = self.http
        let limit = maxConnections
        try await listener.executeThenClose { connections in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                var accepted = 0
                for try await connection in connections {
                    tasks.addTask { await Server.serve(connection, http: http, logger: logger) }
                    accepted += 1
                    if let limit, accepted >= limit { break }
                }
                try await tasks.waitForAll()
            }
        }
        try await group.shutdownGracefully()
    }

    /// One connection: echoes what arrives (and prints it), or answers one HTTP GET with a page
    /// describing the connection. Failures are logged, never thrown: one client cannot stop the server.
    static func serve(_ connection: TLSAsyncConnection, http: Bool, logger: Logger) async {
        let peer = connection.remoteAddress.map { "\($0)" } ?? "?"
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                let summary = try await connection.handshake()
                logger.info("handshake complete: \(describe(summary))")
                var request: [UInt8] = []
                for try await chunk in inbound {
                    let bytes = Array(chunk.readableBytesView)
                    guard http else {
                        writeStandardOutput(bytes)
                        try await outbound.write(chunk)
                        continue
                    }
                    request += bytes
                    if request.count > 1 << 16 { return }
                    // The end of the header: an empty line, with CRLF or (as some clients send) bare LF.
                    if request.firstRange(of: Array("\r\n\r\n".utf8)) != nil || request.firstRange(of: [10, 10]) != nil
                    {
                        try await outbound.write(ByteBuffer(bytes: page(for: request, summary: summary)))
                        return
                    }
                }
            }
        } catch {
            logger.warning("connection from \(peer): \(error)")
        }
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
