import Crypto
import Testing
import _CryptoExtras

@testable import TLS

private func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return result
}

/// A configuration that speaks TLS 1.2 only.
private func tls12(_ configuration: TLSConfiguration) -> TLSConfiguration {
    var configuration = configuration
    configuration.versions = [.tls12]
    return configuration
}

private let rsaKey: SigningKey = {
    guard let key = try? _RSA.Signing.PrivateKey(keySize: .bits2048) else { fatalError("RSA key generation failed") }
    return .rsa(key)
}()

/// The handshake messages of the first record in `flight`, with `change` applied to the ServerHello
/// (which our server sends alone in the first record).
private func rewriteServerHello(_ flight: [UInt8], _ change: (inout ServerHello) -> Void) throws -> [UInt8] {
    let length = Int(flight[3]) << 8 | Int(flight[4])
    var hello = try ServerHello.parse(Array(flight[9..<(5 + length)]))
    change(&hello)
    let message = handshakeMessage(.serverHello, try hello.encode())
    return [22, 3, 3, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message + flight[(5 + length)...]
}

@Suite("TLS 1.2 key derivation")
struct TLS12KeyDerivationTests {
    // The TLS 1.2 PRF test vectors posted to the IETF TLS list (and used by many implementations);
    // checked here against OpenSSL's `openssl kdf TLS1-PRF` too.
    @Test("PRF with SHA-256")
    func prfSHA256() {
        let output = TLS12KeySchedule(hash: .sha256).prf(
            secret: bytes(hex: "9bbe436ba940f017b17652849a71db35"), label: "test label",
            seed: bytes(hex: "a0ba9f936cda311827a6f796ffd5198c"), length: 100)
        #expect(
            output
                == bytes(
                    hex:
                        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af"
                        + "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                        + "87347b66"))
    }

    @Test("PRF with SHA-384")
    func prfSHA384() {
        let output = TLS12KeySchedule(hash: .sha384).prf(
            secret: bytes(hex: "b80b733d6ceefcdc71566ea48e5567df"), label: "test label",
            seed: bytes(hex: "cd665cf6a8447dd6ff8b27555edb7465"), length: 148)
        #expect(
            output
                == bytes(
                    hex:
                        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0"
                        + "e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
                        + "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e099070"
                        + "3d73e56f"))
    }

    // Expected values computed independently (Python's hmac) for a pre-master secret of 00…2f and a
    // session hash of Hash("handshake messages").
    @Test("extended master secret (RFC 7627) with SHA-256 and SHA-384")
    func extendedMasterSecret() {
        let preMaster = (0..<48).map { UInt8($0) }
        let messages = Array("handshake messages".utf8)
        let sha256 = TLS12KeySchedule(hash: .sha256).extendedMasterSecret(
            preMasterSecret: preMaster, sessionHash: HashAlgorithm.sha256.hash(messages))
        #expect(
            sha256
                == bytes(
                    hex:
                        "837a95d7e29469176bdd9f3b31a73809d8b5b68724a52db14fcdcd6b3371fe7b0a1db91b4f40b82ceb19ead85773987b"
                ))
        let sha384 = TLS12KeySchedule(hash: .sha384).extendedMasterSecret(
            preMasterSecret: preMaster, sessionHash: HashAlgorithm.sha384.hash(messages))
        #expect(
            sha384
                == bytes(
                    hex:
                        "80c86788fd1e5cf7c310e5a8bf5f0615371992fcda45e34fe611a66dbbdcb1507722942b5cd69c58fa5a373233c4fe92"
                ))
    }

    @Test("both ends derive the same extended master secret from the transcript")
    func bothEndsAgree() throws {
        var pair = Pair(client: tls12(clientConfiguration()), server: try serverConfiguration())
        pair.handshake()
        #expect(pair.clientSummary?.version == .tls12)
        // Finished over the extended master secret verified on both sides, so they agree.
        #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
    }
}

@Suite("TLS 1.2 handshakes between our client and our server")
struct TLS12HandshakeTests {
    @Test("every TLS 1.2 cipher suite", arguments: CipherSuite.supportedTLS12)
    func suites(_ suite: CipherSuite) throws {
        var client = tls12(clientConfiguration())
        client.cipherSuites = [suite]
        let key: SigningKey = suite.authenticatesWithRSA ? rsaKey : .generateP256()
        var pair = Pair(client: client, server: try serverConfiguration(key: key))
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.serverError == nil)
        #expect(pair.clientSummary?.version == .tls12)
        #expect(pair.clientSummary?.cipherSuite == suite)
        #expect(pair.serverSummary?.cipherSuite == suite)
        #expect(pair.clientSummary?.group == .x25519)
        let message = Array("hello over \(suite)".utf8)
        let record = try pair.client.send(message)
        // AES-GCM carries an 8-byte explicit nonce; ChaCha20-Poly1305 does not (RFC 7905).
        #expect(record.count == 5 + (suite.isChaCha20Poly1305 ? 0 : 8) + message.count + 16)
        #expect(pair.server.receive(record).events == [.applicationData(message)])
        let reply = try pair.server.send(message.reversed())
        #expect(pair.client.receive(reply).events == [.applicationData(message.reversed())])
        #expect(pair.server.receive(pair.client.close()).events == [.closed])
    }

    @Test("server key types and signature schemes", arguments: ["P-256", "P-384", "Ed25519", "RSA-PSS", "RSA-PKCS1"])
    func keyTypes(_ name: String) throws {
        let key: SigningKey
        var client = tls12(clientConfiguration())
        var expected: SignatureScheme
        switch name {
        case "P-256": (key, expected) = (.generateP256(), .ecdsaSecp256r1SHA256)
        case "P-384": (key, expected) = (.p384(P384.Signing.PrivateKey()), .ecdsaSecp384r1SHA384)
        case "Ed25519": (key, expected) = (.ed25519(Curve25519.Signing.PrivateKey()), .ed25519)
        case "RSA-PSS": (key, expected) = (rsaKey, .rsaPSSRSAESHA256)
        default:
            (key, expected) = (rsaKey, .rsaPKCS1SHA384)
            client.signatureSchemes = [.rsaPKCS1SHA384]
        }
        var pair = Pair(client: client, server: try serverConfiguration(key: key))
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.signatureScheme == expected)
    }

    @Test("every key exchange group", arguments: NamedGroup.supportedTLS12)
    func groups(_ group: NamedGroup) throws {
        var client = tls12(clientConfiguration())
        client.groups = [group]
        var pair = Pair(client: client, server: try serverConfiguration())
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.serverSummary?.group == group)
    }

    @Test("version negotiation: 1.3 when both speak it, 1.2 when one side is limited to it")
    func versionNegotiation() throws {
        var both = Pair(client: clientConfiguration(), server: try serverConfiguration())
        both.handshake()
        #expect(both.clientSummary?.version == .tls13)
        var oldServer = Pair(client: clientConfiguration(), server: tls12(try serverConfiguration()))
        oldServer.handshake()
        #expect(oldServer.clientError == nil)
        #expect(oldServer.clientSummary?.version == .tls12)
        // Our server marks its random when it negotiates 1.2; a 1.2-only client does not mind.
        var oldClient = Pair(client: tls12(clientConfiguration()), server: try serverConfiguration())
        oldClient.handshake()
        #expect(oldClient.clientError == nil)
        #expect(oldClient.serverSummary?.version == .tls12)
        var server13 = try serverConfiguration()
        server13.versions = [.tls13]
        var refused = Pair(client: tls12(clientConfiguration()), server: server13)
        refused.handshake()
        #expect(refused.serverError == .negotiation(.noCommonVersion))
        #expect(refused.clientError == .peerAlert(.protocolVersion))
    }

    @Test("TLS_FALLBACK_SCSV (RFC 7507): inappropriate_fallback when the server speaks a higher version")
    func fallbackSCSV() throws {
        // A 1.2-only client's ClientHello with its first suite replaced by TLS_FALLBACK_SCSV.
        func fallbackHello() throws -> [UInt8] {
            var client = TLSConnection(
                client: tls12(clientConfiguration()), serverName: "server.test", environment: .system(now: { testNow }))
            var hello = client.start().bytesToSend
            let suite = try #require(hello.firstRange(of: [0xC0, 0x2B]))
            hello.replaceSubrange(suite, with: [0x56, 0x00])
            return hello
        }
        var both = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let refused = both.receive(try fallbackHello())
        #expect(refused.error == .negotiation(.inappropriateFallback))
        #expect(refused.bytesToSend.suffix(2) == [2, 86])
        // A server whose best is TLS 1.2 answers: the client did not fall below it.
        var only12 = TLSConnection(server: tls12(try serverConfiguration()), environment: .system(now: { testNow }))
        let answered = only12.receive(try fallbackHello())
        #expect(answered.error == nil)
        #expect(!answered.bytesToSend.isEmpty)
        // A client below TLS 1.2 is refused for its version, not for the fallback.
        var hello = try ClientHello.parse(Array(try fallbackHello().dropFirst(9)))
        hello.legacyVersion = 0x0302
        hello.extensions.removeAll { $0.type == ExtensionType.supportedVersions }
        let message = handshakeMessage(.clientHello, try hello.encode())
        let old = [22, 3, 1, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
        var refusedOld = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        #expect(refusedOld.receive(old).error == .negotiation(.noCommonVersion))
    }

    @Test("downgrade protection: a ClientHello stripped of TLS 1.3 is detected by the sentinel")
    func downgradeSentinel() throws {
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        var hello = client.start().bytesToSend
        // An attacker rewrites supported_versions (03 04, 03 03) to (03 02, 03 03): TLS 1.3 is gone.
        let pattern: [UInt8] = [0x00, 0x2B, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]
        let range = try #require(hello.firstRange(of: pattern))
        hello[range.lowerBound + 6] = 0x02
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let flight = server.receive(hello)
        #expect(flight.error == nil)
        let output = client.receive(flight.bytesToSend)
        #expect(
            output.error == .fatal(.illegalParameter("downgrade to TLS 1.2 detected (ServerHello.random sentinel)")))
        #expect(output.error?.alert == .illegalParameter)
    }

    @Test("mutual TLS with ECDSA and RSA client certificates", arguments: ["P-256", "RSA"])
    func mutualTLS(_ keyType: String) throws {
        var client = tls12(clientConfiguration())
        let key: SigningKey = keyType == "RSA" ? rsaKey : .generateP256()
        client.identities = [
            try testAuthority.issue(names: ["client.test"], key: key, usage: .client, notBefore: 0, lifetime: 1 << 32)
        ]
        var server = try serverConfiguration()
        server.authenticator = .certificateAuthorities([testAuthority.certificate])
        var pair = Pair(client: client, server: server)
        pair.handshake()
        #expect(pair.serverError == nil)
        #expect(pair.clientError == nil)
        #expect(pair.serverSummary?.peerCertificates == client.identities.first?.chain)
        let message: [UInt8] = [1, 2, 3]
        #expect(pair.server.receive(try pair.client.send(message)).events == [.applicationData(message)])
    }

    @Test("mutual TLS: a client without a certificate is refused")
    func mutualTLSWithoutCertificate() throws {
        var server = try serverConfiguration()
        server.authenticator = .certificateAuthorities([testAuthority.certificate])
        var pair = Pair(client: tls12(clientConfiguration()), server: server)
        pair.handshake()
        #expect(pair.serverError == .negotiation(.certificateRequired))
        #expect(pair.clientError == .peerAlert(.certificateRequired))
    }

    @Test("ALPN and SNI")
    func alpnAndSNI() throws {
        var client = tls12(clientConfiguration())
        client.applicationProtocols = ["h2", "http/1.1"]
        var server = TLSConfiguration()
        let first = try testAuthority.issue(names: ["one.test"], notBefore: 0, lifetime: 1 << 32)
        let second = try testAuthority.issue(names: ["two.test"], notBefore: 0, lifetime: 1 << 32)
        server.identities = [first, second]
        server.applicationProtocols = ["http/1.1"]
        var pair = Pair(client: client, server: server, serverName: "two.test")
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.applicationProtocol == "http/1.1")
        #expect(pair.serverSummary?.applicationProtocol == "http/1.1")
        #expect(pair.clientSummary?.peerCertificates == second.chain)
        #expect(pair.serverSummary?.serverName == "two.test")
    }

    @Test("SNI picks the certificate whose key fits the suites the client offers")
    func certificateByKeyType() throws {
        var client = tls12(clientConfiguration())
        client.cipherSuites = [.ecdheRSAWithAES256GCMSHA384]
        var server = TLSConfiguration()
        let ecdsa = try testAuthority.issue(names: ["server.test"], notBefore: 0, lifetime: 1 << 32)
        let rsa = try testAuthority.issue(names: ["server.test"], key: rsaKey, notBefore: 0, lifetime: 1 << 32)
        server.identities = [ecdsa, rsa]
        var pair = Pair(client: client, server: server)
        pair.handshake()
        #expect(pair.clientError == nil)
        #expect(pair.clientSummary?.peerCertificates == rsa.chain)
    }

    @Test("a session ticket (RFC 5077) resumes with an abbreviated handshake")
    func resumption() throws {
        var server = try serverConfiguration()
        server.ticketsToSend = 1
        server.ticketKey = Array(repeating: 7, count: 32)
        var pair = Pair(client: tls12(clientConfiguration()), server: server)
        pair.handshake()
        let ticket = try #require(
            pair.clientEvents.compactMap { event -> SessionTicket? in
                if case .sessionTicket(let ticket) = event { return ticket }
                return nil
            }.first)
        #expect(ticket.cipherSuite.version == .tls12)
        var resumed = Pair(client: tls12(clientConfiguration()), server: server, ticket: ticket)
        resumed.handshake()
        #expect(resumed.clientError == nil)
        #expect(resumed.serverError == nil)
        #expect(resumed.clientSummary?.resumed == true)
        #expect(resumed.serverSummary?.resumed == true)
        #expect(resumed.clientSummary?.peerCertificates == [])
        let message: [UInt8] = [4, 5, 6]
        #expect(resumed.server.receive(try resumed.client.send(message)).events == [.applicationData(message)])
        #expect(resumed.client.receive(try resumed.server.send(message)).events == [.applicationData(message)])
        // A client that offers 1.3 too gets 1.3 (a full handshake: the 1.2 ticket is not a 1.3 PSK).
        var upgraded = Pair(client: clientConfiguration(), server: server, ticket: ticket)
        upgraded.handshake()
        #expect(upgraded.clientError == nil)
        #expect(upgraded.clientSummary?.version == .tls13)
        #expect(upgraded.clientSummary?.resumed == false)
    }

    @Test("a ClientHello without extended_master_secret is refused with handshake_failure")
    func serverRequiresExtendedMasterSecret() throws {
        var client = TLSConnection(
            client: tls12(clientConfiguration()), serverName: "server.test", environment: .system(now: { testNow }))
        var hello = client.start().bytesToSend
        // Turn the empty extended_master_secret (00 17 00 00) into an unknown extension.
        let range = try #require(hello.firstRange(of: [0x00, 0x17, 0x00, 0x00] as [UInt8]))
        hello.replaceSubrange(range.lowerBound..<(range.lowerBound + 2), with: [0xFA, 0xFA])
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let output = server.receive(hello)
        #expect(output.error == .negotiation(.noCommonParameter("extended master secret (RFC 7627)")))
        #expect(output.error?.alert == .handshakeFailure)
        #expect(client.receive(output.bytesToSend).error == .peerAlert(.handshakeFailure))
    }

    @Test("a ServerHello without extended_master_secret is refused with handshake_failure")
    func clientRequiresExtendedMasterSecret() throws {
        var client = TLSConnection(
            client: tls12(clientConfiguration()), serverName: "server.test", environment: .system(now: { testNow }))
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let flight = server.receive(client.start().bytesToSend).bytesToSend
        let stripped = try rewriteServerHello(flight) { hello in
            hello.extensions.removeAll { $0.type == ExtensionType.extendedMasterSecret }
        }
        let output = client.receive(stripped)
        #expect(output.error?.alert == .handshakeFailure)
        #expect(Array(output.bytesToSend.suffix(2)) == [2, AlertDescription.handshakeFailure.rawValue])
    }

    @Test("renegotiation is refused with a no_renegotiation warning; the connection goes on")
    func renegotiationRefused() throws {
        var pair = Pair(client: tls12(clientConfiguration()), server: try serverConfiguration())
        pair.handshake()
        // The server asks for renegotiation (HelloRequest).
        try pair.server.sendHandshake(.helloRequest, [])
        let request = pair.server.pending
        pair.server.pending = []
        let answer = pair.client.receive(request)
        #expect(answer.error == nil)
        #expect(!answer.bytesToSend.isEmpty, "a warning alert")
        #expect(pair.server.receive(answer.bytesToSend).error == nil)
        // The client tries to renegotiate (a ClientHello on the established connection).
        try pair.client.sendHandshake(.clientHello, [3, 3] + [UInt8](repeating: 0, count: 38))
        let renegotiation = pair.client.pending
        pair.client.pending = []
        let refusal = pair.server.receive(renegotiation)
        #expect(refusal.error == nil)
        #expect(pair.client.receive(refusal.bytesToSend).error == nil)
        let message: [UInt8] = [7, 7]
        #expect(pair.server.receive(try pair.client.send(message)).events == [.applicationData(message)])
        #expect(pair.client.receive(try pair.server.send(message)).events == [.applicationData(message)])
        #expect(throws: TLSError.internalError("KeyUpdate is a TLS 1.3 message")) {
            try pair.client.updateKeys(requestPeerUpdate: false)
        }
    }

    @Test("a non-empty renegotiation_info in an initial ServerHello is handshake_failure")
    func renegotiationInfoMustBeEmpty() throws {
        var client = TLSConnection(
            client: tls12(clientConfiguration()), serverName: "server.test", environment: .system(now: { testNow }))
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let flight = server.receive(client.start().bytesToSend).bytesToSend
        let changed = try rewriteServerHello(flight) { hello in
            hello.extensions.removeAll { $0.type == ExtensionType.renegotiationInfo }
            hello.extensions.append(Extension(type: ExtensionType.renegotiationInfo, body: [1, 0]))
        }
        #expect(client.receive(changed).error?.alert == .handshakeFailure)
    }

    @Test("a ChangeCipherSpec before the ClientKeyExchange is unexpected_message")
    func earlyChangeCipherSpec() throws {
        var client = TLSConnection(
            client: tls12(clientConfiguration()), serverName: "server.test", environment: .system(now: { testNow }))
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        _ = server.receive(client.start().bytesToSend)
        #expect(server.receive([20, 3, 3, 0, 1, 1]).error?.alert == .unexpectedMessage)
    }
}
