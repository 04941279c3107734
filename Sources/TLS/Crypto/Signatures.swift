import Crypto
import SwiftASN1
import _CryptoExtras

/// A private key that signs CertificateVerify (and TLS 1.2 ServerKeyExchange) messages.
public enum SigningKey: Sendable {
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey)

    /// Reads a PEM private key: PKCS#8, SEC 1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
    public init(pem: String) throws(TLSError) {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p384(key)
        } else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            self = .rsa(key)
        } else if let document = try? PEMDocument(pemString: pem), let key = Self.ed25519(pkcs8: document.derBytes) {
            self = .ed25519(key)
        } else {
            throw .internalError("not a supported private key (P-256, P-384, Ed25519 or RSA of 2048 bits or more)")
        }
    }

    /// An Ed25519 PKCS#8 document is a fixed 16-byte prefix followed by the 32-byte seed (RFC 8410).
    private static func ed25519(pkcs8 der: [UInt8]) -> Curve25519.Signing.PrivateKey? {
        let prefix: [UInt8] = [
            0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ]
        guard der.count == 48, Array(der.prefix(16)) == prefix else { return nil }
        return try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32))
    }

    /// The TLS 1.3 schemes this key can produce, best first.
    var schemes: [SignatureScheme] {
        switch self {
        case .p256: return [.ecdsaSecp256r1SHA256]
        case .p384: return [.ecdsaSecp384r1SHA384]
        case .ed25519: return [.ed25519]
        case .rsa: return [.rsaPSSRSAESHA256, .rsaPSSRSAESHA384, .rsaPSSRSAESHA512]
        }
    }

    /// The TLS 1.2 schemes this key can produce, best first: RSA adds PKCS#1 v1.5.
    var tls12Schemes: [SignatureScheme] {
        guard case .rsa = self else { return schemes }
        return schemes + [.rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512]
    }

    var isRSA: Bool {
        if case .rsa = self { return true }
        return false
    }

    func sign(_ scheme: SignatureScheme, _ message: [UInt8]) throws(TLSError) -> [UInt8] {
        do {
            switch (self, scheme) {
            case (.p256(let key), .ecdsaSecp256r1SHA256):
                return Array(try key.signature(for: message).derRepresentation)
            case (.p384(let key), .ecdsaSecp384r1SHA384):
                return Array(try key.signature(for: message).derRepresentation)
            case (.ed25519(let key), .ed25519):
                return Array(try key.signature(for: message))
            case (.rsa(let key), .rsaPSSRSAESHA256):
                return Array(try key.signature(for: SHA256.hash(data: message), padding: .PSS).rawRepresentation)
            case (.rsa(let key), .rsaPSSRSAESHA384):
                return Array(try key.signature(for: SHA384.hash(data: message), padding: .PSS).rawRepresentation)
            case (.rsa(let key), .rsaPSSRSAESHA512):
                return Array(try key.signature(for: SHA512.hash(data: message), padding: .PSS).rawRepresentation)
            case (.rsa(let key), .rsaPKCS1SHA256):
                return Array(
                    try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
            case (.rsa(let key), .rsaPKCS1SHA384):
                return Array(
                    try key.signature(for: SHA384.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
            case (.rsa(let key), .rsaPKCS1SHA512):
                return Array(
                    try key.signature(for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
            default:
                throw TLSError.internalError("this key cannot sign with \(scheme)")
            }
        } catch let error as TLSError {
            throw error
        } catch {
            throw .internalError("signing failed")
        }
    }
}

/// The public key of a peer's end-entity certificate, read from its SubjectPublicKeyInfo.
struct PeerPublicKey {
    enum Key {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    let key: Key
    /// The DER SubjectPublicKeyInfo, which public-key pins hash.
    let subjectPublicKeyInfo: [UInt8]

    init(certificate der: [UInt8], minimumRSABits: Int) throws(TLSError) {
        let bad = TLSError.authentication(.badCertificate("cannot read the public key of the certificate"))
        guard let spki = try? Self.subjectPublicKeyInfo(certificate: der) else { throw bad }
        subjectPublicKeyInfo = spki.bytes
        do {
            switch (spki.algorithm, spki.curve) {
            case (Self.ecPublicKey, Self.prime256v1):
                key = .p256(try P256.Signing.PublicKey(x963Representation: spki.key))
            case (Self.ecPublicKey, Self.secp384r1):
                key = .p384(try P384.Signing.PublicKey(x963Representation: spki.key))
            case (Self.ed25519OID, _): key = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: spki.key))
            case (Self.rsaEncryption, _):
                let rsa = try _RSA.Signing.PublicKey(unsafeDERRepresentation: spki.bytes)
                guard rsa.keySizeInBits >= minimumRSABits else {
                    throw TLSError.authentication(.badCertificate("RSA key of \(rsa.keySizeInBits) bits is too small"))
                }
                key = .rsa(rsa)
            default:
                throw TLSError.authentication(.badCertificate("unsupported public key algorithm"))
            }
        } catch let error as TLSError {
            throw error
        } catch {
            throw bad
        }
    }

    func isValid(signature: [UInt8], scheme: SignatureScheme, message: [UInt8]) -> Bool {
        switch (key, scheme) {
        case (.p256(let key), .ecdsaSecp256r1SHA256):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case (.p384(let key), .ecdsaSecp384r1SHA384):
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case (.ed25519(let key), .ed25519):
            return key.isValidSignature(signature, for: message)
        case (.rsa(let key), .rsaPSSRSAESHA256):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: message), padding: .PSS)
        case (.rsa(let key), .rsaPSSRSAESHA384):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: message), padding: .PSS)
        case (.rsa(let key), .rsaPSSRSAESHA512):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA512.hash(data: message), padding: .PSS)
        default:
            return false
        }
    }

    var isRSA: Bool {
        if case .rsa = key { return true }
        return false
    }

    /// A TLS 1.2 signature (ServerKeyExchange, CertificateVerify): the scheme names the hash, and
    /// for ECDSA it does not bind the curve (RFC 5246 section 7.4.1.4.1); RSA PKCS#1 v1.5 is allowed.
    func isValidTLS12(signature: [UInt8], scheme: SignatureScheme, message: [UInt8]) -> Bool {
        switch (key, scheme) {
        case (.p256(let key), .ecdsaSecp256r1SHA256), (.p256(let key), .ecdsaSecp384r1SHA384):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return scheme == .ecdsaSecp256r1SHA256
                ? key.isValidSignature(parsed, for: SHA256.hash(data: message))
                : key.isValidSignature(parsed, for: SHA384.hash(data: message))
        case (.p384(let key), .ecdsaSecp256r1SHA256), (.p384(let key), .ecdsaSecp384r1SHA384):
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return scheme == .ecdsaSecp256r1SHA256
                ? key.isValidSignature(parsed, for: SHA256.hash(data: message))
                : key.isValidSignature(parsed, for: SHA384.hash(data: message))
        case (.rsa(let key), .rsaPKCS1SHA256):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: message),
                padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rsaPKCS1SHA384):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: message),
                padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rsaPKCS1SHA512):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA512.hash(data: message),
                padding: .insecurePKCS1v1_5)
        default:
            return isValid(signature: signature, scheme: scheme, message: message)
        }
    }

    private static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    private static let prime256v1: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    private static let secp384r1: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    private static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    private static let ed25519OID: ASN1ObjectIdentifier = [1, 3, 101, 112]

    private struct SubjectPublicKeyInfo {
        var bytes: [UInt8]
        var algorithm: ASN1ObjectIdentifier
        var curve: ASN1ObjectIdentifier?
        var key: [UInt8]
    }

    /// Walks Certificate → TBSCertificate → subjectPublicKeyInfo (RFC 5280 section 4.1). Done by
    /// hand rather than with swift-certificates because that refuses RSA keys under 2048 bits,
    /// and RFC 8448's known-answer handshake uses a 1024-bit one.
    private static func subjectPublicKeyInfo(certificate der: [UInt8]) throws -> SubjectPublicKeyInfo {
        let root = try DER.parse(der)
        guard case .constructed(let certificate) = root.content,
            let tbs = certificate.first(where: { _ in true }),
            case .constructed(let tbsFields) = tbs.content
        else { throw TLSError.fatal(.decode("certificate")) }
        var fields = Array(tbsFields)
        if let first = fields.first, first.identifier.tagClass == .contextSpecific { fields.removeFirst() }
        guard fields.count > 5, case .constructed(let spkiFields) = fields[5].content else {
            throw TLSError.fatal(.decode("certificate"))
        }
        let spkiParts = Array(spkiFields)
        guard spkiParts.count == 2, case .constructed(let algorithmFields) = spkiParts[0].content else {
            throw TLSError.fatal(.decode("certificate"))
        }
        let algorithmParts = Array(algorithmFields)
        guard let algorithmNode = algorithmParts.first else { throw TLSError.fatal(.decode("certificate")) }
        let algorithm = try ASN1ObjectIdentifier(derEncoded: algorithmNode)
        let curve = algorithmParts.count > 1 ? try? ASN1ObjectIdentifier(derEncoded: algorithmParts[1]) : nil
        let key = try ASN1BitString(derEncoded: spkiParts[1])
        return SubjectPublicKeyInfo(
            bytes: Array(fields[5].encodedBytes), algorithm: algorithm, curve: curve, key: Array(key.bytes))
    }
}

/// The bytes a TLS 1.3 CertificateVerify signs (RFC 8446 section 4.4.3).
func certificateVerifyContent(server: Bool, transcriptHash: [UInt8]) -> [UInt8] {
    let context = server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify"
    return [UInt8](repeating: 0x20, count: 64) + Array(context.utf8) + [0] + transcriptHash
}
