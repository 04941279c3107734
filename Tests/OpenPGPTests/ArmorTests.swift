import Testing

@testable import OpenPGP

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

    /// RFC 9580 section 6.1: the CRC24 footer, present, missing, malformed or wrong, never
    /// rejects the data.
    @Test func aWrongOrMalformedChecksumIsIgnored() throws {
        for footer in ["=AAAA\n", "=!!!!\n", "=czTe\n", ""] {
            let armored = "-----BEGIN PGP MESSAGE-----\n\nZm9vYmFy\n\(footer)-----END PGP MESSAGE-----\n"
            #expect(try Armor.decode(Array(armored.utf8)).bytes == Array("foobar".utf8))
        }
        #expect(throws: OpenPGPError.armor(line: 5, reason: "data after the checksum")) {
            try Armor.decode(
                Array("-----BEGIN PGP MESSAGE-----\n\nZm9v\n=AAAA\nYmFy\n-----END PGP MESSAGE-----\n".utf8))
        }
    }

    /// The table-driven CRC24 against the bit-by-bit definition, over every length to 300 and
    /// split at every eighth byte (slicing by eight and the byte loop meet at varying points).
    @Test func crc24MatchesTheBitwiseDefinition() {
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xB7_04CE
            for byte in bytes {
                crc ^= UInt32(byte) << 16
                for _ in 0..<8 {
                    crc <<= 1
                    if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
                }
            }
            return crc & 0xFF_FFFF
        }
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ $0 >> 3) }
        for length in 0...bytes.count {
            let prefix = Array(bytes[..<length])
            #expect(CRC24.checksum(prefix) == bitwise(prefix))
            let split = length / 2 / 8 * 8 + 3
            if split < length {
                let whole = CRC24.update(
                    CRC24.update(CRC24.checksum([UInt8]()), with: prefix[..<split]), with: prefix[split...])
                #expect(whole == bitwise(prefix))
            }
        }
    }

    /// The word-at-a-time line feed search against `firstIndex(of:)`, for every position of the
    /// first line feed in slices of every start, with bytes near 0x0A (0x09, 0x0B, 0x8A) around it.
    @Test func lineFeedSearchMatchesFirstIndex() {
        let noise: [UInt8] = [0x09, 0x0B, 0x8A, 0x41, 0x00, 0xFF, 0x0B, 0x09]
        for length in 0..<40 {
            for feed in [nil] + Array(0..<length) {
                var bytes = (0..<(length + 3)).map { noise[$0 % noise.count] }
                if let feed { bytes[feed + 3] = 0x0A }
                if let feed, feed + 9 < bytes.count { bytes[feed + 9] = 0x0A }
                let slice = bytes[3...]
                #expect(Armor.firstLineFeed(in: slice) == slice.firstIndex(of: 0x0A))
            }
        }
    }

    @Test func base64MatchesRFC4648Vectors() {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == Array(encoded.utf8))
            #expect(Base64.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
        for bad in ["Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zm9"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
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
