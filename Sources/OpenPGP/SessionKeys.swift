import Crypto
import Wire

/// The key a message's data is encrypted with, and its algorithm.
public struct SessionKey: Sendable, Equatable {
    public var algorithm: SymmetricAlgorithm
    public var key: [UInt8]

    public init(algorithm: SymmetricAlgorithm, key: [UInt8]) {
        self.algorithm = algorithm
        self.key = key
    }

    static func random(_ algorithm: SymmetricAlgorithm) -> SessionKey {
        SessionKey(algorithm: algorithm, key: randomBytes(algorithm.keySize))
    }

    var checksum: [UInt8] {
        let sum = key.reduce(UInt16(0)) { $0 &+ UInt16($1) }
        return [UInt8(sum >> 8), UInt8(sum & 0xFF)]
    }
}

/// A public-key encrypted session key packet (RFC 9580 section 5.1), v3 or v6.
struct PublicKeyEncryptedSessionKey {
    var version: UInt8
    /// v3: the key ID (all zeros for an anonymous recipient); v6: the key version and fingerprint.
    var recipient: [UInt8]
    var algorithm: UInt8
    var fields: [UInt8]

    static func read(_ reader: inout WireReader) throws(WireError) -> PublicKeyEncryptedSessionKey {
        let versionOffset = reader.offset
        let version = try reader.readUInt8()
        let recipient: [UInt8]
        switch version {
        case 3:
            recipient = Array(try reader.readBytes(8))
        case 6:
            var recipientReader = try reader.readLengthPrefixed(.uint8)
            recipient = Array(recipientReader.readRemainingBytes())
        default:
            throw WireError(
                offset: versionOffset, kind: .invalid("PKESK version \(version) (only 3 and 6 are supported)"))
        }
        let algorithm = try reader.readUInt8()
        return PublicKeyEncryptedSessionKey(
            version: version, recipient: recipient, algorithm: algorithm, fields: Array(reader.readRemainingBytes()))
    }

    var encoded: [UInt8] {
        var bytes = [version]
        if version == 6 { bytes.append(UInt8(recipient.count)) }
        return bytes + recipient + [algorithm] + fields
    }

    /// Whether this packet is addressed to `key` (or to nobody in particular).
    func isAddressed(to key: PublicKey) -> Bool {
        if version == 3 { return recipient == [UInt8](repeating: 0, count: 8) || recipient == key.keyID }
        return recipient.isEmpty || recipient == [key.version] + key.fingerprint
    }

    /// Encrypts `sessionKey` to `key`. v3 packets carry the algorithm inside; v6 packets do not.
    static func make(
        version: UInt8, sessionKey: SessionKey, to key: PublicKey
    ) throws(OpenPGPError) -> PublicKeyEncryptedSessionKey {
        let recipient = version == 3 ? key.keyID : [key.version] + key.fingerprint
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let ephemeralPublic = Array(ephemeral.publicKey.rawRepresentation)
        // RSA and legacy ECDH carry the algorithm (v3 only), the key and its checksum.
        let checkedKey = (version == 3 ? [sessionKey.algorithm.rawValue] : []) + sessionKey.key + sessionKey.checksum
        let fields: [UInt8]
        switch key.material {
        case .x25519(let recipientPublic):
            let shared = try agree(ephemeral, recipientPublic)
            let kek = hkdfSHA256(
                ephemeralPublic + recipientPublic + shared, salt: [], info: Array("OpenPGP X25519".utf8), length: 16)
            let wrapped = try KeyWrap.wrap(sessionKey.key, with: kek)
            let algorithmOctet = version == 3 ? [sessionKey.algorithm.rawValue] : []
            fields = ephemeralPublic + [UInt8(algorithmOctet.count + wrapped.count)] + algorithmOctet + wrapped
        case .curve25519Legacy(let recipientPublic, _, _):
            let shared = try agree(ephemeral, recipientPublic)
            fields = try ecdhFields(checkedKey, ephemeralPoint: [0x40] + ephemeralPublic, shared: shared, to: key)
        case .ecdh(let curve, let point, _, _):
            let (ephemeralPoint, shared) = try PublicKeyOperations.ecdhEphemeral(curve, peer: point)
            fields = try ecdhFields(checkedKey, ephemeralPoint: ephemeralPoint, shared: shared, to: key)
        case .rsa(let modulus, let exponent):
            fields = PublicKeyMaterial.mpi(
                try PublicKeyOperations.rsaEncrypt(checkedKey, modulus: modulus, exponent: exponent))
        default:
            throw .unsupported("encryption to public-key algorithm \(key.algorithm)")
        }
        return PublicKeyEncryptedSessionKey(
            version: version, recipient: recipient, algorithm: key.algorithm, fields: fields)
    }

    /// The fields of a legacy ECDH packet: the ephemeral point and the padded, wrapped session key.
    private static func ecdhFields(
        _ checkedKey: [UInt8], ephemeralPoint: [UInt8], shared: [UInt8], to key: PublicKey
    ) throws(OpenPGPError) -> [UInt8] {
        let kek = try legacyKEK(shared: shared, key: key)
        let padding = 8 - checkedKey.count % 8
        let wrapped = try KeyWrap.wrap(checkedKey + [UInt8](repeating: UInt8(padding), count: padding), with: kek)
        return PublicKeyMaterial.mpi(ephemeralPoint) + [UInt8(wrapped.count)] + wrapped
    }

    /// The session key, if `secret` opens this packet. `symmetric` is the algorithm of a v6
    /// packet, which comes from the SEIPD v2 packet instead.
    func decrypt(with key: PublicKey, secret: SecretKeyMaterial, symmetric: SymmetricAlgorithm?) throws(OpenPGPError)
        -> SessionKey
    {
        guard key.algorithm == algorithm else {
            throw .rejected("the key \(key.fingerprintHex) cannot decrypt this session key")
        }
        var reader = WireReader(fields)
        do {
            switch (key.material, secret) {
            case (.x25519(let recipientPublic), .x25519Scalar(let scalar)):
                let ephemeral = Array(try reader.readBytes(32))
                var rest = try reader.readLengthPrefixed(.uint8)
                try reader.expectEnd()
                var algorithmValue = symmetric?.rawValue
                if version == 3 { algorithmValue = try rest.readUInt8() }
                let wrapped = Array(rest.readRemainingBytes())
                let shared = try PublicKeyEncryptedSessionKey.agree(scalar, ephemeral)
                let kek = hkdfSHA256(
                    ephemeral + recipientPublic + shared, salt: [], info: Array("OpenPGP X25519".utf8), length: 16)
                let sessionKey = try KeyWrap.unwrap(wrapped, with: kek)
                guard let algorithmValue, let algorithm = SymmetricAlgorithm(rawValue: algorithmValue),
                    algorithm.keySize == sessionKey.count
                else { throw OpenPGPError.unsupported("session key algorithm") }
                return SessionKey(algorithm: algorithm, key: sessionKey)
            case (.curve25519Legacy, .x25519Scalar(let scalar)):
                let point = try reader.readMPI()
                var wrappedReader = try reader.readLengthPrefixed(.uint8)
                try reader.expectEnd()
                guard point.count == 33, point.first == 0x40 else {
                    throw OpenPGPError.rejected("the ephemeral key is not a Curve25519 point")
                }
                let shared = try PublicKeyEncryptedSessionKey.agree(scalar, Array(point.dropFirst()))
                return try unwrapECDH(Array(wrappedReader.readRemainingBytes()), shared: shared, key: key, symmetric)
            case (.ecdh(let curve, _, _, _), .nistScalar(let scalar)):
                let point = try reader.readMPI()
                var wrappedReader = try reader.readLengthPrefixed(.uint8)
                try reader.expectEnd()
                let shared = try PublicKeyOperations.ecdhShared(curve, scalar: scalar, peer: point)
                return try unwrapECDH(Array(wrappedReader.readRemainingBytes()), shared: shared, key: key, symmetric)
            case (.rsa(let modulus, let exponent), .rsa(let d, let p, let q, _)):
                let ciphertext = try reader.readMPI()
                try reader.expectEnd()
                let message = try PublicKeyOperations.rsaDecrypt(
                    ciphertext, public: (modulus, exponent), secret: (d, p, q))
                return try checkedSessionKey(message, symmetric)
            default:
                throw OpenPGPError.unsupported("decryption with public-key algorithm \(key.algorithm)")
            }
        } catch let error as WireError {
            throw .malformed(error)
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("\(error)")
        }
    }

    /// Unwraps a legacy ECDH session key and strips its PKCS#5 padding.
    private func unwrapECDH(_ wrapped: [UInt8], shared: [UInt8], key: PublicKey, _ symmetric: SymmetricAlgorithm?)
        throws(OpenPGPError) -> SessionKey
    {
        let kek = try PublicKeyEncryptedSessionKey.legacyKEK(shared: shared, key: key)
        var message = try KeyWrap.unwrap(wrapped, with: kek)
        guard let padding = message.last, padding >= 1, padding <= 8, Int(padding) < message.count,
            message.suffix(Int(padding)).allSatisfy({ $0 == padding })
        else { throw OpenPGPError.rejected("bad session key padding") }
        message.removeLast(Int(padding))
        return try checkedSessionKey(message, symmetric)
    }

    /// The session key in `message`: the algorithm (v3 only), the key, then its checksum.
    private func checkedSessionKey(_ message: [UInt8], _ symmetric: SymmetricAlgorithm?) throws(OpenPGPError)
        -> SessionKey
    {
        var message = message[...]
        var algorithmValue = symmetric?.rawValue
        if version == 3, let first = message.first {
            algorithmValue = first
            message = message.dropFirst()
        }
        guard let algorithmValue, let algorithm = SymmetricAlgorithm(rawValue: algorithmValue),
            message.count == algorithm.keySize + 2
        else { throw OpenPGPError.unsupported("session key algorithm") }
        let sessionKey = SessionKey(algorithm: algorithm, key: Array(message.prefix(algorithm.keySize)))
        guard sessionKey.checksum == Array(message.suffix(2)) else {
            throw OpenPGPError.rejected("session key checksum mismatch")
        }
        return sessionKey
    }

    private static func agree(_ ephemeral: Curve25519.KeyAgreement.PrivateKey, _ peer: [UInt8]) throws(OpenPGPError)
        -> [UInt8]
    {
        do {
            let shared = try ephemeral.sharedSecretFromKeyAgreement(
                with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer))
            return shared.withUnsafeBytes { Array($0) }
        } catch {
            throw .rejected("X25519 key agreement failed")
        }
    }

    private static func agree(_ scalar: [UInt8], _ peer: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return try agree(Curve25519.KeyAgreement.PrivateKey(rawRepresentation: scalar), peer)
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("unusable X25519 secret key")
        }
    }

    /// The key-encryption key of legacy ECDH (RFC 9580 section 11.5): a hash of the shared
    /// secret and parameters naming the curve, algorithms and recipient.
    private static func legacyKEK(shared: [UInt8], key: PublicKey) throws(OpenPGPError) -> [UInt8] {
        guard let (oid, kdfHash, kdfCipher) = key.material.ecdhParameters else {
            throw .unsupported("ECDH with public-key algorithm \(key.algorithm)")
        }
        guard let hash = HashAlgorithm(rawValue: kdfHash), hash != .sha1,
            let cipher = SymmetricAlgorithm(rawValue: kdfCipher)
        else { throw .unsupported("ECDH key derivation with hash \(kdfHash) and cipher \(kdfCipher)") }
        let parameters =
            [UInt8(oid.count)] + oid + [PublicKeyAlgorithm.ecdh.rawValue]
            + [3, 1, kdfHash, kdfCipher] + Array("Anonymous Sender    ".utf8) + key.fingerprint
        var digest = Digest(hash)
        digest.update([0, 0, 0, 1] + shared + parameters)
        return Array(digest.finalize().prefix(cipher.keySize))
    }
}

/// A symmetric-key (password) encrypted session key packet (RFC 9580 section 5.3), v4 or v6.
struct SymmetricKeyEncryptedSessionKey {
    var version: UInt8
    var algorithm: UInt8
    var aead: UInt8
    var stringToKey: StringToKey
    var iv: [UInt8]
    var encryptedKey: [UInt8]

    static func read(_ reader: inout WireReader) throws(WireError) -> SymmetricKeyEncryptedSessionKey {
        let versionOffset = reader.offset
        let version = try reader.readUInt8()
        switch version {
        case 4:
            let algorithm = try reader.readUInt8()
            let s2k = try StringToKey.read(&reader)
            return SymmetricKeyEncryptedSessionKey(
                version: 4, algorithm: algorithm, aead: 0, stringToKey: s2k, iv: [],
                encryptedKey: Array(reader.readRemainingBytes()))
        case 6:
            var fields = try reader.readLengthPrefixed(.uint8)
            let algorithm = try fields.readUInt8()
            let aead = try fields.readUInt8()
            var s2kReader = try fields.readLengthPrefixed(.uint8)
            let s2k = try StringToKey.read(&s2kReader)
            try s2kReader.expectEnd()
            let iv = Array(fields.readRemainingBytes())
            return SymmetricKeyEncryptedSessionKey(
                version: 6, algorithm: algorithm, aead: aead, stringToKey: s2k, iv: iv,
                encryptedKey: Array(reader.readRemainingBytes()))
        default:
            throw WireError(
                offset: versionOffset, kind: .invalid("SKESK version \(version) (only 4 and 6 are supported)"))
        }
    }

    var encoded: [UInt8] {
        let s2k = stringToKey.encoded
        if version == 4 { return [4, algorithm] + s2k + encryptedKey }
        let fields = [algorithm, aead, UInt8(s2k.count)] + s2k + iv
        return [6, UInt8(fields.count)] + fields + encryptedKey
    }

    private var v6AssociatedData: [UInt8] { [0xC3, 6, algorithm, aead] }

    static func make(version: UInt8, sessionKey: SessionKey, aead: AEADMode, password: [UInt8]) throws(OpenPGPError)
        -> SymmetricKeyEncryptedSessionKey
    {
        // Argon2 where the reader knows RFC 9580 (v6 SKESK); iterated-salted for v4 readers.
        let s2k = version == 6 ? StringToKey.argon2() : StringToKey.iteratedSalted()
        let algorithm = sessionKey.algorithm
        let derived = try s2k.deriveKey(password: password, length: algorithm.keySize)
        if version == 4 {
            let encrypted = try OpenPGPCFB.encrypt([algorithm.rawValue] + sessionKey.key, key: derived)
            return SymmetricKeyEncryptedSessionKey(
                version: 4, algorithm: algorithm.rawValue, aead: 0, stringToKey: s2k, iv: [], encryptedKey: encrypted)
        }
        var packet = SymmetricKeyEncryptedSessionKey(
            version: 6, algorithm: algorithm.rawValue, aead: aead.rawValue, stringToKey: s2k,
            iv: randomBytes(aead.nonceSize),
            encryptedKey: [])
        let kek = hkdfSHA256(derived, salt: [], info: packet.v6AssociatedData, length: algorithm.keySize)
        packet.encryptedKey = try AEAD.seal(
            aead, key: kek, nonce: packet.iv, associatedData: packet.v6AssociatedData, plaintext: sessionKey.key)
        return packet
    }

    func decrypt(password: [UInt8]) throws(OpenPGPError) -> SessionKey {
        guard let algorithm = SymmetricAlgorithm(rawValue: algorithm) else {
            throw .unsupported("symmetric algorithm \(self.algorithm)")
        }
        let derived = try stringToKey.deriveKey(password: password, length: algorithm.keySize)
        if version == 4 {
            guard !encryptedKey.isEmpty else { return SessionKey(algorithm: algorithm, key: derived) }
            let decrypted = try OpenPGPCFB.decrypt(encryptedKey[...], key: derived)
            guard let first = decrypted.first, let inner = SymmetricAlgorithm(rawValue: first),
                decrypted.count == 1 + inner.keySize
            else { throw .rejected("wrong password") }
            return SessionKey(algorithm: inner, key: Array(decrypted.dropFirst()))
        }
        guard let mode = AEADMode(rawValue: aead), iv.count == mode.nonceSize else {
            throw .unsupported("AEAD mode \(aead)")
        }
        let kek = hkdfSHA256(derived, salt: [], info: v6AssociatedData, length: algorithm.keySize)
        let key = try AEAD.open(mode, key: kek, nonce: iv, associatedData: v6AssociatedData, sealed: encryptedKey[...])
        return SessionKey(algorithm: algorithm, key: key)
    }
}
