import Crypto
import Wire
import _CryptoExtras

/// How a password protects the secret part of a key (RFC 9580 section 5.5.3): the S2K usage
/// octet and what follows it up to the encrypted fields.
public struct SecretKeyProtection: Sendable, Equatable {
    /// 255: CFB, then a two-octet sum of the fields (legacy); 254: CFB, then the SHA-1 of the
    /// fields; 253: AEAD with a key from HKDF.
    public let usage: UInt8
    public let algorithm: SymmetricAlgorithm
    public let aead: AEADMode?
    public let stringToKey: StringToKey
    /// The CFB IV (254, 255) or the AEAD nonce (253).
    public let iv: [UInt8]
    /// The encrypted fields, with the checksum, SHA-1 or AEAD tag inside.
    public let encrypted: [UInt8]

    /// Reads what follows the usage octet of a `version` key.
    static func read(usage: UInt8, version: UInt8, from reader: inout WireReader) throws(WireError)
        -> SecretKeyProtection
    {
        let usageOffset = reader.offset - 1
        guard usage >= 253 else {
            throw WireError(offset: usageOffset, kind: .invalid("S2K usage \(usage) (a legacy protection)"))
        }
        var fields: WireReader
        if version == 6 {
            fields = try reader.readLengthPrefixed(.uint8)
        } else {
            fields = reader
        }
        let algorithmValue = try fields.readUInt8()
        guard let algorithm = SymmetricAlgorithm(rawValue: algorithmValue) else {
            throw WireError(
                offset: fields.offset - 1, kind: .invalid("secret key cipher \(algorithmValue) (only AES is supported)")
            )
        }
        var aead: AEADMode?
        if usage == 253 {
            let modeValue = try fields.readUInt8()
            guard let mode = AEADMode(rawValue: modeValue) else {
                throw WireError(offset: fields.offset - 1, kind: .invalid("AEAD mode \(modeValue)"))
            }
            aead = mode
        }
        let stringToKey: StringToKey
        if version == 6 {
            var s2kReader = try fields.readLengthPrefixed(.uint8)
            stringToKey = try StringToKey.read(&s2kReader)
            try s2kReader.expectEnd()
        } else {
            stringToKey = try StringToKey.read(&fields)
        }
        if case .simple = stringToKey, usage != 255 {
            throw WireError(offset: fields.offset - 2, kind: .invalid("simple S2K protecting a secret key"))
        }
        let iv = Array(try fields.readBytes(aead?.nonceSize ?? 16))
        if version == 6 {
            try fields.expectEnd()
        } else {
            reader = fields
        }
        let encrypted = Array(reader.readRemainingBytes())
        return SecretKeyProtection(
            usage: usage, algorithm: algorithm, aead: aead, stringToKey: stringToKey, iv: iv, encrypted: encrypted)
    }

    /// The usage octet and everything after it, as `read` takes it.
    func encoded(version: UInt8) -> [UInt8] {
        let s2k = stringToKey.encoded
        var fields = [algorithm.rawValue]
        if let aead { fields.append(aead.rawValue) }
        if version == 6 { fields.append(UInt8(truncatingIfNeeded: s2k.count)) }
        fields += s2k + iv
        if version == 6 { fields.insert(UInt8(truncatingIfNeeded: fields.count), at: 0) }
        return [usage] + fields + encrypted
    }

    /// The key-encryption key and, for AEAD, the associated data (RFC 9580 section 5.5.3).
    private func keys(password: [UInt8], publicKey: PublicKey, subkey: Bool) throws(OpenPGPError) -> (
        key: [UInt8], associatedData: [UInt8]
    ) {
        let derived = try stringToKey.deriveKey(password: password, length: algorithm.keySize)
        guard let aead else { return (derived, []) }
        let tag: UInt8 = subkey ? 0xC7 : 0xC5
        let info = [tag, publicKey.version, algorithm.rawValue, aead.rawValue]
        let key = hkdfSHA256(derived, salt: [], info: info, length: algorithm.keySize)
        return (key, [tag] + publicKey.encoded)
    }

    /// The cleartext fields (without checksum), or nil when the password is wrong.
    func decrypt(password: [UInt8], publicKey: PublicKey, subkey: Bool) throws(OpenPGPError) -> [UInt8]? {
        let (key, associatedData) = try keys(password: password, publicKey: publicKey, subkey: subkey)
        if let aead {
            return try? AEAD.open(aead, key: key, nonce: iv, associatedData: associatedData, sealed: encrypted[...])
        }
        let plain = try OpenPGPCFB.decrypt(encrypted[...], key: key, iv: iv)
        if usage == 254 {
            guard plain.count >= 20 else { return nil }
            var digest = Digest(.sha1)
            digest.update(plain.dropLast(20))
            guard constantTimeEqual(digest.finalize(), Array(plain.suffix(20))) else { return nil }
            return Array(plain.dropLast(20))
        }
        guard plain.count >= 2 else { return nil }
        let fields = plain.dropLast(2)
        let sum = fields.reduce(UInt16(0)) { $0 &+ UInt16($1) }
        guard sum == UInt16(plain[plain.count - 2]) << 8 | UInt16(plain[plain.count - 1]) else { return nil }
        return Array(fields)
    }

    /// New protection of `fields`: AEAD (OCB) with Argon2 for v6 keys, CFB with SHA-1 and
    /// iterated-salted S2K for v4 keys (what GnuPG 2.2 reads), both AES-256.
    static func protect(
        _ fields: [UInt8], password: [UInt8], publicKey: PublicKey, subkey: Bool
    ) throws(OpenPGPError) -> SecretKeyProtection {
        if publicKey.version == 6 {
            let unsealed = SecretKeyProtection(
                usage: 253, algorithm: .aes256, aead: .ocb, stringToKey: .argon2(),
                iv: randomBytes(AEADMode.ocb.nonceSize),
                encrypted: [])
            let (key, associatedData) = try unsealed.keys(password: password, publicKey: publicKey, subkey: subkey)
            let sealed = try AEAD.seal(
                .ocb, key: key, nonce: unsealed.iv, associatedData: associatedData, plaintext: fields)
            return SecretKeyProtection(
                usage: 253, algorithm: .aes256, aead: .ocb, stringToKey: unsealed.stringToKey, iv: unsealed.iv,
                encrypted: sealed)
        }
        let stringToKey = StringToKey.iteratedSalted()
        let iv = randomBytes(16)
        let key = try stringToKey.deriveKey(password: password, length: SymmetricAlgorithm.aes256.keySize)
        var digest = Digest(.sha1)
        digest.update(fields)
        let encrypted = try OpenPGPCFB.encrypt((fields + digest.finalize())[...], key: key, iv: iv)
        return SecretKeyProtection(
            usage: 254, algorithm: .aes256, aead: nil, stringToKey: stringToKey, iv: iv, encrypted: encrypted)
    }
}

extension SecretKey {
    /// The protection of a password-protected key; nil when the key is not protected. Throws when
    /// the protection cannot be read.
    public var protection: SecretKeyProtection? {
        get throws(OpenPGPError) {
            guard case .opaque(let bytes) = secret, let usage = bytes.first, usage != 0 else { return nil }
            var reader = WireReader(bytes)
            do {
                _ = try reader.readUInt8()
                return try SecretKeyProtection.read(usage: usage, version: publicKey.version, from: &reader)
            } catch {
                throw .malformed(error)
            }
        }
    }

    /// Whether a password protects this key.
    public var isProtected: Bool {
        guard case .opaque(let bytes) = secret, let usage = bytes.first else { return false }
        return usage != 0
    }

    /// The key with its secret decrypted, itself when it is not protected, nil when `password` is
    /// wrong. `subkey` says which packet it came from, which AEAD protection authenticates.
    public func unlocked(password: [UInt8], subkey: Bool) throws(OpenPGPError) -> SecretKey? {
        guard let protection = try protection else { return self }
        if case .other = publicKey.material { return self }
        guard let fields = try protection.decrypt(password: password, publicKey: publicKey, subkey: subkey) else {
            return nil
        }
        var reader = WireReader(fields)
        do {
            let material = try SecretKey.readFields(of: publicKey, from: &reader)
            try reader.expectEnd()
            return SecretKey(publicKey: publicKey, secret: material)
        } catch {
            // The two-octet sum of usage 255 lets one wrong password in 65,536 through.
            if protection.usage == 255 { return nil }
            throw .malformed(error)
        }
    }

    /// The key with its secret encrypted under `password`.
    public func protected(password: [UInt8], subkey: Bool) throws(OpenPGPError) -> SecretKey {
        if isProtected { throw .wrongKind("\(publicKey.fingerprintHex) is already password-protected") }
        guard let fields = secretFields else { return self }
        let protection = try SecretKeyProtection.protect(
            fields, password: password, publicKey: publicKey, subkey: subkey)
        return SecretKey(publicKey: publicKey, secret: .opaque(protection.encoded(version: publicKey.version)))
    }
}

extension Certificate {
    /// Whether any secret of this key is password-protected.
    /// Keys of algorithms this library does not use (DSA, ElGamal …) are left out: they cannot
    /// be unlocked, nor would they be used, so they must not keep the rest of the key locked.
    public var hasProtectedSecrets: Bool {
        allSecretKeyPackets.contains { packet in
            if case .other = packet.key.publicKey.material { return false }
            return packet.key.isProtected
        }
    }

    private var allSecretKeyPackets: [(key: SecretKey, subkey: Bool)] {
        var keys: [(SecretKey, Bool)] = []
        if let primarySecret { keys.append((SecretKey(publicKey: primary, secret: primarySecret), false)) }
        for subkey in subkeys {
            if let secret = subkey.secret { keys.append((SecretKey(publicKey: subkey.key, secret: secret), true)) }
        }
        return keys
    }

    /// The key with every protected secret that one of `passwords` opens decrypted; the others
    /// (wrong password, unreadable or unsupported protection) stay as they were.
    public func unlocking(with passwords: [[UInt8]]) -> Certificate {
        func unlock(_ key: SecretKey, subkey: Bool) -> SecretKeyMaterial {
            guard key.isProtected else { return key.secret }
            for password in passwords {
                if let unlocked = try? key.unlocked(password: password, subkey: subkey) { return unlocked.secret }
            }
            return key.secret
        }
        var result = self
        if let primarySecret {
            result.primarySecret = unlock(SecretKey(publicKey: primary, secret: primarySecret), subkey: false)
        }
        for index in result.subkeys.indices {
            if let secret = result.subkeys[index].secret {
                result.subkeys[index].secret = unlock(
                    SecretKey(publicKey: result.subkeys[index].key, secret: secret), subkey: true)
            }
        }
        return result
    }

    /// The key with every unprotected secret protected by `password`.
    public func protecting(with password: [UInt8]) throws(OpenPGPError) -> Certificate {
        var result = self
        if let primarySecret {
            let key = SecretKey(publicKey: primary, secret: primarySecret)
            if !key.isProtected { result.primarySecret = try key.protected(password: password, subkey: false).secret }
        }
        for index in result.subkeys.indices {
            if let secret = result.subkeys[index].secret {
                let key = SecretKey(publicKey: result.subkeys[index].key, secret: secret)
                if !key.isProtected {
                    result.subkeys[index].secret = try key.protected(password: password, subkey: true).secret
                }
            }
        }
        return result
    }
}
