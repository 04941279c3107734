import Crypto
import Wire

/// The object identifiers of the legacy (v4) elliptic-curve encodings we use.
enum CurveOID {
    /// 1.3.6.1.4.1.11591.15.1: Ed25519 for the EdDSALegacy algorithm.
    static let ed25519Legacy: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]
    /// 1.3.6.1.4.1.3029.1.5.1: Curve25519 for the legacy ECDH algorithm.
    static let curve25519Legacy: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01]
}

/// The NIST curves of ECDSA and ECDH keys (RFC 9580 section 9.2).
public enum NISTCurve: Sendable, Equatable, CaseIterable {
    case p256, p384, p521

    var oid: [UInt8] {
        switch self {
        case .p256: return [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        case .p384: return [0x2B, 0x81, 0x04, 0x00, 0x22]
        case .p521: return [0x2B, 0x81, 0x04, 0x00, 0x23]
        }
    }

    /// Bytes of a coordinate or scalar.
    var fieldSize: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        case .p521: return 66
        }
    }

    init?(oid: [UInt8]) {
        guard let curve = NISTCurve.allCases.first(where: { $0.oid == oid }) else { return nil }
        self = curve
    }

    /// Whether `point` is an uncompressed point (0x04, x, y) of this curve's size.
    func isUncompressedPoint(_ point: [UInt8]) -> Bool {
        point.count == 1 + 2 * fieldSize && point.first == 0x04
    }
}

/// The public part of a key, in the form each algorithm stores it.
public enum PublicKeyMaterial: Sendable, Equatable {
    /// Ed25519 (algorithm 27, v4 or v6): the 32-byte public key.
    case ed25519([UInt8])
    /// EdDSALegacy on Ed25519 (algorithm 22, v4 only): the same key behind an OID and a 0x40 prefix.
    case ed25519Legacy([UInt8])
    /// X25519 (algorithm 25, v4 or v6): the 32-byte public key.
    case x25519([UInt8])
    /// ECDH on Curve25519 (algorithm 18, v4 only) with the key-derivation hash and cipher.
    case curve25519Legacy([UInt8], kdfHash: UInt8, kdfCipher: UInt8)
    /// RSA (algorithm 1, encrypt or sign): modulus and public exponent, big-endian.
    case rsa(modulus: [UInt8], exponent: [UInt8])
    /// ECDSA (algorithm 19) on a NIST curve: the uncompressed point.
    case ecdsa(NISTCurve, point: [UInt8])
    /// ECDH (algorithm 18) on a NIST curve: the uncompressed point, key-derivation hash and cipher.
    case ecdh(NISTCurve, point: [UInt8], kdfHash: UInt8, kdfCipher: UInt8)
    /// Any other algorithm, kept as bytes so that such keys can be carried along.
    case other(algorithm: UInt8, [UInt8])

    public var algorithm: UInt8 {
        switch self {
        case .ed25519: return PublicKeyAlgorithm.ed25519.rawValue
        case .ed25519Legacy: return PublicKeyAlgorithm.eddsaLegacy.rawValue
        case .x25519: return PublicKeyAlgorithm.x25519.rawValue
        case .curve25519Legacy, .ecdh: return PublicKeyAlgorithm.ecdh.rawValue
        case .rsa: return PublicKeyAlgorithm.rsaEncryptOrSign.rawValue
        case .ecdsa: return PublicKeyAlgorithm.ecdsa.rawValue
        case .other(let algorithm, _): return algorithm
        }
    }

    /// The hash for signatures over data: SHA-256 (what GnuPG 2.2 uses; with SHA-NI it is about
    /// three times faster than SHA-512 here), larger where the curve asks for it.
    var dataSignatureHash: HashAlgorithm {
        switch self {
        case .ecdsa(.p384, _): return .sha384
        case .ecdsa(.p521, _): return .sha512
        default: return .sha256
        }
    }

    public var canSign: Bool {
        switch self {
        case .ed25519, .ed25519Legacy, .rsa, .ecdsa: return true
        default: return false
        }
    }

    public var canEncrypt: Bool {
        switch self {
        case .x25519, .curve25519Legacy, .rsa, .ecdh: return true
        default: return false
        }
    }

    /// Reads the material of `algorithm`; for unknown ones the rest of the reader.
    static func read(algorithm: UInt8, from reader: inout WireReader) throws(WireError) -> PublicKeyMaterial {
        let start = reader.offset
        let material = try readFields(algorithm: algorithm, from: &reader)
        let raw = Array(reader.bytes[start..<reader.offset])
        // Fields that would not re-encode as they came (an MPI with leading zeros or a wrong bit
        // count) are kept as bytes: the fingerprint hashes them, and a second reading must agree.
        return material.encoded == raw ? material : .other(algorithm: algorithm, raw)
    }

    private static func readFields(algorithm: UInt8, from reader: inout WireReader) throws(WireError)
        -> PublicKeyMaterial
    {
        switch PublicKeyAlgorithm(rawValue: algorithm) {
        case .ed25519:
            return .ed25519(Array(try reader.readBytes(32)))
        case .x25519:
            return .x25519(Array(try reader.readBytes(32)))
        case .eddsaLegacy:
            let oid = try readOID(&reader)
            let point = try reader.readMPI()
            if oid == CurveOID.ed25519Legacy, point.count == 33, point.first == 0x40 {
                return .ed25519Legacy(Array(point.dropFirst()))
            }
            return .other(algorithm: algorithm, encodeOID(oid) + mpi(point))
        case .ecdh:
            let oid = try readOID(&reader)
            let point = try reader.readMPI()
            var kdf = try reader.readLengthPrefixed(.uint8)
            let kdfBytes = Array(kdf.readRemainingBytes())
            if oid == CurveOID.curve25519Legacy, point.count == 33, point.first == 0x40, kdfBytes.count == 3,
                kdfBytes[0] == 1
            {
                return .curve25519Legacy(Array(point.dropFirst()), kdfHash: kdfBytes[1], kdfCipher: kdfBytes[2])
            }
            if let curve = NISTCurve(oid: oid), curve.isUncompressedPoint(point), kdfBytes.count == 3, kdfBytes[0] == 1
            {
                return .ecdh(curve, point: point, kdfHash: kdfBytes[1], kdfCipher: kdfBytes[2])
            }
            return .other(algorithm: algorithm, encodeOID(oid) + mpi(point) + [UInt8(kdfBytes.count)] + kdfBytes)
        case .ecdsa:
            let oid = try readOID(&reader)
            let point = try reader.readMPI()
            if let curve = NISTCurve(oid: oid), curve.isUncompressedPoint(point) { return .ecdsa(curve, point: point) }
            return .other(algorithm: algorithm, encodeOID(oid) + mpi(point))
        case .rsaEncryptOrSign:
            let modulus = try reader.readMPI()
            let exponent = try reader.readMPI()
            return .rsa(modulus: modulus, exponent: exponent)
        case .rsaEncryptOnly, .rsaSignOnly:
            return .other(algorithm: algorithm, try readMPIs(2, &reader))
        case .dsa:
            return .other(algorithm: algorithm, try readMPIs(4, &reader))
        case .elgamal:
            return .other(algorithm: algorithm, try readMPIs(3, &reader))
        case .x448:
            return .other(algorithm: algorithm, Array(try reader.readBytes(56)))
        case .ed448:
            return .other(algorithm: algorithm, Array(try reader.readBytes(57)))
        case nil:
            return .other(algorithm: algorithm, Array(reader.readRemainingBytes()))
        }
    }

    var encoded: [UInt8] {
        switch self {
        case .ed25519(let key), .x25519(let key):
            return key
        case .ed25519Legacy(let key):
            return PublicKeyMaterial.encodeOID(CurveOID.ed25519Legacy) + PublicKeyMaterial.mpi([0x40] + key)
        case .curve25519Legacy(let key, let kdfHash, let kdfCipher):
            return PublicKeyMaterial.encodeOID(CurveOID.curve25519Legacy) + PublicKeyMaterial.mpi([0x40] + key)
                + [3, 1, kdfHash, kdfCipher]
        case .rsa(let modulus, let exponent):
            return PublicKeyMaterial.mpi(modulus) + PublicKeyMaterial.mpi(exponent)
        case .ecdsa(let curve, let point):
            return PublicKeyMaterial.encodeOID(curve.oid) + PublicKeyMaterial.mpi(point)
        case .ecdh(let curve, let point, let kdfHash, let kdfCipher):
            return PublicKeyMaterial.encodeOID(curve.oid) + PublicKeyMaterial.mpi(point) + [3, 1, kdfHash, kdfCipher]
        case .other(_, let bytes):
            return bytes
        }
    }

    /// The OID and key-derivation parameters that the ECDH KDF hashes (RFC 9580 section 11.5).
    var ecdhParameters: (oid: [UInt8], kdfHash: UInt8, kdfCipher: UInt8)? {
        switch self {
        case .curve25519Legacy(_, let kdfHash, let kdfCipher): return (CurveOID.curve25519Legacy, kdfHash, kdfCipher)
        case .ecdh(let curve, _, let kdfHash, let kdfCipher): return (curve.oid, kdfHash, kdfCipher)
        default: return nil
        }
    }

    private static func readOID(_ reader: inout WireReader) throws(WireError) -> [UInt8] {
        var oid = try reader.readLengthPrefixed(.uint8)
        guard oid.remaining > 0, oid.remaining < 0xFF else { throw reader.invalid("reserved curve OID length") }
        return Array(oid.readRemainingBytes())
    }

    private static func readMPIs(_ count: Int, _ reader: inout WireReader) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<count { bytes += mpi(try reader.readMPI()) }
        return bytes
    }

    private static func encodeOID(_ oid: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: oid.count)] + oid }

    static func mpi(_ value: [UInt8]) -> [UInt8] {
        var writer = WireWriter(capacity: value.count + 2)
        writer.writeMPI(value)
        return writer.bytes
    }
}

/// A v4 or v6 public key or subkey packet (RFC 9580 section 5.5.2).
public struct PublicKey: Sendable, Equatable {
    public let version: UInt8
    /// Seconds since 1970 (UTC).
    public let created: UInt32
    public let material: PublicKeyMaterial

    public init(version: UInt8, created: UInt32, material: PublicKeyMaterial) {
        self.version = version
        self.created = created
        self.material = material
    }

    public var algorithm: UInt8 { material.algorithm }

    static func read(_ reader: inout WireReader) throws(WireError) -> PublicKey {
        let versionOffset = reader.offset
        let version = try reader.readUInt8()
        let created = try reader.readUInt32()
        let algorithm = try reader.readUInt8()
        switch version {
        case 4:
            return PublicKey(
                version: 4, created: created, material: try PublicKeyMaterial.read(algorithm: algorithm, from: &reader))
        case 6:
            var material = try reader.readLengthPrefixed(.uint32)
            let parsed = try PublicKeyMaterial.read(algorithm: algorithm, from: &material)
            try material.expectEnd()
            if case .ed25519Legacy = parsed { throw reader.invalid("v6 keys must not use EdDSALegacy") }
            if case .curve25519Legacy = parsed { throw reader.invalid("v6 keys must not use legacy ECDH") }
            return PublicKey(version: 6, created: created, material: parsed)
        default:
            throw WireError(
                offset: versionOffset, kind: .invalid("key version \(version) (only 4 and 6 are supported)"))
        }
    }

    /// The packet body: what is hashed for fingerprints and signatures.
    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: 64)
        writer.write(version)
        writer.write(created)
        writer.write(algorithm)
        let material = material.encoded
        if version == 6 { writer.write(UInt32(material.count)) }
        writer.write(bytes: material)
        return writer.bytes
    }

    /// What a signature over this key hashes (RFC 9580 section 5.2.4).
    var hashPrefix: [UInt8] {
        let body = encoded
        if version == 6 { return [0x9B] + bigEndian(UInt32(body.count)) + body }
        return [0x99, UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)] + body
    }

    /// v4: SHA-1 of the key; v6: SHA-256 (RFC 9580 section 5.5.4).
    public var fingerprint: [UInt8] {
        var digest = Digest(version == 6 ? .sha256 : .sha1)
        digest.update(hashPrefix)
        return digest.finalize()
    }

    /// v4: the low 64 bits of the fingerprint; v6: the high 64 bits.
    public var keyID: [UInt8] {
        let fingerprint = fingerprint
        return version == 6 ? Array(fingerprint.prefix(8)) : Array(fingerprint.suffix(8))
    }

    public var fingerprintHex: String { hex(fingerprint) }
}

/// The secret part of a key we can use.
public enum SecretKeyMaterial: Sendable, Equatable {
    /// An Ed25519 seed (algorithms 27 and 22).
    case ed25519Seed([UInt8])
    /// An X25519 secret scalar in its native (little-endian) order (algorithms 25 and 18).
    case x25519Scalar([UInt8])
    /// RSA: the private exponent, primes p < q and u = p⁻¹ mod q, big-endian.
    case rsa(d: [UInt8], p: [UInt8], q: [UInt8], u: [UInt8])
    /// ECDSA and ECDH on a NIST curve: the big-endian scalar, padded to the curve's size.
    case nistScalar([UInt8])
    /// Encrypted with a password, or of an algorithm we cannot use; kept so the key survives.
    case opaque([UInt8])
}

/// A secret key or subkey packet: the public key, then the secret material (RFC 9580 section 5.5.3).
public struct SecretKey: Sendable, Equatable {
    public let publicKey: PublicKey
    public let secret: SecretKeyMaterial

    public init(publicKey: PublicKey, secret: SecretKeyMaterial) {
        self.publicKey = publicKey
        self.secret = secret
    }

    static func read(_ reader: inout WireReader) throws(WireError) -> SecretKey {
        let publicKey = try PublicKey.read(&reader)
        let usage = try reader.readUInt8()
        guard usage == 0 else {
            // A password-protected key: keep it whole so that extract-cert still works.
            return SecretKey(publicKey: publicKey, secret: .opaque([usage] + Array(reader.readRemainingBytes())))
        }
        if case .other = publicKey.material {
            return SecretKey(publicKey: publicKey, secret: .opaque([usage] + Array(reader.readRemainingBytes())))
        }
        let secretStart = reader.offset
        let secret = try readFields(of: publicKey, from: &reader)
        if publicKey.version == 4 {
            let secretBytes = reader.bytes[secretStart..<reader.offset]
            let expected = secretBytes.reduce(UInt16(0)) { $0 &+ UInt16($1) }
            let checksumOffset = reader.offset
            guard try reader.readUInt16() == expected else {
                throw WireError(offset: checksumOffset, kind: .invalid("secret key checksum does not match"))
            }
        }
        return SecretKey(publicKey: publicKey, secret: secret)
    }

    /// The secret fields of `publicKey`'s algorithm, in the clear (RFC 9580 section 5.5.3).
    static func readFields(of publicKey: PublicKey, from reader: inout WireReader) throws(WireError)
        -> SecretKeyMaterial
    {
        switch publicKey.material {
        case .ed25519:
            return .ed25519Seed(Array(try reader.readBytes(32)))
        case .x25519:
            return .x25519Scalar(Array(try reader.readBytes(32)))
        case .ed25519Legacy:
            return .ed25519Seed(try readScalar(&reader, size: 32))
        case .curve25519Legacy:
            // The legacy encoding stores the scalar as a big-endian MPI: reversed native order.
            return .x25519Scalar(try readScalar(&reader, size: 32).reversed())
        case .rsa:
            return .rsa(
                d: try reader.readMPI(), p: try reader.readMPI(), q: try reader.readMPI(), u: try reader.readMPI())
        case .ecdsa(let curve, _), .ecdh(let curve, _, _, _):
            return .nistScalar(try readScalar(&reader, size: curve.fieldSize))
        case .other:
            return .opaque(Array(reader.readRemainingBytes()))
        }
    }

    /// The cleartext secret fields, without usage octet or checksum; nil for opaque secrets.
    var secretFields: [UInt8]? {
        var writer = WireWriter(capacity: 128)
        switch (secret, publicKey.material) {
        case (.opaque, _):
            return nil
        case (.ed25519Seed(let seed), .ed25519Legacy):
            writer.writeMPI(seed)
        case (.x25519Scalar(let scalar), .curve25519Legacy):
            writer.writeMPI(Array(scalar.reversed()))
        case (.rsa(let d, let p, let q, let u), _):
            for value in [d, p, q, u] { writer.writeMPI(value) }
        case (.nistScalar(let scalar), _):
            writer.writeMPI(scalar)
        case (.ed25519Seed(let bytes), _), (.x25519Scalar(let bytes), _):
            writer.write(bytes: bytes)
        }
        return writer.bytes
    }

    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: 128)
        writer.write(bytes: publicKey.encoded)
        if case .opaque(let bytes) = secret {
            writer.write(bytes: bytes)
            return writer.bytes
        }
        let fields = secretFields ?? []
        writer.write(UInt8(0))
        writer.write(bytes: fields)
        if publicKey.version == 4 {
            writer.write(fields.reduce(UInt16(0)) { $0 &+ UInt16($1) })
        }
        return writer.bytes
    }

    /// Whether the secret is usable without a password.
    public var isUnlocked: Bool {
        if case .opaque = secret { return false }
        return true
    }
}

/// An elliptic-curve secret stored as an MPI, padded to the curve's `size`.
private func readScalar(_ reader: inout WireReader, size: Int) throws(WireError) -> [UInt8] {
    let offset = reader.offset
    guard let scalar = leftPadded(try reader.readMPI(), to: size) else {
        throw WireError(offset: offset, kind: .invalid("secret key longer than \(size) bytes"))
    }
    return scalar
}
