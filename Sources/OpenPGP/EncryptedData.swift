import Wire

/// Symmetrically encrypted, integrity protected data (RFC 9580 section 5.13), v1 and v2.
enum EncryptedData {
    /// v1: CFB over a random prefix, the plaintext and a SHA-1 modification detection code.
    static func sealV1(_ plaintext: [UInt8], sessionKey: SessionKey) throws(OpenPGPError) -> [UInt8] {
        var prefix = randomBytes(16)
        prefix += prefix.suffix(2)
        var digest = Digest(.sha1)
        digest.update(prefix)
        digest.update(plaintext)
        digest.update([0xD3, 0x14])
        let encrypted = try OpenPGPCFB.encrypt(
            prefix + plaintext + [0xD3, 0x14] + digest.finalize(), key: sessionKey.key)
        return [1] + encrypted
    }

    /// The chunk-size octet of the packets we write: 2^(12+6) = 256 KiB chunks.
    static let chunkSizeOctet: UInt8 = 12

    /// v2: AEAD over chunks, each with its own tag, then a final tag over the total length.
    static func sealV2(
        _ plaintext: [UInt8], sessionKey: SessionKey, mode: AEADMode
    ) throws(OpenPGPError) -> [UInt8] {
        let salt = randomBytes(32)
        let header: [UInt8] = [0xD2, 2, sessionKey.algorithm.rawValue, mode.rawValue, chunkSizeOctet]
        let (key, iv) = v2Keys(sessionKey: sessionKey, mode: mode, salt: salt, header: header)
        let chunkSize = 1 << (Int(chunkSizeOctet) + 6)
        var output = Array(header.dropFirst()) + salt
        var index: UInt64 = 0
        var start = 0
        while start < plaintext.count {
            let end = min(start + chunkSize, plaintext.count)
            output += try AEAD.seal(
                mode, key: key, nonce: iv + bigEndian64(index), associatedData: header,
                plaintext: Array(plaintext[start..<end]))
            index += 1
            start = end
        }
        output += try AEAD.seal(
            mode, key: key, nonce: iv + bigEndian64(index),
            associatedData: header + bigEndian64(UInt64(plaintext.count)),
            plaintext: [])
        return output
    }

    static func v2Keys(sessionKey: SessionKey, mode: AEADMode, salt: [UInt8], header: [UInt8]) -> (
        [UInt8], [UInt8]
    ) {
        let keySize = sessionKey.algorithm.keySize
        let derived = hkdfSHA256(sessionKey.key, salt: salt, info: header, length: keySize + mode.nonceSize - 8)
        return (Array(derived.prefix(keySize)), Array(derived.suffix(mode.nonceSize - 8)))
    }
}

func bigEndian64(_ value: UInt64) -> [UInt8] {
    (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
}
