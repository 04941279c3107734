import Crypto
import Wire
import _CryptoExtras

/// Signing, verification and key agreement for every algorithm whose keys we can use; the
/// primitives are swift-crypto's, the encodings OpenPGP's.
enum PublicKeyOperations {
    /// Signs `digest` (a finished signature hash) with `key`.
    static func sign(_ digest: any Crypto.Digest, with key: SecretKey) throws(OpenPGPError) -> SignatureValue {
        let hash = digest.withUnsafeBytes { Array($0) }
        do {
            switch (key.publicKey.material, key.secret) {
            case (.ed25519, .ed25519Seed(let seed)):
                return .ed25519(Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: hash)))
            case (.ed25519Legacy, .ed25519Seed(let seed)):
                let raw = Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: hash))
                return .ed25519Legacy(r: mpiValue(raw.prefix(32)), s: mpiValue(raw.suffix(32)))
            case (.rsa(let modulus, let exponent), .rsa(let d, let p, let q, _)):
                let privateKey = try _RSA.Signing.PrivateKey(n: modulus, e: exponent, d: d, p: p, q: q)
                return .rsa(
                    mpiValue(try privateKey.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation))
            case (.ecdsa(let curve, _), .nistScalar(let scalar)):
                let raw = try ecdsaSign(digest, curve: curve, scalar: scalar)
                return .ecdsa(r: mpiValue(raw.prefix(curve.fieldSize)), s: mpiValue(raw.suffix(curve.fieldSize)))
            default:
                throw OpenPGPError.rejected("the key \(key.publicKey.fingerprintHex) cannot make signatures")
            }
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("the key \(key.publicKey.fingerprintHex) is unusable: \(error)")
        }
    }

    /// Whether `value` is a signature by `material` over `digest`.
    static func isValid(_ value: SignatureValue, over digest: any Crypto.Digest, by material: PublicKeyMaterial) -> Bool
    {
        let hash = digest.withUnsafeBytes { Array($0) }
        switch (value, material) {
        case (.ed25519(let signature), .ed25519(let publicBytes)):
            return ed25519IsValid(signature, over: hash, publicBytes)
        case (.ed25519Legacy(let r, let s), .ed25519Legacy(let publicBytes)):
            guard let r = leftPadded(r, to: 32), let s = leftPadded(s, to: 32) else { return false }
            return ed25519IsValid(r + s, over: hash, publicBytes)
        case (.rsa(let signature), .rsa(let modulus, let exponent)):
            guard let signature = leftPadded(signature, to: modulus.count),
                let publicKey = try? _RSA.Signing.PublicKey(n: modulus, e: exponent)
            else { return false }
            return publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        case (.ecdsa(let r, let s), .ecdsa(let curve, let point)):
            guard let r = leftPadded(r, to: curve.fieldSize), let s = leftPadded(s, to: curve.fieldSize) else {
                return false
            }
            return (try? ecdsaIsValid(r + s, over: digest, curve: curve, point: point)) ?? false
        default:
            return false
        }
    }

    /// A number as an MPI carries it, without leading zero bytes, so that a signature made here
    /// equals the same signature read back (one in 256 values starts with a zero byte).
    private static func mpiValue<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        Array(bytes.drop { $0 == 0 })
    }

    private static func ed25519IsValid(_ signature: [UInt8], over hash: [UInt8], _ publicBytes: [UInt8]) -> Bool {
        guard let verifier = try? Curve25519.Signing.PublicKey(rawRepresentation: publicBytes) else { return false }
        return verifier.isValidSignature(signature, for: hash)
    }

    private static func ecdsaSign(_ digest: any Crypto.Digest, curve: NISTCurve, scalar: [UInt8]) throws -> [UInt8] {
        switch curve {
        case .p256:
            return Array(
                try P256.Signing.PrivateKey(rawRepresentation: scalar).signature(for: digest).rawRepresentation)
        case .p384:
            return Array(
                try P384.Signing.PrivateKey(rawRepresentation: scalar).signature(for: digest).rawRepresentation)
        case .p521:
            return Array(
                try P521.Signing.PrivateKey(rawRepresentation: scalar).signature(for: digest).rawRepresentation)
        }
    }

    private static func ecdsaIsValid(_ raw: [UInt8], over digest: any Crypto.Digest, curve: NISTCurve, point: [UInt8])
        throws -> Bool
    {
        switch curve {
        case .p256:
            return try P256.Signing.PublicKey(x963Representation: point).isValidSignature(
                P256.Signing.ECDSASignature(rawRepresentation: raw), for: digest)
        case .p384:
            return try P384.Signing.PublicKey(x963Representation: point).isValidSignature(
                P384.Signing.ECDSASignature(rawRepresentation: raw), for: digest)
        case .p521:
            return try P521.Signing.PublicKey(x963Representation: point).isValidSignature(
                P521.Signing.ECDSASignature(rawRepresentation: raw), for: digest)
        }
    }

    /// ECDH with a fresh key on `curve`: our uncompressed point and the shared x coordinate.
    static func ecdhEphemeral(_ curve: NISTCurve, peer point: [UInt8]) throws(OpenPGPError) -> (
        point: [UInt8], shared: [UInt8]
    ) {
        do {
            switch curve {
            case .p256:
                let ephemeral = P256.KeyAgreement.PrivateKey()
                let shared = try ephemeral.sharedSecretFromKeyAgreement(
                    with: P256.KeyAgreement.PublicKey(x963Representation: point))
                return (Array(ephemeral.publicKey.x963Representation), shared.withUnsafeBytes { Array($0) })
            case .p384:
                let ephemeral = P384.KeyAgreement.PrivateKey()
                let shared = try ephemeral.sharedSecretFromKeyAgreement(
                    with: P384.KeyAgreement.PublicKey(x963Representation: point))
                return (Array(ephemeral.publicKey.x963Representation), shared.withUnsafeBytes { Array($0) })
            case .p521:
                let ephemeral = P521.KeyAgreement.PrivateKey()
                let shared = try ephemeral.sharedSecretFromKeyAgreement(
                    with: P521.KeyAgreement.PublicKey(x963Representation: point))
                return (Array(ephemeral.publicKey.x963Representation), shared.withUnsafeBytes { Array($0) })
            }
        } catch {
            throw .rejected("ECDH key agreement on the recipient's point failed")
        }
    }

    /// The shared x coordinate of our `scalar` and the sender's ephemeral `point`.
    static func ecdhShared(_ curve: NISTCurve, scalar: [UInt8], peer point: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            switch curve {
            case .p256:
                return try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar).sharedSecretFromKeyAgreement(
                    with: P256.KeyAgreement.PublicKey(x963Representation: point)
                ).withUnsafeBytes { Array($0) }
            case .p384:
                return try P384.KeyAgreement.PrivateKey(rawRepresentation: scalar).sharedSecretFromKeyAgreement(
                    with: P384.KeyAgreement.PublicKey(x963Representation: point)
                ).withUnsafeBytes { Array($0) }
            case .p521:
                return try P521.KeyAgreement.PrivateKey(rawRepresentation: scalar).sharedSecretFromKeyAgreement(
                    with: P521.KeyAgreement.PublicKey(x963Representation: point)
                ).withUnsafeBytes { Array($0) }
            }
        } catch {
            throw .rejected("ECDH key agreement with the ephemeral point failed")
        }
    }

    /// RSA encryption of a session-key message with PKCS#1 v1.5 padding, as RFC 9580 section 5.1.4 requires.
    static func rsaEncrypt(_ message: [UInt8], modulus: [UInt8], exponent: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return Array(
                try _RSA.Encryption.PublicKey(n: modulus, e: exponent).encrypt(
                    message, padding: ._WEAK_AND_INSECURE_PKCS_V1_5))
        } catch {
            throw .rejected("RSA encryption failed: \(error)")
        }
    }

    static func rsaDecrypt(
        _ ciphertext: [UInt8], public material: (modulus: [UInt8], exponent: [UInt8]),
        secret: (d: [UInt8], p: [UInt8], q: [UInt8])
    ) throws(OpenPGPError) -> [UInt8] {
        guard let ciphertext = leftPadded(ciphertext, to: material.modulus.count) else {
            throw .rejected("RSA ciphertext longer than the modulus")
        }
        do {
            let privateKey = try _RSA.Encryption.PrivateKey(
                n: material.modulus, e: material.exponent, d: secret.d, p: secret.p, q: secret.q)
            return Array(try privateKey.decrypt(ciphertext, padding: ._WEAK_AND_INSECURE_PKCS_V1_5))
        } catch {
            throw .rejected("RSA decryption failed")
        }
    }
}

/// `bytes` with leading zeros to make `length`; nil when they are already longer.
func leftPadded(_ bytes: [UInt8], to length: Int) -> [UInt8]? {
    guard bytes.count <= length else { return nil }
    return [UInt8](repeating: 0, count: length - bytes.count) + bytes
}

extension PublicKeyOperations {
    /// A new v4 RSA key of `bits` with exponent 65537.
    static func generateRSA(bits: Int, created: UInt32) throws(OpenPGPError) -> SecretKey {
        let der: [UInt8]
        do {
            der = Array(try _RSA.Signing.PrivateKey(keySize: _RSA.Signing.KeySize(bitCount: bits)).derRepresentation)
        } catch {
            throw .rejected("RSA key generation failed: \(error)")
        }
        // swift-crypto hands out the numbers only as a PKCS#1 RSAPrivateKey:
        // SEQUENCE { version, n, e, d, p, q, d mod (p-1), d mod (q-1), q⁻¹ mod p }.
        let numbers: [[UInt8]]
        do {
            var reader = WireReader(der)
            var sequence = try readDER(tag: 0x30, &reader)
            numbers = try (0..<9).map { (_: Int) throws(WireError) in
                var integer = try readDER(tag: 0x02, &sequence)
                return Array(integer.readRemainingBytes().drop { $0 == 0 })
            }
        } catch {
            throw .rejected("swift-crypto wrote an RSA key we cannot read: \(error)")
        }
        // OpenPGP wants u = p⁻¹ mod q, so PKCS#1's q and p trade places and its q⁻¹ mod p is u.
        let (n, e, d, p, q, qInverse) = (numbers[1], numbers[2], numbers[3], numbers[4], numbers[5], numbers[8])
        return SecretKey(
            publicKey: PublicKey(version: 4, created: created, material: .rsa(modulus: n, exponent: e)),
            secret: .rsa(d: d, p: q, q: p, u: qInverse))
    }

    /// The contents of one DER element with `tag` (definite lengths only, as DER has).
    private static func readDER(tag: UInt8, _ reader: inout WireReader) throws(WireError) -> WireReader {
        guard try reader.readUInt8() == tag else { throw reader.invalid("expected DER tag \(tag)") }
        let first = try reader.readUInt8()
        var length = Int(first)
        if first >= 0x80 {
            let count = Int(first & 0x7F)
            guard count >= 1, count <= 4 else { throw reader.invalid("DER length of \(count) bytes") }
            length = 0
            for _ in 0..<count { length = length << 8 | Int(try reader.readUInt8()) }
        }
        return try reader.readSubReader(length: length)
    }
}
