import Crypto
import Wire

/// Packet framing read as the bytes arrive (RFC 9580 section 4.2): old and new headers, partial
/// body lengths and the old format's indeterminate length, with bodies handed on in pieces so that
/// no packet has to be held whole. Errors carry the absolute offset in the stream.
struct PacketStream {
    enum Event {
        case start(tag: UInt8)
        case body(ArraySlice<UInt8>)
        case end
    }

    private enum State {
        case header
        case oldLength(needed: Int)
        case newLength
        case body(remaining: Int, partial: Bool)
        case toEnd
    }

    private var state = State.header
    private var lengthBytes: [UInt8] = []
    private var tag: UInt8 = 0
    /// The absolute offset of the next byte.
    private(set) var offset = 0

    var isAtPacketBoundary: Bool {
        if case .header = state { return true }
        return false
    }

    mutating func update(_ bytes: ArraySlice<UInt8>) throws(OpenPGPError) -> [Event] {
        var events: [Event] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .body(let remaining, let partial):
                let take = min(remaining, bytes.endIndex - index)
                events.append(.body(bytes[index..<(index + take)]))
                index += take
                offset += take
                if take < remaining {
                    state = .body(remaining: remaining - take, partial: partial)
                } else if partial {
                    lengthBytes.removeAll()
                    state = .newLength
                } else {
                    events.append(.end)
                    state = .header
                }
            case .toEnd:
                events.append(.body(bytes[index...]))
                offset += bytes.endIndex - index
                index = bytes.endIndex
            case .header:
                let byte = bytes[index]
                guard byte & 0x80 != 0 else {
                    throw .malformed(
                        WireError(
                            offset: offset, kind: .invalid("packet header without its high bit (not OpenPGP data)")))
                }
                index += 1
                offset += 1
                lengthBytes.removeAll()
                if byte & 0x40 == 0 {
                    tag = (byte >> 2) & 0x0F
                    events.append(.start(tag: tag))
                    switch byte & 0x03 {
                    case 0: state = .oldLength(needed: 1)
                    case 1: state = .oldLength(needed: 2)
                    case 2: state = .oldLength(needed: 4)
                    default: state = .toEnd
                    }
                } else {
                    tag = byte & 0x3F
                    events.append(.start(tag: tag))
                    state = .newLength
                }
            case .oldLength(let needed):
                lengthBytes.append(bytes[index])
                index += 1
                offset += 1
                if lengthBytes.count == needed {
                    let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
                    startBody(length, partial: false, &events)
                }
            case .newLength:
                lengthBytes.append(bytes[index])
                index += 1
                offset += 1
                let first = Int(lengthBytes[0])
                switch first {
                case 0..<192:
                    startBody(first, partial: false, &events)
                case 192..<224:
                    guard lengthBytes.count == 2 else { continue }
                    startBody((first - 192) << 8 + Int(lengthBytes[1]) + 192, partial: false, &events)
                case 255:
                    guard lengthBytes.count == 5 else { continue }
                    startBody(lengthBytes.dropFirst().reduce(0) { $0 << 8 | Int($1) }, partial: false, &events)
                default:
                    guard PacketTag(rawValue: tag)?.allowsPartialLengths == true else {
                        throw .malformed(
                            WireError(
                                offset: offset - 1, kind: .invalid("partial body length in a packet of type \(tag)")))
                    }
                    startBody(1 << (first & 0x1F), partial: true, &events)
                }
            }
        }
        return events
    }

    private mutating func startBody(_ length: Int, partial: Bool, _ events: inout [Event]) {
        if length == 0, !partial {
            events.append(.end)
            state = .header
        } else {
            state = .body(remaining: length, partial: partial)
        }
    }

    /// The end of the input: only at a packet boundary, or inside an indeterminate-length packet.
    mutating func finish() throws(OpenPGPError) -> [Event] {
        switch state {
        case .header:
            return []
        case .toEnd:
            state = .header
            return [.end]
        case .body(let remaining, _):
            throw .malformed(WireError(offset: offset, kind: .truncated(needed: remaining, available: 0)))
        case .oldLength, .newLength:
            throw .malformed(WireError(offset: offset, kind: .truncated(needed: 1, available: 0)))
        }
    }
}

/// What the literal data of a message is checked against: one-pass signatures before it say how
/// to hash it, signatures placed before it say so themselves, and the signatures after it are
/// matched to the hashes made on the way.
struct SignedContent {
    /// How one signature hashes data: matching signatures share one running hash.
    struct HashSpec: Equatable {
        let hash: HashAlgorithm
        let salt: [UInt8]
        let mode: SignatureMode

        init?(hash: UInt8, type: UInt8, salt: [UInt8]) {
            guard let algorithm = HashAlgorithm(rawValue: hash), algorithm != .sha1 else { return nil }
            switch SignatureType(rawValue: type) {
            case .binary: mode = .binary
            case .text: mode = .text
            default: return nil
            }
            self.hash = algorithm
            self.salt = salt
        }

        init?(_ signature: Signature) {
            self.init(
                hash: signature.hashAlgorithmValue, type: signature.typeValue,
                salt: signature.version == 6 ? signature.salt : [])
        }

        /// From a one-pass signature packet (RFC 9580 section 5.4), v3 or v6.
        init?(onePass body: [UInt8]) {
            var reader = WireReader(body)
            guard let version = try? reader.readUInt8(), version == 3 || version == 6,
                let type = try? reader.readUInt8(), let hash = try? reader.readUInt8(),
                (try? reader.readUInt8()) != nil
            else { return nil }
            var salt: [UInt8] = []
            if version == 6 {
                guard var saltReader = try? reader.readLengthPrefixed(.uint8) else { return nil }
                salt = Array(saltReader.readRemainingBytes())
            }
            self.init(hash: hash, type: type, salt: salt)
        }

        func hasher() -> CanonicalHasher {
            var digest = Digest(hash)
            if !salt.isEmpty { digest.update(salt) }
            return CanonicalHasher(digest, mode: mode)
        }
    }

    enum LiteralState {
        case notYet
        case reading
        case done
    }

    var onePass: [HashSpec] = []
    var signatures: [Signature] = []
    var literal = LiteralState.notYet
    let decompressionLimit: Int
    private var specs: [HashSpec] = []
    private var hashers: [CanonicalHasher] = []

    init(decompressionLimit: Int) {
        self.decompressionLimit = decompressionLimit
    }

    /// The literal data starts: one running hash per distinct way of hashing it.
    mutating func startLiteral() {
        literal = .reading
        for spec in onePass + signatures.compactMap(HashSpec.init) where !specs.contains(spec) {
            specs.append(spec)
            hashers.append(spec.hasher())
        }
    }

    mutating func hash(_ data: ArraySlice<UInt8>) {
        for index in hashers.indices { hashers[index].update(data) }
    }

    /// Every signature that a key of `certificates` made over the literal data.
    func verifications(
        certificates: [Certificate], notBefore: UInt32 = 0, notAfter: UInt32 = .max, now: UInt32
    ) -> [Verification] {
        let matched = signatures.map { signature in
            HashSpec(signature).flatMap { spec in specs.firstIndex(of: spec).map { hashers[$0] } }
        }
        return DetachedVerifier(signatures: signatures, hashers: matched).finish(
            certificates: certificates, notBefore: notBefore, notAfter: notAfter, now: now)
    }
}

/// The packets inside an encrypted or signed message, read as they arrive: compressed data is
/// inflated in bounded pieces, the literal data is hashed and handed to `output`, signatures are
/// collected.
struct ContentReader {
    private enum Current {
        case idle
        case skip
        case buffered(PacketTag, [UInt8])
        case literalHeader([UInt8])
        case literalData
        case compressedStart
        case compressed
    }

    /// Signature and one-pass signature packets beyond this size are refused.
    static let packetLimit = 1 << 20
    private var packets = PacketStream()
    private var current = Current.idle
    private let depth: Int
    /// The reader of the compressed packet's contents (at most one; an array so that the type
    /// can contain itself).
    private var nested: [ContentReader] = []
    private var decompressor: Decompressor?

    init(depth: Int = 0) {
        self.depth = depth
    }

    mutating func update(
        _ bytes: ArraySlice<UInt8>, _ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void
    ) throws(OpenPGPError) {
        for event in try packets.update(bytes) { try handle(event, &content, output) }
    }

    mutating func finish(_ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void) throws(OpenPGPError) {
        for event in try packets.finish() { try handle(event, &content, output) }
    }

    private mutating func handle(
        _ event: PacketStream.Event, _ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void
    ) throws(OpenPGPError) {
        switch event {
        case .start(let tagValue):
            switch PacketTag(rawValue: tagValue) {
            case .compressedData:
                guard depth < 4 else { throw .rejected("compressed data nested too deeply") }
                current = .compressedStart
            case .onePassSignature: current = .buffered(.onePassSignature, [])
            case .signature: current = .buffered(.signature, [])
            case .marker, .padding: current = .skip
            case .literalData:
                guard case .notYet = content.literal else { throw .wrongKind("more than one literal data packet") }
                current = .literalHeader([])
            default:
                throw .wrongKind("unexpected packet of type \(tagValue) in the message")
            }
        case .body(let bytes):
            try take(bytes, &content, output)
        case .end:
            try endPacket(&content, output)
            current = .idle
        }
    }

    private mutating func take(
        _ bytes: ArraySlice<UInt8>, _ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void
    ) throws(OpenPGPError) {
        switch current {
        case .idle, .skip:
            return
        case .buffered(let tag, var body):
            guard body.count + bytes.count <= Self.packetLimit else {
                throw .unsupported("a packet of type \(tag.rawValue) larger than \(Self.packetLimit) bytes")
            }
            current = .idle
            body += bytes
            current = .buffered(tag, body)
        case .literalHeader(var header):
            header += bytes
            // Format, file name (length-prefixed), date; then the data.
            guard header.count >= 2, header.count >= 2 + Int(header[1]) + 4 else {
                current = .literalHeader(header)
                return
            }
            current = .literalData
            content.startLiteral()
            let data = header[(2 + Int(header[1]) + 4)...]
            content.hash(data)
            output(data)
        case .literalData:
            content.hash(bytes)
            output(bytes)
        case .compressedStart:
            guard let algorithm = bytes.first else { return }
            switch algorithm {
            case 0: decompressor = nil
            case 1: decompressor = .inflate(Zlib.Inflater(format: .raw, limit: content.decompressionLimit))
            case 2: decompressor = .inflate(Zlib.Inflater(format: .zlib, limit: content.decompressionLimit))
            case 3: decompressor = .bzip2(BZip2.Decoder(limit: content.decompressionLimit))
            default: throw .unsupported("compression algorithm \(algorithm)")
            }
            nested = [ContentReader(depth: depth + 1)]
            current = .compressed
            try take(bytes.dropFirst(), &content, output)
        case .compressed:
            guard !nested.isEmpty else { return }
            guard var decompressor else {
                try nested[0].update(bytes, &content, output)
                return
            }
            decompressor.append(bytes)
            try drain(&decompressor, &content, output)
            self.decompressor = decompressor
        }
    }

    private mutating func drain(
        _ decompressor: inout Decompressor, _ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void
    ) throws(OpenPGPError) {
        guard !nested.isEmpty else { return }
        while true {
            let piece = try decompressor.read()
            guard !piece.isEmpty else { return }
            try nested[0].update(piece[...], &content, output)
        }
    }

    private mutating func endPacket(
        _ content: inout SignedContent, _ output: (ArraySlice<UInt8>) -> Void
    ) throws(OpenPGPError) {
        switch current {
        case .idle, .skip:
            return
        case .buffered(.onePassSignature, let body):
            if case .notYet = content.literal, let spec = SignedContent.HashSpec(onePass: body) {
                content.onePass.append(spec)
            }
        case .buffered(_, let body):
            if let version = body.first, version == 4 || version == 6 {
                content.signatures.append(try Signature.parse(body))
            }
        case .literalHeader:
            throw .malformed(
                WireError(offset: packets.offset, kind: .invalid("the literal data packet ends inside its header")))
        case .literalData:
            content.literal = .done
        case .compressedStart:
            throw .wrongKind("empty compressed data packet")
        case .compressed:
            guard !nested.isEmpty else { return }
            if var decompressor {
                try drain(&decompressor, &content, output)
                let rest = try decompressor.finish()
                if !rest.isEmpty { try nested[0].update(rest[...], &content, output) }
            }
            try nested[0].finish(&content, output)
            nested = []
        }
    }
}

/// The signed contents of a message that is not encrypted (an inline-signed message, possibly
/// compressed), read as it arrives: the literal data goes to `output` and is hashed on the way,
/// so verifying it needs no more memory than a piece.
public struct SignedMessageReader {
    private var reader = ContentReader()
    private var content: SignedContent

    public init(decompressionLimit: Int = Messages.decompressionLimit) {
        content = SignedContent(decompressionLimit: decompressionLimit)
    }

    /// Takes binary message bytes; hands on literal data as it is read. Nothing here is
    /// verified until `finish` and `verifications`.
    public mutating func update(_ bytes: ArraySlice<UInt8>, output: (ArraySlice<UInt8>) -> Void) throws(OpenPGPError) {
        try reader.update(bytes, &content, output)
    }

    /// Ends the message; returns its signatures.
    public mutating func finish(output: (ArraySlice<UInt8>) -> Void) throws(OpenPGPError) -> [Signature] {
        try reader.finish(&content, output)
        guard case .done = content.literal else { throw .wrongKind("the message has no literal data") }
        return content.signatures
    }

    /// After `finish`: the signatures by keys of `certificates` that are good over the data.
    public func verifications(
        certificates: [Certificate], notBefore: UInt32 = 0, notAfter: UInt32 = .max, now: UInt32
    ) -> [Verification] {
        content.verifications(certificates: certificates, notBefore: notBefore, notAfter: notAfter, now: now)
    }
}

/// Whether plaintext handed out by `MessageDecryptor` is authenticated yet.
public enum PlaintextIntegrity: Sendable, Equatable {
    /// From a SEIPD v2 chunk whose tag has been checked: it may be released at once. (A later
    /// chunk or the final tag can still fail, which `finish` reports.)
    case verified
    /// From SEIPD v1, whose modification detection code comes at the very end: hold it (on disk,
    /// not in memory, if it is large) until `finish` returns, and discard it if anything throws.
    case pending
}

/// What a finished decryption tells besides the plaintext.
public struct DecryptionResult: Sendable {
    public let sessionKey: SessionKey
    /// Signatures inside by keys of the `verifyWith` certificates that are good.
    public let verifications: [Verification]
}

/// Decrypts a message whose bytes arrive in pieces, in memory bounded by the piece, the AEAD
/// chunk (at most 4 MiB) and the 32 KiB inflate window, whatever the message's length. It reads
/// the PKESK and SKESK packets, finds the session key when the encrypted packet starts, and hands
/// plaintext to `output` as it is decrypted, each piece marked `verified` (a checked SEIPD v2
/// chunk) or `pending` (SEIPD v1 before its MDC). `Messages.decrypt` is this, fed all at once.
public struct MessageDecryptor {
    private enum Phase {
        case sessionKeyPackets
        case encryptedHeader([UInt8])
        case v1(V1)
        case v2(V2)
        case after
    }

    /// SEIPD v1: CFB continued from the last ciphertext block, the last 22 bytes of plaintext
    /// (where the MDC may be) held back, the MDC hashed as the plaintext passes.
    private struct V1 {
        let sessionKey: SessionKey
        var cfb: CFBStream
        /// The plaintext of the latest piece, one buffer reused from piece to piece.
        var plaintext: [UInt8] = []
        var prefixLeft = 18
        var tail: [UInt8] = []
        var mdc = Digest(.sha1)
    }

    /// SEIPD v2: sealed chunks buffered until a whole one is known not to be the last.
    private struct V2 {
        let header: [UInt8]
        let mode: AEADMode
        let sealedChunk: Int
        var candidates: [(SessionKey, key: [UInt8], iv: [UInt8])]
        var chosen: (SessionKey, key: [UInt8], iv: [UInt8])?
        var buffer: [UInt8] = []
        var index: UInt64 = 0
        var total: UInt64 = 0
    }

    private enum OuterPacket {
        case none
        case skip
        case pkesk([UInt8])
        case skesk([UInt8])
        case encrypted
    }

    private let keys: [Certificate]
    private let passwords: [[UInt8]]
    private let sessionKeys: [SessionKey]
    private let verifyWith: [Certificate]
    private let now: UInt32
    private var outer = PacketStream()
    private var packet = OuterPacket.none
    private var phase = Phase.sessionKeyPackets
    private var pkesks: [PublicKeyEncryptedSessionKey] = []
    private var skesks: [SymmetricKeyEncryptedSessionKey] = []
    private var reader = ContentReader()
    private var content: SignedContent
    /// A failure of the contents of a SEIPD v1 packet, reported only after the MDC matched, so
    /// that tampering is reported as tampering.
    private var deferred: OpenPGPError?
    private var sessionKey: SessionKey?

    public init(
        keys: [Certificate] = [], passwords: [[UInt8]] = [], sessionKeys: [SessionKey] = [],
        verifyWith: [Certificate] = [], now: UInt32, decompressionLimit: Int = Messages.decompressionLimit
    ) {
        self.keys = keys
        self.passwords = passwords
        self.sessionKeys = sessionKeys
        self.verifyWith = verifyWith
        self.now = now
        content = SignedContent(decompressionLimit: decompressionLimit)
    }

    /// Takes binary message bytes (dearmor first: `ArmorReader`); hands on plaintext.
    public mutating func update(
        _ bytes: ArraySlice<UInt8>, output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) throws(OpenPGPError) {
        for event in try outer.update(bytes) { try handle(event, output) }
    }

    /// Ends the message: checks the final tag or the MDC and the structure, and verifies.
    public mutating func finish(
        output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) throws(OpenPGPError) -> DecryptionResult {
        for event in try outer.finish() { try handle(event, output) }
        switch phase {
        case .sessionKeyPackets: throw .wrongKind("not an encrypted message: no encrypted data packet")
        case .after: break
        default: throw .rejected("the encrypted data is truncated")
        }
        guard let sessionKey else { throw .rejected("no key, password or session key given opens this message") }
        guard case .done = content.literal else { throw .wrongKind("the message has no literal data") }
        return DecryptionResult(
            sessionKey: sessionKey, verifications: content.verifications(certificates: verifyWith, now: now))
    }

    private mutating func handle(
        _ event: PacketStream.Event, _ output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) throws(OpenPGPError) {
        switch event {
        case .start(let tagValue):
            switch PacketTag(rawValue: tagValue) {
            case .publicKeyEncryptedSessionKey: packet = .pkesk([])
            case .symmetricKeyEncryptedSessionKey: packet = .skesk([])
            case .marker, .padding: packet = .skip
            case .symmetricallyEncryptedIntegrityProtectedData:
                guard case .sessionKeyPackets = phase else { throw .wrongKind("more than one encrypted data packet") }
                phase = .encryptedHeader([])
                packet = .encrypted
            case .symmetricallyEncryptedData:
                throw .rejected("the message is encrypted without integrity protection; refusing it")
            case .aeadEncryptedData:
                throw .unsupported("the pre-standard AEAD encrypted data packet (LibrePGP OCB)")
            default:
                throw .wrongKind("not an encrypted message: found a packet of type \(tagValue)")
            }
        case .body(let bytes):
            switch packet {
            case .none, .skip: return
            case .pkesk(var body):
                packet = .none
                body += bytes
                guard body.count <= ContentReader.packetLimit else { throw .unsupported("a PKESK packet over 1 MiB") }
                packet = .pkesk(body)
            case .skesk(var body):
                packet = .none
                body += bytes
                guard body.count <= ContentReader.packetLimit else { throw .unsupported("a SKESK packet over 1 MiB") }
                packet = .skesk(body)
            case .encrypted:
                try decrypt(bytes, output)
            }
        case .end:
            switch packet {
            case .pkesk(let body):
                if case .sessionKeyPackets = phase,
                    let pkesk = try? Packet(.publicKeyEncryptedSessionKey, body: body).parse({
                        (reader: inout WireReader) throws(WireError) in try PublicKeyEncryptedSessionKey.read(&reader)
                    })
                {
                    pkesks.append(pkesk)
                }
            case .skesk(let body):
                if case .sessionKeyPackets = phase,
                    let skesk = try? Packet(.symmetricKeyEncryptedSessionKey, body: body).parse({
                        (reader: inout WireReader) throws(WireError) in
                        try SymmetricKeyEncryptedSessionKey.read(&reader)
                    })
                {
                    skesks.append(skesk)
                }
            case .encrypted:
                try finishEncrypted(output)
            case .none, .skip:
                break
            }
            packet = .none
        }
    }

    /// The session keys to try, in order: given ones, those of PKESKs addressed to our keys, those
    /// of SKESKs that a password opens.
    private func candidates(v2Algorithm: SymmetricAlgorithm?) -> [SessionKey] {
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
        return candidates
    }

    private mutating func decrypt(
        _ bytes: ArraySlice<UInt8>, _ output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) throws(OpenPGPError) {
        switch phase {
        case .sessionKeyPackets, .after:
            return
        case .encryptedHeader(var header):
            phase = .after
            header += bytes
            guard let version = header.first else {
                phase = .encryptedHeader(header)
                return
            }
            switch version {
            case 1:
                guard header.count >= 1 + 18 else {
                    phase = .encryptedHeader(header)
                    return
                }
                let ciphertext = header[1...]
                guard
                    let chosen = candidates(v2Algorithm: nil).first(where: { candidate in
                        guard let prefix = try? cfbDecrypt(ciphertext.prefix(18), key: candidate.key, iv: Self.zeroIV)
                        else { return false }
                        return prefix[14] == prefix[16] && prefix[15] == prefix[17]
                    })
                else { throw .rejected("no key, password or session key given opens this message") }
                sessionKey = chosen
                phase = .v1(V1(sessionKey: chosen, cfb: CFBStream(key: chosen.key, decrypting: true)))
                try decrypt(ciphertext, output)
            case 2:
                guard header.count >= 4 + 32 else {
                    phase = .encryptedHeader(header)
                    return
                }
                guard let algorithm = SymmetricAlgorithm(rawValue: header[1]) else {
                    throw .unsupported("symmetric algorithm \(header[1])")
                }
                guard let mode = AEADMode(rawValue: header[2]) else { throw .unsupported("AEAD mode \(header[2])") }
                guard header[3] <= 16 else { throw .unsupported("chunk size octet \(header[3])") }
                let packetHeader: [UInt8] = [0xD2] + header[0..<4]
                let salt = Array(header[4..<36])
                let keys = candidates(v2Algorithm: algorithm).filter { $0.algorithm == algorithm }.map { candidate in
                    let (key, iv) = EncryptedData.v2Keys(
                        sessionKey: candidate, mode: mode, salt: salt, header: packetHeader)
                    return (candidate, key: key, iv: iv)
                }
                guard !keys.isEmpty else { throw .rejected("no key, password or session key given opens this message") }
                phase = .v2(
                    V2(
                        header: packetHeader, mode: mode, sealedChunk: 1 << (Int(header[3]) + 6) + 16,
                        candidates: keys))
                try decrypt(header[36...], output)
            default:
                throw .unsupported("SEIPD version \(version)")
            }
        case .v1(var state):
            phase = .after
            var plaintext = state.plaintext
            state.plaintext = []
            plaintext.removeAll(keepingCapacity: true)
            plaintext += state.tail
            try state.cfb.update(bytes, into: &plaintext)
            release(plaintext[...], &state, output)
            state.plaintext = plaintext
            phase = .v1(state)
        case .v2(var state):
            phase = .after
            state.buffer += bytes
            var start = 0
            // A sealed chunk is released once more than the final tag follows it.
            while state.buffer.count - start > state.sealedChunk + 16 {
                let plaintext = try open(&state, state.buffer[start..<(start + state.sealedChunk)], final: false)
                start += state.sealedChunk
                try reader.update(plaintext[...], &content) { output($0, .verified) }
            }
            state.buffer.removeFirst(start)
            phase = .v2(state)
        }
    }

    /// SEIPD v1 plaintext: all but the last 22 bytes is hashed for the MDC and, past the 18-byte
    /// prefix, read as the message's contents. `plaintext` starts with the 22 bytes held back
    /// last time.
    private mutating func release(
        _ plaintext: ArraySlice<UInt8>, _ state: inout V1, _ output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) {
        let readyCount = max(0, plaintext.count - 22)
        let ready = plaintext.prefix(readyCount)
        state.mdc.update(ready)
        let skip = min(state.prefixLeft, ready.count)
        state.prefixLeft -= skip
        if deferred == nil, skip < ready.count {
            do {
                try reader.update(ready.dropFirst(skip), &content) { output($0, .pending) }
            } catch {
                deferred = error
            }
        }
        state.tail.removeAll(keepingCapacity: true)
        state.tail += plaintext.dropFirst(readyCount)
    }

    private mutating func finishEncrypted(
        _ output: (ArraySlice<UInt8>, PlaintextIntegrity) -> Void
    ) throws(OpenPGPError) {
        switch phase {
        case .sessionKeyPackets, .after:
            return
        case .encryptedHeader:
            throw .rejected("the encrypted data is truncated")
        case .v1(var state):
            phase = .after
            var plaintext = state.tail
            try state.cfb.update([][...], final: true, into: &plaintext)
            release(plaintext[...], &state, output)
            guard state.prefixLeft == 0, state.tail.count == 22 else {
                throw .rejected("the encrypted data is truncated")
            }
            state.mdc.update([0xD3, 0x14])
            guard state.tail[0] == 0xD3, state.tail[1] == 0x14,
                constantTimeEqual(Array(state.tail[2...]), state.mdc.finalize())
            else {
                throw .rejected(
                    "the modification detection code does not match: the message was modified or the key is wrong")
            }
            if let deferred { throw deferred }
            try reader.finish(&content) { output($0, .pending) }
        case .v2(var state):
            phase = .after
            guard state.buffer.count >= 16 else { throw .rejected("the encrypted data is truncated") }
            let last = state.buffer.dropLast(16)
            if !last.isEmpty {
                let plaintext = try open(&state, last, final: false)
                try reader.update(plaintext[...], &content) { output($0, .verified) }
            }
            _ = try open(&state, state.buffer.suffix(16), final: true)
            try reader.finish(&content) { output($0, .verified) }
        }
    }

    /// Opens one chunk (or the final tag); the first chunk also picks the session key.
    private mutating func open(_ state: inout V2, _ sealed: ArraySlice<UInt8>, final: Bool) throws(OpenPGPError)
        -> [UInt8]
    {
        let associated = final ? state.header + bigEndian64(state.total) : state.header
        let nonceSuffix = bigEndian64(state.index)
        if let chosen = state.chosen {
            let plaintext = try AEAD.open(
                state.mode, key: chosen.key, nonce: chosen.iv + nonceSuffix, associatedData: associated,
                sealed: sealed)
            state.index += 1
            state.total += UInt64(plaintext.count)
            return plaintext
        }
        for candidate in state.candidates {
            let plaintext: [UInt8]
            do {
                plaintext = try AEAD.open(
                    state.mode, key: candidate.key, nonce: candidate.iv + nonceSuffix, associatedData: associated,
                    sealed: sealed)
            } catch .unsupported(let what) {
                throw .unsupported(what)
            } catch {
                continue
            }
            state.chosen = candidate
            state.candidates = []
            sessionKey = candidate.0
            state.index += 1
            state.total += UInt64(plaintext.count)
            return plaintext
        }
        throw .rejected("no key, password or session key given opens this message")
    }

    private static let zeroIV = [UInt8](repeating: 0, count: 16)
}

/// CFB decryption from a given IV (the previous ciphertext block when continuing a stream).
func cfbDecrypt(_ ciphertext: ArraySlice<UInt8>, key: [UInt8], iv: [UInt8]) throws(OpenPGPError) -> [UInt8] {
    guard !ciphertext.isEmpty else { return [] }
    do {
        return Array(try AES._CFB.decrypt(ciphertext, using: SymmetricKey(data: key), iv: AES._CFB.IV(ivBytes: iv)))
    } catch {
        throw .rejected("AES-CFB failed: \(error)")
    }
}

/// The reader of a compressed data packet's contents: ZIP and ZLIB inflated in bounded pieces,
/// BZip2 a block at a time (at most 900 kB).
enum Decompressor {
    case inflate(Zlib.Inflater)
    case bzip2(BZip2.Decoder)

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        switch self {
        case .inflate(var inflater):
            inflater.append(bytes)
            self = .inflate(inflater)
        case .bzip2(var decoder):
            decoder.append(bytes)
            self = .bzip2(decoder)
        }
    }

    /// Output decoded so far (empty when more input is needed).
    mutating func read() throws(OpenPGPError) -> [UInt8] {
        do {
            switch self {
            case .inflate(var inflater):
                defer { self = .inflate(inflater) }
                return try inflater.read()
            case .bzip2(var decoder):
                defer { self = .bzip2(decoder) }
                return try decoder.read()
            }
        } catch {
            throw Self.rejection(error)
        }
    }

    private static func rejection(_ error: any Error) -> OpenPGPError {
        switch error {
        case let failure as Zlib.Failure: return .rejected("bad compressed data: \(failure.reason)")
        case let failure as BZip2.Failure: return .rejected("bad compressed data: \(failure.reason)")
        default: return .rejected("bad compressed data")
        }
    }

    /// Checks the data ended where it should; returns what was still held back.
    mutating func finish() throws(OpenPGPError) -> [UInt8] {
        do {
            switch self {
            case .inflate(let inflater):
                try inflater.finish()
                return []
            case .bzip2(var decoder):
                defer { self = .bzip2(decoder) }
                return try decoder.finish()
            }
        } catch {
            throw Self.rejection(error)
        }
    }
}
