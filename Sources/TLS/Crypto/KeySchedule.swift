import Crypto

/// The hash a cipher suite uses for its transcript, key derivation (HKDF in TLS 1.3, the PRF in
/// TLS 1.2) and Finished.
enum HashAlgorithm: Sendable {
    case sha256
    case sha384

    var length: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        }
    }

    func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        switch self {
        case .sha256:
            var hasher = SHA256()
            hasher.update(data: Array(bytes))
            return Array(hasher.finalize())
        case .sha384:
            var hasher = SHA384()
            hasher.update(data: Array(bytes))
            return Array(hasher.finalize())
        }
    }

    func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let symmetricKey = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey))
        case .sha384: return Array(HMAC<SHA384>.authenticationCode(for: message, using: symmetricKey))
        }
    }
}

extension CipherSuite {
    var hash: HashAlgorithm {
        switch self {
        case .aes256GCMSHA384, .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384: return .sha384
        default: return .sha256
        }
    }

    var keyLength: Int {
        switch self {
        case .aes128GCMSHA256, .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256: return 16
        default: return 32
        }
    }
}

/// HKDF (RFC 5869) and the TLS 1.3 labels on top of it (RFC 8446 section 7.1).
struct KeySchedule: Sendable {
    let hash: HashAlgorithm

    func extract(salt: [UInt8], inputKeyingMaterial: [UInt8]) -> [UInt8] {
        // HMAC pads a short key with zeros, so an empty salt is the all-zero salt the RFC asks for.
        hash.hmac(
            key: salt, inputKeyingMaterial.isEmpty ? [UInt8](repeating: 0, count: hash.length) : inputKeyingMaterial)
    }

    func expand(secret: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = hash.hmac(key: secret, block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }

    func expandLabel(secret: [UInt8], label: String, context: [UInt8], length: Int) -> [UInt8] {
        let fullLabel = Array("tls13 \(label)".utf8)
        var info: [UInt8] = [UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        info.append(UInt8(truncatingIfNeeded: fullLabel.count))
        info += fullLabel
        info.append(UInt8(truncatingIfNeeded: context.count))
        info += context
        return expand(secret: secret, info: info, length: length)
    }

    func deriveSecret(_ secret: [UInt8], label: String, transcriptHash: [UInt8]) -> [UInt8] {
        expandLabel(secret: secret, label: label, context: transcriptHash, length: hash.length)
    }

    var emptyHash: [UInt8] { hash.hash([UInt8]()) }

    /// Early Secret = HKDF-Extract(0, PSK or zeros).
    func earlySecret(psk: [UInt8]?) -> [UInt8] {
        extract(salt: [], inputKeyingMaterial: psk ?? [])
    }

    func handshakeSecret(earlySecret: [UInt8], sharedSecret: [UInt8]) -> [UInt8] {
        let salt = deriveSecret(earlySecret, label: "derived", transcriptHash: emptyHash)
        return extract(salt: salt, inputKeyingMaterial: sharedSecret)
    }

    func masterSecret(handshakeSecret: [UInt8]) -> [UInt8] {
        let salt = deriveSecret(handshakeSecret, label: "derived", transcriptHash: emptyHash)
        return extract(salt: salt, inputKeyingMaterial: [])
    }

    func finishedKey(_ trafficSecret: [UInt8]) -> [UInt8] {
        expandLabel(secret: trafficSecret, label: "finished", context: [], length: hash.length)
    }

    func finishedVerifyData(trafficSecret: [UInt8], transcriptHash: [UInt8]) -> [UInt8] {
        hash.hmac(key: finishedKey(trafficSecret), transcriptHash)
    }

    /// application_traffic_secret_N+1 (RFC 8446 section 7.2).
    func nextTrafficSecret(_ secret: [UInt8]) -> [UInt8] {
        expandLabel(secret: secret, label: "traffic upd", context: [], length: hash.length)
    }

    /// The PSK a NewSessionTicket stands for (RFC 8446 section 4.6.1).
    func resumptionPSK(resumptionMasterSecret: [UInt8], nonce: [UInt8]) -> [UInt8] {
        expandLabel(secret: resumptionMasterSecret, label: "resumption", context: nonce, length: hash.length)
    }
}

/// The running hash of handshake messages. Until the cipher suite (and so the hash) is known the
/// messages are kept as bytes.
struct Transcript: Sendable {
    private var pending: [UInt8] = []
    private var sha256: SHA256?
    private var sha384: SHA384?
    private(set) var hashAlgorithm: HashAlgorithm?

    mutating func append(_ message: [UInt8]) {
        switch hashAlgorithm {
        case .none: pending += message
        case .sha256: sha256?.update(data: message)
        case .sha384: sha384?.update(data: message)
        }
    }

    mutating func select(_ algorithm: HashAlgorithm) {
        guard hashAlgorithm == nil else { return }
        hashAlgorithm = algorithm
        switch algorithm {
        case .sha256: sha256 = SHA256()
        case .sha384: sha384 = SHA384()
        }
        append(pending)
        pending = []
    }

    /// Replaces ClientHello1 by the synthetic message_hash message (RFC 8446 section 4.4.1).
    mutating func replaceWithMessageHash() {
        guard let algorithm = hashAlgorithm else { return }
        let digest = currentHash
        hashAlgorithm = nil
        pending = [HandshakeType.messageHash.rawValue, 0, 0, UInt8(digest.count)] + digest
        select(algorithm)
    }

    var currentHash: [UInt8] {
        switch hashAlgorithm {
        case .none: return []
        case .sha256: return sha256.map { Array($0.finalize()) } ?? []
        case .sha384: return sha384.map { Array($0.finalize()) } ?? []
        }
    }

    /// The hash of the transcript with `extra` appended, without keeping `extra`.
    func hash(appending extra: [UInt8]) -> [UInt8] {
        var copy = self
        copy.append(extra)
        return copy.currentHash
    }
}
