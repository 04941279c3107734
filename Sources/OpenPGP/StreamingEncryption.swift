import Wire

/// A packet written while its body is still arriving: partial body lengths of 64 KiB, then a
/// definite length for the rest (RFC 9580 section 4.2.1.4).
struct PartialPacketWriter {
    private static let pieceExponent = 16
    private let tag: PacketTag
    private var pending: [UInt8] = []
    private var startedOutput = false

    init(_ tag: PacketTag) {
        self.tag = tag
        pending.reserveCapacity(1 << Self.pieceExponent)
    }

    /// Takes body bytes; returns the framed bytes that are ready.
    mutating func update(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        update(body, into: &output)
        return output
    }

    /// Takes body bytes; appends the framed bytes that are ready to `output`. Each byte is
    /// copied once, straight from `body`, except those held back for the next piece.
    mutating func update(_ body: ArraySlice<UInt8>, into output: inout [UInt8]) {
        let pieceSize = 1 << Self.pieceExponent
        // Keep at least one byte back, so the packet always ends with a definite length.
        guard pending.count + body.count > pieceSize else {
            pending += body
            return
        }
        if !startedOutput {
            output.append(0xC0 | tag.rawValue)
            startedOutput = true
        }
        var rest = body
        if !pending.isEmpty {
            let fill = pieceSize - pending.count
            output.append(0xE0 | UInt8(Self.pieceExponent))
            output += pending
            output += rest.prefix(fill)
            rest = rest.dropFirst(fill)
            pending.removeAll(keepingCapacity: true)
        }
        while rest.count > pieceSize {
            output.append(0xE0 | UInt8(Self.pieceExponent))
            output += rest.prefix(pieceSize)
            rest = rest.dropFirst(pieceSize)
        }
        pending += rest
    }

    mutating func finish() -> [UInt8] {
        var writer = WireWriter(capacity: pending.count + 6)
        if !startedOutput { writer.write(0xC0 | tag.rawValue) }
        PacketFraming.writeLength(pending.count, into: &writer)
        writer.write(bytes: pending)
        pending = []
        return writer.bytes
    }
}

/// Whether the data inside a message is compressed, and how (RFC 9580 section 5.6). Writers
/// default to `.none`: RFC 9580 advises against compressing by default, since what compresses
/// well can leak through the length of the message.
public enum MessageCompression: String, Sendable, CaseIterable {
    /// No compressed data packet.
    case none
    /// Algorithm 1, ZIP: raw DEFLATE (RFC 1951), what GnuPG writes by default.
    case zip
    /// Algorithm 2, ZLIB: DEFLATE in the zlib wrapper with its Adler-32 (RFC 1950).
    case zlib

    /// The algorithm octet of the compressed data packet, nil for `.none`.
    public var algorithm: UInt8? {
        switch self {
        case .none: return nil
        case .zip: return 1
        case .zlib: return 2
        }
    }
}

/// A compressed data packet written while its contents are still arriving: the algorithm octet,
/// then DEFLATE output in partial body lengths. Memory stays bounded by the compressor's window
/// and the 64 KiB pieces.
struct CompressedPacketWriter {
    private var deflater: Deflater
    private var packet = PartialPacketWriter(.compressedData)

    /// Nil for `.none`.
    init?(_ compression: MessageCompression) {
        switch compression {
        case .none: return nil
        case .zip: deflater = Deflater(format: .raw)
        case .zlib: deflater = Deflater(format: .zlib)
        }
        // One byte stays below the piece size, so this writes nothing yet.
        _ = packet.update([compression.algorithm ?? 0][...])
    }

    /// Takes packets to compress; returns the framed bytes that are ready.
    mutating func update(_ packets: ArraySlice<UInt8>) -> [UInt8] {
        let compressed = deflater.update(packets)
        return compressed.isEmpty ? [] : packet.update(compressed[...])
    }

    /// Ends the DEFLATE stream and the packet.
    mutating func finish() -> [UInt8] {
        packet.update(deflater.finish()[...]) + packet.finish()
    }
}

/// Text with every line ending as CRLF, for data that arrives in pieces.
struct CRLFConverter {
    private var previous: UInt8 = 0

    mutating func convert(_ data: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count + data.count / 32)
        for byte in data {
            if byte == 0x0A, previous != 0x0D { output.append(0x0D) }
            output.append(byte)
            previous = byte
        }
        return output
    }
}

/// The encryption layer of a message being written: SEIPD v1 (CFB with a running MDC) or v2
/// (AEAD chunks), taking plaintext in pieces and handing back the packet body in pieces.
private enum SealingState {
    case v1(cfb: CFBStream, mdc: Digest)
    case v2(key: [UInt8], iv: [UInt8], mode: AEADMode, header: [UInt8], chunk: [UInt8], index: UInt64, total: UInt64)
}

/// Encrypts a message whose plaintext arrives in pieces: memory stays bounded by the piece and
/// chunk sizes, whatever the length of the message. The output is the same kind of message
/// `Messages.encrypt` writes, with partial body lengths. With `compression`, what is encrypted
/// is one compressed data packet holding the one-pass signatures, literal data and signatures,
/// as GnuPG writes it.
public struct MessageEncryptor {
    private var state: SealingState
    private var outer = PartialPacketWriter(.symmetricallyEncryptedIntegrityProtectedData)
    private var inner: InlineSigner
    private var header: [UInt8]
    private var plaintextPackets: [UInt8] = []
    private var ciphertextBuffer: [UInt8] = []

    public init(
        recipients: [Certificate], passwords: [[UInt8]] = [], signers: [Certificate] = [],
        mode: SignatureMode = .binary, profile: EncryptionProfile = .rfc9580, compression: MessageCompression = .none,
        at time: UInt32
    ) throws(OpenPGPError) {
        let plan = try Messages.plan(recipients: recipients, passwords: passwords, profile: profile, at: time)
        inner = try InlineSigner(keys: signers, mode: mode, compression: compression, at: time)
        header = PacketFraming.encode(plan.sessionKeyPackets)
        let sessionKey = plan.sessionKey
        if plan.useV2 {
            let salt = randomBytes(32)
            let packetHeader: [UInt8] = [
                0xD2, 2, sessionKey.algorithm.rawValue, AEADMode.ocb.rawValue, EncryptedData.chunkSizeOctet,
            ]
            let (key, iv) = EncryptedData.v2Keys(sessionKey: sessionKey, mode: .ocb, salt: salt, header: packetHeader)
            state = .v2(key: key, iv: iv, mode: .ocb, header: packetHeader, chunk: [], index: 0, total: 0)
            header += outer.update((Array(packetHeader.dropFirst()) + salt)[...])
        } else {
            var prefix = randomBytes(16)
            prefix += prefix.suffix(2)
            var cfb = CFBStream(key: sessionKey.key, decrypting: false)
            var mdc = Digest(.sha1)
            mdc.update(prefix)
            var encryptedPrefix: [UInt8] = []
            try cfb.update(prefix[...], into: &encryptedPrefix)
            state = .v1(cfb: cfb, mdc: mdc)
            header += outer.update([1][...])
            outer.update(encryptedPrefix[...], into: &header)
        }
    }

    /// Takes plaintext; returns the message bytes that are ready.
    public mutating func update(_ data: ArraySlice<UInt8>) throws(OpenPGPError) -> [UInt8] {
        var output: [UInt8] = []
        try update(data, into: &output)
        return output
    }

    /// Takes plaintext; appends the message bytes that are ready to `output`, so that a caller
    /// can reuse one buffer for the whole message.
    public mutating func update(_ data: ArraySlice<UInt8>, into output: inout [UInt8]) throws(OpenPGPError) {
        output += header
        header = []
        // The literal packets go through one buffer, reused from piece to piece.
        var packets = plaintextPackets
        plaintextPackets = []
        packets.removeAll(keepingCapacity: true)
        try inner.update(data, into: &packets)
        try seal(packets[...], final: false, into: &output)
        plaintextPackets = packets
    }

    /// Ends the message: the rest of the literal data, the signatures, the integrity check.
    public mutating func finish() throws(OpenPGPError) -> [UInt8] {
        var output = header
        header = []
        try seal(try inner.finish()[...], final: true, into: &output)
        output += outer.finish()
        return output
    }

    private mutating func seal(_ plaintext: ArraySlice<UInt8>, final: Bool, into output: inout [UInt8])
        throws(OpenPGPError)
    {
        switch state {
        case .v1(var cfb, var mdc):
            mdc.update(plaintext)
            var ciphertext = ciphertextBuffer
            ciphertextBuffer = []
            ciphertext.removeAll(keepingCapacity: true)
            try cfb.update(plaintext, into: &ciphertext)
            if final {
                mdc.update([0xD3, 0x14])
                try cfb.update(([0xD3, 0x14] + mdc.finalize())[...], final: true, into: &ciphertext)
            }
            state = .v1(cfb: cfb, mdc: mdc)
            outer.update(ciphertext[...], into: &output)
            ciphertextBuffer = ciphertext
        case .v2(let key, let iv, let mode, let header, var chunk, var index, var total):
            // The state lets go of the chunk first, or appending to it would copy it each time.
            state = .v2(key: key, iv: iv, mode: mode, header: header, chunk: [], index: index, total: total)
            let chunkSize = 1 << (Int(EncryptedData.chunkSizeOctet) + 6)
            var rest = plaintext
            while !rest.isEmpty {
                let take = min(chunkSize - chunk.count, rest.count)
                chunk += rest.prefix(take)
                rest = rest.dropFirst(take)
                if chunk.count == chunkSize {
                    outer.update(
                        try AEAD.seal(
                            mode, key: key, nonce: iv + bigEndian64(index), associatedData: header, plaintext: chunk)[
                                ...], into: &output)
                    total += UInt64(chunk.count)
                    index += 1
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if final {
                if !chunk.isEmpty {
                    outer.update(
                        try AEAD.seal(
                            mode, key: key, nonce: iv + bigEndian64(index), associatedData: header, plaintext: chunk)[
                                ...], into: &output)
                    total += UInt64(chunk.count)
                    index += 1
                    chunk = []
                }
                outer.update(
                    try AEAD.seal(
                        mode, key: key, nonce: iv + bigEndian64(index), associatedData: header + bigEndian64(total),
                        plaintext: [])[...], into: &output)
            }
            state = .v2(key: key, iv: iv, mode: mode, header: header, chunk: chunk, index: index, total: total)
        }
    }
}
