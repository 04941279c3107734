import Crypto

/// One direction of record protection: an AEAD key, the static IV and the sequence number that
/// makes each nonce unique. TLS 1.3 (RFC 8446 section 5.3) hides the content type inside and
/// pads; TLS 1.2 (RFC 5246 section 6.2.3.3) keeps the type outside and authenticates it with the
/// sequence number, and AES-GCM sends 8 bytes of its nonce in each record (RFC 5288) while
/// ChaCha20-Poly1305 derives the whole nonce as TLS 1.3 does (RFC 7905).
struct RecordProtection: Sendable {
    enum Cipher: Sendable {
        case aesGCM(SymmetricKey)
        case chaCha20Poly1305(SymmetricKey)
    }

    static let tagLength = 16
    /// The largest plaintext in a record (2^14), and the largest protected record body (2^14 + 256;
    /// TLS 1.2 allows 2^14 + 2048).
    static let maximumPlaintext = 1 << 14
    static let maximumCiphertext = (1 << 14) + 256
    static let maximumCiphertextTLS12 = (1 << 14) + 2048
    static let explicitNonceLength = 8

    let cipher: Cipher
    /// 12 bytes; for TLS 1.2 AES-GCM the 4-byte salt followed by zeros.
    let iv: [UInt8]
    /// TLS 1.2 framing (outer content type, sequence number in the additional data).
    let isTLS12: Bool
    private(set) var sequence: UInt64 = 0

    init(suite: CipherSuite, trafficSecret: [UInt8]) {
        let schedule = KeySchedule(hash: suite.hash)
        let key = SymmetricKey(
            data: schedule.expandLabel(secret: trafficSecret, label: "key", context: [], length: suite.keyLength))
        iv = schedule.expandLabel(secret: trafficSecret, label: "iv", context: [], length: 12)
        cipher = suite.isChaCha20Poly1305 ? .chaCha20Poly1305(key) : .aesGCM(key)
        isTLS12 = false
    }

    /// TLS 1.2 protection from the key block.
    init(tls12 suite: CipherSuite, key: [UInt8], iv: [UInt8]) {
        let symmetricKey = SymmetricKey(data: key)
        cipher = suite.isChaCha20Poly1305 ? .chaCha20Poly1305(symmetricKey) : .aesGCM(symmetricKey)
        self.iv = iv + [UInt8](repeating: 0, count: 12 - iv.count)
        isTLS12 = true
    }

    /// The largest record body this protection may receive.
    var maximumRecordBody: Int { isTLS12 ? Self.maximumCiphertextTLS12 : Self.maximumCiphertext }

    /// TLS 1.2 AES-GCM sends the nonce's last 8 bytes in the record.
    private var hasExplicitNonce: Bool {
        guard isTLS12, case .aesGCM = cipher else { return false }
        return true
    }

    private func nonce() -> [UInt8] {
        var nonce = iv
        for index in 0..<8 {
            nonce[4 + index] ^= UInt8(truncatingIfNeeded: sequence >> UInt64(8 * (7 - index)))
        }
        return nonce
    }

    /// TLS 1.2's additional data: seq_num + type + version + length of the plaintext.
    private func additionalData(_ type: UInt8, length: Int) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(13)
        for index in 0..<8 { data.append(UInt8(truncatingIfNeeded: sequence >> UInt64(8 * (7 - index)))) }
        data += [type, 0x03, 0x03, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        return data
    }

    private func sealAEAD(_ plaintext: [UInt8], nonce: [UInt8], additionalData: [UInt8]) throws -> [UInt8] {
        switch cipher {
        case .aesGCM(let key):
            let box = try AES.GCM.seal(
                plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: additionalData)
            return Array(box.ciphertext) + Array(box.tag)
        case .chaCha20Poly1305(let key):
            let box = try ChaChaPoly.seal(
                plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: additionalData)
            return Array(box.ciphertext) + Array(box.tag)
        }
    }

    private func openAEAD(_ body: ArraySlice<UInt8>, nonce: [UInt8], additionalData: [UInt8]) throws -> [UInt8] {
        let ciphertext = body.dropLast(Self.tagLength)
        let tag = body.suffix(Self.tagLength)
        switch cipher {
        case .aesGCM(let key):
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
            return Array(try AES.GCM.open(box, using: key, authenticating: additionalData))
        case .chaCha20Poly1305(let key):
            let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
            return Array(try ChaChaPoly.open(box, using: key, authenticating: additionalData))
        }
    }

    /// A TLS 1.2 record: the header, the explicit nonce (AES-GCM), the ciphertext and the tag.
    private mutating func sealTLS12(_ type: ContentType, _ content: ArraySlice<UInt8>) throws(TLSError) -> [UInt8] {
        let explicit = hasExplicitNonce ? Array(nonce().suffix(Self.explicitNonceLength)) : []
        let length = explicit.count + content.count + Self.tagLength
        var record: [UInt8] = [
            type.rawValue, 0x03, 0x03, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        record.reserveCapacity(5 + length)
        record += explicit
        do {
            record += try sealAEAD(
                Array(content), nonce: nonce(), additionalData: additionalData(type.rawValue, length: content.count))
        } catch {
            throw .internalError("sealing a record failed")
        }
        try advance()
        return record
    }

    private mutating func openTLS12(header: ArraySlice<UInt8>, body: ArraySlice<UInt8>) throws(TLSError) -> (
        ContentType, [UInt8]
    ) {
        guard let typeByte = header.first, let type = ContentType(rawValue: typeByte) else {
            throw .fatal(.unexpectedMessage("record of unknown content type"))
        }
        let explicitLength = hasExplicitNonce ? Self.explicitNonceLength : 0
        guard body.count >= explicitLength + Self.tagLength else { throw .fatal(.badRecordMAC) }
        var recordNonce = nonce()
        if explicitLength > 0 {
            recordNonce.replaceSubrange(4..<12, with: body.prefix(explicitLength))
        }
        let sealed = body.dropFirst(explicitLength)
        let plaintext: [UInt8]
        do {
            plaintext = try openAEAD(
                sealed, nonce: recordNonce,
                additionalData: additionalData(typeByte, length: sealed.count - Self.tagLength))
        } catch {
            throw .fatal(.badRecordMAC)
        }
        try advance()
        guard plaintext.count <= Self.maximumPlaintext else { throw .fatal(.recordOverflow(length: plaintext.count)) }
        return (type, plaintext)
    }

    /// A complete protected record carrying `content` of `type`, with `padding` zero bytes.
    mutating func seal(_ type: ContentType, _ content: ArraySlice<UInt8>, padding: Int = 0) throws(TLSError)
        -> [UInt8]
    {
        if isTLS12 { return try sealTLS12(type, content) }
        var inner = [UInt8]()
        inner.reserveCapacity(content.count + 1 + padding)
        inner += content
        inner.append(type.rawValue)
        if padding > 0 { inner += repeatElement(0, count: padding) }
        let length = inner.count + Self.tagLength
        let header: [UInt8] = [
            ContentType.applicationData.rawValue, 0x03, 0x03, UInt8(truncatingIfNeeded: length >> 8),
            UInt8(truncatingIfNeeded: length),
        ]
        var record = header
        record.reserveCapacity(5 + length)
        do {
            switch cipher {
            case .aesGCM(let key):
                let box = try AES.GCM.seal(
                    inner, using: key, nonce: AES.GCM.Nonce(data: nonce()), authenticating: header)
                record += box.ciphertext
                record += box.tag
            case .chaCha20Poly1305(let key):
                let box = try ChaChaPoly.seal(
                    inner, using: key, nonce: ChaChaPoly.Nonce(data: nonce()), authenticating: header)
                record += box.ciphertext
                record += box.tag
            }
        } catch {
            throw .internalError("sealing a record failed")
        }
        try advance()
        return record
    }

    /// The content type and content of a protected record, padding removed.
    mutating func open(header: ArraySlice<UInt8>, body: ArraySlice<UInt8>) throws(TLSError) -> (
        ContentType, [UInt8]
    ) {
        if isTLS12 { return try openTLS12(header: header, body: body) }
        guard body.count >= Self.tagLength + 1 else { throw .fatal(.badRecordMAC) }
        let ciphertext = body.dropLast(Self.tagLength)
        let tag = body.suffix(Self.tagLength)
        var inner: [UInt8]
        do {
            switch cipher {
            case .aesGCM(let key):
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce()), ciphertext: ciphertext, tag: tag)
                inner = Array(try AES.GCM.open(box, using: key, authenticating: header))
            case .chaCha20Poly1305(let key):
                let box = try ChaChaPoly.SealedBox(
                    nonce: ChaChaPoly.Nonce(data: nonce()), ciphertext: ciphertext, tag: tag)
                inner = Array(try ChaChaPoly.open(box, using: key, authenticating: header))
            }
        } catch {
            throw .fatal(.badRecordMAC)
        }
        try advance()
        // RFC 8446 section 5.4: content, type and padding together stay within 2^14 + 1 bytes.
        guard inner.count <= Self.maximumPlaintext + 1 else { throw .fatal(.recordOverflow(length: inner.count)) }
        // The content type is the last non-zero byte; everything after it is padding.
        while let last = inner.last, last == 0 { inner.removeLast() }
        guard let typeByte = inner.popLast() else {
            throw .fatal(.unexpectedMessage("a protected record with no content type"))
        }
        guard let type = ContentType(rawValue: typeByte), type != .changeCipherSpec else {
            throw .fatal(.unexpectedMessage("protected record of content type \(typeByte)"))
        }
        guard inner.count <= Self.maximumPlaintext else { throw .fatal(.recordOverflow(length: inner.count)) }
        return (type, inner)
    }

    private mutating func advance() throws(TLSError) {
        // A sequence number must never wrap; a key update long before that is the caller's duty.
        guard sequence < UInt64.max else { throw .internalError("record sequence number exhausted") }
        sequence += 1
    }
}
