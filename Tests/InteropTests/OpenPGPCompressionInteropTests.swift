import Foundation
import OpenPGP
import TestSupport
import Testing

/// Messages we compress (ZIP and ZLIB), read by GnuPG 2.2, sqop, gosop and pysequoia: encrypted
/// and signed (SEIPD v1 for v4 keys, SEIPD v2 for v6 keys) and inline-signed, written by the
/// library; and `quercus-sop encrypt --compress`, whose compressed packet GnuPG lists. Signers are
/// checked against fingerprints the peers compute. Any failing cell fails the test.
@Suite(.serialized) struct OpenPGPCompressionInteropTests {
    static let now = UInt32(Date().timeIntervalSince1970) - 60
    static let text = Data(
        (0..<4_000).map { "line \($0 % 37) of a letter that says the same thing again\n" }.joined().utf8)

    private func armored(_ certificate: Certificate, secret: Bool) -> Data {
        let packets = certificate.packets(includingSecrets: secret)
        return Data(Armor.encode(PacketFraming.encode(packets), kind: secret ? .privateKey : .publicKey).utf8)
    }

    @Test func gnuPGSqopAndGosopReadCompressedV4Messages() throws {
        let directory = try TemporaryDirectory("openpgp-compression")
        defer {
            GnuPGSOP.stopAgents(in: directory)
            directory.remove()
        }
        let alice = try Certificate.generate(
            profile: .rfc4880, userIDs: ["Alice <alice@example.org>"], created: Self.now)
        let bob = try Certificate.generate(profile: .rfc4880, userIDs: ["Bob <bob@example.org>"], created: Self.now)
        let aliceCert = armored(alice.publicCertificate, secret: false)
        let aliceFingerprint = try GnuPGSOP.primaryFingerprint(of: aliceCert, in: directory)
        let peers: [any SOPImplementation] = [
            try GnuPGSOP(directory: directory),
            try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil),
            try CommandSOP.gosop(),
        ]
        let plaintext = Array(Self.text)
        let uncompressed = try Messages.encrypt(
            plaintext, recipients: [bob.publicCertificate], signers: [alice], at: Self.now)
        var failures: [String] = []
        for compression in [MessageCompression.zip, .zlib] {
            let message = try Messages.encrypt(
                plaintext, recipients: [bob.publicCertificate], signers: [alice], compression: compression,
                at: Self.now)
            print(
                "compression \(compression): encrypted and signed \(message.count) bytes, \(uncompressed.count) uncompressed, plaintext \(plaintext.count)"
            )
            let armoredMessage = Data(Armor.encode(message, kind: .message).utf8)
            for peer in peers {
                let cell = "\(compression) SEIPD v1, \(peer.name) decrypts and verifies"
                do {
                    let result = try peer.decrypt(
                        armoredMessage, key: armored(bob, secret: true), password: nil, verifier: aliceCert,
                        in: directory)
                    let ok = result.plaintext == Self.text && result.signers == [aliceFingerprint]
                    print("  \(cell): \(ok ? "ok" : "FAIL, signers \(result.signers)")")
                    if !ok { failures.append(cell) }
                } catch {
                    print("  \(cell): FAIL \(error)")
                    failures.append(cell)
                }
            }
            for mode in ["binary", "text"] {
                let signed = try Messages.inlineSign(
                    plaintext, mode: mode == "text" ? .text : .binary, signers: [alice], compression: compression,
                    at: Self.now)
                let armoredSigned = Data(Armor.encode(signed, kind: .message).utf8)
                // Debian's gosop has no inline verbs.
                for peer in peers.compactMap({ $0 as? any InlineSOP }) where peer.name != "gosop" {
                    let cell = "\(compression) inline-signed \(mode), \(peer.name) verifies"
                    do {
                        let result = try peer.inlineVerify(armoredSigned, cert: aliceCert, in: directory)
                        // Text is stored with CRLF; GnuPG gives it back with LF, sqop as stored.
                        let ok =
                            Data(result.data.filter { $0 != 0x0D }) == Self.text
                            && result.signers == [aliceFingerprint]
                        print("  \(cell): \(ok ? "ok" : "FAIL, signers \(result.signers), \(result.data.count) bytes")")
                        if !ok { failures.append(cell) }
                    } catch {
                        print("  \(cell): FAIL \(error)")
                        failures.append(cell)
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func pySequoiaReadsCompressedSEIPDv2Messages() throws {
        let directory = try TemporaryDirectory("openpgp-compression")
        defer { directory.remove() }
        let pysequoia = try PySequoiaSOP()
        let alice = try Certificate.generate(
            profile: .rfc9580, userIDs: ["Alice <alice@example.org>"], created: Self.now)
        let bob = try Certificate.generate(profile: .rfc9580, userIDs: ["Bob <bob@example.org>"], created: Self.now)
        let aliceCert = Data(
            Armor.encode(PacketFraming.encode(alice.publicCertificate.packets()), kind: .publicKey, checksum: false)
                .utf8)
        let bobKey = Data(Armor.encode(PacketFraming.encode(bob.packets()), kind: .privateKey, checksum: false).utf8)
        let aliceFingerprint = try pysequoia.primaryFingerprint(of: aliceCert, in: directory)
        var failures: [String] = []
        for compression in [MessageCompression.zip, .zlib] {
            let message = try Messages.encrypt(
                Array(Self.text), recipients: [bob.publicCertificate], signers: [alice], compression: compression,
                at: Self.now)
            let seipd = try PacketFraming.packets(message).last
            #expect(seipd?.tag == .symmetricallyEncryptedIntegrityProtectedData && seipd?.body.first == 2)
            let armoredMessage = Data(Armor.encode(message, kind: .message, checksum: false).utf8)
            // pysequoia's verification helper accepts only an encryption layer and a signature
            // group, no compression layer between them ("Unexpected message structure"), so a
            // signed compressed message is read without verification (counted) and with it
            // (printed, not counted).
            for verify in [false, true] {
                let cell = "\(compression) SEIPD v2, pysequoia decrypts\(verify ? " and verifies" : "")"
                do {
                    let result = try pysequoia.decrypt(
                        armoredMessage, key: bobKey, password: nil, verifier: verify ? aliceCert : nil, in: directory)
                    let ok = result.plaintext == Self.text && (!verify || result.signers == [aliceFingerprint])
                    print("  \(cell) (\(message.count) bytes): \(ok ? "ok" : "FAIL, signers \(result.signers)")")
                    if !ok && !verify { failures.append(cell) }
                } catch {
                    let reason = String(describing: error).split(separator: "\n").first { $0.contains("Error") }
                    print("  \(cell): FAIL \(reason ?? "")\(verify ? " (pysequoia's helper, not counted)" : "")")
                    if !verify { failures.append(cell) }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// `quercus-sop encrypt --compress`: GnuPG decrypts it and lists the compressed packet with
    /// the algorithm asked for; an unknown algorithm is UNSUPPORTED_OPTION (37).
    @Test func theCompressOptionOfEncryptWritesWhatGnuPGReads() throws {
        let directory = try TemporaryDirectory("openpgp-compression")
        defer {
            GnuPGSOP.stopAgents(in: directory)
            directory.remove()
        }
        let sop = try Product.path("quercus-sop")
        let gpg = try Peer.command("gpg", debian: "gnupg")
        let key = try run(sop, ["generate-key", "--profile", "rfc4880", "Bob <bob@example.org>"]).stdout
        let keyFile = try directory.write("bob.key", key)
        let certFile = try directory.write("bob.cert", try run(sop, ["extract-cert"], stdin: Data(key.utf8)).stdout)
        let home = directory.file("gnupg-compress")
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = try run(gpg, ["--homedir", home, "--batch", "--import", keyFile])
        var sizes: [String: Int] = [:]
        for (option, algorithm) in [("none", nil), ("zip", 1), ("zlib", 2)] as [(String, Int?)] {
            let encrypted = try run(sop, ["encrypt", "--compress", option, certFile], stdin: Self.text)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            let messageFile = try directory.write("message-\(option).asc", encrypted.stdout)
            sizes[option] = encrypted.stdout.utf8.count
            let decrypted = try run(gpg, ["--homedir", home, "--batch", "--decrypt", messageFile])
            #expect(decrypted.status == 0 && Data(decrypted.stdout.utf8) == Self.text, "\(option): \(decrypted.stderr)")
            let listing = try run(gpg, ["--homedir", home, "--batch", "--list-packets", messageFile])
            let compressedLine = listing.stdout.split(separator: "\n").first { $0.contains(":compressed packet:") }
            if let algorithm {
                #expect(compressedLine?.contains("algo=\(algorithm)") == true, "\(option): \(listing.stdout)")
            } else {
                #expect(compressedLine == nil, "\(option): \(listing.stdout)")
            }
        }
        print("quercus-sop encrypt of \(Self.text.count) bytes of text, armored sizes: \(sizes)")
        #expect((sizes["zlib"] ?? .max) * 10 < (sizes["none"] ?? 0))
        // No input: quercus-sop stops before reading it, and a write to its closed pipe would be SIGPIPE.
        let refused = try run(sop, ["encrypt", "--compress", "bzip2", certFile], stdin: Data())
        #expect(refused.status == 37)
    }
}
