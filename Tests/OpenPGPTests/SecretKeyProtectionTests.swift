import Foundation
import Testing

@testable import OpenPGP

/// Password-protected secret keys: RFC 9580's locked v6 key (A.5), and protection round trips for
/// every profile.
@Suite struct SecretKeyProtectionTests {
    // A.5: the A.4 key locked with AEAD (OCB, AES-256) and Argon2 (t = 1, p = 4, 2 GiB).
    static let lockedV6Key = base64(
        "xYIGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laP9JgkC"
            + "FARdb9ccngltHraRe25uHuyuAQQVtKipJ0+r5jL4dacGWSAheCWPpITYiyfyIOPS"
            + "3gIDyg8f7strd1OB4+LZsUhcIjOMpVHgmiY/IutJkulneoBYwrEGHxsKAAAAQgWC"
            + "Y4d/4wMLCQcFFQoOCAwCFgACmwMCHgkiIQbLGGxPBgmml+TVLfpscisMHx4nwYpW"
            + "cI9lJewnutmsyQUnCQIHAgAAAACtKCAQPi19In7A5tfORHHbNr/JcIMlNpAnFJin"
            + "7wV2wH+q4UWFs7kDsBJ+xP2i8CMEWi7Ha8tPlXGpZR4UruETeh1mhELIj5UeM8T/"
            + "0z+5oX1RHu11j8bZzFDLX9eTsgOdWATHggZjh3/jGQAAACCGkySDZ/nlAV25Ivj0"
            + "gJXdp4SYfy1ZhbEvutFsr15ENf0mCQIUBA5hhGgp2oaavg6mFUXcFMwBBBUuE8qf"
            + "9Ock+xwusd+GAglBr5LVyr/lup3xxQvHXFSjjA2haXfoN6xUGRdDEHI6+uevKjVR"
            + "v5oAxgu7eJpaXNjCmwYYGwoAAAAsBYJjh3/jApsMIiEGyxhsTwYJppfk1S36bHIr"
            + "DB8eJ8GKVnCPZSXsJ7rZrMkAAAAABAEgpukYbZ1ZNfyP5WMUzbUnSGpaUSD5t2Ki"
            + "Nacp8DkBClZRa2c3AMQzSDXa9jGhYzxjzVb5scHDzTkjyRZWRdTq8U6L4da+/+Kt"
            + "ruh8m7Xo2ehSSFyWRSuTSZe5tm/KXgYG")
    static let passphrase = Array("correct horse battery staple".utf8)

    @Test func theRFCLockedV6KeyUnlocksToTheA4Secrets() throws {
        let locked = try #require(try Certificate.parseAll(Self.lockedV6Key).first)
        let clear = try #require(try Certificate.parseAll(RFC9580VectorTests.v6SecretKey).first)
        #expect(locked.hasProtectedSecrets)
        #expect(PacketFraming.encode(locked.packets()) == Self.lockedV6Key)
        let primary = SecretKey(publicKey: locked.primary, secret: try #require(locked.primarySecret))
        let protection = try #require(try primary.protection)
        #expect(protection.usage == 253)
        #expect(protection.aead == .ocb)
        #expect(protection.algorithm == .aes256)
        // Each unlock costs 2 GiB of Argon2: the primary key always, the whole key with QUERCUS_SLOW_TESTS=1.
        let unlocked = try #require(try primary.unlocked(password: Self.passphrase, subkey: false))
        #expect(unlocked.secret == clear.primarySecret)
        if ProcessInfo.processInfo.environment["QUERCUS_SLOW_TESTS"] == "1" {
            let whole = locked.unlocking(with: [Array("wrong".utf8), Self.passphrase])
            #expect(!whole.hasProtectedSecrets)
            #expect(PacketFraming.encode(whole.packets()) == RFC9580VectorTests.v6SecretKey)
        }
    }

    @Test func everyProfileProtectsAndUnlocks() throws {
        for profile in KeyProfile.allCases where profile != .rfc4880RSA {
            let key = try Certificate.generate(profile: profile, userIDs: ["P <p@example.org>"], created: 1_700_000_000)
            let password = Array("hunter2".utf8)
            let locked = try key.protecting(with: password)
            #expect(locked.hasProtectedSecrets)
            #expect(locked.packets(includingSecrets: false) == key.packets(includingSecrets: false))
            let reparsed = try #require(try Certificate.parseAll(PacketFraming.encode(locked.packets())).first)
            #expect(reparsed == locked)
            let primary = SecretKey(publicKey: reparsed.primary, secret: try #require(reparsed.primarySecret))
            #expect(try primary.protection?.usage == (profile == .rfc9580 ? 253 : 254))
            // Wrong passwords leave it locked; the right one restores the very same key.
            #expect(reparsed.unlocking(with: [Array("hunter3".utf8)]).hasProtectedSecrets)
            #expect(try primary.unlocked(password: Array("hunter3".utf8), subkey: false) == nil)
            let unlocked = reparsed.unlocking(with: [Array("hunter3".utf8), password])
            #expect(unlocked == key)
            // A locked key signs nothing: its secret is not usable.
            #expect(throws: OpenPGPError.self) {
                try DetachedSigner(keys: [reparsed], mode: .binary, at: 1_700_000_001)
            }
        }
    }

    @Test func legacyChecksumProtectionUnlocks() throws {
        // Usage 255 (CFB with a two-octet sum), made here since no peer writes it any more.
        let key = try Certificate.generate(profile: .rfc4880, userIDs: ["L <l@example.org>"], created: 1_700_000_000)
        let secret = SecretKey(publicKey: key.primary, secret: try #require(key.primarySecret))
        let fields = try #require(secret.secretFields)
        let s2k = StringToKey.iteratedSalted(.sha256, salt: Array(repeating: 1, count: 8), count: 0x10)
        let derived = try s2k.deriveKey(password: Array("pw".utf8), length: 16)
        let iv = [UInt8](repeating: 3, count: 16)
        let sum = fields.reduce(UInt16(0)) { $0 &+ UInt16($1) }
        let encrypted = try OpenPGPCFB.encrypt(
            (fields + [UInt8(sum >> 8), UInt8(sum & 0xFF)])[...], key: derived, iv: iv)
        let body = [255, SymmetricAlgorithm.aes128.rawValue] + s2k.encoded + iv + encrypted
        let locked = SecretKey(publicKey: key.primary, secret: .opaque(body))
        #expect(locked.isProtected)
        #expect(try locked.unlocked(password: Array("pw".utf8), subkey: false)?.secret == key.primarySecret)
        #expect(try locked.unlocked(password: Array("px".utf8), subkey: false) == nil)
    }

    @Test func malformedProtectionIsATypedError() throws {
        let key = try Certificate.generate(profile: .rfc9580, userIDs: [], created: 1_700_000_000)
        let locked = try key.protecting(with: Array("pw".utf8))
        guard case .opaque(let bytes) = try #require(locked.primarySecret) else {
            Issue.record("not opaque")
            return
        }
        for cut in [1, 2, 3, 5, 10, 30] {
            let truncated = SecretKey(publicKey: key.primary, secret: .opaque(Array(bytes.prefix(cut))))
            #expect(throws: OpenPGPError.self) { try truncated.unlocked(password: Array("pw".utf8), subkey: false) }
        }
        // A truncated ciphertext fails authentication, which is all a wrong password shows too.
        let short = SecretKey(publicKey: key.primary, secret: .opaque(Array(bytes.dropLast())))
        #expect(try short.unlocked(password: Array("pw".utf8), subkey: false) == nil)
    }
}
