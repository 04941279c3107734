import Crypto
import Testing
import Wire

@testable import OpenPGP

/// The cleartext signature framework and the inline-signed message of RFC 9580 appendix A, and
/// DEFLATE/ZLIB data written by Python's zlib.
@Suite struct CleartextAndCompressionTests {
    static let now: UInt32 = 1_700_000_000

    static let cleartextSample = """
        -----BEGIN PGP SIGNED MESSAGE-----

        What we need from the grocery store:

        - - tofu
        - - vegetables
        - - noodles

        -----BEGIN PGP SIGNATURE-----

        wpgGARsKAAAAKQWCY5ijYyIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
        2azJAAAAAGk2IHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usJ9BvuAqo
        /FvLFuGWMbKAdA+epq7V4HOtAPlBWmU8QOd6aud+aSunHQaaEJ+iTFjP2OMW0KBr
        NK2ay45cX1IVAQ==
        -----END PGP SIGNATURE-----

        """

    static let inlineSample = base64(
        "xEYGAQobIHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usyxhsTwYJppfk"
            + "1S36bHIrDB8eJ8GKVnCPZSXsJ7rZrMkBy0p1AAAAAABXaGF0IHdlIG5lZWQgZnJv"
            + "bSB0aGUgZ3JvY2VyeSBzdG9yZToKCi0gdG9mdQotIHZlZ2V0YWJsZXMKLSBub29k"
            + "bGVzCsKYBgEbCgAAACkFgmOYo2MiIQbLGGxPBgmml+TVLfpscisMHx4nwYpWcI9l"
            + "JewnutmsyQAAAABpNiB2SV9QIYiQ9/Xi7jwYIlFPcFAPVR2G5ckh5ATjSlP7rCfQ"
            + "b7gKqPxbyxbhljGygHQPnqau1eBzrQD5QVplPEDnemrnfmkrpx0GmhCfokxYz9jj"
            + "FtCgazStmsuOXF9SFQE=")

    @Test func theRFCCleartextSampleVerifiesAndUnescapes() throws {
        let certificate = try #require(try Certificate.parseAll(RFC9580VectorTests.v6Certificate).first)
        let parsed = try Cleartext.parse(Array(Self.cleartextSample.utf8))
        #expect(parsed.text == RFC9580VectorTests.groceryList)
        let good = DetachedSignatures.verify(
            parsed.signed, signatures: parsed.signatures, certificates: [certificate], now: Self.now)
        #expect(good.count == 1)
        let tampered = Self.cleartextSample.replacingOccurrences(of: "tofu", with: "tuna")
        let bad = try Cleartext.parse(Array(tampered.utf8))
        #expect(
            DetachedSignatures.verify(
                bad.signed, signatures: bad.signatures, certificates: [certificate], now: Self.now
            )
            .isEmpty)
    }

    @Test func theRFCInlineSignedSampleVerifies() throws {
        let certificate = try #require(try Certificate.parseAll(RFC9580VectorTests.v6Certificate).first)
        let (data, signatures) = try Messages.inlineDetach(Self.inlineSample)
        #expect(data == RFC9580VectorTests.groceryList)
        #expect(
            DetachedSignatures.verify(data, signatures: signatures, certificates: [certificate], now: Self.now).count
                == 1)
    }

    @Test func cleartextRoundTripKeepsDashesAndDropsTrailingSpaceFromTheSignedText() throws {
        let key = try Certificate.generate(profile: .rfc4880, userIDs: ["A"], created: Self.now)
        let text = Array("- dash\nFrom here\ntrailing  \nend\n".utf8)
        let armored = try Cleartext.sign(text, with: [key], at: Self.now)
        #expect(armored.contains("\n- - dash\n"))
        #expect(armored.contains("Hash: SHA256\n"))
        let parsed = try Cleartext.parse(Array(armored.utf8))
        #expect(parsed.text == text)
        #expect(parsed.signed == Array("- dash\nFrom here\ntrailing\nend\n".utf8))
        #expect(
            DetachedSignatures.verify(
                parsed.signed, signatures: parsed.signatures, certificates: [key.publicCertificate], now: Self.now
            ).count == 1)
    }

    @Test func cleartextErrorsNameTheLine() {
        let unescaped = "-----BEGIN PGP SIGNED MESSAGE-----\n\n-bad\n-----BEGIN PGP SIGNATURE-----\n"
        #expect(throws: OpenPGPError.armor(line: 3, reason: "a line starting with a dash that is not dash-escaped")) {
            try Cleartext.parse(Array(unescaped.utf8))
        }
        #expect(throws: OpenPGPError.armor(line: 3, reason: "no signature after the text")) {
            try Cleartext.parse(Array("-----BEGIN PGP SIGNED MESSAGE-----\n\ntext".utf8))
        }
    }

    // Python: random.seed(7); ' '.join(random.choice(words) for _ in range(400)) over ten tree words,
    // compressed with zlib at level 9 as raw DEFLATE: one dynamic-Huffman block.
    static let dynamicBlock = hexBytes(
        "7d96516e03310844afb25773561b554ab56e9ce4a3b76f4db07980959fb56bf0188681f4fe3adafe7a6cdf47b96ed7da8ec773abe5b695bdb6737bb6e3d0ed5d1df772d69f5ff111eba59573ffc21d05d1e57da64e00c5538ae83cf18a6e75c13dbc2c909242ab75be2d07484121c4c56e389b2e0a3d724e64e4f0f4c6a5b49b4b70408861f8f6fd3048347a5be2715ca590dd5df9436c8ec34cb300df596ab9baaeb7620df7b83209eef9f63b293bed2f304e0b3cd02475658a12ac574837a3fe0243e6bc0011454a5cd2b5fbe934043710512c00330448933c9942e5d3cde9e140732886491a124ca25b2e602f37916b3ef1417a8bd6b7b232b5cfe362d5e0d4a77012ee39a5536172103e02808af8484c93162b1870e47b0f1304d49dfd67ac00b44fb086b1e194eb0f73dbf798664759e61ed931177b78319559fb30fe68f2b24cedca12856c26f3a1abbc33e4197b4b3eb367384978b09ab1564e1bfb83440c3e46971b991c631e2f49373b05de5156bf0774b440c2cef41a339e94600c011d093280204f3458ec0ce61c18b3c9830627f3cc907b621a48c0640324c6939eb28e966a5ffd5f120787d30d7e5ffe41ff00"
    )
    // zlib.compress(b'Quercus inflates what zlib deflates. ' * 20 + bytes(range(256)), 9): a fixed-Huffman block.
    static let zlibFixed = hexBytes(
        "78da0b2c4d2d4a2e2d56c8cc4bcb492c492d5628cf482c51a8cac94c5248498508e929048e2a1a5534741531303231b3b0b2b173707271f3f0f2f10b080a098b888a894b484a49cbc8cac92b282a29aba8aaa96b686a69ebe8eae91b181a199b989a995b585a59dbd8dad93b383a39bbb8bab97b787a79fbf8faf9070406058784868547444645c7c4c6c527242625036d4bcfc8cccacec9cdcb2f282c2a2e292d2bafa8acaaaea9adab6f686c6a6e696d6befe8eceaeee9edeb9f3071d2e42953a74d9f3173d6ec3973e7cd5fb070d1e2254b972d5fb172d5ea356bd7addfb071d3e62d5bb76ddfb173d7ee3d7bf7ed3f70f0d0e123478f1d3f71f2d4e93367cf9dbf70f1d2e52b57af5dbf71f3d6ed3b77efdd7ff0f0d1e3274f9f3d7ff1f2d5eb376fdfbdfff0f1d3e72f5fbf7dfff1f3d7ef3f7ffffd07002a779204"
    )

    @Test func inflateReadsDynamicFixedAndStoredBlocks() throws {
        let dynamic = try Zlib.inflateRaw(Self.dynamicBlock, limit: 1 << 20)
        #expect(dynamic.count == 2352)
        #expect(
            hexString(Array(SHA256.hash(data: dynamic))).lowercased()
                == "f5b4eca4a8d42a3c8486c0073e6d600b591135c679569ec98033650e859d7651")
        let fixed = try Zlib.inflate(Self.zlibFixed, limit: 1 << 20).output
        #expect(
            fixed == Array(repeating: Array("Quercus inflates what zlib deflates. ".utf8), count: 20).flatMap { $0 }
                + (0...255).map { UInt8($0) })
        #expect(
            try Zlib.inflateRaw(hexBytes("010c00f3ff73746f72656420626c6f636b"), limit: 100)
                == Array("stored block".utf8))
    }

    @Test func inflateRefusesDamageAndOversizedOutput() {
        var badChecksum = Self.zlibFixed
        badChecksum[badChecksum.count - 1] ^= 1
        #expect(throws: Zlib.Failure.self) { try Zlib.inflate(badChecksum, limit: 1 << 20) }
        #expect(throws: Zlib.Failure.self) { try Zlib.inflateRaw(Array(Self.dynamicBlock.prefix(100)), limit: 1 << 20) }
        #expect(throws: Zlib.Failure.self) { try Zlib.inflateRaw(Self.dynamicBlock, limit: 1000) }
    }
}
