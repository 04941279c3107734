import TLS

/// Everything the Piñata proves itself with: its CA and the three certificates that CA issues.
/// The private keys live only in this value: nothing here writes or prints them.
public struct PinataCredentials: Sendable {
    public enum KeyKind: Sendable {
        /// P-256 everywhere: starts in milliseconds.
        case p256
        /// RSA-4096 everywhere, as the original Piñata used.
        case rsa4096
    }

    public let authority: CertificateAuthority
    /// What the TLS server endpoint presents.
    public let server: CertifiedKey
    /// What the Piñata presents when it is the client (connect-back and the TLS client endpoint).
    public let client: CertifiedKey
    /// What the HTTPS page presents.
    public let web: CertifiedKey
    /// The CA came from `--test-ca`: its key exists outside this process, so anyone holding the
    /// file can take the secret and there is no bounty.
    public let isTestAuthority: Bool

    /// The names the server and web certificates are issued for.
    public static let serverNames = ["localhost", "pinata.quercus.test"]
    public static let clientName = "client.pinata.quercus.test"
    static let leafLifetime: Int64 = 365 * 86_400

    /// A fresh CA, born now, and its certificates.
    public static func generate(keys: KeyKind, now: Int64) throws(TLSError) -> PinataCredentials {
        let authority = try CertificateAuthority(
            name: "Quercus Pinata CA", key: try newKey(keys), notBefore: now - 3600, lifetime: 10 * 365 * 86_400)
        return try PinataCredentials(authority: authority, keys: keys, now: now, isTestAuthority: false)
    }

    /// A CA read from files (tests only): the leaves are still fresh keys made in memory.
    public static func testAuthority(
        certificatePEM: String, keyPEM: String, keys: KeyKind, now: Int64
    ) throws(TLSError) -> PinataCredentials {
        let authority = try CertificateAuthority(certificatePEM: certificatePEM, keyPEM: keyPEM)
        return try PinataCredentials(authority: authority, keys: keys, now: now, isTestAuthority: true)
    }

    private init(authority: CertificateAuthority, keys: KeyKind, now: Int64, isTestAuthority: Bool) throws(TLSError) {
        let notBefore = now - 3600
        self.authority = authority
        self.isTestAuthority = isTestAuthority
        server = try authority.issue(
            names: Self.serverNames, key: try Self.newKey(keys), usage: .server, notBefore: notBefore,
            lifetime: Self.leafLifetime)
        client = try authority.issue(
            names: [Self.clientName], key: try Self.newKey(keys), usage: .client, notBefore: notBefore,
            lifetime: Self.leafLifetime)
        web = try authority.issue(
            names: Self.serverNames, key: try Self.newKey(keys), usage: .server, notBefore: notBefore,
            lifetime: Self.leafLifetime)
    }

    private static func newKey(_ kind: KeyKind) throws(TLSError) -> SigningKey {
        switch kind {
        case .p256: return .generateP256()
        case .rsa4096: return try .generateRSA(bits: 4096)
        }
    }

    /// The TLS server endpoint: a client certificate is required and must chain to the CA.
    public var serverConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.identities = [server]
        configuration.authenticator = .certificateAuthorities([authority.certificate])
        return configuration
    }

    /// The Piñata as a client: it shows its client certificate and accepts a server only when
    /// the server's certificate chains to the CA (whatever name it carries; the peer has none).
    public var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.identities = [client]
        configuration.authenticator = .certificateAuthorities([authority.certificate])
        return configuration
    }

    /// The HTTPS page: anyone may read it.
    public var webConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.identities = [web]
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }
}
