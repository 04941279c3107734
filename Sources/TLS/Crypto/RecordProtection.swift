import Crypto

/// One direction of TLS 1.3 record protection: an AEAD key, the static IV and the sequence
/// number that makes each nonce unique (RFC 8446 section 5.3).
struct RecordProtection: Sendable {
    enum Cipher: Sendable {
        case aesGCM(SymmetricKey)
        case chaCha20Poly1305(SymmetricKey)
    }

    static let tagLength = 16
    /// The largest plaintext in a record (2^14), and the largest protected record body (2^14 + 256).
    static let maximumPlaintext = 1 << 14
    static let maximumCiphertext = (1 << 14) + 256

    let cipher: Cipher
    let iv: [UInt8]
    private(set) var sequence: UInt64 = 0

    init(suite: CipherSuite, trafficSecret: [UInt8]) {
        let schedule = KeySchedule(hash: suite.hash)
        let key = SymmetricKey(
            data: schedule.expandLabel(secret: trafficSecret, label: "key", context: [], length: suite.keyLength))
        iv = schedule.expandLabel(secret: trafficSecret, label: "iv", context: [], length: 12)
        cipher = suite == .chacha20Poly1305SHA256 ? .chaCha20Poly1305(key) : .aesGCM(key)
    }

    private func nonce() -> [UInt8] {
        var nonce = iv
        for index in 0..<8 {
            nonce[4 + index] ^= UInt8(truncatingIfNeeded: sequence >> UInt64(8 * (7 - index)))
        }
        return nonce
    }

    /// A complete protected record carrying `content` of `type`, with `padding` zero bytes.
    mutating func seal(_ type: ContentType, _ content: ArraySlice<UInt8>, padding: Int = 0) throws(TLSError)
        -> [UInt8]
    {
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
