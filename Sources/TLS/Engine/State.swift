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
    case closed
}

/// What a client carries from its ClientHello to its Finished.
struct ClientHandshake {
    var serverName: String?
    var clientHello: ClientHello
    var keyShares: [KeyShare]
    var transcript = Transcript()
    var ticket: SessionTicket?
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
