import OpenPGP
import Testing

@Suite struct ArmorTests {
    @Test func crc24MatchesTheCatalogueCheckValue() {
        // CRC-24/OPENPGP in the CRC catalogue: check value over "123456789".
        #expect(CRC24.checksum(Array("123456789".utf8)) == 0x21_CF02)
        #expect(CRC24.checksum([UInt8]()) == 0xB7_04CE)
    }

    @Test func armorUsesBase64AndTheChecksumLine() throws {
        // RFC 4648 test vector "foobar" -> "Zm9vYmFy"; "=czTe" is the checksum `gpg --enarmor` writes.
        let text = Armor.encode(Array("foobar".utf8), kind: .message)
        #expect(text == "-----BEGIN PGP MESSAGE-----\n\nZm9vYmFy\n=czTe\n-----END PGP MESSAGE-----\n")
        let bare = Armor.encode(Array("foobar".utf8), kind: .message, checksum: false)
        #expect(bare == "-----BEGIN PGP MESSAGE-----\n\nZm9vYmFy\n-----END PGP MESSAGE-----\n")
    }

    @Test func dearmorAcceptsHeadersCRLFAndAChecksum() throws {
        let armored = """
            Some text before the block is ignored.\r
            -----BEGIN PGP SIGNATURE-----\r
            Comment: a header\r
            \r
            Zm9v\r
            YmFy  \r
            =czTe\r
            -----END PGP SIGNATURE-----\r

            """
        let decoded = try Armor.decode(Array(armored.utf8))
        #expect(decoded.kind == .signature)
        #expect(decoded.bytes == Array("foobar".utf8))
    }

    @Test func aWrongChecksumIsRejectedAtItsLine() {
        let armored = "-----BEGIN PGP MESSAGE-----\n\nZm9vYmFy\n=AAAA\n-----END PGP MESSAGE-----\n"
        #expect(throws: OpenPGPError.armor(line: 4, reason: "the CRC24 checksum does not match the data")) {
            try Armor.decode(Array(armored.utf8))
        }
    }

    @Test func badArmorNamesTheLine() {
        #expect(throws: OpenPGPError.armor(line: 4, reason: "not a base64 line")) {
            try Armor.decode(Array("-----BEGIN PGP MESSAGE-----\n\nZm9v\nYm!y\n-----END PGP MESSAGE-----\n".utf8))
        }
        #expect(throws: OpenPGPError.armor(line: 3, reason: "missing \"-----END PGP MESSAGE-----\"")) {
            try Armor.decode(Array("-----BEGIN PGP MESSAGE-----\n\nZm9vYmFy\n".utf8))
        }
        #expect(throws: OpenPGPError.armor(line: 4, reason: "the body is not valid base64")) {
            try Armor.decode(Array("-----BEGIN PGP MESSAGE-----\n\nZm9vYmF\n-----END PGP MESSAGE-----\n".utf8))
        }
        #expect(throws: OpenPGPError.self) { try Armor.decode(Array("no armor here".utf8)) }
    }
}
