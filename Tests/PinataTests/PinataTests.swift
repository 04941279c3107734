import Pinata
import TLS
import Testing

@Suite struct PinataCredentialsTests {
    let now: Int64 = 1_790_000_000

    @Test func everyCertificateChainsToTheNewCAForItsUse() throws {
        let credentials = try PinataCredentials.generate(keys: .p256, now: now)
        #expect(!credentials.isTestAuthority)
        // A full handshake as each side of the bounty: server endpoint against the Piñata's client.
        let secret = try handshake(server: credentials.serverConfiguration, client: credentials.clientConfiguration)
        #expect(secret.server?.peerCertificates.count == 2)
        #expect(secret.client?.peerCertificates.count == 2)
        // The web certificate is for anyone who trusts the CA.
        var visitor = TLSConfiguration()
        visitor.authenticator = .certificateAuthorities([credentials.authority.certificate])
        visitor.applicationProtocols = ["http/1.1"]
        let web = try handshake(server: credentials.webConfiguration, client: visitor, serverName: "localhost")
        #expect(web.client?.applicationProtocol == "http/1.1")
    }

    @Test func aClientCertificateFromAnotherCAIsRejectedWithUnknownCA() throws {
        let pinata = try PinataCredentials.generate(keys: .p256, now: now)
        // Another Piñata's client: same CA name, another key. It trusts our server, we must not trust it.
        var other = try PinataCredentials.generate(keys: .p256, now: now).clientConfiguration
        other.authenticator = .certificateAuthorities([pinata.authority.certificate])
        do {
            try handshake(server: pinata.serverConfiguration, client: other)
            Issue.record("a certificate from another CA was accepted")
        } catch let error as HandshakeFailure {
            #expect(error.server.map(AttemptOutcome.init) == .rejected(.unknownCA))
            #expect(error.client.map(AttemptOutcome.init) == .peerAlert(.unknownCA))
        }
    }

    @Test func aServerFromAnotherCAWithTheSameNameIsUntrustedNotLooping() throws {
        let pinata = try PinataCredentials.generate(keys: .p256, now: now)
        let other = try PinataCredentials.generate(keys: .p256, now: now)
        do {
            try handshake(server: other.serverConfiguration, client: pinata.clientConfiguration)
            Issue.record("a server certificate from another CA was accepted")
        } catch let error as HandshakeFailure {
            #expect(error.client == .authentication(.unknownIssuer("no trusted issuer for CN=Quercus Pinata CA")))
        }
    }

    @Test func theServerCertificateCannotActAsAClient() throws {
        let pinata = try PinataCredentials.generate(keys: .p256, now: now)
        var impostor = pinata.clientConfiguration
        impostor.identities = [pinata.server]  // serverAuth only: wrong extended key usage
        do {
            try handshake(server: pinata.serverConfiguration, client: impostor)
            Issue.record("a server certificate was accepted as a client certificate")
        } catch let error as HandshakeFailure {
            #expect(error.server.map(AttemptOutcome.init) == .rejected(.certificateUnknown))
        }
    }

    @Test func aClientWithoutCertificateIsAskedForOne() throws {
        let pinata = try PinataCredentials.generate(keys: .p256, now: now)
        var anonymous = pinata.clientConfiguration
        anonymous.identities = []
        do {
            try handshake(server: pinata.serverConfiguration, client: anonymous)
            Issue.record("a client without a certificate completed the handshake")
        } catch let error as HandshakeFailure {
            #expect(error.server.map(AttemptOutcome.init) == .rejected(.certificateRequired))
        }
    }

    @Test func aTestCAIsLoadedFromPEMAndMarked() throws {
        let original = try CertificateAuthority(name: "Test CA", notBefore: now - 10, lifetime: 86_400)
        let loaded = try PinataCredentials.testAuthority(
            certificatePEM: original.certificatePEM, keyPEM: original.key.pemRepresentation, keys: .p256, now: now)
        #expect(loaded.isTestAuthority)
        #expect(loaded.authority.certificate == original.certificate)
        // A certificate the test CA issues outside the Piñata is accepted by it: that is the point of a test CA.
        var outsider = TLSConfiguration()
        outsider.identities = [try original.issue(names: ["tester"], usage: .client, notBefore: now - 10, lifetime: 60)]
        outsider.authenticator = .certificateAuthorities([original.certificate])
        _ = try handshake(server: loaded.serverConfiguration, client: outsider)
    }

    @Test func aTestCAWhoseKeyDoesNotMatchIsRefused() throws {
        let ca = try CertificateAuthority(name: "Test CA", notBefore: now, lifetime: 86_400)
        let stranger = SigningKey.generateP256()
        #expect(throws: TLSError.self) {
            try PinataCredentials.testAuthority(
                certificatePEM: ca.certificatePEM, keyPEM: stranger.pemRepresentation, keys: .p256, now: now)
        }
        let leaf = try ca.issue(names: ["leaf"], notBefore: now, lifetime: 60)
        #expect(throws: TLSError.self) {
            try PinataCredentials.testAuthority(
                certificatePEM: leaf.chainPEM, keyPEM: leaf.key.pemRepresentation, keys: .p256, now: now)
        }
    }
}

@Suite struct AttemptLedgerTests {
    @Test func countsByEndpointAndOutcomeAndKeepsTheLatest() {
        var ledger = AttemptLedger()
        for index in 0..<(AttemptLedger.recentLimit + 5) {
            ledger.record(
                Attempt(
                    endpoint: index % 2 == 0 ? .tlsServer : .connectBack, peer: "127.0.0.1:\(index)", time: 0,
                    outcome: index % 3 == 0 ? .rejected(.unknownCA) : .timedOut, detail: ""))
        }
        #expect(ledger.total == AttemptLedger.recentLimit + 5)
        #expect(ledger.recent.count == AttemptLedger.recentLimit)
        #expect(ledger.recent.last?.peer == "127.0.0.1:\(AttemptLedger.recentLimit + 4)")
        #expect(ledger.recent.first?.peer == "127.0.0.1:5")
        // 0, 6, 12 … 54: ten even multiples of three.
        #expect(ledger.count(.tlsServer, .rejected(.unknownCA)) == 10)
        #expect(ledger.count(.tlsClient, .timedOut) == 0)
    }

    @Test func aLongDetailIsCut() {
        let attempt = Attempt(
            endpoint: .tlsClient, peer: "p", time: 0, outcome: .closedEarly, detail: String(repeating: "x", count: 5000)
        )
        #expect(attempt.detail.count < 1000)
    }
}

@Suite struct BountyPagesTests {
    let credentials: PinataCredentials
    let addresses = BountyAddresses(
        http: "127.0.0.1:8080", https: nil, tlsServer: "127.0.0.1:10000", connectBack: "127.0.0.1:10001",
        connectBackPort: 10003, tlsClient: nil)

    init() throws {
        credentials = try PinataCredentials.generate(keys: .p256, now: 1_790_000_000)
    }

    @Test func theIndexShowsTheCAAndTheCountsAndEscapesWhatPeersChose() {
        var ledger = AttemptLedger()
        ledger.record(
            Attempt(
                endpoint: .tlsServer, peer: "127.0.0.1:4000", time: 0, outcome: .rejected(.unknownCA),
                detail: "untrusted certificate: no trusted issuer for CN=<script>alert(1)</script>"))
        let html = BountyPages.index(
            credentials: credentials, ledger: ledger, addresses: addresses, startedAt: 0, timestamp: { "t\($0)" })
        #expect(html.contains(credentials.authority.certificatePEM))
        #expect(html.contains("<td>tls-server</td><td>rejected: unknown_ca</td><td>1</td>"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("port 10003"))
        #expect(!html.contains("TEST CA"))
        #expect(!html.contains("PRIVATE KEY"))
    }

    @Test func aTestCAIsAnnouncedInLargeLetters() throws {
        let ca = try CertificateAuthority(name: "Test CA", notBefore: 0, lifetime: 1 << 31)
        let test = try PinataCredentials.testAuthority(
            certificatePEM: ca.certificatePEM, keyPEM: ca.key.pemRepresentation, keys: .p256, now: 1_790_000_000)
        let html = BountyPages.index(
            credentials: test, ledger: AttemptLedger(), addresses: addresses, startedAt: 0, timestamp: { "\($0)" })
        #expect(html.contains("<h1 style=\"font-size: 4em"))
        #expect(html.contains("TEST CA: THERE IS NO BOUNTY HERE"))
        #expect(
            BountyPages.metrics(ledger: AttemptLedger(), isTestAuthority: true).contains("quercus_pinata_test_ca 1"))
    }

    @Test func metricsAreOneLinePerEndpointAndOutcome() {
        var ledger = AttemptLedger()
        ledger.record(Attempt(endpoint: .tlsClient, peer: "p", time: 0, outcome: .timedOut, detail: ""))
        ledger.record(Attempt(endpoint: .tlsClient, peer: "p", time: 0, outcome: .timedOut, detail: ""))
        ledger.record(
            Attempt(endpoint: .tlsServer, peer: "p", time: 0, outcome: .peerAlert(.badCertificate), detail: ""))
        let text = BountyPages.metrics(ledger: ledger, isTestAuthority: false)
        #expect(text.contains("quercus_pinata_attempts_total{endpoint=\"tls-client\",outcome=\"timed out\"} 2\n"))
        #expect(
            text.contains(
                "quercus_pinata_attempts_total{endpoint=\"tls-server\",outcome=\"peer sent bad_certificate\"} 1\n"))
        #expect(text.contains("quercus_pinata_test_ca 0\n"))
    }
}

/// Both sides' errors when a handshake fails.
struct HandshakeFailure: Error {
    var server: TLSError?
    var client: TLSError?
}

/// Runs a handshake in memory; returns each side's summary, or throws both sides' errors.
@discardableResult
func handshake(server: TLSConfiguration, client: TLSConfiguration, serverName: String? = nil) throws
    -> (server: HandshakeSummary?, client: HandshakeSummary?)
{
    let environment = TLSEnvironment.system(now: { 1_790_000_000 })
    var serverSide = TLSConnection(server: server, environment: environment)
    var clientSide = TLSConnection(client: client, serverName: serverName, environment: environment)
    var toServer = clientSide.start().bytesToSend
    var summaries: (server: HandshakeSummary?, client: HandshakeSummary?) = (nil, nil)
    var failure = HandshakeFailure()
    for _ in 0..<10 where !(toServer.isEmpty && summaries.server != nil && summaries.client != nil) {
        let fromServer = serverSide.receive(toServer)
        failure.server = failure.server ?? fromServer.error
        for case .handshakeComplete(let summary) in fromServer.events { summaries.server = summary }
        let fromClient = clientSide.receive(fromServer.bytesToSend)
        failure.client = failure.client ?? fromClient.error
        for case .handshakeComplete(let summary) in fromClient.events { summaries.client = summary }
        toServer = fromClient.bytesToSend
        if failure.server != nil || failure.client != nil {
            // Let the other side read the alert.
            if !toServer.isEmpty { failure.server = failure.server ?? serverSide.receive(toServer).error }
            throw failure
        }
    }
    return summaries
}
