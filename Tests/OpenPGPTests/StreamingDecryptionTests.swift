import Testing
import Wire

@testable import OpenPGP

/// The streaming readers against their whole-message results: the output must not depend on how
/// the input was cut, tampering and truncation must fail, and plaintext that is not yet
/// authenticated must be marked so.
@Suite struct StreamingDecryptionTests {
    static let now: UInt32 = 1_750_000_000

    /// A deterministic generator, so that a failure can be reproduced.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `data` cut into pieces of random sizes up to `largest`.
    static func randomPieces(_ data: [UInt8], largest: Int, seed: UInt64) -> [ArraySlice<UInt8>] {
        var generator = Generator(state: seed)
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < data.count {
            let end = min(start + Int.random(in: 0...largest, using: &generator), data.count)
            pieces.append(data[start..<end])
            start = end
        }
        return pieces
    }

    struct Decrypted {
        var verified: [UInt8] = []
        var pending: [UInt8] = []
        var result: DecryptionResult?
        var error: OpenPGPError?
    }

    /// Feeds `pieces` to a decryptor, keeping what it released and how.
    static func decrypt(
        _ pieces: [ArraySlice<UInt8>], keys: [Certificate] = [], passwords: [[UInt8]] = [],
        verifyWith: [Certificate] = []
    ) -> Decrypted {
        var decryptor = MessageDecryptor(keys: keys, passwords: passwords, verifyWith: verifyWith, now: now)
        var decrypted = Decrypted()
        func take(_ piece: ArraySlice<UInt8>, _ integrity: PlaintextIntegrity) {
            if integrity == .verified { decrypted.verified += piece } else { decrypted.pending += piece }
        }
        do {
            for piece in pieces { try decryptor.update(piece, output: take) }
            decrypted.result = try decryptor.finish(output: take)
        } catch {
            decrypted.error = error
        }
        return decrypted
    }

    static let text: [UInt8] = Array(
        (0..<30_000).map { "line \($0) of a message long enough for several chunks\n" }.joined().utf8)

    static func message(
        profile: KeyProfile, signer: Certificate?, recipient: Certificate, mode: SignatureMode = .binary
    ) throws -> [UInt8] {
        var encryptor = try MessageEncryptor(
            recipients: [recipient.publicCertificate], passwords: [Array("pw".utf8)],
            signers: signer.map { [$0] } ?? [],
            mode: mode, profile: profile == .rfc9580 ? .rfc9580 : .rfc4880, at: now)
        var message: [UInt8] = []
        for piece in StreamingTests.pieces(text, sizes: [100_000]) { message += try encryptor.update(piece) }
        return message + (try encryptor.finish())
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func randomPiecesDecryptAsTheWholeMessage(profile: KeyProfile) throws {
        let alice = try Certificate.generate(profile: profile, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: profile, userIDs: ["Bob"], created: Self.now)
        for mode in [SignatureMode.binary, .text] {
            let message = try Self.message(profile: profile, signer: alice, recipient: bob, mode: mode)
            let whole = try Messages.decrypt(message, keys: [bob], verifyWith: [alice.publicCertificate], now: Self.now)
            #expect(whole.verifications.count == 1)
            for (largest, seed) in [(7, UInt64(1)), (700, 2), (70_000, 3), (700_000, 4)] {
                let pieces = Self.randomPieces(message, largest: largest, seed: seed)
                let streamed = Self.decrypt(pieces, keys: [bob], verifyWith: [alice.publicCertificate])
                #expect(streamed.error == nil)
                #expect(streamed.verified + streamed.pending == whole.plaintext, "pieces up to \(largest)")
                #expect(streamed.result?.verifications == whole.verifications)
                #expect(streamed.result?.sessionKey == whole.sessionKey)
                // SEIPD v2 releases authenticated chunks; v1 nothing before its MDC.
                #expect(profile == .rfc9580 ? streamed.pending.isEmpty : streamed.verified.isEmpty)
            }
            let password = Self.decrypt(
                Self.randomPieces(message, largest: 5_000, seed: 5), passwords: [Array("pw".utf8)])
            #expect(password.verified + password.pending == whole.plaintext)
        }
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func tamperedCiphertextFailsAndReleasesNothingUnauthenticated(profile: KeyProfile) throws {
        let bob = try Certificate.generate(profile: profile, userIDs: ["Bob"], created: Self.now)
        let message = try Self.message(profile: profile, signer: nil, recipient: bob)
        let whole = try Messages.decrypt(message, keys: [bob], now: Self.now).plaintext
        // Somewhere in the second AEAD chunk (256 KiB chunks), and near the end.
        for position in [message.count / 2, message.count - 30] {
            var tampered = message
            tampered[position] ^= 0x01
            let result = Self.decrypt(Self.randomPieces(tampered, largest: 50_000, seed: 9), keys: [bob])
            #expect(result.error != nil, "flipped byte \(position)")
            #expect(throws: OpenPGPError.self) { try Messages.decrypt(tampered, keys: [bob], now: Self.now) }
            // Whatever was released as verified is a prefix of the true plaintext (whole chunks
            // before the tampered one); everything else was marked pending.
            #expect(whole.starts(with: result.verified))
            if profile == .rfc4880 { #expect(result.verified.isEmpty) }
        }
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func truncatedMessagesFail(profile: KeyProfile) throws {
        let bob = try Certificate.generate(profile: profile, userIDs: ["Bob"], created: Self.now)
        let message = try Self.message(profile: profile, signer: nil, recipient: bob)
        for length in [0, 1, 10, 200, message.count / 3, message.count - 17, message.count - 1] {
            let result = Self.decrypt([message[..<length]], keys: [bob])
            #expect(result.error != nil, "cut at \(length)")
        }
    }

    @Test func anEmptyMessageDecryptsInPieces() throws {
        let bob = try Certificate.generate(profile: .rfc9580, userIDs: ["Bob"], created: Self.now)
        var encryptor = try MessageEncryptor(recipients: [bob.publicCertificate], at: Self.now)
        let message = try encryptor.finish()
        let result = Self.decrypt(Self.randomPieces(message, largest: 3, seed: 7), keys: [bob])
        #expect(result.error == nil)
        #expect(result.verified.isEmpty && result.pending.isEmpty)
    }

    @Test func inlineSignedMessagesStreamAndVerify() throws {
        let alice = try Certificate.generate(profile: .rfc9580, userIDs: ["Alice"], created: Self.now)
        for mode in [SignatureMode.binary, .text] {
            var signer = try InlineSigner(keys: [alice], mode: mode, at: Self.now)
            var message: [UInt8] = []
            for piece in Self.randomPieces(Self.text, largest: 100_000, seed: 11) {
                message += try signer.update(piece)
            }
            message += try signer.finish()
            var reader = SignedMessageReader()
            var data: [UInt8] = []
            for piece in Self.randomPieces(message, largest: 9_000, seed: 12) {
                try reader.update(piece) { data += $0 }
            }
            let signatures = try reader.finish { data += $0 }
            #expect(signatures.count == 1)
            #expect(data == (mode == .text ? crlfText(Self.text) : Self.text))
            #expect(reader.verifications(certificates: [alice.publicCertificate], now: Self.now).count == 1)
            #expect(try Messages.inlineDetach(message).data == data)

            // A changed byte of the literal data: still read, but no longer verified.
            var tampered = message
            tampered[message.count / 2] ^= 0x20
            var broken = SignedMessageReader()
            try broken.update(tampered[...]) { _ in }
            _ = try broken.finish { _ in }
            #expect(broken.verifications(certificates: [alice.publicCertificate], now: Self.now).isEmpty)
        }
    }

    /// 76,850 bytes of text compressed by Python's zlib at level 9: dynamic Huffman blocks with
    /// back-references across the 32 KiB window.
    static let zlibStream = """
        eNrt2Mtt20AARdF9qmABWYR/shwDkW0BsgRYAtx+kBbu+hTwVrwYzpzb9X4Z/gyP9+H1eRmer+/L29f1/jFc7++3t9dleF2er9/D
        z/X1OTwfX5fh5/H99/nr9n81ptWUVnNaLWm1ptWWVntaHWl1tq8c42h1jC2PsfUxtkDGVsjYEhlbI2OLZGyVTK2SKZ4hrZKpVTK1
        SqZWydQqmVolU6tkapXMrZK5VTLHX02rZG6VzK2SuVUyt0rmVsncKllaJUurZGmVLPFG0ipZWiVLq2RplSytkqVVsrZK1lbJ2ipZ
        WyVrvLi2StZWydoqWVsla6tka5VsrZKtVbK1SrZWyRbfN62SrVWytUq2VsneKtlbJXurZG+V7K2SvVWyx2dwq2RvleytkqNVcrRK
        jlbJ0So5WiVHq+RolRxRS1olR6vkbJWcrZKzVXK2Ss5WydkqOVslMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2Em
        zISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJ
        M2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bC
        TJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkw
        E2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbM
        hJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzYSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkz
        YSbMhJkwE2bCTJgJM2EmzISZMBNmwkyYCTNhJsyEmTATZsJMmAkzG2b+AyGlvX4=
        """

    @Test func theInflaterStreamsWhateverThePieces() throws {
        let compressed = try #require(Base64.decode(Array(Self.zlibStream.utf8.filter { $0 != 0x0A })))
        let whole = try Zlib.inflate(compressed, limit: 1 << 20).output
        #expect(whole.count == 76_850)
        for (largest, seed) in [(1, UInt64(1)), (13, 2), (500, 3), (5_000, 4)] {
            var inflater = Zlib.Inflater(format: .zlib, limit: 1 << 20)
            var output: [UInt8] = []
            for piece in Self.randomPieces(compressed, largest: largest, seed: seed) {
                inflater.append(piece)
                while case let next = try inflater.read(), !next.isEmpty { output += next }
            }
            try inflater.finish()
            #expect(output == whole, "pieces up to \(largest)")
        }
        var truncated = Zlib.Inflater(format: .zlib, limit: 1 << 20)
        truncated.append(compressed.dropLast(3))
        while case let next = try truncated.read(), !next.isEmpty {}
        #expect(throws: Zlib.Failure.self) { try truncated.finish() }
        var corrupt = compressed
        corrupt[corrupt.count - 1] ^= 1
        var checked = Zlib.Inflater(format: .zlib, limit: 1 << 20)
        checked.append(corrupt[...])
        #expect(throws: Zlib.Failure.self) { while case let next = try checked.read(), !next.isEmpty {} }
        var limited = Zlib.Inflater(format: .zlib, limit: 1000)
        limited.append(compressed[...])
        #expect(throws: Zlib.Failure.self) { while case let next = try limited.read(), !next.isEmpty {} }
    }

    @Test func compressedSignedMessagesStream() throws {
        // A literal data packet ("b", no name, no date) around the same text, compressed (ZLIB).
        let compressed = try #require(Base64.decode(Array(Self.zlibStream.utf8.filter { $0 != 0x0A })))
        let text = try Zlib.inflate(compressed, limit: 1 << 20).output
        var packet = WireWriter(capacity: 0)
        PacketFraming.write(Packet(.literalData, body: [0x62, 0, 0, 0, 0, 0] + text), into: &packet)
        // Stored blocks are still DEFLATE: the packet inside is what `storedStream` wraps.
        let message = PacketFraming.encode([Packet(.compressedData, body: [2] + Zlib.storedStream(packet.bytes))])
        var reader = SignedMessageReader()
        var data: [UInt8] = []
        for piece in Self.randomPieces(message, largest: 4_000, seed: 21) { try reader.update(piece) { data += $0 } }
        #expect(try reader.finish { data += $0 }.isEmpty)
        #expect(data == text)
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func cleartextSignsLineByLine(profile: KeyProfile) throws {
        let alice = try Certificate.generate(profile: profile, userIDs: ["Alice"], created: Self.now)
        let text = Array("- dashes\r\ntrailing spaces  \t\n\nFrom the start\r\nlast line without a break".utf8)
        var signer = try CleartextSigner(keys: [alice], at: Self.now)
        var message: [UInt8] = []
        for piece in Self.randomPieces(text, largest: 5, seed: 31) { message += try signer.update(piece) }
        message += try signer.finish()
        let parsed = try Cleartext.parse(message)
        #expect(
            String(decoding: parsed.text, as: UTF8.self)
                == "- dashes\ntrailing spaces  \t\n\nFrom the start\nlast line without a break")
        #expect(
            DetachedSignatures.verify(
                parsed.signed, signatures: parsed.signatures, certificates: [alice.publicCertificate], now: Self.now
            ).count == 1)
        #expect(String(decoding: message, as: UTF8.self).contains("\n- - dashes\n"))
        #expect(String(decoding: message, as: UTF8.self).contains("Hash: SHA256") == (profile == .rfc4880))
        var broken = try CleartextSigner(keys: [alice], at: Self.now)
        // A byte that is not UTF-8 may start a sequence the next piece completes, so it fails
        // at the latest when the text ends.
        #expect(throws: OpenPGPError.wrongKind("cleartext signatures need UTF-8 input")) {
            _ = try broken.update([0x61, 0xFF, 0x0A][...])
            _ = try broken.finish()
        }
    }

    @Test func streamedArmorEqualsWholeArmor() throws {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 131) }
        let armored = Array(("Text before\r\n" + Armor.encode(data, kind: .message) + "trailing text").utf8)
        for (largest, seed) in [(1, UInt64(1)), (64, 2), (3_000, 3)] {
            var reader = ArmorReader()
            var decoded: [UInt8] = []
            for piece in Self.randomPieces(armored, largest: largest, seed: seed) {
                decoded += try reader.update(piece)
            }
            decoded += try reader.finish()
            #expect(decoded == data)
            #expect(reader.kind == .message)
        }
        // Binary OpenPGP starts with a byte whose high bit is set, and passes through as it is.
        var binary = ArmorReader()
        #expect(try binary.update(([0xC1] + data)[...]) + binary.finish() == [0xC1] + data)
        var cut = ArmorReader()
        _ = try cut.update(armored[..<(armored.count / 2)])
        #expect(throws: OpenPGPError.self) { try cut.finish() }
    }
}
