import Wire

/// Which packet versions `encrypt` writes.
public enum EncryptionProfile: String, Sendable, CaseIterable {
    /// SEIPD v2 (AEAD, OCB) when every recipient announces support for it, else SEIPD v1.
    case rfc9580
    /// SEIPD v1 with v3 PKESK and v4 SKESK, which every OpenPGP implementation reads.
    case rfc4880

    public var summary: String {
        switch self {
        case .rfc9580: return "SEIPD v2 with AES-OCB when every recipient supports it, else SEIPD v1 (RFC 9580)"
        case .rfc4880: return "SEIPD v1 (RFC 4880), for GnuPG 2.2 and older Sequoia"
        }
    }
}

/// What decryption produced.
public struct DecryptedMessage: Sendable {
    public let plaintext: [UInt8]
    public let sessionKey: SessionKey
    public let verifications: [Verification]
}

/// Encrypted and signed messages (RFC 9580 section 10.3), held whole in memory.
public enum Messages {
    /// Decompressed data beyond this is refused, so a small message cannot expand without bound.
    public static let decompressionLimit = 1 << 30

    /// Encrypts to certificates and passwords, optionally signed inside the encryption.
    public static func encrypt(
        _ plaintext: [UInt8], mode: SignatureMode = .binary, recipients: [Certificate], passwords: [[UInt8]] = [],
        signers: [Certificate] = [], profile: EncryptionProfile = .rfc9580, at time: UInt32
    ) throws(OpenPGPError) -> [UInt8] {
        let plan = try plan(recipients: recipients, passwords: passwords, profile: profile, at: time)
        var packets = plan.sessionKeyPackets
        let sessionKey = plan.sessionKey
        let useV2 = plan.useV2
        let inner = PacketFraming.encode(try signedLiteral(plaintext, mode: mode, signers: signers, at: time))
        let body =
            useV2
            ? try EncryptedData.sealV2(inner, sessionKey: sessionKey, mode: .ocb)
            : try EncryptedData.sealV1(inner, sessionKey: sessionKey)
        packets.append(Packet(.symmetricallyEncryptedIntegrityProtectedData, body: body))
        return PacketFraming.encode(packets)
    }

    struct EncryptionPlan {
        let sessionKey: SessionKey
        let sessionKeyPackets: [Packet]
        let useV2: Bool
    }

    /// The session key, its PKESK and SKESK packets, and the SEIPD version for these recipients.
    static func plan(
        recipients: [Certificate], passwords: [[UInt8]], profile: EncryptionProfile, at time: UInt32
    ) throws(OpenPGPError) -> EncryptionPlan {
        guard !recipients.isEmpty || !passwords.isEmpty else { throw .wrongKind("no recipient and no password") }
        var keys: [PublicKey] = []
        var useV2 = profile == .rfc9580
        var preferred: [[UInt8]] = []
        for certificate in recipients {
            let usable = certificate.encryptionKeys(at: time)
            guard !usable.isEmpty, let binding = certificate.primaryBinding(at: time) else {
                throw .rejected("the certificate \(certificate.fingerprintHex) has no valid encryption-capable key")
            }
            keys += usable.map(\.key)
            let features = binding.hashed[.features] ?? certificate.directSignatures.first?.hashed[.features] ?? []
            if features.first.map({ $0 & 0x08 == 0 }) ?? true { useV2 = false }
            preferred.append(binding.hashed[.preferredSymmetricAlgorithms] ?? [])
        }
        let algorithm: SymmetricAlgorithm =
            preferred.allSatisfy { $0.contains(SymmetricAlgorithm.aes256.rawValue) } ? .aes256 : .aes128
        let sessionKey = SessionKey.random(algorithm)
        var packets: [Packet] = []
        for key in keys {
            let pkesk = try PublicKeyEncryptedSessionKey.make(version: useV2 ? 6 : 3, sessionKey: sessionKey, to: key)
            packets.append(Packet(.publicKeyEncryptedSessionKey, body: pkesk.encoded))
        }
        for password in passwords {
            let skesk = try SymmetricKeyEncryptedSessionKey.make(
                version: useV2 ? 6 : 4, sessionKey: sessionKey, aead: .ocb, password: password)
            packets.append(Packet(.symmetricKeyEncryptedSessionKey, body: skesk.encoded))
        }
        return EncryptionPlan(sessionKey: sessionKey, sessionKeyPackets: packets, useV2: useV2)
    }

    /// One-pass signature packets announcing `signatures`, the last one marked as the last.
    static func onePassSignatures(for signatures: [Signature]) -> [Packet] {
        var onePass: [Packet] = []
        for (index, signature) in signatures.enumerated() {
            let nested: UInt8 = index == signatures.count - 1 ? 1 : 0
            var body = [
                signature.version == 6 ? 6 : 3, signature.typeValue, signature.hashAlgorithmValue,
                signature.publicKeyAlgorithm,
            ]
            if signature.version == 6 {
                body += [UInt8(signature.salt.count)] + signature.salt + (signature.issuerFingerprint ?? [])
            } else {
                body += signature.issuerKeyID ?? []
            }
            onePass.append(Packet(.onePassSignature, body: body + [nested]))
        }
        return onePass
    }

    /// A literal data packet, preceded by one-pass signatures and followed by the signatures
    /// when there are signers.
    static func signedLiteral(
        _ data: [UInt8], mode: SignatureMode, signers: [Certificate], at time: UInt32
    ) throws(OpenPGPError) -> [Packet] {
        // Text is stored with CRLF line endings, as RFC 9580 says text is: GnuPG 2.2 hashes the
        // stored bytes of a text signature as they are and reports LF-only text as a bad signature.
        let stored = mode == .text ? crlfText(data) : data
        let literal = Packet(.literalData, body: [mode == .text ? 0x75 : 0x62, 0, 0, 0, 0, 0] + stored)
        guard !signers.isEmpty else { return [literal] }
        let signatures = try DetachedSignatures.sign(stored, with: signers, mode: mode, at: time)
        return onePassSignatures(for: signatures) + [literal] + signatures.reversed().map(\.packet)
    }

    /// Decrypts with secret keys, passwords or known session keys, and verifies the signatures
    /// inside against `verifyWith`. Plaintext is released only after its integrity check.
    public static func decrypt(
        _ message: [UInt8], keys: [Certificate] = [], passwords: [[UInt8]] = [], sessionKeys: [SessionKey] = [],
        verifyWith: [Certificate] = [], now: UInt32
    ) throws(OpenPGPError) -> DecryptedMessage {
        var pkesks: [PublicKeyEncryptedSessionKey] = []
        var skesks: [SymmetricKeyEncryptedSessionKey] = []
        var encrypted: Packet?
        for packet in try PacketFraming.packets(message) {
            switch packet.tag {
            case .publicKeyEncryptedSessionKey:
                if let pkesk = try? packet.parse({ (reader: inout WireReader) throws(WireError) in
                    try PublicKeyEncryptedSessionKey.read(&reader)
                }) {
                    pkesks.append(pkesk)
                }
            case .symmetricKeyEncryptedSessionKey:
                if let skesk = try? packet.parse({ (reader: inout WireReader) throws(WireError) in
                    try SymmetricKeyEncryptedSessionKey.read(&reader)
                }) {
                    skesks.append(skesk)
                }
            case .marker, .padding:
                continue
            case .symmetricallyEncryptedIntegrityProtectedData:
                guard encrypted == nil else { throw .wrongKind("more than one encrypted data packet") }
                encrypted = packet
            case .symmetricallyEncryptedData:
                throw .rejected("the message is encrypted without integrity protection; refusing it")
            case .aeadEncryptedData:
                throw .unsupported("the pre-standard AEAD encrypted data packet (LibrePGP OCB)")
            default:
                throw .wrongKind("not an encrypted message: found a packet of type \(packet.tagValue)")
            }
        }
        guard let encrypted else { throw .wrongKind("not an encrypted message: no encrypted data packet") }
        let v2Algorithm = EncryptedData.v2Algorithm(encrypted.body)

        var candidates = sessionKeys
        for key in keys {
            for usable in key.allSecretKeys {
                guard let secret = usable.secret else { continue }
                for pkesk in pkesks where pkesk.isAddressed(to: usable.key) {
                    if let sessionKey = try? pkesk.decrypt(with: usable.key, secret: secret, symmetric: v2Algorithm) {
                        candidates.append(sessionKey)
                    }
                }
            }
        }
        for password in passwords {
            for skesk in skesks {
                if let sessionKey = try? skesk.decrypt(password: password) { candidates.append(sessionKey) }
            }
        }
        for sessionKey in candidates {
            let inner: [UInt8]
            do {
                if encrypted.body.first == 2 {
                    inner = try EncryptedData.openV2(encrypted.body, sessionKey: sessionKey).plaintext
                } else {
                    inner = try EncryptedData.openV1(encrypted.body, sessionKey: sessionKey)
                }
            } catch .unsupported(let what) {
                throw .unsupported(what)
            } catch {
                continue
            }
            let (plaintext, verifications) = try readContent(inner, verifyWith: verifyWith, now: now, depth: 0)
            return DecryptedMessage(plaintext: plaintext, sessionKey: sessionKey, verifications: verifications)
        }
        throw .rejected("no key, password or session key given opens this message")
    }

    /// The literal data of a decrypted or signed message, with the verified signatures.
    static func readContent(
        _ bytes: [UInt8], verifyWith: [Certificate], now: UInt32, depth: Int
    ) throws(OpenPGPError) -> (plaintext: [UInt8], verifications: [Verification]) {
        let (literal, signatures) = try readSigned(bytes, depth: depth)
        let verifications = DetachedSignatures.verify(
            literal, signatures: signatures, certificates: verifyWith, now: now)
        return (literal, verifications)
    }

    /// The literal data of a signed message and the signatures over it, in whichever order
    /// they come (one-pass signed or signatures first), decompressing on the way.
    static func readSigned(_ bytes: [UInt8], depth: Int) throws(OpenPGPError) -> (
        literal: [UInt8], signatures: [Signature]
    ) {
        var literal: [UInt8]?
        var signatures: [Signature] = []
        for packet in try PacketFraming.packets(bytes) {
            switch packet.tag {
            case .compressedData:
                guard depth < 4 else { throw .rejected("compressed data nested too deeply") }
                return try readSigned(try decompress(packet), depth: depth + 1)
            case .onePassSignature, .marker, .padding:
                continue
            case .literalData:
                guard literal == nil else { throw .wrongKind("more than one literal data packet") }
                literal = try packet.parse { (reader: inout WireReader) throws(WireError) in
                    _ = try reader.readUInt8()
                    _ = try reader.readLengthPrefixed(.uint8)
                    _ = try reader.readUInt32()
                    return Array(reader.readRemainingBytes())
                }
            case .signature:
                if let version = packet.body.first, version == 4 || version == 6 {
                    signatures.append(try Signature.parse(packet.body))
                }
            default:
                throw .wrongKind("unexpected packet of type \(packet.tagValue) in the message")
            }
        }
        guard let literal else { throw .wrongKind("the message has no literal data") }
        return (literal, signatures)
    }

    /// An inline-signed message: one-pass signatures, the literal data, the signatures.
    public static func inlineSign(
        _ data: [UInt8], mode: SignatureMode, signers: [Certificate], at time: UInt32
    ) throws(OpenPGPError) -> [UInt8] {
        PacketFraming.encode(try signedLiteral(data, mode: mode, signers: signers, at: time))
    }

    /// The data of an inline-signed message and the signatures over it.
    public static func inlineDetach(_ message: [UInt8]) throws(OpenPGPError) -> (data: [UInt8], signatures: [Signature])
    {
        let content = try readSigned(message, depth: 0)
        return (content.literal, content.signatures)
    }

    private static func decompress(_ packet: Packet) throws(OpenPGPError) -> [UInt8] {
        guard let algorithm = packet.body.first else { throw .wrongKind("empty compressed data packet") }
        let data = Array(packet.body.dropFirst())
        do {
            switch algorithm {
            case 0: return data
            case 1: return try Zlib.inflateRaw(data, limit: decompressionLimit)
            case 2: return try Zlib.inflate(data, limit: decompressionLimit).output
            default: throw OpenPGPError.unsupported("compression algorithm \(algorithm)")
            }
        } catch let failure as Zlib.Failure {
            throw .rejected("bad compressed data: \(failure.reason)")
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("bad compressed data")
        }
    }
}

/// Text with every line ending as CRLF.
func crlfText(_ data: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(data.count + data.count / 32)
    var previous: UInt8 = 0
    for byte in data {
        if byte == 0x0A, previous != 0x0D { output.append(0x0D) }
        output.append(byte)
        previous = byte
    }
    return output
}
