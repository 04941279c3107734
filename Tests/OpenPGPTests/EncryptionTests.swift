import Foundation
import OpenPGP
import Testing

/// Encrypted messages: the samples of RFC 9580 appendix A (which state their plaintext, password
/// and key) and round trips through every kind of session key and data packet.
@Suite struct EncryptionTests {
    static let now: UInt32 = 1_750_000_000
    static let helloWorld = Array("Hello, world!".utf8)
    static let password = Array("password".utf8)

    // v6 SKESK and SEIPD v2 with AES-128 in OCB and GCM, password "password" (appendix A).
    static let ocbMessage = base64(
        "wz8GHQcCCwMIVqKY0vXjZFP/z8xcEWZO2520JZDX3EawckG2EsOBLP/76gDyNHsl"
            + "ZBEj+IeuYNT9YU4IN9gZ02zSaQIHAgYgpmH3MfyaMDK1YjMmAn46XY21dI6+/wsM"
            + "WRDQns3WQf+f04VidYA1vEl1TOG/P/+n2tCjuBBPUTPPQqQQCoPu9MobSAGohGv0"
            + "K82nyM6dZeIS8wHLzZj9yt5pSod61CRzI/boVw==")
    static let gcmMessage = base64(
        "wzwGGgcDCwMI6dOXhbIHAAj/tC58SD70iERXyzcmubPbn/d25fTZpAlS4kRymIUa"
            + "v/91Jt8t1VRBdXmneZ/SaQIHAwb8uUSQvLmLvcnRBsYJAmaUD3LontwhtVlrFXax"
            + "Ae0Pn/xvxtZbv9JNzQeQlm5tHoWjAFN4TLHYtqBpnvEhVaeyrWJYUxtXZR/Xd3kS"
            + "+pXjXZtAIW9ppMJI2yj/QzHxYykHOZ5v+Q==")
    // A.10: "Hello, world!" to the sample v6 certificate: v6 PKESK (X25519) and SEIPD v2 (AES-128 OCB).
    static let x25519Message = base64(
        "wV0GIQYSyD8ecG9jCP4VGkF3Q6HwM3kOk+mXhIjR2zeNqZMIhRmHzxjV8bU/gXzO"
            + "WgBM85PMiVi93AZfJfhK9QmxfdNnZBjeo1VDeVZheQHgaVf7yopqR6W1FT6NOrfS"
            + "aQIHAgZhZBZTW+CwcW1g4FKlbExAf56zaw76/prQoN+bAzxpohup69LA7JW/Vp0l"
            + "yZnuSj3hcFj0DfqLTGgr4/u717J+sPWbtQBfgMfG9AOIwwrUBqsFE9zW+f1zdlYo"
            + "bhF30A+IitsxxA==")
    // From Sequoia's interoperability suite: "Hello World :)" to the same certificate as a v3
    // PKESK (X25519) and SEIPD v1 (AES-256).
    static let x25519V1Message = base64(
        "wVQDEsg/HnBvYwgZEFZQspuRTLEGqQ4oEX+0ap/cDogTvDbh+Fu5K6O7ZCkpCZu4"
            + "g6JfGwkmmqn6Ekff2LPS+jcsgz4S3y+90y7zg+bw6jgy81vJYZLSPwHPmq3ld0oV"
            + "codBvOUSOAvARPpDCHvAOyMT+ZmYEbbQK/ahc3P6HGDArsfcAETvsIHBE8U45o4g"
            + "poZLYyxi0A==")

    @Test func theRFCPasswordSamplesDecryptWithOCBAndGCM() throws {
        for message in [Self.ocbMessage, Self.gcmMessage] {
            let result = try Messages.decrypt(message, passwords: [Self.password], now: Self.now)
            #expect(result.plaintext == Self.helloWorld)
            #expect(result.sessionKey.algorithm == .aes128)
            #expect(throws: OpenPGPError.self) {
                try Messages.decrypt(message, passwords: [Array("wrong".utf8)], now: Self.now)
            }
        }
    }

    @Test func theRFCX25519SamplesDecryptWithTheSampleKey() throws {
        let key = try #require(try Certificate.parseAll(RFC9580VectorTests.v6SecretKey).first)
        let v2 = try Messages.decrypt(Self.x25519Message, keys: [key], now: Self.now)
        #expect(v2.plaintext == Self.helloWorld)
        let v1 = try Messages.decrypt(Self.x25519V1Message, keys: [key], now: Self.now)
        #expect(v1.plaintext == Array("Hello World :)".utf8))
        #expect(v1.sessionKey.algorithm == .aes256)
    }

    @Test func aTamperedMessageReleasesNothing() throws {
        let key = try #require(try Certificate.parseAll(RFC9580VectorTests.v6SecretKey).first)
        for message in [Self.x25519Message, Self.x25519V1Message, Self.ocbMessage] {
            for position in stride(from: message.count - 1, to: message.count - 40, by: -7) {
                var tampered = message
                tampered[position] ^= 0x01
                #expect(throws: OpenPGPError.self) {
                    try Messages.decrypt(tampered, keys: [key], passwords: [Self.password], now: Self.now)
                }
            }
            #expect(throws: OpenPGPError.self) {
                try Messages.decrypt(Array(message.dropLast(5)), keys: [key], passwords: [Self.password], now: Self.now)
            }
        }
    }

    @Test(arguments: [
        (KeyProfile.rfc9580, EncryptionProfile.rfc9580), (.rfc9580, .rfc4880), (.rfc4880, .rfc9580),
        (.rfc4880, .rfc4880),
    ])
    func encryptSignAndDecryptRoundTrips(keyProfile: KeyProfile, profile: EncryptionProfile) throws {
        let alice = try Certificate.generate(profile: keyProfile, userIDs: ["Alice"], created: Self.now)
        let bob = try Certificate.generate(profile: keyProfile, userIDs: ["Bob"], created: Self.now)
        let plaintext = Array(repeating: Array("a line of text\n".utf8), count: 30_000).flatMap { $0 }
        let message = try Messages.encrypt(
            plaintext, recipients: [bob.publicCertificate], passwords: [Array("pw".utf8)], signers: [alice],
            profile: profile, at: Self.now)
        let packets = try PacketFraming.packets(message)
        // SEIPD v2 only when the profile asks for it and the recipient (a v6 key) announces it.
        let expectV2 = profile == .rfc9580 && keyProfile == .rfc9580
        #expect(packets.last?.tag == .symmetricallyEncryptedIntegrityProtectedData)
        #expect(packets.last?.body.first == (expectV2 ? 2 : 1))
        #expect(packets.first?.body.first == (expectV2 ? 6 : 3))

        let byKey = try Messages.decrypt(message, keys: [bob], verifyWith: [alice.publicCertificate], now: Self.now)
        #expect(byKey.plaintext == plaintext)
        #expect(byKey.verifications.map(\.primaryKeyFingerprint) == [alice.primary.fingerprint])
        let byPassword = try Messages.decrypt(message, passwords: [Array("pw".utf8)], now: Self.now)
        #expect(byPassword.plaintext == plaintext)
        let bySessionKey = try Messages.decrypt(message, sessionKeys: [byKey.sessionKey], now: Self.now)
        #expect(bySessionKey.plaintext == plaintext)
        #expect(throws: OpenPGPError.self) { try Messages.decrypt(message, keys: [alice], now: Self.now) }
    }
}
