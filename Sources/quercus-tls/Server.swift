import ArgumentParser
import Foundation
import Logging
import QuercusCLI
import TLS

struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept TLS connections; echo what each client sends, or answer HTTP GETs with --http.",
        discussion: "Connections are served one at a time on a blocking socket (the NIO adapter comes later)."
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

        let listener = try TCPSocket.listen(on: endpoint)
        logger.info("listening on \(endpoint)")
        var served = 0
        while maxConnections.map({ served < $0 }) ?? true {
            let socket = try listener.accept()
            served += 1
            do {
                try serve(socket, configuration: configuration, logger: logger)
            } catch {
                logger.warning("connection \(served): \(error)")
            }
        }
    }

    private func serve(_ socket: TCPSocket, configuration: TLSConfiguration, logger: Logger) throws {
        socket.setReadTimeout(seconds: 30)
        var connection = TLSConnection(server: configuration, environment: .system(now: wallClockSeconds))
        var summary: HandshakeSummary?
        var request: [UInt8] = []
        while true {
            let bytes = try socket.read()
            if bytes.isEmpty { return }
            let output = connection.receive(bytes)
            try socket.write(output.bytesToSend)
            if let error = output.error { throw ConnectionFailure(description: "\(error)") }
            for event in output.events {
                switch event {
                case .handshakeComplete(let done):
                    summary = done
                    logger.info("handshake complete: \(describe(done))")
                case .applicationData(let data):
                    if http {
                        request += data
                        if request.count > 1 << 16 { return }
                        guard request.firstRange(of: Array("\r\n\r\n".utf8)) != nil else { continue }
                        try socket.write(try connection.send(page(for: request, summary: summary)))
                        try socket.write(connection.close())
                        return
                    }
                    writeStandardOutput(data)
                    try socket.write(try connection.send(data))
                case .closed:
                    try socket.write(connection.close())
                    return
                case .sessionTicket:
                    break
                }
            }
        }
    }

    private func page(for request: [UInt8], summary: HandshakeSummary?) -> [UInt8] {
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
