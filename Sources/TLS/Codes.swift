/// The registered numbers TLS puts on the wire, each as its own type so that a cipher suite can
/// never be passed where a group is expected. Unknown values stay representable (a peer may offer
/// anything) and are simply never chosen.
public struct ProtocolVersion: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let tls12 = ProtocolVersion(rawValue: 0x0303)
    public static let tls13 = ProtocolVersion(rawValue: 0x0304)
    public var description: String {
        switch self {
        case .tls12: return "TLS 1.2"
        case .tls13: return "TLS 1.3"
        default: return "version 0x\(String(rawValue, radix: 16))"
        }
    }
}

public struct CipherSuite: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let aes128GCMSHA256 = CipherSuite(rawValue: 0x1301)
    public static let aes256GCMSHA384 = CipherSuite(rawValue: 0x1302)
    public static let chacha20Poly1305SHA256 = CipherSuite(rawValue: 0x1303)
    /// The TLS 1.3 suites this engine implements, in its default order of preference.
    public static let supported: [CipherSuite] = [.aes128GCMSHA256, .aes256GCMSHA384, .chacha20Poly1305SHA256]

    // TLS 1.2 (RFC 5289, RFC 7905): ECDHE key exchange with AEAD record protection only.
    public static let ecdheECDSAWithAES128GCMSHA256 = CipherSuite(rawValue: 0xC02B)
    public static let ecdheECDSAWithAES256GCMSHA384 = CipherSuite(rawValue: 0xC02C)
    public static let ecdheRSAWithAES128GCMSHA256 = CipherSuite(rawValue: 0xC02F)
    public static let ecdheRSAWithAES256GCMSHA384 = CipherSuite(rawValue: 0xC030)
    public static let ecdheRSAWithChaCha20Poly1305SHA256 = CipherSuite(rawValue: 0xCCA8)
    public static let ecdheECDSAWithChaCha20Poly1305SHA256 = CipherSuite(rawValue: 0xCCA9)
    /// The TLS 1.2 suites this engine implements, in its default order of preference.
    public static let supportedTLS12: [CipherSuite] = [
        .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384,
        .ecdheRSAWithAES256GCMSHA384, .ecdheECDSAWithChaCha20Poly1305SHA256, .ecdheRSAWithChaCha20Poly1305SHA256,
    ]
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): not a suite, a signal in a ClientHello.
    static let emptyRenegotiationInfoSCSV = CipherSuite(rawValue: 0x00FF)
    /// TLS_FALLBACK_SCSV (RFC 7507): a client retrying with a lower version than it speaks.
    static let fallbackSCSV = CipherSuite(rawValue: 0x5600)

    /// The protocol version the suite belongs to (TLS 1.3 suites are not used in 1.2 and back).
    public var version: ProtocolVersion? {
        if Self.supported.contains(self) { return .tls13 }
        if Self.supportedTLS12.contains(self) { return .tls12 }
        return nil
    }

    /// TLS 1.2: whether the server's certificate key is RSA (else ECDSA or Ed25519).
    var authenticatesWithRSA: Bool {
        self == .ecdheRSAWithAES128GCMSHA256 || self == .ecdheRSAWithAES256GCMSHA384
            || self == .ecdheRSAWithChaCha20Poly1305SHA256
    }

    var isChaCha20Poly1305: Bool {
        self == .chacha20Poly1305SHA256 || self == .ecdheRSAWithChaCha20Poly1305SHA256
            || self == .ecdheECDSAWithChaCha20Poly1305SHA256
    }

    public var description: String {
        switch self {
        case .aes128GCMSHA256: return "TLS_AES_128_GCM_SHA256"
        case .aes256GCMSHA384: return "TLS_AES_256_GCM_SHA384"
        case .chacha20Poly1305SHA256: return "TLS_CHACHA20_POLY1305_SHA256"
        case .ecdheECDSAWithAES128GCMSHA256: return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        case .ecdheECDSAWithAES256GCMSHA384: return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        case .ecdheRSAWithAES128GCMSHA256: return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        case .ecdheRSAWithAES256GCMSHA384: return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        case .ecdheRSAWithChaCha20Poly1305SHA256: return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        case .ecdheECDSAWithChaCha20Poly1305SHA256: return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        default: return "suite 0x\(String(rawValue, radix: 16))"
        }
    }
}

public struct NamedGroup: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let secp256r1 = NamedGroup(rawValue: 0x0017)
    public static let secp384r1 = NamedGroup(rawValue: 0x0018)
    public static let x25519 = NamedGroup(rawValue: 0x001D)
    public static let x25519MLKEM768 = NamedGroup(rawValue: 0x11EC)
    /// The groups this engine can do key exchange with, in its default order of preference.
    public static let supported: [NamedGroup] = [.x25519MLKEM768, .x25519, .secp256r1, .secp384r1]
    /// The groups usable for TLS 1.2's ECDHE (the hybrid is TLS 1.3 only).
    static let supportedTLS12: [NamedGroup] = [.x25519, .secp256r1, .secp384r1]

    public var description: String {
        switch self {
        case .secp256r1: return "P-256"
        case .secp384r1: return "P-384"
        case .x25519: return "X25519"
        case .x25519MLKEM768: return "X25519MLKEM768"
        default: return "group 0x\(String(rawValue, radix: 16))"
        }
    }
}

public struct SignatureScheme: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let rsaPKCS1SHA256 = SignatureScheme(rawValue: 0x0401)
    public static let rsaPKCS1SHA384 = SignatureScheme(rawValue: 0x0501)
    public static let rsaPKCS1SHA512 = SignatureScheme(rawValue: 0x0601)
    public static let ecdsaSecp256r1SHA256 = SignatureScheme(rawValue: 0x0403)
    public static let ecdsaSecp384r1SHA384 = SignatureScheme(rawValue: 0x0503)
    public static let rsaPSSRSAESHA256 = SignatureScheme(rawValue: 0x0804)
    public static let rsaPSSRSAESHA384 = SignatureScheme(rawValue: 0x0805)
    public static let rsaPSSRSAESHA512 = SignatureScheme(rawValue: 0x0806)
    public static let ed25519 = SignatureScheme(rawValue: 0x0807)
    /// Schemes this engine accepts in a TLS 1.3 CertificateVerify, in its default order.
    public static let supported: [SignatureScheme] = [
        .ecdsaSecp256r1SHA256, .ecdsaSecp384r1SHA384, .ed25519, .rsaPSSRSAESHA256, .rsaPSSRSAESHA384,
        .rsaPSSRSAESHA512,
    ]
    /// Schemes accepted in TLS 1.2 (ServerKeyExchange, CertificateVerify): the TLS 1.3 ones and
    /// RSA PKCS#1 v1.5, which TLS 1.3 allows in certificates only. The default configuration.
    public static let supportedTLS12: [SignatureScheme] =
        supported + [.rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512]

    /// Whether a TLS 1.3 CertificateVerify may use the scheme (RFC 8446 section 4.2.3).
    var allowedInTLS13: Bool { Self.supported.contains(self) }

    public var description: String {
        switch self {
        case .rsaPKCS1SHA256: return "rsa_pkcs1_sha256"
        case .rsaPKCS1SHA384: return "rsa_pkcs1_sha384"
        case .rsaPKCS1SHA512: return "rsa_pkcs1_sha512"
        case .ecdsaSecp256r1SHA256: return "ecdsa_secp256r1_sha256"
        case .ecdsaSecp384r1SHA384: return "ecdsa_secp384r1_sha384"
        case .rsaPSSRSAESHA256: return "rsa_pss_rsae_sha256"
        case .rsaPSSRSAESHA384: return "rsa_pss_rsae_sha384"
        case .rsaPSSRSAESHA512: return "rsa_pss_rsae_sha512"
        case .ed25519: return "ed25519"
        default: return "scheme 0x\(String(rawValue, radix: 16))"
        }
    }
}

enum ContentType: UInt8 {
    case changeCipherSpec = 20
    case alert = 21
    case handshake = 22
    case applicationData = 23
}

enum HandshakeType: UInt8 {
    case helloRequest = 0
    case clientHello = 1
    case serverHello = 2
    case newSessionTicket = 4
    case endOfEarlyData = 5
    case encryptedExtensions = 8
    case certificate = 11
    case serverKeyExchange = 12
    case certificateRequest = 13
    case serverHelloDone = 14
    case certificateVerify = 15
    case clientKeyExchange = 16
    case finished = 20
    case keyUpdate = 24
    case messageHash = 254
}

enum ExtensionType {
    static let serverName: UInt16 = 0
    static let supportedGroups: UInt16 = 10
    static let ecPointFormats: UInt16 = 11
    static let signatureAlgorithms: UInt16 = 13
    static let applicationLayerProtocolNegotiation: UInt16 = 16
    static let extendedMasterSecret: UInt16 = 23
    static let padding: UInt16 = 21
    static let recordSizeLimit: UInt16 = 28
    static let sessionTicket: UInt16 = 35
    static let preSharedKey: UInt16 = 41
    static let earlyData: UInt16 = 42
    static let supportedVersions: UInt16 = 43
    static let cookie: UInt16 = 44
    static let pskKeyExchangeModes: UInt16 = 45
    static let certificateAuthorities: UInt16 = 47
    static let signatureAlgorithmsCert: UInt16 = 50
    static let keyShare: UInt16 = 51
    static let renegotiationInfo: UInt16 = 0xFF01
}

/// Alert descriptions (RFC 8446 section 6, and TLS 1.2's no_renegotiation).
public enum AlertDescription: UInt8, Sendable, CustomStringConvertible {
    case closeNotify = 0
    case unexpectedMessage = 10
    case badRecordMAC = 20
    case recordOverflow = 22
    case handshakeFailure = 40
    case badCertificate = 42
    case unsupportedCertificate = 43
    case certificateRevoked = 44
    case certificateExpired = 45
    case certificateUnknown = 46
    case illegalParameter = 47
    case unknownCA = 48
    case accessDenied = 49
    case decodeError = 50
    case decryptError = 51
    case protocolVersion = 70
    case insufficientSecurity = 71
    case internalError = 80
    case inappropriateFallback = 86
    case userCanceled = 90
    /// TLS 1.2 (RFC 5246): a warning refusing renegotiation.
    case noRenegotiation = 100
    case missingExtension = 109
    case unsupportedExtension = 110
    case unrecognizedName = 112
    case badCertificateStatusResponse = 113
    case unknownPSKIdentity = 115
    case certificateRequired = 116
    case noApplicationProtocol = 120

    public var description: String {
        switch self {
        case .closeNotify: return "close_notify"
        case .unexpectedMessage: return "unexpected_message"
        case .badRecordMAC: return "bad_record_mac"
        case .recordOverflow: return "record_overflow"
        case .handshakeFailure: return "handshake_failure"
        case .badCertificate: return "bad_certificate"
        case .unsupportedCertificate: return "unsupported_certificate"
        case .certificateRevoked: return "certificate_revoked"
        case .certificateExpired: return "certificate_expired"
        case .certificateUnknown: return "certificate_unknown"
        case .illegalParameter: return "illegal_parameter"
        case .unknownCA: return "unknown_ca"
        case .accessDenied: return "access_denied"
        case .decodeError: return "decode_error"
        case .decryptError: return "decrypt_error"
        case .protocolVersion: return "protocol_version"
        case .insufficientSecurity: return "insufficient_security"
        case .internalError: return "internal_error"
        case .inappropriateFallback: return "inappropriate_fallback"
        case .userCanceled: return "user_canceled"
        case .noRenegotiation: return "no_renegotiation"
        case .missingExtension: return "missing_extension"
        case .unsupportedExtension: return "unsupported_extension"
        case .unrecognizedName: return "unrecognized_name"
        case .badCertificateStatusResponse: return "bad_certificate_status_response"
        case .unknownPSKIdentity: return "unknown_psk_identity"
        case .certificateRequired: return "certificate_required"
        case .noApplicationProtocol: return "no_application_protocol"
        }
    }
}
