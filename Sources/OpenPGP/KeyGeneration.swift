import Crypto

/// Which kind of key `generate-key` makes.
public enum KeyProfile: String, Sendable, CaseIterable {
    /// v6 Ed25519 primary key and X25519 subkey (RFC 9580).
    case rfc9580
    /// v4 EdDSALegacy primary key and legacy ECDH Curve25519 subkey, for GnuPG 2.2 and older Sequoia.
    case rfc4880
    /// v4 RSA-3072 primary key and RSA-3072 encryption subkey, for peers without elliptic curves.
    case rfc4880RSA = "rfc4880-rsa"

    public var summary: String {
        switch self {
        case .rfc4880RSA: return "v4 RSA-3072 key with an RSA-3072 encryption subkey (RFC 4880)"
        case .rfc9580: return "v6 Ed25519 key with an X25519 subkey (RFC 9580)"
        case .rfc4880: return "v4 Ed25519 key with a Curve25519 ECDH subkey (RFC 4880 and GnuPG 2.2)"
        }
    }
}

extension Certificate {
    /// A new secret key: a primary key that certifies and signs, with one certification per user ID,
    /// and unless `signingOnly` an encryption subkey.
    public static func generate(
        profile: KeyProfile, userIDs: [String], signingOnly: Bool = false, created: UInt32
    ) throws(OpenPGPError) -> Certificate {
        let isV6 = profile == .rfc9580
        let primaryKey: SecretKey
        if profile == .rfc4880RSA {
            primaryKey = try PublicKeyOperations.generateRSA(bits: 3072, created: created)
        } else {
            let primarySeed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
            let primaryPublic = try ed25519Public(primarySeed)
            primaryKey = SecretKey(
                publicKey: PublicKey(
                    version: isV6 ? 6 : 4, created: created,
                    material: isV6 ? .ed25519(primaryPublic) : .ed25519Legacy(primaryPublic)),
                secret: .ed25519Seed(primarySeed))
        }
        let primary = primaryKey.publicKey

        // SEIPD v1 always; v6 keys also announce SEIPD v2.
        let features: [UInt8] = [isV6 ? 0x09 : 0x01]
        var preferences = [
            Subpacket(.keyFlags, [KeyFlags([.certify, .sign]).rawValue]),
            Subpacket(.preferredSymmetricAlgorithms, [9, 7]),  // AES-256, AES-128
            Subpacket(.preferredHashAlgorithms, [10, 8]),  // SHA-512, SHA-256
            Subpacket(.preferredCompressionAlgorithms, [2, 1, 0]),  // ZLIB, ZIP, none
            Subpacket(.features, features),
        ]
        if isV6 { preferences.append(Subpacket(.preferredAEADCiphersuites, [9, 2, 9, 3, 7, 2])) }

        var certificate = Certificate(
            primary: primary, primarySecret: primaryKey.secret, directSignatures: [], userIDs: [], subkeys: [])
        if isV6 || userIDs.isEmpty {
            certificate.directSignatures.append(
                try Signature.make(.directKey, by: primaryKey, created: created, subpackets: preferences) {
                    $0.update(key: primary)
                })
        }
        for (index, userID) in userIDs.enumerated() {
            let bytes = Array(userID.utf8)
            var subpackets = isV6 ? [] : preferences
            if index == 0 { subpackets.append(Subpacket(.primaryUserID, true)) }
            let certification = try Signature.make(
                .positiveCertification, by: primaryKey, created: created, subpackets: subpackets
            ) { digest in
                digest.update(key: primary)
                digest.update(userID: bytes)
            }
            certificate.userIDs.append(UserIDComponent(userID: bytes, signatures: [certification]))
        }
        guard !signingOnly else { return certificate }

        let subkey: SecretKey
        if profile == .rfc4880RSA {
            subkey = try PublicKeyOperations.generateRSA(bits: 3072, created: created)
        } else {
            subkey = try x25519Subkey(version: primary.version, created: created)
        }
        let subkeyPublic = subkey.publicKey
        let binding = try Signature.make(
            .subkeyBinding, by: primaryKey, created: created,
            subpackets: [Subpacket(.keyFlags, [KeyFlags([.encryptCommunications, .encryptStorage]).rawValue])]
        ) { digest in
            digest.update(key: primary)
            digest.update(key: subkeyPublic)
        }
        certificate.subkeys.append(SubkeyComponent(key: subkeyPublic, secret: subkey.secret, signatures: [binding]))
        return certificate
    }

    /// An X25519 subkey: native for v6, legacy ECDH with SHA-256 and AES-128 for v4.
    private static func x25519Subkey(version: UInt8, created: UInt32) throws(OpenPGPError) -> SecretKey {
        var scalar = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
        // Clamped as X25519 uses it anyway; GnuPG expects the stored legacy scalar clamped.
        scalar[0] &= 248
        scalar[31] = (scalar[31] & 127) | 64
        let subkeyPublic: [UInt8]
        do {
            subkeyPublic = Array(
                try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation)
        } catch {
            throw .rejected("X25519 key generation failed: \(error)")
        }
        let subkey = PublicKey(
            version: version, created: created,
            material: version == 6 ? .x25519(subkeyPublic) : .curve25519Legacy(subkeyPublic, kdfHash: 8, kdfCipher: 7))
        return SecretKey(publicKey: subkey, secret: .x25519Scalar(scalar))
    }
}

func ed25519Public(_ seed: [UInt8]) throws(OpenPGPError) -> [UInt8] {
    do {
        return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation)
    } catch {
        throw .rejected("Ed25519 key generation failed: \(error)")
    }
}

extension Certificate {
    /// The certificate of this key with a key revocation signature (reason: none given), which
    /// makes every reader stop using it.
    public func revoked(at time: UInt32) throws(OpenPGPError) -> Certificate {
        guard let primarySecret else { throw .wrongKind("\(fingerprintHex) is a certificate, not a secret key") }
        let primary = primary
        let revocation = try Signature.make(
            .keyRevocation, by: SecretKey(publicKey: primary, secret: primarySecret), created: time,
            subpackets: [Subpacket(type: 29, body: [0])]
        ) { $0.update(key: primary) }
        var certificate = publicCertificate
        certificate.directSignatures.append(revocation)
        return certificate
    }
}
