import Testing
import Wire

@testable import OpenPGP

/// Messages written with a compressed data packet (ZIP and ZLIB) read back through our own
/// decryptor and inline verifier, and come out smaller when the data compresses.
@Suite struct CompressionOnOutputTests {
    static let now: UInt32 = 1_750_000_000

    /// Text that compresses well and spans several 64 KiB partial-length pieces.
    static let text: [UInt8] = Array(
        (0..<12_000).map { "line \($0 % 97) of a report that repeats itself\n" }.joined().utf8)

    /// Bytes that do not compress, so the compressed packet itself needs several pieces.
    static let noise: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<300_000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }()

    static let compressions: [MessageCompression] = [.zip, .zlib]

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880], compressions)
    func compressedEncryptedMessagesDecryptAndVerify(keys: KeyProfile, compression: MessageCompression) throws {
        let alice = try Certificate.generate(profile: keys, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: keys, userIDs: ["Bob"], created: Self.now)
        for data in [Self.text, Self.noise, []] {
            for signers in [[alice], []] {
                let message = try Messages.encrypt(
                    data, recipients: [bob.publicCertificate], signers: signers, compression: compression,
                    at: Self.now)
                let result = try Messages.decrypt(
                    message, keys: [bob], verifyWith: [alice.publicCertificate], now: Self.now)
                #expect(result.plaintext == data, "\(keys) \(compression), \(data.count) bytes")
                #expect(result.verifications.count == signers.count)
            }
        }
    }

    @Test(arguments: compressions)
    func streamedCompressedMessagesDecryptWhateverThePieces(compression: MessageCompression) throws {
        let alice = try Certificate.generate(profile: .rfc9580, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: .rfc9580, userIDs: ["Bob"], created: Self.now)
        for profile in EncryptionProfile.allCases {
            for (mode, sizes) in [(SignatureMode.binary, [1, 15, 17, 65_537]), (.text, [33, 1 << 20])] {
                // Text signatures want UTF-8, so the noise goes only into binary messages.
                let data = mode == .text ? Self.text : Self.text + Self.noise.prefix(100_000)
                var encryptor = try MessageEncryptor(
                    recipients: [bob.publicCertificate], passwords: [Array("pw".utf8)], signers: [alice], mode: mode,
                    profile: profile, compression: compression, at: Self.now)
                var message: [UInt8] = []
                for piece in StreamingTests.pieces(data, sizes: sizes) { message += try encryptor.update(piece) }
                message += try encryptor.finish()
                let expected = mode == .text ? crlfText(data) : data
                let result = try Messages.decrypt(
                    message, keys: [bob], verifyWith: [alice.publicCertificate], now: Self.now)
                #expect(result.plaintext == expected, "\(profile) \(mode) \(sizes)")
                #expect(result.verifications.count == 1)
                let byPassword = try Messages.decrypt(message, passwords: [Array("pw".utf8)], now: Self.now)
                #expect(byPassword.plaintext == expected)
            }
        }
    }

    @Test(arguments: [KeyProfile.rfc9580, .rfc4880])
    func compressibleDataMakesASmallerMessage(keys: KeyProfile) throws {
        let bob = try Certificate.generate(profile: keys, userIDs: ["Bob"], created: Self.now)
        let plain = try Messages.encrypt(Self.text, recipients: [bob.publicCertificate], at: Self.now)
        for compression in Self.compressions {
            let compressed = try Messages.encrypt(
                Self.text, recipients: [bob.publicCertificate], compression: compression, at: Self.now)
            // The text is 570 KB of a few dozen distinct lines: DEFLATE takes it below a tenth.
            #expect(
                compressed.count * 10 < plain.count, "\(keys) \(compression): \(compressed.count) of \(plain.count)")
            // Noise grows by a few bytes per stored block, not more.
            let noisy = try Messages.encrypt(
                Self.noise, recipients: [bob.publicCertificate], compression: compression, at: Self.now)
            #expect(noisy.count < Self.noise.count + Self.noise.count / 100 + 1024)
        }
    }

    @Test(arguments: compressions)
    func inlineSignedMessagesAreOneCompressedPacketAroundTheSignedPackets(compression: MessageCompression) throws {
        let alice = try Certificate.generate(profile: .rfc9580, userIDs: ["Alice"], created: Self.now)
        let carol = try Certificate.generate(profile: .rfc4880, userIDs: ["Carol"], created: Self.now)
        for mode in [SignatureMode.binary, .text] {
            var signer = try InlineSigner(keys: [alice, carol], mode: mode, compression: compression, at: Self.now)
            var message: [UInt8] = []
            for piece in StreamingTests.pieces(Self.text, sizes: [1, 4_095, 70_000]) {
                message += try signer.update(piece)
            }
            message += try signer.finish()
            let whole = try Messages.inlineSign(
                Self.text, mode: mode, signers: [alice, carol], compression: compression, at: Self.now)

            for bytes in [message, whole] {
                let (data, signatures) = try Messages.inlineDetach(bytes)
                let expected = mode == .text ? crlfText(Self.text) : Self.text
                #expect(data == expected)
                let verifications = DetachedSignatures.verify(
                    data, signatures: signatures,
                    certificates: [alice.publicCertificate, carol.publicCertificate], now: Self.now)
                #expect(verifications.count == 2)
                #expect(bytes.count * 10 < Self.text.count)

                // One compressed data packet, first body byte the algorithm, holding the one-pass
                // signatures, the literal data and the signatures.
                let outer = try PacketFraming.packets(bytes)
                #expect(outer.map(\.tag) == [.compressedData])
                let body = try #require(outer.first?.body)
                #expect(body.first == compression.algorithm)
                let inflated =
                    compression == .zlib
                    ? try Zlib.inflate(Array(body.dropFirst()), limit: 1 << 24).output
                    : try Zlib.inflateRaw(Array(body.dropFirst()), limit: 1 << 24)
                let inner = try PacketFraming.packets(inflated)
                #expect(
                    inner.map(\.tag) == [.onePassSignature, .onePassSignature, .literalData, .signature, .signature])
            }
        }
    }

    @Test func noCompressionWritesNoCompressedPacket() throws {
        let alice = try Certificate.generate(profile: .rfc9580, userIDs: ["Alice"], created: Self.now)
        let message = try Messages.inlineSign(Self.text, mode: .binary, signers: [alice], at: Self.now)
        #expect(try PacketFraming.packets(message).map(\.tag) == [.onePassSignature, .literalData, .signature])
        #expect(MessageCompression.none.algorithm == nil)
        #expect(MessageCompression(rawValue: "zlib")?.algorithm == 2)
        #expect(MessageCompression(rawValue: "zip")?.algorithm == 1)
    }

    @Test(arguments: compressions)
    func anEmptyCompressedMessageDecrypts(compression: MessageCompression) throws {
        let bob = try Certificate.generate(profile: .rfc9580, userIDs: ["Bob"], created: Self.now)
        var encryptor = try MessageEncryptor(
            recipients: [bob.publicCertificate], compression: compression, at: Self.now)
        let message = try encryptor.finish()
        #expect(try Messages.decrypt(message, keys: [bob], now: Self.now).plaintext.isEmpty)
    }
}
