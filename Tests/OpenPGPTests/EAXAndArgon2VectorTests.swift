import Foundation
import Testing
import Wire

@testable import OpenPGP

/// EAX against the vectors of its paper (Bellare, Rogaway and Wagner, appendix) and RFC 9580's EAX
/// sample message; Argon2 S2K against RFC 9580's Argon2 sample messages.
@Suite struct EAXAndArgon2VectorTests {
    static let eaxSamples: [(key: String, nonce: String, header: String, message: String, sealed: String)] = [
        (
            "233952DEE4D5ED5F9B9C6D6FF80FF478", "62EC67F9C3A4A407FCB2A8C49031A8B3", "6BFB914FD07EAE6B", "",
            "E037830E8389F27B025A2D6527E79D01"
        ),
        (
            "91945D3F4DCBEE0BF45EF52255F095A4", "BECAF043B0A23D843194BA972C66DEBD", "FA3BFD4806EB53FA", "F7FB",
            "19DD5C4C9331049D0BDAB0277408F67967E5"
        ),
        (
            "01F74AD64077F2E704C0F60ADA3DD523", "70C3DB4F0D26368400A10ED05D2BFF5E", "234A3463C1264AC6",
            "1A47CB4933", "D851D5BAE03A59F238A23E39199DC9266626C40F80"
        ),
        (
            "D07CF6CBB7F313BDDE66B727AFD3C5E8", "8408DFFF3C1A2B1292DC199E46B7D617", "33CCE2EABFF5A79D",
            "481C9E39B1", "632A9D131AD4C168A4225D8E1FF755939974A7BEDE"
        ),
        (
            "8395FCF1E95BEBD697BD010BC766AAC3", "22E7ADD93CFC6393C57EC0B3C17D6B44", "126735FCC320D25A",
            "CA40D7446E545FFAED3BD12A740A659FFBBB3CEAB7",
            "CB8920F87A6C75CFF39627B56E3ED197C552D295A7CFC46AFC253B4652B1AF3795B124AB6E"
        ),
    ]

    @Test func eaxMatchesThePaperVectors() throws {
        for sample in Self.eaxSamples {
            let eax = try EAX(key: hexBytes(sample.key))
            let sealed = try eax.seal(
                hexBytes(sample.message), nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.header))
            #expect(hexString(sealed) == sample.sealed)
            let opened = try eax.open(
                hexBytes(sample.sealed)[...], nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.header))
            #expect(opened == hexBytes(sample.message))
            var tampered = hexBytes(sample.sealed)
            tampered[0] ^= 1
            #expect(throws: (any Error).self) {
                try eax.open(tampered[...], nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.header))
            }
        }
    }

    @Test func eaxRoundTripsAcrossBlockBoundariesAndCounterCarries() throws {
        let eax = try EAX(key: Array(repeating: 7, count: 32))
        // A nonce whose OMAC is not controlled, so the carry is tested by lengths spanning many blocks.
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 1000, 65_536 + 3] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let sealed = try eax.seal(plaintext, nonce: Array(repeating: 1, count: 16), associatedData: [1, 2, 3])
            #expect(sealed.count == length + 16)
            #expect(
                try eax.open(sealed[...], nonce: Array(repeating: 1, count: 16), associatedData: [1, 2, 3]) == plaintext
            )
        }
    }

    static let password = Array("password".utf8)
    static let helloWorld = Array("Hello, world!".utf8)

    // A.9: v6 SKESK and SEIPD v2 with AES-128 in EAX, password "password".
    static let eaxMessage = base64(
        "w0AGHgcBCwMIpa5XnR/F2Cv/aSJPkZmTs1Bvo7WaanPP+MXvxfQcV/tU4cImgV14"
            + "KPX5LEVOtl6+AKtZhsaObnxV0mkCBwEGn/kOOzIZZPOkKRPI3MZhkyUBUifvt+rq"
            + "pJ8EwuZ0F11KPSJu1q/LnKmsEiwUcOEcY9TAqyQcapOK1Iv5mlqZuQu6gyXeYQR1"
            + "QCWKt5Wala0FHdqW6xVDHf719eIlXKeCYVRuM5o=")

    @Test func theRFCEAXSampleDecrypts() throws {
        let result = try Messages.decrypt(Self.eaxMessage, passwords: [Self.password], now: 1_700_000_000)
        #expect(result.plaintext == Self.helloWorld)
        #expect(result.sessionKey.algorithm == .aes128)
        #expect(throws: OpenPGPError.self) {
            try Messages.decrypt(Self.eaxMessage, passwords: [Array("wrong".utf8)], now: 1_700_000_000)
        }
        var tampered = Self.eaxMessage
        tampered[tampered.count - 20] ^= 1
        #expect(throws: OpenPGPError.self) {
            try Messages.decrypt(tampered, passwords: [Self.password], now: 1_700_000_000)
        }
    }

    // A.12: v4 SKESK with Argon2 (t = 1, p = 4, m = 2^21 KiB: 2 GiB each) and SEIPD v1, with
    // AES-128, AES-192 and AES-256, and the session keys the RFC states.
    static let argon2Messages: [(message: [UInt8], sessionKey: String)] = [
        (
            base64(
                "wycEBwScUvg8J/leUNU1RA7N/zE2AQQVnlL8rSLPP5VlQsunlO+ECxHSPgGYGKY+"
                    + "YJz4u6F+DDlDBOr5NRQXt/KJIf4m4mOlKyC/uqLbpnLJZMnTq3o79GxBTdIdOzhH"
                    + "XfA3pqV4mTzF"), "01FE16BBACFD1E7B78EF3B865187374F"
        ),
        (
            base64(
                "wy8ECAThTKxHFTRZGKli3KNH4UP4AQQVhzLJ2va3FG8/pmpIPd/H/mdoVS5VBLLw"
                    + "F9I+AdJ1Sw56PRYiKZjCvHg+2bnq02s33AJJoyBexBI4QKATFRkyez2gldJldRys"
                    + "LVg77Mwwfgl2n/d572WciAM="), "27006DAE68E509022CE45A14E569E91001C2955AF8DFE194"
        ),
        (
            base64(
                "wzcECQS4eJUgIG/3mcaILEJFpmJ8AQQVnZ9l7KtagdClm9UaQ/Z6M/5roklSGpGu"
                    + "623YmaXezGj80j4B+Ku1sgTdJo87X1Wrup7l0wJypZls21Uwd67m9koF60eefH/K"
                    + "95D1usliXOEm8ayQJQmZrjf6K6v9PWwqMQ=="),
            "BBEDA55B9AAE63DAC45D4F49D89DACF4AF37FEFC13BAB2F1F8E18FB74580D8B0"
        ),
    ]

    /// 2 GiB of Argon2 per message; the AES-128 one always, all three with QUERCUS_SLOW_TESTS=1.
    @Test func theRFCArgon2SamplesDecrypt() throws {
        let all = ProcessInfo.processInfo.environment["QUERCUS_SLOW_TESTS"] == "1"
        for sample in Self.argon2Messages.prefix(all ? 3 : 1) {
            let result = try Messages.decrypt(sample.message, passwords: [Self.password], now: 1_700_000_000)
            #expect(result.plaintext == Self.helloWorld)
            #expect(hexString(result.sessionKey.key) == sample.sessionKey)
        }
    }

    @Test func argon2SpecifiersParseAndRefuseBadParameters() throws {
        func parse(_ bytes: [UInt8]) throws -> StringToKey {
            var reader = WireReader(bytes)
            return try StringToKey.read(&reader)
        }
        let salt = [UInt8](repeating: 9, count: 16)
        #expect(
            try parse([4] + salt + [3, 4, 16]) == .argon2(salt: salt, passes: 3, parallelism: 4, memoryExponent: 16))
        #expect(try parse([4] + salt + [3, 4, 16]).encoded == [4] + salt + [3, 4, 16])
        #expect(throws: (any Error).self) { try parse([4] + salt + [0, 4, 16]) }  // no passes
        #expect(throws: (any Error).self) { try parse([4] + salt + [1, 0, 16]) }  // no lanes
        #expect(throws: (any Error).self) { try parse([4] + salt + [1, 4, 4]) }  // m < 8p
        #expect(throws: (any Error).self) { try parse([4] + salt + [1, 1, 32]) }  // m > 2^31
        #expect(throws: (any Error).self) { try parse([4] + salt + [1, 1]) }  // truncated
        // Parsed, but more memory than we allow is refused when deriving, not attempted.
        #expect(throws: OpenPGPError.self) {
            try StringToKey.argon2(salt: salt, passes: 1, parallelism: 1, memoryExponent: 30).deriveKey(
                password: [], length: 16)
        }
    }

    @Test func passwordMessagesUseArgon2ForV6AndIteratedSaltedForV4() throws {
        let v2 = try Messages.encrypt(
            Self.helloWorld, recipients: [], passwords: [Self.password], profile: .rfc9580, at: 1_700_000_000)
        let v1 = try Messages.encrypt(
            Self.helloWorld, recipients: [], passwords: [Self.password], profile: .rfc4880, at: 1_700_000_000)
        // The S2K type octet: v6 SKESK [6, count, cipher, aead, s2k length, type…], v4 [4, cipher, type…].
        let v2Packets = try PacketFraming.packets(v2)
        let v1Packets = try PacketFraming.packets(v1)
        #expect(v2Packets.first?.body.prefix(6).last == 4)
        #expect(v1Packets.first?.body.prefix(3).last == 3)
        #expect(try Messages.decrypt(v2, passwords: [Self.password], now: 1_700_000_000).plaintext == Self.helloWorld)
        #expect(try Messages.decrypt(v1, passwords: [Self.password], now: 1_700_000_000).plaintext == Self.helloWorld)
    }
}
