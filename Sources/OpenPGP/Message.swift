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

    /// Encrypts to certificates and passwords, optionally signed inside the encryption and
    /// optionally compressed (the signed packets inside the compressed one).
    public static func encrypt(
        _ plaintext: [UInt8], mode: SignatureMode = .binary, recipients: [Certificate], passwords: [[UInt8]] = [],
        signers: [Certificate] = [], profile: EncryptionProfile = .rfc9580, compression: MessageCompression = .none,
        at time: UInt32
    ) throws(OpenPGPError) -> [UInt8] {
        let plan = try plan(recipients: recipients, passwords: passwords, profile: profile, at: time)
        var packets = plan.sessionKeyPackets
        let sessionKey = plan.sessionKey
        let useV2 = plan.useV2
        var signer = try InlineSigner(keys: signers, mode: mode, compression: compression, at: time)
        let inner = try signer.update(plaintext[...]) + signer.finish()
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

    /// Decrypts with secret keys, passwords or known session keys, and verifies the signatures
    /// inside against `verifyWith`. Plaintext is released only after its integrity check. This is
    /// `MessageDecryptor` fed the whole message.
    public static func decrypt(
        _ message: [UInt8], keys: [Certificate] = [], passwords: [[UInt8]] = [], sessionKeys: [SessionKey] = [],
        verifyWith: [Certificate] = [], now: UInt32
    ) throws(OpenPGPError) -> DecryptedMessage {
        var decryptor = MessageDecryptor(
            keys: keys, passwords: passwords, sessionKeys: sessionKeys, verifyWith: verifyWith, now: now)
        var plaintext: [UInt8] = []
        try decryptor.update(message[...]) { piece, _ in plaintext += piece }
        let result = try decryptor.finish { piece, _ in plaintext += piece }
        return DecryptedMessage(
            plaintext: plaintext, sessionKey: result.sessionKey, verifications: result.verifications)
    }

    /// An inline-signed message: one-pass signatures, the literal data, the signatures.
    public static func inlineSign(
        _ data: [UInt8], mode: SignatureMode, signers: [Certificate], compression: MessageCompression = .none,
        at time: UInt32
    ) throws(OpenPGPError) -> [UInt8] {
        var signer = try InlineSigner(keys: signers, mode: mode, compression: compression, at: time)
        return try signer.update(data[...]) + signer.finish()
    }

    /// The data of an inline-signed message and the signatures over it. This is
    /// `SignedMessageReader` fed the whole message.
    public static func inlineDetach(_ message: [UInt8]) throws(OpenPGPError) -> (data: [UInt8], signatures: [Signature])
    {
        var reader = SignedMessageReader()
        var data: [UInt8] = []
        try reader.update(message[...]) { data += $0 }
        let signatures = try reader.finish { data += $0 }
        return (data, signatures)
    }
}

/// An inline-signed message written while its data is still arriving: one-pass signatures, the
/// literal data in partial body lengths, then the signatures. With `compression`, all of them go
/// inside one compressed data packet, as GnuPG writes it; with no signers, only the literal data.
public struct InlineSigner {
    private var signer: DetachedSigner?
    private var literal = PartialPacketWriter(.literalData)
    private var compressor: CompressedPacketWriter?
    private var crlf: CRLFConverter?
    private var started = false
    private let mode: SignatureMode

    public init(
        keys: [Certificate], mode: SignatureMode, compression: MessageCompression = .none, at time: UInt32
    ) throws(OpenPGPError) {
        signer = keys.isEmpty ? nil : try DetachedSigner(keys: keys, mode: mode, at: time)
        self.mode = mode
        compressor = CompressedPacketWriter(compression)
        // Text is stored with CRLF line endings, as RFC 9580 says text is: GnuPG 2.2 hashes the
        // stored bytes of a text signature as they are and reports LF-only text as a bad signature.
        if mode == .text { crlf = CRLFConverter() }
    }

    /// Takes data; returns the message bytes that are ready.
    public mutating func update(_ data: ArraySlice<UInt8>) throws(OpenPGPError) -> [UInt8] {
        var output: [UInt8] = []
        try update(data, into: &output)
        return output
    }

    /// Takes data; appends the message bytes that are ready to `output`.
    mutating func update(_ data: ArraySlice<UInt8>, into output: inout [UInt8]) throws(OpenPGPError) {
        guard compressor != nil else { return try packets(data, into: &output) }
        var uncompressed: [UInt8] = []
        try packets(data, into: &uncompressed)
        output += compress(uncompressed)
    }

    /// Ends the literal data and writes the signatures.
    public mutating func finish() throws(OpenPGPError) -> [UInt8] {
        var output: [UInt8] = []
        try packets([][...], into: &output)
        output += literal.finish()
        if let signer { output += PacketFraming.encode(try signer.finish().reversed().map(\.packet)) }
        // Optional chaining mutates the compressor in place; a copy would copy its window.
        guard let compressed = compressor?.update(output[...]) else { return output }
        return compressed + (compressor?.finish() ?? [])
    }

    private mutating func compress(_ packets: [UInt8]) -> [UInt8] {
        compressor?.update(packets[...]) ?? packets
    }

    /// Appends the packets (uncompressed) that `data` completes.
    private mutating func packets(_ data: ArraySlice<UInt8>, into output: inout [UInt8]) throws(OpenPGPError) {
        if !started {
            started = true
            // One-pass signature packets need the signatures' salts, which are fixed when the
            // signer is made, so a throwaway signature over nothing gives them.
            if let signer { output += PacketFraming.encode(Messages.onePassSignatures(for: try signer.finish())) }
            literal.update([mode == .text ? 0x75 : 0x62, 0, 0, 0, 0, 0][...], into: &output)
        }
        let stored = crlf.map { converter in
            var converter = converter
            defer { crlf = converter }
            return converter.convert(data)
        }
        let bytes = stored.map { $0[...] } ?? data
        try signer?.update(bytes)
        literal.update(bytes, into: &output)
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
