import ArgumentParser
import Foundation
import Logging
import QuercusCLI
import TLS

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

        var ticket: SessionTicket?
        for _ in 0..<connections {
            ticket = try connect(endpoint, configuration: configuration, input: input, ticket: ticket, logger: logger)
        }
    }

    /// One connection: handshake, send `input`, print until the server closes. Returns the newest ticket.
    private func connect(
        _ endpoint: Endpoint, configuration: TLSConfiguration, input: [UInt8], ticket: SessionTicket?, logger: Logger
    ) throws -> SessionTicket? {
        let socket = try TCPSocket.connect(to: endpoint)
        socket.setReadTimeout(seconds: timeout)
        var connection = TLSConnection(
            client: configuration, serverName: servername ?? endpoint.host, resuming: ticket,
            environment: .system(now: wallClockSeconds))
        var newestTicket = ticket
        try socket.write(connection.start().bytesToSend)
        while true {
            let bytes = try socket.read()
            if bytes.isEmpty {
                throw ConnectionFailure(description: "\(endpoint) closed the connection without close_notify")
            }
            let output = connection.receive(bytes)
            try socket.write(output.bytesToSend)
            if let error = output.error { throw ConnectionFailure(description: "\(endpoint): \(error)") }
            for event in output.events {
                switch event {
                case .handshakeComplete(let summary):
                    logger.info("handshake complete: \(describe(summary))")
                    if keyUpdate { try socket.write(try connection.updateKeys(requestPeerUpdate: true)) }
                    if !input.isEmpty { try socket.write(try connection.send(input)) }
                case .applicationData(let data):
                    writeStandardOutput(data)
                case .sessionTicket(let received):
                    newestTicket = received
                case .closed:
                    try socket.write(connection.close())
                    return newestTicket
                }
            }
        }
    }
}
