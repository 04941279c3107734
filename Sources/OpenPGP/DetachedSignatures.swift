/// Detached signatures over data (RFC 9580 section 5.2.4): binary, or text with line endings
/// made CRLF before hashing.
public enum SignatureMode: String, Sendable {
    case binary
    case text

    var signatureType: SignatureType { self == .text ? .text : .binary }
}

/// One good signature: when it was made, by which key of which certificate.
public struct Verification: Sendable, Equatable {
    public let created: UInt32
    public let signingKeyFingerprint: [UInt8]
    public let primaryKeyFingerprint: [UInt8]
    public let mode: SignatureMode
}

/// Hashes data as a signature of `mode` sees it: text signatures hash every line ending as CRLF.
struct CanonicalHasher {
    var digest: Digest
    let mode: SignatureMode
    private var pendingCR = false

    init(_ digest: Digest, mode: SignatureMode) {
        self.digest = digest
        self.mode = mode
    }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        guard mode == .text else {
            digest.update(bytes)
            return
        }
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == 0x0A {
            let previousIsCR = index > bytes.startIndex ? bytes[index - 1] == 0x0D : pendingCR
            if !previousIsCR {
                digest.update(bytes[start..<index])
                digest.update([0x0D])
                start = index
            }
        }
        digest.update(bytes[start...])
        if let last = bytes.last { pendingCR = last == 0x0D }
    }
}

/// Detached signatures made over data that arrives in pieces, so that signing a large file needs
/// only one piece in memory at a time.
public struct DetachedSigner {
    private var builders: [SignatureBuilder] = []
    private var hashers: [CanonicalHasher] = []
    private var utf8 = UTF8Check()
    private let mode: SignatureMode

    /// Prepares one signature per signing-capable key of each key, as SOP's `sign` does.
    public init(keys: [Certificate], mode: SignatureMode, at time: UInt32) throws(OpenPGPError) {
        self.mode = mode
        for key in keys {
            guard key.isSecret else { throw .wrongKind("\(key.fingerprintHex) is a certificate, not a secret key") }
            let signers = key.signingKeys(at: time)
            guard !signers.isEmpty else {
                throw .rejected("the key \(key.fingerprintHex) has no valid signing-capable key")
            }
            for signer in signers {
                guard let secret = signer.secret, SecretKey(publicKey: signer.key, secret: secret).isUnlocked else {
                    throw .rejected("the signing key \(signer.key.fingerprintHex) is locked or unusable")
                }
                let builder = try SignatureBuilder(
                    mode.signatureType, by: SecretKey(publicKey: signer.key, secret: secret),
                    hash: signer.key.material.dataSignatureHash, created: time)
                builders.append(builder)
                hashers.append(CanonicalHasher(builder.digest, mode: mode))
            }
        }
    }

    public mutating func update(_ data: ArraySlice<UInt8>) throws(OpenPGPError) {
        if mode == .text, !utf8.accept(data) { throw .wrongKind("text signatures need UTF-8 input") }
        for index in hashers.indices { hashers[index].update(data) }
    }

    public func finish() throws(OpenPGPError) -> [Signature] {
        if mode == .text, !utf8.isComplete { throw .wrongKind("text signatures need UTF-8 input") }
        var signatures: [Signature] = []
        for (builder, hasher) in zip(builders, hashers) {
            var builder = builder
            builder.digest = hasher.digest
            signatures.append(try builder.finish())
        }
        return signatures
    }
}

/// Detached signatures checked over data that arrives in pieces.
public struct DetachedVerifier {
    private let signatures: [Signature]
    private var hashers: [CanonicalHasher?]

    public init(signatures: [Signature]) {
        self.signatures = signatures
        hashers = signatures.map { signature in
            guard let digest = signature.startDigest() else { return nil }
            switch signature.type {
            case .binary: return CanonicalHasher(digest, mode: .binary)
            case .text: return CanonicalHasher(digest, mode: .text)
            default: return nil
            }
        }
    }

    /// Signatures whose data has already been hashed, each by its hasher (nil: none applies).
    init(signatures: [Signature], hashers: [CanonicalHasher?]) {
        self.signatures = signatures
        self.hashers = hashers
    }

    public mutating func update(_ data: ArraySlice<UInt8>) {
        for index in hashers.indices { hashers[index]?.update(data) }
    }

    /// Every signature that a key of `certificates` made, by a key valid at the signature's
    /// creation time, within [notBefore, notAfter] and unexpired at `now`.
    public func finish(
        certificates: [Certificate], notBefore: UInt32 = 0, notAfter: UInt32 = .max, now: UInt32
    ) -> [Verification] {
        var verifications: [Verification] = []
        for (signature, hasher) in zip(signatures, hashers) {
            guard let hasher, let created = signature.created, created >= notBefore, created <= notAfter else {
                continue
            }
            if let lifetime = signature.hashed[.signatureExpirationTime], lifetime != 0,
                UInt64(created) + UInt64(lifetime) <= UInt64(now)
            {
                continue
            }
            search: for certificate in certificates {
                for candidate in certificate.signingKeys(at: created) where signature.mightBeIssued(by: candidate.key) {
                    if signature.verify(by: candidate.key, fedDigest: hasher.digest) {
                        verifications.append(
                            Verification(
                                created: created, signingKeyFingerprint: candidate.key.fingerprint,
                                primaryKeyFingerprint: candidate.primary.fingerprint, mode: hasher.mode))
                        break search
                    }
                }
            }
        }
        return verifications
    }
}

/// Whether bytes arriving in pieces are UTF-8, carrying an unfinished sequence between pieces.
struct UTF8Check {
    private var pending: [UInt8] = []
    private(set) var isValid = true

    var isComplete: Bool { isValid && pending.isEmpty }

    mutating func accept(_ data: ArraySlice<UInt8>) -> Bool {
        guard isValid else { return false }
        guard !data.isEmpty else { return true }
        var bytes = pending + data
        // Hold back a sequence the piece cut short: at most three bytes after its lead byte.
        var cut = bytes.count
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            if byte & 0xC0 == 0x80 { continue }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if length > back { cut = bytes.count - back }
            break
        }
        pending = Array(bytes[cut...])
        bytes.removeLast(bytes.count - cut)
        isValid = isUTF8(bytes)
        return isValid
    }
}

public enum DetachedSignatures {
    /// Signs `data` with every signing-capable key of each key, as SOP's `sign` does.
    public static func sign(
        _ data: [UInt8], with keys: [Certificate], mode: SignatureMode, at time: UInt32
    ) throws(OpenPGPError) -> [Signature] {
        var signer = try DetachedSigner(keys: keys, mode: mode, at: time)
        try signer.update(data[...])
        return try signer.finish()
    }

    /// Every signature in `signatures` that a key of `certificates` made over `data`, made by a key
    /// valid at the signature's creation time, within [notBefore, notAfter] and unexpired at `now`.
    public static func verify(
        _ data: [UInt8], signatures: [Signature], certificates: [Certificate],
        notBefore: UInt32 = 0, notAfter: UInt32 = .max, now: UInt32
    ) -> [Verification] {
        var verifier = DetachedVerifier(signatures: signatures)
        verifier.update(data[...])
        return verifier.finish(certificates: certificates, notBefore: notBefore, notAfter: notAfter, now: now)
    }

    /// The signatures in a sequence of packets (what `sop verify` takes).
    public static func parseSignatures(_ bytes: [UInt8]) throws(OpenPGPError) -> [Signature] {
        var signatures: [Signature] = []
        for packet in try PacketFraming.packets(bytes) {
            guard packet.tag == .signature else {
                throw .wrongKind("expected signatures, found a packet of type \(packet.tagValue)")
            }
            guard let version = packet.body.first, version == 4 || version == 6 else { continue }
            signatures.append(try Signature.parse(packet.body))
        }
        guard !signatures.isEmpty else { throw .wrongKind("no signatures in the input") }
        return signatures
    }
}

func isUTF8(_ bytes: [UInt8]) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
