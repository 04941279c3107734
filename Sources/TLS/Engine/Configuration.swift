/// What a connection offers and accepts. The defaults are what a Quercus service wants; the
/// lists are in order of preference.
public struct TLSConfiguration: Sendable {
    /// Protocol versions enabled. A peer that speaks TLS 1.3 gets TLS 1.3; TLS 1.2 is for older
    /// peers. A version is used only when `cipherSuites` has a suite of that version too.
    public var versions: [ProtocolVersion] = [.tls13, .tls12]
    /// TLS 1.3 and TLS 1.2 suites together, in order of preference within each version.
    public var cipherSuites: [CipherSuite] = CipherSuite.supported + CipherSuite.supportedTLS12
    /// Groups offered (client) or accepted (server). A client may list groups it cannot use
    /// (RFC 8448 does), they are only advertised.
    public var groups: [NamedGroup] = NamedGroup.supported
    /// Groups a client sends a key share for in its first ClientHello.
    public var keyShareGroups: [NamedGroup] = [.x25519]
    /// Schemes offered and accepted for the peer's signatures (RSA PKCS#1 v1.5 only in TLS 1.2).
    public var signatureSchemes: [SignatureScheme] = SignatureScheme.supportedTLS12
    /// A server's certificates, chosen by SNI (the first is the default); a client's certificate
    /// for mutual TLS (the first is used).
    public var identities: [CertifiedKey] = []
    /// Client: how the server is verified. Server: when set, every client must present a
    /// certificate this accepts.
    public var authenticator: PeerAuthenticator?
    public var applicationProtocols: [String] = []
    /// Client: a 32-byte legacy session id and a ChangeCipherSpec, so middleboxes see a
    /// resumption (RFC 8446 appendix D.4).
    public var middleboxCompatibility = true
    /// Client: advertise record_size_limit (RFC 8449) with this value.
    public var recordSizeLimit: UInt16?
    /// Client: send an empty session_ticket extension even when TLS 1.2 is not offered (RFC 8448
    /// does); with TLS 1.2 enabled it is always sent, for RFC 5077 tickets.
    public var offerLegacySessionTicket = false
    /// The smallest RSA key accepted from a peer.
    public var minimumRSABits = 2048
    /// Records are padded so that their inner length is a multiple of this (0: no padding).
    public var paddingBlock = 0
    /// Server: how many NewSessionTickets to send after the handshake (0 disables resumption).
    public var ticketsToSend = 0
    /// Server: the key tickets are sealed with (32 bytes); random per process when nil.
    public var ticketKey: [UInt8]?
    /// Seconds a ticket is valid.
    public var ticketLifetime: UInt32 = 7200

    public init() {}

    /// Whether `version` is enabled and has a cipher suite.
    func enables(_ version: ProtocolVersion) -> Bool {
        versions.contains(version) && cipherSuites.contains { $0.version == version }
    }
}

/// What both sides agreed on, reported once the handshake completes.
public struct HandshakeSummary: Sendable, Equatable {
    public var version: ProtocolVersion
    public var cipherSuite: CipherSuite
    public var group: NamedGroup?
    public var signatureScheme: SignatureScheme?
    public var applicationProtocol: String?
    public var serverName: String?
    /// The peer's certificate chain, leaf first (empty when resumed or not requested).
    public var peerCertificates: [[UInt8]]
    public var resumed: Bool
}

/// A ticket a client keeps to resume a session later (RFC 8446 section 4.6.1; for TLS 1.2, RFC
/// 5077, where `psk` is the master secret and `cipherSuite` a TLS 1.2 suite).
public struct SessionTicket: Sendable, Equatable {
    public var ticket: [UInt8]
    public var psk: [UInt8]
    public var cipherSuite: CipherSuite
    public var ageAdd: UInt32
    public var receivedAt: Int64
    public var lifetime: UInt32
    public var serverName: String?
}

public enum TLSEvent: Sendable, Equatable {
    case handshakeComplete(HandshakeSummary)
    case applicationData([UInt8])
    case sessionTicket(SessionTicket)
    /// The peer sent close_notify: it sends nothing more. Call `close()` when done sending.
    case closed
}

/// What one call into the engine produced: bytes to write to the peer, events, and the error
/// that ended the connection, if any (its alert is already in `bytesToSend`).
public struct TLSOutput: Sendable {
    public var bytesToSend: [UInt8] = []
    public var events: [TLSEvent] = []
    public var error: TLSError?
}
