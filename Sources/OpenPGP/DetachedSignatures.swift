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

extension Signature {
    /// Hashes `data` as this signature's type requires; nil for types that do not sign data.
    func feedData(_ data: [UInt8]) -> ((inout Digest) -> Void)? {
        let mode: SignatureMode
        switch type {
        case .binary: mode = .binary
        case .text: mode = .text
        default: return nil
        }
        return { digest in
            var hasher = CanonicalHasher(digest, mode: mode)
            hasher.update(data[...])
            digest = hasher.digest
        }
    }
}

public enum DetachedSignatures {
    /// Signs `data` with every signing-capable key of each key, as SOP's `sign` does.
    public static func sign(
        _ data: [UInt8], with keys: [Certificate], mode: SignatureMode, at time: UInt32
    ) throws(OpenPGPError) -> [Signature] {
        if mode == .text, !isUTF8(data) { throw .wrongKind("text signatures need UTF-8 input") }
        var signatures: [Signature] = []
        for key in keys {
            guard key.isSecret else { throw .wrongKind("\(key.fingerprintHex) is a certificate, not a secret key") }
            let signers = key.signingKeys(at: time)
            guard !signers.isEmpty else {
                throw .rejected("the key \(key.fingerprintHex) has no valid signing-capable key")
            }
            for signer in signers {
                guard let secret = signer.secret, case .ed25519Seed = secret else {
                    throw .rejected("the signing key \(signer.key.fingerprintHex) is locked or unusable")
                }
                let signature = try Signature.make(
                    mode.signatureType, by: SecretKey(publicKey: signer.key, secret: secret), created: time
                ) { digest in
                    var hasher = CanonicalHasher(digest, mode: mode)
                    hasher.update(data[...])
                    digest = hasher.digest
                }
                signatures.append(signature)
            }
        }
        return signatures
    }

    /// Every signature in `signatures` that a key of `certificates` made over `data`, made by a key
    /// valid at the signature's creation time, within [notBefore, notAfter] and unexpired at `now`.
    public static func verify(
        _ data: [UInt8], signatures: [Signature], certificates: [Certificate],
        notBefore: UInt32 = 0, notAfter: UInt32 = .max, now: UInt32
    ) -> [Verification] {
        var verifications: [Verification] = []
        for signature in signatures {
            guard let created = signature.created, created >= notBefore, created <= notAfter,
                let feed = signature.feedData(data)
            else { continue }
            if let lifetime = signature.hashed[.signatureExpirationTime], lifetime != 0,
                UInt64(created) + UInt64(lifetime) <= UInt64(now)
            {
                continue
            }
            search: for certificate in certificates {
                for candidate in certificate.signingKeys(at: created) where signature.mightBeIssued(by: candidate.key) {
                    if signature.verify(by: candidate.key, feed: feed) {
                        verifications.append(
                            Verification(
                                created: created, signingKeyFingerprint: candidate.key.fingerprint,
                                primaryKeyFingerprint: candidate.primary.fingerprint,
                                mode: signature.type == .text ? .text : .binary))
                        break search
                    }
                }
            }
        }
        return verifications
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
