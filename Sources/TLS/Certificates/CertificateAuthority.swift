import Crypto
import SwiftASN1
import X509
import _CryptoExtras

/// A small certificate authority: creates a self-signed root and issues leaf certificates for
/// servers and clients. The Piñata and `quercus up` use it to give every service a certificate.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let key: SigningKey

    public enum Usage: Sendable {
        case server
        case client
        case serverAndClient
    }

    /// A new root with a fresh P-256 key (or `key`), valid from `notBefore` for `lifetime` seconds.
    public init(name: String, key: SigningKey? = nil, notBefore: Int64, lifetime: Int64) throws(TLSError) {
        let caKey = try key ?? .p256(P256.Signing.PrivateKey())
        let subject = try Self.distinguishedName(name)
        do {
            certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: caKey.certificatePublicKey,
                notValidBefore: .init(timeIntervalSince1970: Double(notBefore)),
                notValidAfter: .init(timeIntervalSince1970: Double(notBefore + lifetime)),
                issuer: subject,
                subject: subject,
                signatureAlgorithm: caKey.certificateSignatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: caKey.certificatePrivateKey
            )
        } catch {
            throw .internalError("cannot create the CA certificate: \(error)")
        }
        self.key = caKey
    }

    /// An existing root read from PEM: its certificate and its private key (PKCS#8, SEC 1 or
    /// PKCS#1; P-256, P-384, Ed25519 or RSA), which must be the key the certificate names.
    public init(certificatePEM: String, keyPEM: String) throws(TLSError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw .internalError("the CA certificate cannot be read: \(error)")
        }
        let key = try SigningKey(pem: keyPEM)
        guard key.certificatePublicKey == certificate.publicKey else {
            throw .internalError("the CA key does not belong to the CA certificate")
        }
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else {
            throw .internalError("the CA certificate is not marked as a CA (basicConstraints)")
        }
        self.certificate = certificate
        self.key = key
    }

    /// A leaf certificate for `names` (DNS names; the first is also the common name), with a
    /// fresh P-256 key unless `key` is given; the chain is leaf then this root.
    public func issue(
        names: [String], key: SigningKey? = nil, usage: Usage = .server, notBefore: Int64, lifetime: Int64
    ) throws(TLSError) -> CertifiedKey {
        guard let commonName = names.first else { throw .internalError("a certificate needs at least one name") }
        let leafKey = try key ?? .p256(P256.Signing.PrivateKey())
        let purposes: [ExtendedKeyUsage.Usage]
        switch usage {
        case .server: purposes = [.serverAuth]
        case .client: purposes = [.clientAuth]
        case .serverAndClient: purposes = [.serverAuth, .clientAuth]
        }
        let leaf: Certificate
        do {
            leaf = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: leafKey.certificatePublicKey,
                notValidBefore: .init(timeIntervalSince1970: Double(notBefore)),
                notValidAfter: .init(timeIntervalSince1970: Double(notBefore + lifetime)),
                issuer: certificate.subject,
                subject: try Self.distinguishedName(commonName),
                signatureAlgorithm: key.map { _ in self.key.certificateSignatureAlgorithm }
                    ?? self.key.certificateSignatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage(purposes)
                    SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                },
                issuerPrivateKey: self.key.certificatePrivateKey
            )
        } catch {
            throw .internalError("cannot issue a certificate for \(commonName): \(error)")
        }
        return try CertifiedKey(chain: [try Self.der(leaf), try Self.der(certificate)], key: leafKey)
    }

    public var certificatePEM: String {
        (try? certificate.serializeAsPEM().pemString) ?? ""
    }

    static func der(_ certificate: Certificate) throws(TLSError) -> [UInt8] {
        var serializer = DER.Serializer()
        do {
            try serializer.serialize(certificate)
        } catch {
            throw .internalError("cannot encode a certificate")
        }
        return serializer.serializedBytes
    }

    private static func distinguishedName(_ commonName: String) throws(TLSError) -> DistinguishedName {
        do {
            return try DistinguishedName { CommonName(commonName) }
        } catch {
            throw .internalError("bad common name \(commonName)")
        }
    }
}

extension SigningKey {
    /// A fresh P-256 key.
    public static func generateP256() -> SigningKey { .p256(P256.Signing.PrivateKey()) }

    /// A fresh RSA key of `bits` bits (2048 or more).
    public static func generateRSA(bits: Int = 2048) throws(TLSError) -> SigningKey {
        do {
            return .rsa(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits)))
        } catch {
            throw .internalError("cannot generate an RSA key of \(bits) bits")
        }
    }

    /// The key as PKCS#8 PEM (SEC 1 for EC keys, as OpenSSL writes them; PKCS#1 for RSA).
    public var pemRepresentation: String {
        switch self {
        case .p256(let key): return key.pemRepresentation
        case .p384(let key): return key.pemRepresentation
        case .rsa(let key): return key.pemRepresentation
        case .ed25519(let key):
            let prefix: [UInt8] = [
                0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
            ]
            return PEMDocument(type: "PRIVATE KEY", derBytes: prefix + Array(key.rawRepresentation)).pemString
        }
    }

    var certificatePublicKey: Certificate.PublicKey {
        switch self {
        case .p256(let key): return Certificate.PublicKey(key.publicKey)
        case .p384(let key): return Certificate.PublicKey(key.publicKey)
        case .ed25519(let key): return Certificate.PublicKey(key.publicKey)
        case .rsa(let key): return Certificate.PublicKey(key.publicKey)
        }
    }

    var certificatePrivateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let key): return Certificate.PrivateKey(key)
        case .p384(let key): return Certificate.PrivateKey(key)
        case .ed25519(let key): return Certificate.PrivateKey(key)
        case .rsa(let key): return Certificate.PrivateKey(key)
        }
    }

    var certificateSignatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .p256: return .ecdsaWithSHA256
        case .p384: return .ecdsaWithSHA384
        case .ed25519: return .ed25519
        case .rsa: return .sha256WithRSAEncryption
        }
    }
}

extension CertifiedKey {
    /// The chain as PEM, leaf first.
    public var chainPEM: String {
        chain.map { PEMDocument(type: "CERTIFICATE", derBytes: $0).pemString }.joined(separator: "\n") + "\n"
    }
}
