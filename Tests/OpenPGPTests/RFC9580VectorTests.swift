import Foundation
import OpenPGP
import Testing

/// The sample keys and signatures of RFC 9580 appendix A, checked against the values the RFC states.
@Suite struct RFC9580VectorTests {
    // A.1: the v4 Ed25519Legacy key, and A.2: its signature over "OpenPGP".
    static let v4LegacyKey = base64("xjMEU/NfCxYJKwYBBAHaRw8BAQdAPwmJlL3ZFu1AUxl5NOSofIBzOhKA1i+AEJkuQ+47JAY=")
    static let v4LegacySignature = base64(
        "iF4EABYIAAYFAlX5X5UACgkQjP3hIZeWWpr2IgD/VvkMypjiECY3vZg/2xbBMd/S"
            + "ftgr9N3lYG4NdWrtM2YBANCcT6EVJ/A44PV/IgHYLy6iyQMyZfps60iehUuuYbQE")

    // A.3: the v6 certificate (Ed25519 primary key, X25519 subkey).
    static let v6Certificate = base64(
        "xioGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laPCsQYf"
            + "GwoAAABCBYJjh3/jAwsJBwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxy"
            + "KwwfHifBilZwj2Ul7Ce62azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lw"
            + "gyU2kCcUmKfvBXbAf6rhRYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaE"
            + "QsiPlR4zxP/TP7mhfVEe7XWPxtnMUMtf15OyA51YBM4qBmOHf+MZAAAAIIaTJINn"
            + "+eUBXbki+PSAld2nhJh/LVmFsS+60WyvXkQ1wpsGGBsKAAAALAWCY4d/4wKbDCIh"
            + "BssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce62azJAAAAAAQBIKbpGG2dWTX8"
            + "j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDEM0g12vYxoWM8Y81W+bHBw805"
            + "I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUrk0mXubZvyl4GBg==")

    // A.4: the same key with its unencrypted secrets.
    static let v6SecretKey = base64(
        "xUsGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laMAGXKB"
            + "exK+cH6NX1hs5hNhIB00TrJmosgv3mg1ditlsLfCsQYfGwoAAABCBYJjh3/jAwsJ"
            + "BwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6"
            + "2azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lwgyU2kCcUmKfvBXbAf6rh"
            + "RYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaEQsiPlR4zxP/TP7mhfVEe"
            + "7XWPxtnMUMtf15OyA51YBMdLBmOHf+MZAAAAIIaTJINn+eUBXbki+PSAld2nhJh/"
            + "LVmFsS+60WyvXkQ1AE1gCk95TUR3XFeibg/u/tVY6a//1q0NWC1X+yui3O24wpsG"
            + "GBsKAAAALAWCY4d/4wKbDCIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6"
            + "2azJAAAAAAQBIKbpGG2dWTX8j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDE"
            + "M0g12vYxoWM8Y81W+bHBw805I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUr"
            + "k0mXubZvyl4GBg==")

    // A.6: the signature of the cleartext signed message, a v6 text signature.
    static let v6TextSignature = base64(
        "wpgGARsKAAAAKQWCY5ijYyIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6"
            + "2azJAAAAAGk2IHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usJ9BvuAqo"
            + "/FvLFuGWMbKAdA+epq7V4HOtAPlBWmU8QOd6aud+aSunHQaaEJ+iTFjP2OMW0KBr"
            + "NK2ay45cX1IVAQ==")
    static let groceryList = Array("What we need from the grocery store:\n\n- tofu\n- vegetables\n- noodles\n".utf8)

    @Test func theV4LegacyKeyHasTheStatedFingerprintAndKeyID() throws {
        let certificates = try Certificate.parseAll(Self.v4LegacyKey)
        let key = try #require(certificates.first).primary
        #expect(key.version == 4)
        #expect(key.created == 1_408_458_507)  // 2014-08-19 14:28:27 UTC
        #expect(key.fingerprintHex == "C959BDBAFA32A2F89A153B678CFDE12197965A9A")
        #expect(key.keyID == [0x8C, 0xFD, 0xE1, 0x21, 0x97, 0x96, 0x5A, 0x9A])
        #expect(
            key.material
                == .ed25519Legacy(hexBytes("3f098994bdd916ed4053197934e4a87c80733a1280d62f8010992e43ee3b2406")))
    }

    @Test func theV4LegacySignatureVerifiesOverOpenPGPOnly() throws {
        let key = try #require(try Certificate.parseAll(Self.v4LegacyKey).first).primary
        let signature = try #require(try DetachedSignatures.parseSignatures(Self.v4LegacySignature).first)
        #expect(signature.version == 4)
        #expect(signature.hashAlgorithm == .sha256)
        #expect(signature.created == 1_442_406_293)  // 2015-09-16 12:24:53 UTC
        #expect(signature.issuerKeyID == key.keyID)
        #expect(signature.verify(by: key) { $0.update(Array("OpenPGP".utf8)) })
        #expect(!signature.verify(by: key) { $0.update(Array("OpePGP".utf8)) })
    }

    @Test func theV6CertificateParsesVerifiesAndReencodesExactly() throws {
        let certificates = try Certificate.parseAll(Self.v6Certificate)
        #expect(certificates.count == 1)
        let certificate = try #require(certificates.first)
        #expect(certificate.fingerprintHex == "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9")
        #expect(certificate.primary.keyID == hexBytes("CB186C4F0609A697"))
        #expect(certificate.primary.created == 1_669_824_483)  // 2022-11-30 16:08:03 UTC
        #expect(certificate.subkeys.count == 1)
        #expect(
            certificate.subkeys.first?.key.fingerprintHex
                == "12C83F1E706F6308FE151A417743A1F033790E93E9978488D1DB378DA9930885")
        #expect(!certificate.isSecret)
        #expect(PacketFraming.encode(certificate.packets()) == Self.v6Certificate)

        let now: UInt32 = 1_700_000_000
        #expect(certificate.signingKeys(at: now).map(\.key) == [certificate.primary])
        #expect(
            certificate.encryptionKeys(at: now).map(\.key.fingerprintHex) == [certificate.subkeys[0].key.fingerprintHex]
        )
        // Before the key existed nothing is valid.
        #expect(certificate.signingKeys(at: 1_600_000_000).isEmpty)
    }

    @Test func theV6SecretKeyHoldsTheStatedSeedAndReencodesExactly() throws {
        let key = try #require(try Certificate.parseAll(Self.v6SecretKey).first)
        #expect(key.isSecret)
        #expect(
            key.primarySecret
                == .ed25519Seed(hexBytes("1972817b12be707e8d5f586ce61361201d344eb266a2c82fde6835762b65b0b7")))
        #expect(PacketFraming.encode(key.packets()) == Self.v6SecretKey)
        #expect(PacketFraming.encode(key.packets(includingSecrets: false)) == Self.v6Certificate)
    }

    @Test func theV6TextSignatureVerifiesOverTheGroceryList() throws {
        let certificate = try #require(try Certificate.parseAll(Self.v6Certificate).first)
        let signatures = try DetachedSignatures.parseSignatures(Self.v6TextSignature)
        let good = DetachedSignatures.verify(
            Self.groceryList, signatures: signatures, certificates: [certificate], now: 1_700_000_000)
        #expect(good.count == 1)
        #expect(good.first?.mode == .text)
        #expect(good.first?.created == 1_670_947_683)  // 2022-12-13 16:08:03 UTC
        #expect(hexString(good.first?.primaryKeyFingerprint ?? []) == certificate.fingerprintHex)
        // The same text with CRLF line endings is the same text signature.
        let crlf = Array(
            String(decoding: Self.groceryList, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(
            DetachedSignatures.verify(crlf, signatures: signatures, certificates: [certificate], now: 1_700_000_000)
                .count == 1)
        var tampered = Self.groceryList
        tampered[tampered.count - 2] ^= 0x20
        #expect(
            DetachedSignatures.verify(tampered, signatures: signatures, certificates: [certificate], now: 1_700_000_000)
                .isEmpty)
    }
}

func base64(_ text: String) -> [UInt8] {
    Array(Data(base64Encoded: text) ?? Data())
}

func hexBytes(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}
