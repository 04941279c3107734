import Crypto
import Testing
import _CryptoExtras

@testable import TLS

/// Two engines joined in memory: whatever one sends, the other receives.
struct Pair {
    var client: TLSConnection
    var server: TLSConnection
    var clientEvents: [TLSEvent] = []
    var serverEvents: [TLSEvent] = []
    var clientError: TLSError?
    var serverError: TLSError?

    init(
        client: TLSConfiguration, server: TLSConfiguration, serverName: String? = "server.test",
        ticket: SessionTicket? = nil
    ) {
        self.client = TLSConnection(
            client: client, serverName: serverName, resuming: ticket, environment: .system(now: { testNow }))
        self.server = TLSConnection(server: server, environment: .system(now: { testNow }))
    }

    /// Runs the handshake to completion (or failure), passing every flight across.
    mutating func handshake() {
        var toServer = client.start().bytesToSend
        var rounds = 0
        while !toServer.isEmpty && rounds < 10 {
            rounds += 1
            let serverOutput = server.receive(toServer)
            serverEvents += serverOutput.events
            serverError = serverError ?? serverOutput.error
            let clientOutput = client.receive(serverOutput.bytesToSend)
            clientEvents += clientOutput.events
            clientError = clientError ?? clientOutput.error
            toServer = clientOutput.bytesToSend
        }
    }

    var clientSummary: HandshakeSummary? { Self.summary(clientEvents) }
    var serverSummary: HandshakeSummary? { Self.summary(serverEvents) }

    static func summary(_ events: [TLSEvent]) -> HandshakeSummary? {
        for case .handshakeComplete(let summary) in events { return summary }
        return nil
    }
}

let testNow: Int64 = 1_800_000_000

func serverConfiguration(key: SigningKey = .generateP256(), names: [String] = ["server.test"]) throws
    -> TLSConfiguration
{
    var configuration = TLSConfiguration()
    configuration.identities = [try testAuthority.issue(names: names, key: key, notBefore: 0, lifetime: 1 << 32)]
    return configuration
}

func clientConfiguration() -> TLSConfiguration {
    var configuration = TLSConfiguration()
    configuration.authenticator = .certificateAuthorities([testAuthority.certificate])
    return configuration
}

@Suite("Handshakes between our client and our server")
struct HandshakeTests {
    @Test("every cipher suite", arguments: CipherSuite.supported)
    func suites(_ suite: CipherSuite) throws {
        var client = clientConfiguration()
        client.cipherSuites = [suite]
        var pair = Pair(client: client, server: try serverConfiguration())
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.serverError == nil)
        #expect(pair.clientSummary?.cipherSuite == suite)
        #expect(pair.serverSummary?.cipherSuite == suite)
        let message = Array("hello over \(suite)".utf8)
        let record = try pair.client.send(message)
        #expect(pair.server.receive(record).events == [.applicationData(message)])
        let reply = try pair.server.send(message.reversed())
        #expect(pair.client.receive(reply).events == [.applicationData(message.reversed())])
    }

    @Test("every key exchange group", arguments: NamedGroup.supported)
    func groups(_ group: NamedGroup) throws {
        var client = clientConfiguration()
        client.keyShareGroups = [group]
        client.groups = [group]
        var pair = Pair(client: client, server: try serverConfiguration())
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.group == group)
        #expect(pair.serverSummary?.group == group)
    }

    @Test(
        "every server key type",
        arguments: [
            ("P-256", SignatureScheme.ecdsaSecp256r1SHA256), ("P-384", .ecdsaSecp384r1SHA384), ("Ed25519", .ed25519),
            ("RSA-2048", .rsaPSSRSAESHA256),
        ])
    func keyTypes(_ name: String, _ scheme: SignatureScheme) throws {
        let key: SigningKey
        switch name {
        case "P-256": key = .p256(P256.Signing.PrivateKey())
        case "P-384": key = .p384(P384.Signing.PrivateKey())
        case "Ed25519": key = .ed25519(Curve25519.Signing.PrivateKey())
        default: key = .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration(key: key))
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.signatureScheme == scheme)
    }

    @Test("HelloRetryRequest when the client guessed a group the server does not take")
    func helloRetryRequest() throws {
        var client = clientConfiguration()
        client.keyShareGroups = [.x25519]
        client.groups = [.x25519, .secp256r1]
        var server = try serverConfiguration()
        server.groups = [.secp256r1]
        var pair = Pair(client: client, server: server)
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.serverError == nil)
        #expect(pair.clientSummary?.group == .secp256r1)
    }

    @Test("mutual TLS: the server asks for and verifies a client certificate")
    func mutualTLS() throws {
        var client = clientConfiguration()
        client.identities = [
            try testAuthority.issue(names: ["client.test"], usage: .client, notBefore: 0, lifetime: 1 << 32)
        ]
        var server = try serverConfiguration()
        server.authenticator = .certificateAuthorities([testAuthority.certificate])
        var pair = Pair(client: client, server: server)
        pair.handshake()
        #expect(pair.serverError == nil)
        #expect(pair.serverSummary?.peerCertificates == client.identities.first?.chain)
    }

    @Test("mutual TLS: a client without a certificate is refused with certificate_required")
    func mutualTLSWithoutCertificate() throws {
        var server = try serverConfiguration()
        server.authenticator = .certificateAuthorities([testAuthority.certificate])
        var pair = Pair(client: clientConfiguration(), server: server)
        pair.handshake()
        #expect(pair.serverError == .negotiation(.certificateRequired))
        #expect(pair.clientError == .peerAlert(.certificateRequired))
    }

    @Test("ALPN picks the server's preferred protocol among the client's")
    func alpn() throws {
        var client = clientConfiguration()
        client.applicationProtocols = ["h2", "http/1.1"]
        var server = try serverConfiguration()
        server.applicationProtocols = ["http/1.1"]
        var pair = Pair(client: client, server: server)
        pair.handshake()
        #expect(pair.clientSummary?.applicationProtocol == "http/1.1")
        #expect(pair.serverSummary?.applicationProtocol == "http/1.1")
    }

    @Test("SNI chooses among several server certificates")
    func serverNameIndication() throws {
        var server = TLSConfiguration()
        let first = try testAuthority.issue(names: ["one.test"], notBefore: 0, lifetime: 1 << 32)
        let second = try testAuthority.issue(names: ["two.test"], notBefore: 0, lifetime: 1 << 32)
        server.identities = [first, second]
        var pair = Pair(client: clientConfiguration(), server: server, serverName: "two.test")
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.peerCertificates == second.chain)
        #expect(pair.serverSummary?.serverName == "two.test")
    }

    @Test("a session ticket resumes without certificates")
    func resumption() throws {
        var server = try serverConfiguration()
        server.ticketsToSend = 1
        server.ticketKey = Array(repeating: 7, count: 32)
        var pair = Pair(client: clientConfiguration(), server: server)
        pair.handshake()
        let ticket = try #require(
            pair.clientEvents.compactMap { event -> SessionTicket? in
                if case .sessionTicket(let ticket) = event { return ticket }
                return nil
            }.first)
        var resumed = Pair(client: clientConfiguration(), server: server, ticket: ticket)
        resumed.handshake()
        #expect(resumed.clientError == nil)
        #expect(resumed.serverError == nil)
        #expect(resumed.clientSummary?.resumed == true)
        #expect(resumed.serverSummary?.resumed == true)
        #expect(resumed.clientSummary?.peerCertificates == [])
    }

    @Test("KeyUpdate with a request rotates both directions")
    func keyUpdate() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration())
        pair.handshake()
        let update = try pair.client.updateKeys(requestPeerUpdate: true)
        let answer = pair.server.receive(update)
        #expect(answer.error == nil)
        #expect(!answer.bytesToSend.isEmpty, "the server answers with its own KeyUpdate")
        #expect(pair.client.receive(answer.bytesToSend).error == nil)
        let message: [UInt8] = [1, 2, 3]
        #expect(pair.server.receive(try pair.client.send(message)).events == [.applicationData(message)])
        #expect(pair.client.receive(try pair.server.send(message)).events == [.applicationData(message)])
    }

    @Test("close_notify is a half-close: the other side may still send, then closes")
    func closeNotify() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration())
        pair.handshake()
        #expect(pair.server.receive(pair.client.close()).events == [.closed])
        let last: [UInt8] = [9, 9]
        #expect(pair.client.receive(try pair.server.send(last)).events == [.applicationData(last)])
        #expect(pair.client.receive(pair.server.close()).events == [.closed])
        #expect(pair.client.isClosed && pair.server.isClosed)
        #expect(throws: TLSError.closed) { try pair.server.send(last) }
    }

    @Test("padded records are unpadded by the peer")
    func padding() throws {
        var client = clientConfiguration()
        client.paddingBlock = 256
        var pair = Pair(client: client, server: try serverConfiguration())
        pair.handshake()
        let record = try pair.client.send([42])
        #expect(record.count == 5 + 256 + 16)
        #expect(pair.server.receive(record).events == [.applicationData([42])])
    }
}

@Suite("Certificate checks")
struct AuthenticationTests {
    @Test("a certificate for another name is refused")
    func wrongName() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration(), serverName: "other.test")
        pair.handshake()
        #expect(pair.clientError?.alert == .certificateUnknown)
        #expect(pair.serverError == .peerAlert(.certificateUnknown))
    }

    @Test("a certificate from another CA is refused with unknown_ca")
    func unknownCA() throws {
        var client = TLSConfiguration()
        let other = try CertificateAuthority(name: "Other CA", notBefore: 0, lifetime: 1 << 32)
        client.authenticator = .certificateAuthorities([other.certificate])
        var pair = Pair(client: client, server: try serverConfiguration())
        pair.handshake()
        #expect(pair.clientError?.alert == .unknownCA)
    }

    @Test("an expired certificate is refused with certificate_expired")
    func expired() throws {
        var server = TLSConfiguration()
        server.identities = [try testAuthority.issue(names: ["server.test"], notBefore: 0, lifetime: 1000)]
        var pair = Pair(client: clientConfiguration(), server: server)
        pair.handshake()
        #expect(pair.clientError?.alert == .certificateExpired)
    }

    @Test("a client certificate is not accepted as a server certificate")
    func extendedKeyUsage() throws {
        var server = TLSConfiguration()
        server.identities = [
            try testAuthority.issue(names: ["server.test"], usage: .client, notBefore: 0, lifetime: 1 << 32)
        ]
        var pair = Pair(client: clientConfiguration(), server: server)
        pair.handshake()
        #expect(pair.clientError?.alert == .certificateUnknown)
    }

    @Test("fingerprint and public-key pins")
    func pins() throws {
        let server = try serverConfiguration()
        let leaf = try #require(server.identities.first?.chain.first)
        var client = TLSConfiguration()
        client.authenticator = .fingerprints([Array(SHA256.hash(data: leaf))])
        var pinned = Pair(client: client, server: server)
        pinned.handshake()
        #expect(pinned.clientError == nil)
        client.authenticator = .publicKeyPins([Array(repeating: 0, count: 32)])
        var wrongPin = Pair(client: client, server: server)
        wrongPin.handshake()
        #expect(wrongPin.clientError?.alert == .unknownCA)
    }
}
