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

    /// The plaintext of a v1 packet body, released only once the MDC matched.
    static func openV1(_ body: [UInt8], sessionKey: SessionKey) throws(OpenPGPError) -> [UInt8] {
        guard body.first == 1 else { throw .unsupported("SEIPD version \(body.first ?? 0)") }
        let plain = try OpenPGPCFB.decrypt(body.dropFirst(), key: sessionKey.key)
        guard plain.count >= 18 + 22 else { throw .rejected("the encrypted data is truncated") }
        var digest = Digest(.sha1)
        digest.update(plain[..<(plain.count - 20)])
        let mdc = Array(plain.suffix(22))
        guard mdc[0] == 0xD3, mdc[1] == 0x14, constantTimeEqual(Array(mdc.dropFirst(2)), digest.finalize()) else {
            throw .rejected(
                "the modification detection code does not match: the message was modified or the key is wrong")
        }
        return Array(plain[18..<(plain.count - 22)])
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

    /// The plaintext of a v2 packet body, released only when every chunk and the final tag check.
    static func openV2(_ body: [UInt8], sessionKey: SessionKey?) throws(OpenPGPError) -> (
        plaintext: [UInt8], algorithm: SymmetricAlgorithm
    ) {
        var reader = WireReader(body)
        let version: UInt8
        let algorithmValue: UInt8
        let modeValue: UInt8
        let chunkOctet: UInt8
        let salt: [UInt8]
        do {
            version = try reader.readUInt8()
            algorithmValue = try reader.readUInt8()
            modeValue = try reader.readUInt8()
            chunkOctet = try reader.readUInt8()
            salt = Array(try reader.readBytes(32))
        } catch {
            throw .malformed(error)
        }
        guard version == 2 else { throw .unsupported("SEIPD version \(version)") }
        guard let algorithm = SymmetricAlgorithm(rawValue: algorithmValue) else {
            throw .unsupported("symmetric algorithm \(algorithmValue)")
        }
        guard let mode = AEADMode(rawValue: modeValue) else { throw .unsupported("AEAD mode \(modeValue)") }
        guard chunkOctet <= 16 else { throw .unsupported("chunk size octet \(chunkOctet)") }
        guard let sessionKey, sessionKey.algorithm == algorithm else {
            throw .rejected("no session key for \(algorithm)")
        }
        let header: [UInt8] = [0xD2, 2, algorithmValue, modeValue, chunkOctet]
        let (key, iv) = v2Keys(sessionKey: sessionKey, mode: mode, salt: salt, header: header)
        let sealedChunk = 1 << (Int(chunkOctet) + 6) + 16
        let chunks = body[reader.offset...].dropLast(16)
        guard body.count - reader.offset >= 16 else { throw .rejected("the encrypted data is truncated") }
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(chunks.count)
        var index: UInt64 = 0
        var start = chunks.startIndex
        while start < chunks.endIndex {
            let end = min(start + sealedChunk, chunks.endIndex)
            plaintext += try AEAD.open(
                mode, key: key, nonce: iv + bigEndian64(index), associatedData: header, sealed: chunks[start..<end])
            index += 1
            start = end
        }
        _ = try AEAD.open(
            mode, key: key, nonce: iv + bigEndian64(index),
            associatedData: header + bigEndian64(UInt64(plaintext.count)),
            sealed: body.suffix(16)[...])
        return (plaintext, algorithm)
    }

    static func v2Keys(sessionKey: SessionKey, mode: AEADMode, salt: [UInt8], header: [UInt8]) -> (
        [UInt8], [UInt8]
    ) {
        let keySize = sessionKey.algorithm.keySize
        let derived = hkdfSHA256(sessionKey.key, salt: salt, info: header, length: keySize + mode.nonceSize - 8)
        return (Array(derived.prefix(keySize)), Array(derived.suffix(mode.nonceSize - 8)))
    }

    /// The symmetric algorithm a v2 packet names, which v6 PKESKs leave out.
    static func v2Algorithm(_ body: [UInt8]) -> SymmetricAlgorithm? {
        guard body.count > 2, body[0] == 2 else { return nil }
        return SymmetricAlgorithm(rawValue: body[1])
    }
}

func bigEndian64(_ value: UInt64) -> [UInt8] {
    (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
}
