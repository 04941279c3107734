import OpenPGP
import Testing
import Wire

@Suite struct PacketFramingTests {
    @Test func oldFormatHeadersOfEveryLengthType() throws {
        // Tag 13 (user ID) in the old format: 0x80 | 13 << 2 | length type.
        let oneByte: [UInt8] = [0xB4, 0x02, 0x41, 0x42]
        let twoBytes: [UInt8] = [0xB5, 0x00, 0x02, 0x41, 0x42]
        let fourBytes: [UInt8] = [0xB6, 0x00, 0x00, 0x00, 0x02, 0x41, 0x42]
        let indeterminate: [UInt8] = [0xB7, 0x41, 0x42]
        for bytes in [oneByte, twoBytes, fourBytes, indeterminate] {
            let packets = try PacketFraming.packets(bytes)
            #expect(packets.count == 1)
            #expect(packets.first?.tag == .userID)
            #expect(packets.first?.body == [0x41, 0x42])
        }
    }

    @Test func newFormatLengthsAtTheirBoundaries() throws {
        // RFC 9580 section 4.2.1: one octet up to 191, two octets up to 8383, then five octets.
        for (length, header) in [
            (0, [0x00]), (191, [0xBF]), (192, [0xC0, 0x00]), (8383, [0xDF, 0xFF]),
            (8384, [0xFF, 0x00, 0x00, 0x20, 0xC0]), (100_000, [0xFF, 0x00, 0x01, 0x86, 0xA0]),
        ] as [(Int, [UInt8])] {
            let body = [UInt8](repeating: 0x61, count: length)
            let encoded = PacketFraming.encode([Packet(.literalData, body: body)])
            #expect(Array(encoded.prefix(1 + header.count)) == [0xCB] + header, "length \(length)")
            #expect(
                try PacketFraming.packets(encoded) == [Packet(tagValue: 11, body: body, bodyOffset: 1 + header.count)])
        }
    }

    @Test func partialBodyLengthsAreJoined() throws {
        // A literal data packet split as 512 (0xE9 = 224 + 9), 2 (0xE1), then a final 3 bytes.
        let first = [UInt8](repeating: 1, count: 512)
        let bytes: [UInt8] = [0xCB, 0xE9] + first + [0xE1, 2, 2, 0x03, 3, 3, 3]
        let packets = try PacketFraming.packets(bytes)
        #expect(packets.count == 1)
        #expect(packets.first?.body == first + [2, 2, 3, 3, 3])
    }

    @Test func partialLengthsAreRefusedOutsideDataPackets() {
        let bytes: [UInt8] = [0xC2, 0xE1, 0x04, 0x00, 0x01, 0x04]
        #expect(
            throws: OpenPGPError.malformed(
                WireError(offset: 1, kind: .invalid("partial body length in a packet of type 2")))
        ) {
            try PacketFraming.packets(bytes)
        }
    }

    @Test func truncationAndNonPacketsNameTheOffset() {
        #expect(throws: OpenPGPError.malformed(WireError(offset: 2, kind: .truncated(needed: 5, available: 2)))) {
            try PacketFraming.packets([0xCD, 0x05, 0x41, 0x42])
        }
        #expect(
            throws: OpenPGPError.malformed(
                WireError(offset: 3, kind: .invalid("packet header without its high bit (not OpenPGP data)")))
        ) {
            try PacketFraming.packets([0xCD, 0x01, 0x41, 0x41])
        }
    }

    @Test func aKeyWithAnUnknownVersionIsMalformedAtItsVersionByte() {
        #expect(
            throws: OpenPGPError.malformed(
                WireError(offset: 2, kind: .invalid("key version 5 (only 4 and 6 are supported)")))
        ) {
            try Certificate.parseAll([0xC6, 0x06, 0x05, 0, 0, 0, 0, 27])
        }
    }
}

@Suite struct SigningTests {
    static let now: UInt32 = 1_750_000_000

    /// A legacy EdDSA signature whose r or s starts with a zero byte (one in 128) is written as a
    /// shorter MPI; the signature made in memory must equal it read back, and still verify.
    @Test func legacySignaturesWithALeadingZeroEqualThemselvesReadBack() throws {
        let key = try Certificate.generate(profile: .rfc4880, userIDs: ["Z <z@example.org>"], created: Self.now)
        var found = 0
        for index in 0..<2000 where found < 3 {
            let data = Array("message \(index)".utf8)
            let signature = try #require(
                try DetachedSignatures.sign(data, with: [key], mode: .binary, at: Self.now).first)
            guard case .ed25519Legacy(let r, let s) = signature.value, r.count < 32 || s.count < 32 else { continue }
            found += 1
            let reparsed = try DetachedSignatures.parseSignatures(PacketFraming.encode([signature.packet]))
            #expect(reparsed == [signature])
            #expect(
                DetachedSignatures.verify(
                    data, signatures: reparsed, certificates: [key.publicCertificate], now: Self.now
                )
                .count == 1)
        }
        #expect(found == 3)
    }

    @Test(arguments: KeyProfile.allCases)
    func generatedKeysSignAndVerifyInBothModes(profile: KeyProfile) throws {
        let key = try Certificate.generate(profile: profile, userIDs: ["Alice <alice@example.org>"], created: Self.now)
        #expect(key.primary.version == (profile == .rfc9580 ? 6 : 4))
        let certificate = key.publicCertificate
        #expect(certificate.signingKeys(at: Self.now).count == 1)
        #expect(certificate.encryptionKeys(at: Self.now).count == 1)
        let reparsed = try Certificate.parseAll(PacketFraming.encode(certificate.packets()))
        #expect(reparsed == [certificate])

        let data = Array("line one\nline two\n".utf8)
        for mode in [SignatureMode.binary, .text] {
            let signatures = try DetachedSignatures.sign(data, with: [key], mode: mode, at: Self.now)
            let good = DetachedSignatures.verify(
                data, signatures: signatures, certificates: [certificate], now: Self.now)
            #expect(good.map(\.mode) == [mode])
            #expect(good.first?.primaryKeyFingerprint == key.primary.fingerprint)
            let crlf = Array("line one\r\nline two\r\n".utf8)
            let crlfResult = DetachedSignatures.verify(
                crlf, signatures: signatures, certificates: [certificate], now: Self.now)
            // Only a text signature survives the change of line endings.
            #expect(crlfResult.count == (mode == .text ? 1 : 0))
            #expect(
                DetachedSignatures.verify(
                    data + [0x21], signatures: signatures, certificates: [certificate], now: Self.now
                ).isEmpty)
        }
    }

    @Test func aSignatureIsNotAcceptedFromAnotherCertificate() throws {
        let alice = try Certificate.generate(profile: .rfc4880, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: .rfc4880, userIDs: ["Bob"], created: Self.now)
        let signatures = try DetachedSignatures.sign([1, 2, 3], with: [alice], mode: .binary, at: Self.now)
        #expect(
            DetachedSignatures.verify(
                [1, 2, 3], signatures: signatures, certificates: [bob.publicCertificate], now: Self.now
            ).isEmpty)
    }

    @Test func textSignaturesRefuseInputThatIsNotUTF8() throws {
        let key = try Certificate.generate(profile: .rfc9580, userIDs: [], signingOnly: true, created: Self.now)
        #expect(key.subkeys.isEmpty)
        #expect(throws: OpenPGPError.wrongKind("text signatures need UTF-8 input")) {
            try DetachedSignatures.sign([0xFF, 0xFE], with: [key], mode: .text, at: Self.now)
        }
    }

    @Test func aCertificateCannotSign() throws {
        let key = try Certificate.generate(profile: .rfc9580, userIDs: ["A"], created: Self.now)
        #expect(throws: OpenPGPError.self) {
            try DetachedSignatures.sign([1], with: [key.publicCertificate], mode: .binary, at: Self.now)
        }
    }
}
