import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell
import Pinata
import QuercusCLI
import TLS
import TLSNIO

@main
struct QuercusPinata: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-pinata",
        abstract: "A transparent bug bounty: a secret behind mutual TLS, for whoever breaks Quercus TLS.",
        discussion: """
            At start it makes a CA and three certificates (server, client, web) whose keys stay in memory. \
            The secret goes only to a peer that completes a TLS handshake with a certificate from that CA: \
            as a client of --tls-server, as the server --tls-connect-back dials back (on \
            --connect-back-port of the caller's address), or as the server on a connection to --tls-client. \
            --http and --https show the rules, the CA and every attempt. Give \"off\" to disable an endpoint. \
            Exit codes: 0 stopped by a signal, 1 failure, 64 bad usage.
            """,
        version: QuercusVersion.string
    )

    @Option(help: "The file holding the secret (read once at start).")
    var secretFile: String

    @Option(help: "The page over HTTP.")
    var http = "127.0.0.1:8080"

    @Option(help: "The page over HTTPS (certificate from the Piñata's CA).")
    var https = "127.0.0.1:8443"

    @Option(help: "TLS server endpoint: clients with a certificate from the CA get the secret.")
    var tlsServer = "127.0.0.1:10000"

    @Option(help: "Connect-back endpoint: the Piñata hangs up and connects back to the caller as a TLS client.")
    var tlsConnectBack = "127.0.0.1:10001"

    @Option(help: "The port on the caller's address that connect-back dials.")
    var connectBackPort = 10003

    @Option(help: "TLS client endpoint: the Piñata runs the client side of a handshake on each accepted connection.")
    var tlsClient = "127.0.0.1:10002"

    @Flag(help: "RSA-4096 keys for the CA and every certificate, as the original Piñata (slow start).")
    var rsa = false

    @Option(
        help: """
            Tests only: load the CA from DIR/ca.pem and DIR/ca.key (PKCS#8, SEC 1 or PKCS#1; RSA, P-256 or \
            Ed25519) instead of making one. The pages then say there is no bounty.
            """)
    var testCa: String?

    @Option(help: "Seconds a handshake may take.")
    var handshakeTimeout = 10

    @Option(help: "Connect-back connections in progress at most; more callers are refused.")
    var maxConnectBacks = 32

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...65535).contains(connectBackPort) else { throw ValidationError("--connect-back-port: 1 to 65535") }
        guard handshakeTimeout >= 1 else { throw ValidationError("--handshake-timeout must be at least 1") }
        for (flag, value) in endpointFlags where value != "off" {
            do { _ = try parseListenAddress(value) } catch { throw ValidationError("--\(flag) \(error)") }
        }
    }

    private var endpointFlags: [(String, String)] {
        [
            ("http", http), ("https", https), ("tls-server", tlsServer), ("tls-connect-back", tlsConnectBack),
            ("tls-client", tlsClient),
        ]
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus.pinata")
        guard let secretData = FileManager.default.contents(atPath: secretFile), !secretData.isEmpty else {
            throw Failure("--secret-file \(secretFile): cannot read it, or it is empty")
        }
        let secret = Array(secretData)
        let started = Date()
        let credentials = try makeCredentials()
        let elapsed = Int(Date().timeIntervalSince(started) * 1000)
        logger.info(
            "CA ready (\(rsa ? "RSA-4096" : "P-256")\(credentials.isTestAuthority ? ", TEST CA from \(testCa ?? "")" : ""), \(elapsed) ms)"
        )

        let bounty = Bounty(
            credentials: credentials, secret: secret, logger: logger,
            handshakeTimeout: .seconds(Int64(handshakeTimeout)), connectBackPort: connectBackPort,
            maxConnectBacks: maxConnectBacks)
        let addresses = BountyAddresses(
            http: enabled(http), https: enabled(https), tlsServer: enabled(tlsServer),
            connectBack: enabled(tlsConnectBack), connectBackPort: connectBackPort, tlsClient: enabled(tlsClient))
        let startedAt = Int64(started.timeIntervalSince1970)
        let route: @Sendable (String) -> Page = { path in bounty.page(path, addresses: addresses, startedAt: startedAt)
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var channels: [any Channel] = []
        if let address = enabled(http) {
            channels.append(try await PageEndpoint.bind(try parseListenAddress(address), group: group, route: route))
        }
        if let address = enabled(https) {
            let configuration = credentials.webConfiguration
            let timeout = TimeAmount.seconds(Int64(handshakeTimeout))
            channels.append(
                try await PageEndpoint.bind(
                    try parseListenAddress(address), group: group,
                    secure: { channel in
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandler(server: configuration, handshakeTimeout: timeout))
                    }, route: route))
        }
        if let address = enabled(tlsServer) {
            channels.append(try await bounty.bind(.tlsServer, try parseListenAddress(address), group: group))
        }
        if let address = enabled(tlsConnectBack) {
            channels.append(try await bounty.bind(.connectBack, try parseListenAddress(address), group: group))
        }
        if let address = enabled(tlsClient) {
            channels.append(try await bounty.bind(.tlsClient, try parseListenAddress(address), group: group))
        }
        let listening = endpointFlags.filter { $0.1 != "off" }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        logger.info("listening: \(listening)")

        try await withThrowingDiscardingTaskGroup { tasks in
            for channel in channels {
                tasks.addTask { try await channel.closeFuture.get() }
            }
        }
    }

    private func enabled(_ address: String) -> String? {
        address == "off" ? nil : address
    }

    private func makeCredentials() throws -> PinataCredentials {
        let now = Int64(Date().timeIntervalSince1970)
        let keys: PinataCredentials.KeyKind = rsa ? .rsa4096 : .p256
        guard let testCa else { return try PinataCredentials.generate(keys: keys, now: now) }
        let folder = URL(fileURLWithPath: testCa)
        guard let certificate = try? String(contentsOf: folder.appendingPathComponent("ca.pem"), encoding: .utf8),
            let key = try? String(contentsOf: folder.appendingPathComponent("ca.key"), encoding: .utf8)
        else {
            throw Failure("--test-ca \(testCa): cannot read ca.pem and ca.key there")
        }
        do {
            return try PinataCredentials.testAuthority(certificatePEM: certificate, keyPEM: key, keys: keys, now: now)
        } catch {
            throw Failure("--test-ca \(testCa): \(error)")
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
