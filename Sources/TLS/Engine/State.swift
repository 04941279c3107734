/// Every phase of a connection, one case each, carrying exactly what that phase needs (the
/// rustls shape: a message that does not fit the current case is an `unexpected_message`).
enum State {
    case clientStart(serverName: String?, ticket: SessionTicket?)
    case clientExpectServerHello(ClientHandshake)
    case clientExpectEncryptedExtensions(ClientHandshake)
    case clientExpectCertificateOrRequest(ClientHandshake)
    case clientExpectCertificate(ClientHandshake)
    case clientExpectCertificateVerify(ClientHandshake)
    case clientExpectFinished(ClientHandshake)
    case serverExpectClientHello(retried: ServerRetry?)
    case serverExpectCertificate(ServerHandshake)
    case serverExpectCertificateVerify(ServerHandshake)
    case serverExpectFinished(ServerHandshake)
    case connected(TrafficSecrets)
    // TLS 1.2 (RFC 5246), full and abbreviated handshakes; see Client12.swift and Server12.swift.
    case client12ExpectCertificate(Client12Handshake)
    case client12ExpectServerKeyExchange(Client12Handshake)
    case client12ExpectCertificateRequestOrDone(Client12Handshake)
    case client12ExpectServerHelloDone(Client12Handshake)
    case client12ExpectNewSessionTicket(Client12Handshake)
    case client12ExpectChangeCipherSpec(Client12Handshake)
    case client12ExpectFinished(Client12Handshake)
    case server12ExpectCertificate(Server12Handshake)
    case server12ExpectClientKeyExchange(Server12Handshake)
    case server12ExpectCertificateVerify(Server12Handshake)
    case server12ExpectChangeCipherSpec(Server12Handshake)
    case server12ExpectFinished(Server12Handshake)
    case connected12(TLS12Session)
    case closed

    /// A TLS 1.2 handshake in progress, or a TLS 1.2 connection.
    var isTLS12: Bool {
        switch self {
        case .client12ExpectCertificate, .client12ExpectServerKeyExchange, .client12ExpectCertificateRequestOrDone,
            .client12ExpectServerHelloDone, .client12ExpectNewSessionTicket, .client12ExpectChangeCipherSpec,
            .client12ExpectFinished, .server12ExpectCertificate, .server12ExpectClientKeyExchange,
            .server12ExpectCertificateVerify, .server12ExpectChangeCipherSpec, .server12ExpectFinished, .connected12:
            return true
        default:
            return false
        }
    }
}

/// What a TLS 1.2 client carries from its ServerHello to the server's Finished.
struct Client12Handshake {
    var serverName: String?
    var clientRandom: [UInt8]
    var serverRandom: [UInt8]
    /// Every handshake message so far: TLS 1.2's CertificateVerify signs them all, not a hash.
    var transcript: [UInt8]
    var suite: CipherSuite
    var summary: HandshakeSummary
    /// The server announced a NewSessionTicket (session_ticket in its ServerHello).
    var expectsTicket: Bool
    var peerKey: PeerPublicKey?
    var serverKeyExchange: ServerKeyExchange12?
    var certificateRequest: CertificateRequest12?
    var masterSecret: [UInt8] = []
    var keys: TLS12Keys?
    var ticket: SessionTicket?

    var schedule: TLS12KeySchedule { TLS12KeySchedule(hash: suite.hash) }
}

/// What a TLS 1.2 server carries from the ClientHello to the client's Finished.
struct Server12Handshake {
    var clientRandom: [UInt8]
    var serverRandom: [UInt8]
    var transcript: [UInt8]
    var suite: CipherSuite
    var summary: HandshakeSummary
    /// Our ECDHE key, until the ClientKeyExchange (nil when resuming).
    var keyShare: KeyShare?
    /// The client asked for a ticket and we issue them.
    var sendsTicket: Bool
    var peerKey: PeerPublicKey?
    var masterSecret: [UInt8] = []
    var keys: TLS12Keys?

    var schedule: TLS12KeySchedule { TLS12KeySchedule(hash: suite.hash) }
}

/// An established TLS 1.2 connection: nothing changes keys after the handshake.
struct TLS12Session {
    let suite: CipherSuite
}

/// What a client carries from its ClientHello to its Finished.
struct ClientHandshake {
    var serverName: String?
    var clientHello: ClientHello
    var keyShares: [KeyShare]
    var transcript = Transcript()
    var ticket: SessionTicket?
    /// The versions the ClientHello offered, and for TLS 1.2 what it needs of it.
    var offers13 = true
    var offers12 = false
    var clientHelloMessage: [UInt8] = []
    var ticket12: SessionTicket?
    var retried = false
    var sentChangeCipherSpec = false
    // Set once the ServerHello is accepted.
    var suite = CipherSuite.aes128GCMSHA256
    var group: NamedGroup?
    var pskAccepted = false
    var handshakeSecret: [UInt8] = []
    var clientHandshakeSecret: [UInt8] = []
    var serverHandshakeSecret: [UInt8] = []
    var applicationProtocol: String?
    var certificateRequest: CertificateRequestMessage?
    var peerChain: [[UInt8]] = []
    var peerKey: PeerPublicKey?
    var signatureScheme: SignatureScheme?

    var schedule: KeySchedule { KeySchedule(hash: suite.hash) }
}

/// What a server remembers between its HelloRetryRequest and the second ClientHello.
struct ServerRetry {
    var transcript: Transcript
    var suite: CipherSuite
    var group: NamedGroup
    var sessionID: [UInt8]
    /// The first ClientHello's extension types, in order, less those the second may change.
    var extensionTypes: [UInt16]
}

/// What a server carries from the ClientHello to the client's Finished.
struct ServerHandshake {
    var transcript: Transcript
    var suite: CipherSuite
    var group: NamedGroup
    var clientHandshakeSecret: [UInt8]
    var clientApplicationSecret: [UInt8]
    var serverApplicationSecret: [UInt8]
    var masterSecret: [UInt8]
    var summary: HandshakeSummary
    var peerKey: PeerPublicKey?

    var schedule: KeySchedule { KeySchedule(hash: suite.hash) }
}
