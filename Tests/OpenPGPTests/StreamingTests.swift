import OpenPGP
import Testing

/// The streaming writers against their whole-message counterparts: the output must not depend
/// on how the input was cut into pieces.
@Suite struct StreamingTests {
    static let now: UInt32 = 1_750_000_000

    /// Cuts `data` into pieces of the given sizes, repeating the pattern.
    static func pieces(_ data: [UInt8], sizes: [Int]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        var turn = 0
        while start < data.count {
            let end = min(start + sizes[turn % sizes.count], data.count)
            result.append(data[start..<end])
            start = end
            turn += 1
        }
        return result
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func streamedMessagesDecryptAndVerifyWhateverThePieces(profile: KeyProfile) throws {
        let alice = try Certificate.generate(profile: profile, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: profile, userIDs: ["Bob"], created: Self.now)
        // Text with line endings that land on piece boundaries, long enough for several AEAD
        // chunks and partial-length pieces.
        let line = Array("a line of text that is not short\n".utf8)
        let text = Array(repeating: line, count: 40_000).flatMap { $0 }
        for (mode, sizes) in [
            (SignatureMode.binary, [1, 15, 17, 65_537]), (.text, [33, 1 << 20]), (.binary, [text.count]),
        ] {
            var encryptor = try MessageEncryptor(
                recipients: [bob.publicCertificate], passwords: [Array("pw".utf8)], signers: [alice], mode: mode,
                at: Self.now)
            var message: [UInt8] = []
            for piece in Self.pieces(text, sizes: sizes) { message += try encryptor.update(piece) }
            message += try encryptor.finish()
            let result = try Messages.decrypt(
                message, keys: [bob], verifyWith: [alice.publicCertificate], now: Self.now)
            let expected =
                mode == .text
                ? Array(Array(repeating: Array("a line of text that is not short\r\n".utf8), count: 40_000).joined())
                : text
            #expect(result.plaintext == expected, "mode \(mode), pieces \(sizes)")
            #expect(result.verifications.count == 1)
            #expect(try Messages.decrypt(message, passwords: [Array("pw".utf8)], now: Self.now).plaintext == expected)
        }
    }

    @Test func anEmptyStreamIsAnEmptyMessage() throws {
        let bob = try Certificate.generate(profile: .rfc9580, userIDs: ["Bob"], created: Self.now)
        var encryptor = try MessageEncryptor(recipients: [bob.publicCertificate], at: Self.now)
        let message = try encryptor.finish()
        #expect(try Messages.decrypt(message, keys: [bob], now: Self.now).plaintext.isEmpty)
    }

    @Test func streamedArmorEqualsWholeArmor() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for checksum in [true, false] {
            var writer = ArmorWriter(kind: .message, checksum: checksum)
            var streamed: [UInt8] = []
            for piece in Self.pieces(data, sizes: [1, 47, 49, 1000]) { streamed += writer.update(Array(piece)) }
            streamed += writer.finish()
            #expect(String(decoding: streamed, as: UTF8.self) == Armor.encode(data, kind: .message, checksum: checksum))
        }
    }

    @Test func streamedSignaturesMatchWholeVerification() throws {
        let key = try Certificate.generate(profile: .rfc4880, userIDs: ["A"], created: Self.now)
        let data = Array("é and ü cut across pieces\n".utf8)
        var signer = try DetachedSigner(keys: [key], mode: .text, at: Self.now)
        for piece in Self.pieces(data, sizes: [1]) { try signer.update(piece) }
        let signatures = try signer.finish()
        #expect(
            DetachedSignatures.verify(
                data, signatures: signatures, certificates: [key.publicCertificate], now: Self.now
            )
            .count == 1)
        var broken = try DetachedSigner(keys: [key], mode: .text, at: Self.now)
        try broken.update([0xC3][...])
        #expect(throws: OpenPGPError.wrongKind("text signatures need UTF-8 input")) { try broken.finish() }
    }
}
