import Crypto

/// Which kind of key `generate-key` makes.
public enum KeyProfile: String, Sendable, CaseIterable {
    /// v6 Ed25519 primary key and X25519 subkey (RFC 9580).
    case rfc9580
    /// v4 EdDSALegacy primary key and legacy ECDH Curve25519 subkey, for GnuPG 2.2 and older Sequoia.
    case rfc4880

    public var summary: String {
        switch self {
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
        let primarySeed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        let primaryPublic = try ed25519Public(primarySeed)
        let primary = PublicKey(
            version: isV6 ? 6 : 4, created: created,
            material: isV6 ? .ed25519(primaryPublic) : .ed25519Legacy(primaryPublic))
        let primaryKey = SecretKey(publicKey: primary, secret: .ed25519Seed(primarySeed))

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
            version: primary.version, created: created,
            material: isV6 ? .x25519(subkeyPublic) : .curve25519Legacy(subkeyPublic, kdfHash: 8, kdfCipher: 7))
        let binding = try Signature.make(
            .subkeyBinding, by: primaryKey, created: created,
            subpackets: [Subpacket(.keyFlags, [KeyFlags([.encryptCommunications, .encryptStorage]).rawValue])]
        ) { digest in
            digest.update(key: primary)
            digest.update(key: subkey)
        }
        certificate.subkeys.append(SubkeyComponent(key: subkey, secret: .x25519Scalar(scalar), signatures: [binding]))
        return certificate
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
