import Crypto
import Wire

/// Signature types (RFC 9580 section 5.2.1).
public enum SignatureType: UInt8, Sendable {
    case binary = 0x00
    case text = 0x01
    case standalone = 0x02
    case genericCertification = 0x10
    case personaCertification = 0x11
    case casualCertification = 0x12
    case positiveCertification = 0x13
    case subkeyBinding = 0x18
    case primaryKeyBinding = 0x19
    case directKey = 0x1F
    case keyRevocation = 0x20
    case subkeyRevocation = 0x28
    case certificationRevocation = 0x30
    case timestamp = 0x40
    case thirdPartyConfirmation = 0x50

    var isCertification: Bool { (0x10...0x13).contains(rawValue) }
}

/// The signature value as each algorithm stores it.
public enum SignatureValue: Sendable, Equatable {
    /// Ed25519 (algorithm 27): the 64-byte signature.
    case ed25519([UInt8])
    /// EdDSALegacy (algorithm 22): R and S as MPIs.
    case ed25519Legacy(r: [UInt8], s: [UInt8])
    /// RSA (algorithm 1): the PKCS#1 v1.5 signature as an MPI.
    case rsa([UInt8])
    /// ECDSA (algorithm 19): R and S as MPIs.
    case ecdsa(r: [UInt8], s: [UInt8])
    /// Any other algorithm, kept as bytes.
    case other([UInt8])
}

/// A v4 or v6 signature packet (RFC 9580 section 5.2.3).
public struct Signature: Sendable, Equatable {
    public var version: UInt8
    public var typeValue: UInt8
    public var publicKeyAlgorithm: UInt8
    public var hashAlgorithmValue: UInt8
    public var hashed: SubpacketArea
    public var unhashed: SubpacketArea
    /// The first two bytes of the digest, a quick check before the real one.
    public var digestPrefix: [UInt8]
    /// v6 only: hashed before the data so that signers cannot be made to sign a chosen digest.
    public var salt: [UInt8]
    public var value: SignatureValue

    public var type: SignatureType? { SignatureType(rawValue: typeValue) }
    public var hashAlgorithm: HashAlgorithm? { HashAlgorithm(rawValue: hashAlgorithmValue) }

    public static func parse(_ body: [UInt8]) throws(OpenPGPError) -> Signature {
        try Packet(.signature, body: body).parse { (reader: inout WireReader) throws(WireError) in try read(&reader) }
    }

    static func read(_ reader: inout WireReader) throws(WireError) -> Signature {
        let versionOffset = reader.offset
        let version = try reader.readUInt8()
        guard version == 4 || version == 6 else {
            throw WireError(
                offset: versionOffset, kind: .invalid("signature version \(version) (only 4 and 6 are supported)"))
        }
        let type = try reader.readUInt8()
        let algorithm = try reader.readUInt8()
        let hash = try reader.readUInt8()
        let width: LengthWidth = version == 6 ? .uint32 : .uint16
        var hashedReader = try reader.readLengthPrefixed(width)
        let hashed = try SubpacketArea.read(&hashedReader)
        var unhashedReader = try reader.readLengthPrefixed(width)
        let unhashed = try SubpacketArea.read(&unhashedReader)
        let digestPrefix = Array(try reader.readBytes(2))
        var salt: [UInt8] = []
        if version == 6 {
            var saltReader = try reader.readLengthPrefixed(.uint8)
            salt = Array(saltReader.readRemainingBytes())
            if let hashAlgorithm = HashAlgorithm(rawValue: hash), salt.count != hashAlgorithm.v6SaltLength {
                throw reader.invalid("salt of \(salt.count) bytes for hash algorithm \(hash)")
            }
        }
        let value: SignatureValue
        switch PublicKeyAlgorithm(rawValue: algorithm) {
        case .ed25519:
            value = .ed25519(Array(try reader.readBytes(64)))
        case .eddsaLegacy:
            let r = try reader.readMPI()
            let s = try reader.readMPI()
            value = .ed25519Legacy(r: r, s: s)
        case .rsaEncryptOrSign:
            value = .rsa(try reader.readMPI())
        case .ecdsa:
            let r = try reader.readMPI()
            let s = try reader.readMPI()
            value = .ecdsa(r: r, s: s)
        default:
            value = .other(Array(reader.readRemainingBytes()))
        }
        return Signature(
            version: version, typeValue: type, publicKeyAlgorithm: algorithm, hashAlgorithmValue: hash, hashed: hashed,
            unhashed: unhashed, digestPrefix: digestPrefix, salt: salt, value: value)
    }

    public var encoded: [UInt8] {
        var writer = WireWriter(capacity: 160)
        writer.write(version)
        writer.write(typeValue)
        writer.write(publicKeyAlgorithm)
        writer.write(hashAlgorithmValue)
        for area in [hashed, unhashed] {
            if version == 6 {
                writer.write(UInt32(area.encoded.count))
            } else {
                writer.write(UInt16(truncatingIfNeeded: area.encoded.count))
            }
            writer.write(bytes: area.encoded)
        }
        writer.write(bytes: digestPrefix)
        if version == 6 {
            writer.write(UInt8(truncatingIfNeeded: salt.count))
            writer.write(bytes: salt)
        }
        switch value {
        case .ed25519(let bytes), .other(let bytes):
            writer.write(bytes: bytes)
        case .ed25519Legacy(let r, let s), .ecdsa(let r, let s):
            writer.writeMPI(r)
            writer.writeMPI(s)
        case .rsa(let value):
            writer.writeMPI(value)
        }
        return writer.bytes
    }

    public var packet: Packet { Packet(.signature, body: encoded) }

    /// The signature fields that are hashed after the signed data, and the trailer.
    var hashedTrailer: [UInt8] {
        var writer = WireWriter(capacity: hashed.encoded.count + 16)
        writer.write(version)
        writer.write(typeValue)
        writer.write(publicKeyAlgorithm)
        writer.write(hashAlgorithmValue)
        if version == 6 {
            writer.write(UInt32(hashed.encoded.count))
        } else {
            writer.write(UInt16(truncatingIfNeeded: hashed.encoded.count))
        }
        writer.write(bytes: hashed.encoded)
        let length = writer.count
        writer.write(version)
        writer.write(UInt8(0xFF))
        writer.write(UInt32(truncatingIfNeeded: length))
        return writer.bytes
    }

    /// Creation time from the hashed area; a signature without one is not valid.
    public var created: UInt32? { hashed[.creationTime] }

    /// Fingerprint of the issuer if the signature names it, else nil.
    public var issuerFingerprint: [UInt8]? {
        guard let value = hashed[.issuerFingerprint] ?? unhashed[.issuerFingerprint] else { return nil }
        return Array(value.dropFirst())
    }

    public var issuerKeyID: [UInt8]? {
        if let keyID = hashed[.issuerKeyID] ?? unhashed[.issuerKeyID] { return keyID }
        guard let fingerprint = issuerFingerprint else { return nil }
        return version == 6 ? Array(fingerprint.prefix(8)) : Array(fingerprint.suffix(8))
    }

    /// Whether `key` could have made this signature (by fingerprint or key ID; true if it names no issuer).
    public func mightBeIssued(by key: PublicKey) -> Bool {
        if let fingerprint = issuerFingerprint { return fingerprint == key.fingerprint }
        if let keyID = issuerKeyID { return keyID == key.keyID }
        return true
    }

    /// Checks the signature by `key` over whatever `feed` hashes (the data or the keys and user ID).
    public func verify(by key: PublicKey, feed: (inout Digest) -> Void) -> Bool {
        guard var digest = startDigest() else { return false }
        feed(&digest)
        return verify(by: key, fedDigest: digest)
    }

    /// A digest ready for the signed data: for v6, the salt is already in it. Nil when the hash
    /// algorithm is unknown or SHA-1, which signatures over data must not use.
    func startDigest() -> Digest? {
        guard let hashAlgorithm, hashAlgorithm != .sha1 else { return nil }
        var digest = Digest(hashAlgorithm)
        if version == 6 { digest.update(salt) }
        return digest
    }

    /// Checks the signature by `key`, given a digest from `startDigest()` that has seen the data.
    func verify(by key: PublicKey, fedDigest: Digest) -> Bool {
        guard key.algorithm == publicKeyAlgorithm, version == key.version else { return false }
        guard hashed[.creationTime] != nil else { return false }
        // An unknown critical subpacket makes the signature invalid (RFC 9580 section 5.2.3.7).
        let understood: Set<UInt8> = [2, 3, 9, 11, 16, 20, 21, 22, 23, 25, 27, 29, 30, 32, 33, 39]
        guard hashed.subpackets.allSatisfy({ !$0.isCritical || understood.contains($0.type) }) else { return false }
        var digest = fedDigest
        digest.update(hashedTrailer)
        let hash = digest.finalizeTyped()
        guard hash.withUnsafeBytes({ Array($0.prefix(2)) }) == digestPrefix else { return false }
        return PublicKeyOperations.isValid(value, over: hash, by: key.material)
    }

    /// Makes a signature of `type` by `key` over what `feed` hashes.
    public static func make(
        _ type: SignatureType, by key: SecretKey, hash hashAlgorithm: HashAlgorithm = .sha512, created: UInt32,
        subpackets: [Subpacket] = [], feed: (inout Digest) -> Void
    ) throws(OpenPGPError) -> Signature {
        var builder = try SignatureBuilder(type, by: key, hash: hashAlgorithm, created: created, subpackets: subpackets)
        feed(&builder.digest)
        return try builder.finish()
    }
}

/// A signature being made: the data goes into `digest` in as many pieces as it comes, then
/// `finish` hashes the signature fields and signs.
struct SignatureBuilder {
    private let key: SecretKey
    private var signature: Signature
    var digest: Digest

    init(
        _ type: SignatureType, by key: SecretKey, hash hashAlgorithm: HashAlgorithm = .sha512, created: UInt32,
        subpackets: [Subpacket] = []
    ) throws(OpenPGPError) {
        guard key.publicKey.material.canSign, key.isUnlocked else {
            throw .rejected("the key \(key.publicKey.fingerprintHex) cannot make signatures")
        }
        let publicKey = key.publicKey
        var hashed = [Subpacket(.creationTime, created)]
        hashed.append(Subpacket(.issuerFingerprint, [publicKey.version] + publicKey.fingerprint))
        hashed.append(contentsOf: subpackets)
        // v4 readers such as GnuPG 2.2 look for the issuer key ID.
        let unhashed = publicKey.version == 4 ? [Subpacket(.issuerKeyID, publicKey.keyID)] : []
        let salt = publicKey.version == 6 ? randomBytes(hashAlgorithm.v6SaltLength) : []
        self.key = key
        signature = Signature(
            version: publicKey.version, typeValue: type.rawValue, publicKeyAlgorithm: publicKey.algorithm,
            hashAlgorithmValue: hashAlgorithm.rawValue, hashed: SubpacketArea(hashed),
            unhashed: SubpacketArea(unhashed), digestPrefix: [], salt: salt, value: .other([]))
        digest = Digest(hashAlgorithm)
        if publicKey.version == 6 { digest.update(salt) }
    }

    func finish() throws(OpenPGPError) -> Signature {
        var digest = digest
        digest.update(signature.hashedTrailer)
        let hash = digest.finalizeTyped()
        var signature = signature
        signature.digestPrefix = hash.withUnsafeBytes { Array($0.prefix(2)) }
        signature.value = try PublicKeyOperations.sign(hash, with: key)
        return signature
    }
}

extension Digest {
    /// Hashes a key as signatures over keys do.
    mutating func update(key: PublicKey) { update(key.hashPrefix) }

    /// Hashes a user ID as certifications do (RFC 9580 section 5.2.4).
    mutating func update(userID: [UInt8]) {
        update([0xB4] + bigEndian(UInt32(userID.count)) + userID)
    }
}
