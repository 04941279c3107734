import Foundation
import TestSupport
import Testing

/// `quercus-sop` against Sequoia's `sqop`, GnuPG 2.2 (behind a thin wrapper with the same SOP
/// verbs) and GopenPGP's `gosop` (Debian's 2022 snapshot: v4 keys only, RSA-2048, and no profiles,
/// inline verbs or key passwords, so it joins the v4 sign/verify and encryption matrices only): every pair generates a key on one side, signs on the other or the same side, and
/// verifies on the third, so each cell runs both ways. The matrix is printed; any failing cell
/// fails the test.
@Suite(.serialized) struct OpenPGPInteropTests {
    @Test func v4SignAndVerifyMatrixWithSqopAndGnuPG() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        try runMatrix(
            "v4 keys (profile rfc4880)",
            [
                try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc4880"),
                try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil),
                try GnuPGSOP(directory: directory),
                try CommandSOP.gosop(),
            ],
            fingerprint: { try GnuPGSOP.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    @Test func v6SignAndVerifyMatrixWithPySequoia() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let pysequoia = try PySequoiaSOP()
        try runMatrix(
            "v6 keys (profile rfc9580)",
            [try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc9580"), pysequoia],
            fingerprint: { try pysequoia.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    @Test func v4EncryptionMatrixWithSqopAndGnuPG() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        try runEncryptionMatrix(
            "v4 keys (profile rfc4880; quercus encrypts with its default profile)",
            [
                try CommandSOP(
                    name: "quercus", path: Product.path("quercus-sop"), profile: "rfc4880", passwordProfile: "rfc4880"),
                try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil),
                try GnuPGSOP(directory: directory),
                try CommandSOP.gosop(),
            ],
            fingerprint: { try GnuPGSOP.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    @Test func v6EncryptionMatrixWithPySequoia() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let pysequoia = try PySequoiaSOP()
        try runEncryptionMatrix(
            "v6 keys and SEIPD v2 (profile rfc9580)",
            [try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc9580"), pysequoia],
            fingerprint: { try pysequoia.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    /// RSA-3072 keys from `generate-key --profile rfc4880-rsa` and from GnuPG, and GnuPG's ECDSA/ECDH
    /// keys on P-256, P-384 and P-521, each used by quercus-sop, sqop and GnuPG. (sqop 0.27 makes
    /// only Curve25519 keys, so it signs, verifies, encrypts and decrypts here but makes no key.)
    @Test func rsaAndNISTCurveSignAndVerifyMatrix() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { GnuPGSOP.stopAgents(in: directory) }
        let (users, keyMakers) = try rsaAndNISTCurveParticipants(directory)
        try runMatrix(
            "RSA and NIST curves (v4)", users, keyMakers: keyMakers,
            fingerprint: { try GnuPGSOP.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    @Test func rsaAndNISTCurveEncryptionMatrix() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { GnuPGSOP.stopAgents(in: directory) }
        let (users, keyMakers) = try rsaAndNISTCurveParticipants(directory)
        try runEncryptionMatrix(
            "RSA and NIST curves (v4, SEIPD v1)", users, keyMakers: keyMakers, withPasswords: false,
            fingerprint: { try GnuPGSOP.primaryFingerprint(of: $0, in: directory) }, in: directory)
    }

    private func rsaAndNISTCurveParticipants(_ directory: TemporaryDirectory) throws -> (
        users: [any SOPImplementation], keyMakers: [any SOPImplementation]
    ) {
        let quercusRSA = try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc4880-rsa")
        let users: [any SOPImplementation] = [
            quercusRSA, try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil),
            try GnuPGSOP(directory: directory),
        ]
        let gnupgMakers: [any SOPImplementation] = try ["rsa3072", "nistp256", "nistp384", "nistp521"].map {
            try GnuPGSOP(directory: directory, algorithm: $0)
        }
        return (users, [quercusRSA] + gnupgMakers)
    }

    @Test func inlineSignAndVerifyMatrixWithSqopAndGnuPG() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let implementations: [any InlineSOP] = [
            try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc4880"),
            try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil),
            try GnuPGSOP(directory: directory),
        ]
        // No trailing whitespace: GnuPG strips it from text signatures, RFC 9580 does not.
        let data = Data("Inline interop\n- a dash-escaped line\nlast line".utf8)
        var rows: [String] = []
        var failures: [String] = []
        for keyMaker in implementations {
            let key = try keyMaker.generateKey(userID: "Inline <\(keyMaker.name)@example.org>", in: directory)
            let cert = try keyMaker.extractCert(key, in: directory)
            let expected = try GnuPGSOP.primaryFingerprint(of: cert, in: directory)
            for signer in implementations {
                for verifier in implementations {
                    for mode in ["binary", "text", "clearsigned"] {
                        let cell =
                            "key \(keyMaker.name), inline-sign \(signer.name) --as=\(mode), inline-verify \(verifier.name)"
                        let outcome: String
                        do {
                            let message = try signer.inlineSign(data, key: key, mode: mode, in: directory)
                            let result = try verifier.inlineVerify(message, cert: cert, in: directory)
                            // Text may come back with CRLF line endings (RFC 9580 stores text so), and the
                            // cleartext framework does not carry a final line ending.
                            let text = Data(result.data.filter { $0 != 0x0D })
                            let same = text == data || text == data + Data("\n".utf8)
                            outcome =
                                !same
                                ? "FAIL (data differs: \(String(decoding: result.data, as: UTF8.self)))"
                                : result.signers.contains(expected)
                                    ? "ok" : "FAIL (signers \(result.signers), expected \(expected))"
                        } catch {
                            outcome = "FAIL (\(error))"
                        }
                        // Cells between two peers are printed for context but do not count: GnuPG 2.2
                        // rejects sqop's text-mode inline signatures (LF-only literal data).
                        let peersOnly = signer.name != "quercus" && verifier.name != "quercus"
                        rows.append(
                            "\(cell): \(outcome)\(peersOnly && outcome != "ok" ? " (peers only, not counted)" : "")")
                        if outcome != "ok" && !peersOnly { failures.append("\(cell): \(outcome)") }
                    }
                }
            }
        }
        print("OpenPGP inline signature interop matrix:\n" + rows.joined(separator: "\n"))
        #expect(failures.isEmpty, "\(failures.count) failing cells:\n\(failures.joined(separator: "\n"))")
    }

    /// Key maker × encrypter × decrypter for public-key encryption, encryption signed with the
    /// same key (verified on decryption), and password encryption.
    private func runEncryptionMatrix(
        _ title: String, _ implementations: [any SOPImplementation], keyMakers: [any SOPImplementation]? = nil,
        withPasswords: Bool = true, fingerprint: (Data) throws -> String, in directory: TemporaryDirectory
    ) throws {
        let plaintext = Data("Quercus encryption interop\nsecond line\n".utf8)
        var rows: [String] = []
        var failures: [String] = []
        func record(_ cell: String, _ body: () throws -> String) {
            let outcome: String
            do { outcome = try body() } catch { outcome = "FAIL (\(error))" }
            rows.append("\(cell): \(outcome)")
            if outcome != "ok" { failures.append("\(cell): \(outcome)") }
        }
        for keyMaker in keyMakers ?? implementations {
            let key = try keyMaker.generateKey(userID: "Crypt <\(keyMaker.name)@example.org>", in: directory)
            let cert = try keyMaker.extractCert(key, in: directory)
            let expected = try fingerprint(cert)
            for encrypter in implementations {
                for decrypter in implementations {
                    let names = "key \(keyMaker.name), \(encrypter.name) → \(decrypter.name)"
                    record("\(names), encrypt") {
                        let message = try encrypter.encrypt(
                            plaintext, to: cert, password: nil, signer: nil, in: directory)
                        let result = try decrypter.decrypt(
                            message, key: key, password: nil, verifier: nil, in: directory)
                        return result.plaintext == plaintext ? "ok" : "FAIL (wrong plaintext)"
                    }
                    record("\(names), encrypt and sign") {
                        let message = try encrypter.encrypt(
                            plaintext, to: cert, password: nil, signer: key, in: directory)
                        let result = try decrypter.decrypt(
                            message, key: key, password: nil, verifier: cert, in: directory)
                        guard result.plaintext == plaintext else { return "FAIL (wrong plaintext)" }
                        return result.signers.contains(expected)
                            ? "ok" : "FAIL (signers \(result.signers), expected \(expected))"
                    }
                }
            }
        }
        for encrypter in withPasswords ? implementations : [] {
            for decrypter in implementations {
                record("password, \(encrypter.name) → \(decrypter.name)") {
                    let message = try encrypter.encrypt(
                        plaintext, to: nil, password: "correct horse", signer: nil, in: directory)
                    let result = try decrypter.decrypt(
                        message, key: nil, password: "correct horse", verifier: nil, in: directory)
                    // gosop (2022) stores password-encrypted data as text-mode literal data with CRLF
                    // line endings; sqop and quercus-sop hand the stored bytes back, GnuPG converts.
                    let text =
                        encrypter.name == "gosop" ? Data(result.plaintext.filter { $0 != 0x0D }) : result.plaintext
                    return text == plaintext ? "ok" : "FAIL (wrong plaintext)"
                }
            }
        }
        print("OpenPGP encryption interop matrix, \(title):\n" + rows.joined(separator: "\n"))
        #expect(failures.isEmpty, "\(failures.count) failing cells:\n\(failures.joined(separator: "\n"))")
    }

    /// Every key maker × signer × verifier × mode; `fingerprint` is a peer's idea of a
    /// certificate's primary fingerprint, so no cell trusts our own fingerprint code.
    private func runMatrix(
        _ title: String, _ implementations: [any SOPImplementation], keyMakers: [any SOPImplementation]? = nil,
        fingerprint: (Data) throws -> String, in directory: TemporaryDirectory
    ) throws {
        let data = Data("Quercus interop\nsecond line\n".utf8)
        var rows: [String] = []
        var failures: [String] = []
        for keyMaker in keyMakers ?? implementations {
            let key = try keyMaker.generateKey(userID: "Interop <\(keyMaker.name)@example.org>", in: directory)
            let cert = try keyMaker.extractCert(key, in: directory)
            let expected = try fingerprint(cert)
            for signer in implementations {
                for verifier in implementations {
                    for mode in signer.signsText ? ["binary", "text"] : ["binary"] {
                        let cell = "key \(keyMaker.name), sign \(signer.name) --as=\(mode), verify \(verifier.name)"
                        let outcome: String
                        do {
                            let signature = try signer.sign(data, key: key, mode: mode, in: directory)
                            let signers = try verifier.verify(data, signature: signature, cert: cert, in: directory)
                            outcome =
                                signers.contains(expected)
                                ? "ok" : "FAIL (verified by \(signers), expected \(expected))"
                        } catch {
                            outcome = "FAIL (\(error))"
                        }
                        rows.append("\(cell): \(outcome)")
                        if outcome != "ok" { failures.append("\(cell): \(outcome)") }
                    }
                }
            }
        }
        print("OpenPGP sign/verify interop matrix, \(title):\n" + rows.joined(separator: "\n"))
        #expect(failures.isEmpty, "\(failures.count) failing cells:\n\(failures.joined(separator: "\n"))")
    }

    @Test func aTamperedMessageFailsVerificationOnEverySide() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let quercus = try CommandSOP(name: "quercus", path: Product.path("quercus-sop"), profile: "rfc4880")
        let sqop = try CommandSOP(name: "sqop", path: Peer.command("sqop", debian: "sqop"), profile: nil)
        let key = try sqop.generateKey(userID: "Tamper <t@example.org>", in: directory)
        let cert = try sqop.extractCert(key, in: directory)
        let signature = try sqop.sign(Data("original".utf8), key: key, mode: "binary", in: directory)
        let sigFile = try directory.write("tampered.sig", String(decoding: signature, as: UTF8.self))
        let certFile = try directory.write("tampered.cert", String(decoding: cert, as: UTF8.self))
        let result = try run(quercus.path, ["verify", sigFile, certFile], stdin: Data("0riginal".utf8))
        // SOP: exit 3, NO_SIGNATURE, and nothing on standard output.
        #expect(result.status == 3)
        #expect(result.stdout.isEmpty)
    }

    @Test func armorAndDearmorAgreeWithSqop() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let quercus = try Product.path("quercus-sop")
        let sqop = try Peer.command("sqop", debian: "sqop")
        // Binary data goes through files: the process helper reads standard output as text.
        func pipe(_ program: String, _ arguments: String, from input: String, to output: String) throws -> Data {
            let result = try run(
                "/bin/sh",
                ["-c", "\"$0\" \(arguments) < \"$1\" > \"$2\"", program, directory.file(input), directory.file(output)])
            #expect(result.status == 0, "\(program) \(arguments): \(result.stderr)")
            return try Data(contentsOf: URL(fileURLWithPath: directory.file(output)))
        }
        for profile in ["rfc4880", "rfc9580"] {
            let armoredKey = try run(quercus, ["generate-key", "--profile", profile, "Armor <a@example.org>"])
            #expect(armoredKey.status == 0)
            try directory.write("\(profile).asc", armoredKey.stdout)
            let ours = try pipe(quercus, "dearmor", from: "\(profile).asc", to: "\(profile).ours")
            let theirs = try pipe(sqop, "dearmor", from: "\(profile).asc", to: "\(profile).theirs")
            #expect(!ours.isEmpty)
            #expect(ours == theirs, "\(profile): dearmor differs")
        }
        // sqop's binary key armored by either side dearmors to the same bytes on the other.
        let binary = try pipe(
            sqop, "generate-key --no-armor 'Armor <a@example.org>'", from: "rfc4880.asc", to: "sqop.key")
        let oursArmored = try pipe(quercus, "armor", from: "sqop.key", to: "sqop.ours.asc")
        #expect(String(decoding: oursArmored, as: UTF8.self).hasPrefix("-----BEGIN PGP PRIVATE KEY BLOCK-----\n"))
        #expect(try pipe(sqop, "dearmor", from: "sqop.ours.asc", to: "sqop.back1") == binary)
        _ = try pipe(sqop, "armor", from: "sqop.key", to: "sqop.theirs.asc")
        #expect(try pipe(quercus, "dearmor", from: "sqop.theirs.asc", to: "sqop.back2") == binary)
    }

    @Test func aRevokedCertificateIsRevokedForGnuPGAndRefusedForEncryption() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { directory.remove() }
        let quercus = try Product.path("quercus-sop")
        let gpg = try Peer.command("gpg", debian: "gnupg")
        let key = try run(quercus, ["generate-key", "--profile", "rfc4880", "Revoked <r@example.org>"])
        let revoked = try run(quercus, ["revoke-key"], stdin: Data(key.stdout.utf8))
        #expect(revoked.status == 0)
        let home = directory.file("gnupg")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        _ = try run(gpg, ["--homedir", home, "--batch", "--import"], stdin: Data(revoked.stdout.utf8))
        let listing = try run(gpg, ["--homedir", home, "--batch", "--with-colons", "--list-keys"])
        // Field 2 of the pub line is the validity: "r" for revoked.
        #expect(listing.stdout.split(separator: "\n").contains { $0.hasPrefix("pub:r:") }, "\(listing.stdout)")
        let cert = try directory.write("revoked.cert", revoked.stdout)
        #expect(try run(quercus, ["encrypt", cert], stdin: Data("x".utf8)).status == 17)
    }

    /// Password-protected keys across quercus-sop, sqop and GnuPG: each protects a key (GnuPG
    /// exports it with a passphrase), the others unlock it to sign and decrypt; without the password
    /// or with a wrong one the answer is KEY_IS_PROTECTED (67).
    @Test func passwordProtectedKeysUnlockAcrossPeers() throws {
        let directory = try TemporaryDirectory("openpgp-interop")
        defer { GnuPGSOP.stopAgents(in: directory) }
        let quercus = try Product.path("quercus-sop")
        let sqop = try Peer.command("sqop", debian: "sqop")
        let gpg = try Peer.command("gpg", debian: "gnupg")
        let password = try directory.write("key-password.txt", "sesame seed\n")
        let wrong = try directory.write("wrong-password.txt", "open barley")
        let data = Data("protected keys\n".utf8)
        let dataFile = try directory.write("protected-data.txt", "protected keys\n")

        // GnuPG: a key made with a passphrase, exported with it (loopback pinentry).
        let home = directory.file("gnupg-protected")
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let gpgBase = [
            "--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase-file", password,
        ]
        #expect(
            try run(
                gpg, gpgBase + ["--quick-gen-key", "Locked <gpg@example.org>", "future-default", "default", "never"]
            ).status == 0)
        let gpgKey = try run(gpg, gpgBase + ["--armor", "--export-secret-keys"]).stdout
        #expect(gpgKey.contains("PRIVATE KEY"))

        var keys: [(maker: String, key: String)] = [("gpg", gpgKey)]
        let sqopKey = try run(sqop, ["generate-key", "--with-key-password", password, "Locked <sqop@example.org>"])
        #expect(sqopKey.status == 0, "\(sqopKey.stderr)")
        keys.append(("sqop", sqopKey.stdout))
        for profile in ["rfc4880", "rfc9580"] {
            let ours = try run(
                quercus,
                ["generate-key", "--profile", profile, "--with-key-password", password, "Locked <q@example.org>"])
            #expect(ours.status == 0, "\(ours.stderr)")
            keys.append(("quercus-\(profile)", ours.stdout))
        }

        var rows: [String] = []
        var failures: [String] = []
        func record(_ cell: String, _ ok: Bool, _ detail: String) {
            rows.append("\(cell): \(ok ? "ok" : "FAIL (\(detail))")")
            if !ok { failures.append("\(cell): \(detail)") }
        }
        for (maker, armoredKey) in keys {
            let keyFile = try directory.write("locked-\(maker).key", armoredKey)
            let cert = try run(quercus, ["extract-cert"], stdin: Data(armoredKey.utf8))
            let certFile = try directory.write("locked-\(maker).cert", cert.stdout)
            // quercus-sop: refuses without the password and with a wrong one, signs and decrypts with it.
            let bare = try run(quercus, ["sign", keyFile], stdin: data)
            record("key \(maker), quercus sign without password", bare.status == 67, "exit \(bare.status)")
            let bad = try run(quercus, ["sign", "--with-key-password", wrong, keyFile], stdin: data)
            record("key \(maker), quercus sign with a wrong password", bad.status == 67, "exit \(bad.status)")
            let signed = try run(quercus, ["sign", "--with-key-password", password, keyFile], stdin: data)
            let sigFile = try directory.write("locked-\(maker).sig", signed.stdout)
            // sqop 0.27 reads no v6 keys: the v6 key's signature is checked by quercus-sop itself.
            let verifier = maker == "quercus-rfc9580" ? ("quercus", quercus) : ("sqop", sqop)
            let verified = try run(verifier.1, ["verify", sigFile, certFile], stdin: data)
            record(
                "key \(maker), quercus sign, \(verifier.0) verify", signed.status == 0 && verified.status == 0,
                "sign \(signed.status) \(signed.stderr), verify \(verified.status)")
            if maker != "quercus-rfc9580" {
                let message = try run(sqop, ["encrypt", certFile], stdin: data)
                let messageFile = try directory.write("locked-\(maker).msg", message.stdout)
                let decrypted = try run(
                    "/bin/sh",
                    [
                        "-c", "\"$0\" decrypt --with-key-password \"$1\" \"$2\" < \"$3\"", quercus, password, keyFile,
                        messageFile,
                    ])
                record(
                    "key \(maker), sqop encrypt, quercus decrypt",
                    decrypted.status == 0 && decrypted.stdout == "protected keys\n",
                    "exit \(decrypted.status) \(decrypted.stderr)")
                // The peers unlock what quercus-sop protected (sqop reads v4 keys only).
                let theirs = try run(sqop, ["sign", "--with-key-password", password, keyFile], stdin: data)
                let theirsFile = try directory.write("locked-\(maker).sqop.sig", theirs.stdout)
                let ourVerify = try run(quercus, ["verify", theirsFile, certFile], stdin: data)
                record(
                    "key \(maker), sqop sign --with-key-password, quercus verify",
                    theirs.status == 0 && ourVerify.status == 0,
                    "sign \(theirs.status) \(theirs.stderr), verify \(ourVerify.status)")
            }
            if maker == "quercus-rfc9580" {
                // pysequoia unlocks the v6 key (AEAD and Argon2) to sign and to decrypt.
                let python = try Peer.python(module: "pysequoia", pypi: "pysequoia")
                let script = """
                    import sys, pysequoia as p
                    key = p.Cert.from_bytes(open(sys.argv[1], "rb").read())
                    pw = open(sys.argv[2]).read().rstrip()
                    data = open(sys.argv[3], "rb").read()
                    sys.stdout.write(p.sign(key.secrets.signer(pw), data, mode=p.SignatureMode.DETACHED).decode())
                    message = p.encrypt(data, recipients=[key])
                    assert p.decrypt(message, decryptor=key.secrets.decryptor(pw)).bytes == data
                    """
                let theirs = try run(python, ["-c", script, keyFile, password, dataFile])
                let theirsFile = try directory.write("locked-\(maker).pysequoia.sig", theirs.stdout)
                let ourVerify = try run(quercus, ["verify", theirsFile, certFile], stdin: data)
                record(
                    "key \(maker), pysequoia unlocks, signs and decrypts, quercus verify",
                    theirs.status == 0 && ourVerify.status == 0,
                    "pysequoia \(theirs.status) \(theirs.stderr), verify \(ourVerify.status)")
            }
            // change-key-password: to a new password, which then opens it (and the old one not).
            let newPassword = try directory.write("new-password-\(maker).txt", "new sesame")
            let changed = try run(
                "/bin/sh",
                [
                    "-c", "\"$0\" change-key-password --old-key-password \"$1\" --new-key-password \"$2\" < \"$3\"",
                    quercus, password, newPassword, keyFile,
                ])
            let changedFile = try directory.write("changed-\(maker).key", changed.stdout)
            let withNew = try run(quercus, ["sign", "--with-key-password", newPassword, changedFile], stdin: data)
            let withOld = try run(quercus, ["sign", "--with-key-password", password, changedFile], stdin: data)
            record(
                "key \(maker), change-key-password", changed.status == 0 && withNew.status == 0 && withOld.status == 67,
                "change \(changed.status) \(changed.stderr), new \(withNew.status), old \(withOld.status)")
            if maker.hasPrefix("quercus-rfc4880") || maker == "sqop" {
                let sqopNew = try run(sqop, ["sign", "--with-key-password", newPassword, changedFile], stdin: data)
                record(
                    "key \(maker), changed by quercus, sqop signs", sqopNew.status == 0,
                    "exit \(sqopNew.status) \(sqopNew.stderr)")
            }
        }
        // GnuPG imports a key quercus-sop protected and signs with the passphrase.
        let ours = try #require(keys.first { $0.maker == "quercus-rfc4880" })
        let gpgHome = directory.file("gnupg-import")
        try FileManager.default.createDirectory(
            atPath: gpgHome, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let importBase = [
            "--homedir", gpgHome, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase-file", password,
        ]
        _ = try run(gpg, importBase + ["--import"], stdin: Data(ours.key.utf8))
        let gpgSigned = try run(gpg, importBase + ["--armor", "--detach-sign", "--output", "-", dataFile])
        let gpgSigFile = try directory.write("gpg-of-quercus.sig", gpgSigned.stdout)
        let oursCert = try directory.write(
            "quercus-locked.cert", try run(quercus, ["extract-cert"], stdin: Data(ours.key.utf8)).stdout)
        let verified = try run(quercus, ["verify", gpgSigFile, oursCert], stdin: data)
        record(
            "key quercus-rfc4880, gpg signs with the passphrase, quercus verify",
            gpgSigned.status == 0 && verified.status == 0,
            "gpg \(gpgSigned.status) \(gpgSigned.stderr), verify \(verified.status)")
        print("OpenPGP protected key interop:\n" + rows.joined(separator: "\n"))
        #expect(failures.isEmpty, "\(failures.count) failing cells:\n\(failures.joined(separator: "\n"))")
    }

    @Test func sopExitCodesForBadInput() throws {
        let quercus = try Product.path("quercus-sop")
        #expect(try run(quercus, ["no-such-verb"]).status == 69)
        #expect(try run(quercus, ["sign", "--no-such-option"]).status == 37)
        #expect(try run(quercus, ["generate-key", "--profile", "nonsense"]).status == 89)
        #expect(try run(quercus, ["sign"]).status == 19)
        #expect(try run(quercus, ["extract-cert"], stdin: Data("not openpgp".utf8)).status == 41)
        #expect(try run(quercus, ["sign", "/nonexistent/key"], stdin: Data()).status == 61)
        let profiles = try run(quercus, ["list-profiles", "generate-key"])
        #expect(profiles.stdout.hasPrefix("rfc9580: "))
        #expect(profiles.stdout.contains("\nrfc4880: "))
        #expect(profiles.stdout.contains("\nrfc4880-rsa: "))
    }
}

/// The SOP verbs the matrix needs, whichever program provides them.
protocol SOPImplementation {
    var name: String { get }
    /// Whether `sign` can make text signatures (pysequoia's API makes binary ones only).
    var signsText: Bool { get }
    func generateKey(userID: String, in directory: TemporaryDirectory) throws -> Data
    func extractCert(_ key: Data, in directory: TemporaryDirectory) throws -> Data
    func sign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data
    /// The primary-key fingerprints of the good signatures (upper-case hex).
    func verify(_ data: Data, signature: Data, cert: Data, in directory: TemporaryDirectory) throws -> [String]
    /// Encrypts to `cert` or, without one, with `password`; signs with `signer` when given.
    func encrypt(_ data: Data, to cert: Data?, password: String?, signer: Data?, in directory: TemporaryDirectory)
        throws -> Data
    /// Decrypts with `key` or `password`; with `verifier`, also the primary fingerprints of good signatures.
    func decrypt(
        _ message: Data, key: Data?, password: String?, verifier: Data?, in directory: TemporaryDirectory
    ) throws -> (plaintext: Data, signers: [String])
}

/// Inline signatures, for the implementations that make them.
protocol InlineSOP: SOPImplementation {
    func inlineSign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data
    /// The data and the primary fingerprints of the good signatures.
    func inlineVerify(_ message: Data, cert: Data, in directory: TemporaryDirectory) throws -> (
        data: Data, signers: [String]
    )
}

struct SOPCommandFailed: Error, CustomStringConvertible {
    let command: String
    let result: ProcessResult
    var description: String { "\(command) exited \(result.status): \(result.stderr)" }
}

/// A real SOP command line: quercus-sop or sqop.
struct CommandSOP: SOPImplementation, InlineSOP {
    let name: String
    var signsText: Bool { true }
    let path: String
    let profile: String?
    /// The `encrypt --profile` for password-only messages (quercus writes SEIPD v2 by default).
    var passwordProfile: String? = nil
    /// `decrypt`'s option for the verifications file (gosop's 2022 snapshot says `--verify-out`).
    var verificationsOut = "--verifications-out"

    /// Debian's gosop. Its file arguments must be at least five characters long (it slices them
    /// looking for `@ENV:` and panics otherwise); every file name here is longer.
    static func gosop() throws -> CommandSOP {
        CommandSOP(
            name: "gosop", path: try Peer.command("gosop", debian: "gosop"), profile: nil,
            verificationsOut: "--verify-out")
    }

    private func sop(_ arguments: [String], stdin: Data) throws -> Data {
        let result = try run(path, arguments, stdin: stdin)
        guard result.status == 0 else {
            throw SOPCommandFailed(command: "\(name) \(arguments.first ?? "")", result: result)
        }
        return Data(result.stdout.utf8)
    }

    func generateKey(userID: String, in directory: TemporaryDirectory) throws -> Data {
        try sop(["generate-key"] + (profile.map { ["--profile", $0] } ?? []) + [userID], stdin: Data())
    }

    func extractCert(_ key: Data, in directory: TemporaryDirectory) throws -> Data {
        try sop(["extract-cert"], stdin: key)
    }

    func sign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data {
        let keyFile = try directory.write("\(name)-\(UUID().uuidString).key", String(decoding: key, as: UTF8.self))
        return try sop(["sign", "--as=\(mode)", keyFile], stdin: data)
    }

    private func file(_ data: Data, _ directory: TemporaryDirectory) throws -> String {
        try directory.write("\(name)-\(UUID().uuidString)", String(decoding: data, as: UTF8.self))
    }

    func inlineSign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data {
        try sop(["inline-sign", "--as=\(mode)", try file(key, directory)], stdin: data)
    }

    func inlineVerify(_ message: Data, cert: Data, in directory: TemporaryDirectory) throws -> (
        data: Data, signers: [String]
    ) {
        let verifications = directory.file("\(name)-\(UUID().uuidString).verifications")
        let data = try sop(
            ["inline-verify", "--verifications-out", verifications, try file(cert, directory)], stdin: message)
        let lines = try String(contentsOfFile: verifications, encoding: .utf8)
        return (
            data,
            lines.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count >= 3 ? fields[2].uppercased() : nil
            }
        )
    }

    func encrypt(_ data: Data, to cert: Data?, password: String?, signer: Data?, in directory: TemporaryDirectory)
        throws -> Data
    {
        var arguments = ["encrypt"]
        if let password {
            arguments += ["--with-password", try directory.write("\(name)-\(UUID().uuidString).pw", password)]
            if let passwordProfile { arguments += ["--profile", passwordProfile] }
        }
        if let signer { arguments += ["--sign-with", try file(signer, directory)] }
        if let cert { arguments.append(try file(cert, directory)) }
        return try sop(arguments, stdin: data)
    }

    func decrypt(
        _ message: Data, key: Data?, password: String?, verifier: Data?, in directory: TemporaryDirectory
    ) throws -> (plaintext: Data, signers: [String]) {
        var arguments = ["decrypt"]
        let verifications = directory.file("\(name)-\(UUID().uuidString).verifications")
        if let verifier {
            arguments += ["--verify-with", try file(verifier, directory), verificationsOut, verifications]
        }
        if let password {
            arguments += ["--with-password", try directory.write("\(name)-\(UUID().uuidString).pw", password)]
        }
        if let key { arguments.append(try file(key, directory)) }
        let plaintext = try sop(arguments, stdin: message)
        let lines = verifier == nil ? "" : try String(contentsOfFile: verifications, encoding: .utf8)
        return (
            plaintext,
            lines.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count >= 3 ? fields[2].uppercased() : nil
            }
        )
    }

    func verify(_ data: Data, signature: Data, cert: Data, in directory: TemporaryDirectory) throws -> [String] {
        let sigFile = try directory.write(
            "\(name)-\(UUID().uuidString).sig", String(decoding: signature, as: UTF8.self))
        let certFile = try directory.write("\(name)-\(UUID().uuidString).cert", String(decoding: cert, as: UTF8.self))
        let output = try sop(["verify", sigFile, certFile], stdin: data)
        // VERIFICATIONS: time, signing key fingerprint, primary key fingerprint, …
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count >= 3 ? fields[2].uppercased() : nil
        }
    }
}

/// GnuPG 2.2 behind the same verbs, each call in a fresh home directory.
struct GnuPGSOP: SOPImplementation, InlineSOP {
    let name: String
    var signsText: Bool { true }
    let gpg: String
    /// What `generate-key` makes: GnuPG's default, or a primary key and an encryption subkey of this algorithm.
    let algorithm: String?

    init(directory: TemporaryDirectory, algorithm: String? = nil) throws {
        gpg = try Peer.command("gpg", debian: "gnupg")
        self.algorithm = algorithm
        name = algorithm.map { "gpg-\($0)" } ?? "gpg"
    }

    /// Stops the agents that GnuPG started for the home directories under `directory`, then removes it.
    static func stopAgents(in directory: TemporaryDirectory) {
        let homes = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if let gpgconf = try? Peer.command("gpgconf", debian: "gnupg") {
            for home in homes where home.hasPrefix("gnupg-") {
                _ = try? run(gpgconf, ["--homedir", directory.file(home), "--kill", "all"])
            }
        }
        directory.remove()
    }

    private static func freshHome(_ directory: TemporaryDirectory) throws -> String {
        let home = directory.file("gnupg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return home
    }

    private func gpg(_ home: String, _ arguments: [String], stdin: Data? = nil) throws -> ProcessResult {
        let passphrase = arguments.contains("--passphrase") ? [] : ["--passphrase", ""]
        let result = try run(
            gpg, ["--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback"] + passphrase + arguments,
            stdin: stdin)
        guard result.status == 0 else {
            throw SOPCommandFailed(command: "gpg \(arguments.joined(separator: " "))", result: result)
        }
        return result
    }

    func generateKey(userID: String, in directory: TemporaryDirectory) throws -> Data {
        let home = try Self.freshHome(directory)
        if let algorithm {
            _ = try gpg(home, ["--quick-gen-key", userID, algorithm, "sign,cert", "never"])
            let listing = try gpg(home, ["--with-colons", "--list-keys"])
            guard let fingerprint = Self.firstFingerprint(listing.stdout) else {
                throw SOPCommandFailed(command: "gpg --list-keys", result: listing)
            }
            _ = try gpg(home, ["--quick-add-key", fingerprint, algorithm, "encr", "never"])
        } else {
            _ = try gpg(home, ["--quick-gen-key", userID, "future-default", "default", "never"])
        }
        return Data(try gpg(home, ["--armor", "--export-secret-keys", userID]).stdout.utf8)
    }

    func extractCert(_ key: Data, in directory: TemporaryDirectory) throws -> Data {
        let home = try Self.freshHome(directory)
        _ = try gpg(home, ["--import"], stdin: key)
        return Data(try gpg(home, ["--armor", "--export"]).stdout.utf8)
    }

    func sign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data {
        let home = try Self.freshHome(directory)
        _ = try gpg(home, ["--import"], stdin: key)
        return Data(
            try gpg(home, ["--armor", "--detach-sign"] + (mode == "text" ? ["--textmode"] : []), stdin: data).stdout
                .utf8)
    }

    func encrypt(_ data: Data, to cert: Data?, password: String?, signer: Data?, in directory: TemporaryDirectory)
        throws -> Data
    {
        let home = try Self.freshHome(directory)
        var arguments = ["--armor", "--trust-model", "always"]
        if let signer {
            _ = try gpg(home, ["--import"], stdin: signer)
            arguments.append("--sign")
        }
        if let cert {
            arguments += [
                "--encrypt", "--recipient-file",
                try directory.write("gpg-\(UUID().uuidString).cert", String(decoding: cert, as: UTF8.self)),
            ]
        }
        if let password { arguments += ["--symmetric", "--passphrase", password] }
        return Data(try gpg(home, arguments, stdin: data).stdout.utf8)
    }

    func inlineSign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data {
        let home = try Self.freshHome(directory)
        _ = try gpg(home, ["--import"], stdin: key)
        let arguments =
            mode == "clearsigned" ? ["--clearsign"] : ["--armor", "--sign"] + (mode == "text" ? ["--textmode"] : [])
        return Data(try gpg(home, arguments, stdin: data).stdout.utf8)
    }

    func inlineVerify(_ message: Data, cert: Data, in directory: TemporaryDirectory) throws -> (
        data: Data, signers: [String]
    ) {
        let result = try decrypt(message, key: nil, password: nil, verifier: cert, in: directory)
        return (result.plaintext, result.signers)
    }

    func decrypt(
        _ message: Data, key: Data?, password: String?, verifier: Data?, in directory: TemporaryDirectory
    ) throws -> (plaintext: Data, signers: [String]) {
        let home = try Self.freshHome(directory)
        if let key { _ = try gpg(home, ["--import"], stdin: key) }
        if let verifier { _ = try gpg(home, ["--import"], stdin: verifier) }
        let status = directory.file("gpg-\(UUID().uuidString).status")
        let result = try gpg(
            home, ["--status-file", status, "--decrypt"] + (password.map { ["--passphrase", $0] } ?? []), stdin: message
        )
        // Status lines may carry raw bytes (file names from the message), so decode leniently.
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: status)), as: UTF8.self)
        let signers = lines.split(separator: "\n").compactMap { line in
            line.hasPrefix("[GNUPG:] VALIDSIG ") ? line.split(separator: " ").last.map { String($0) } : nil
        }
        return (Data(result.stdout.utf8), signers)
    }

    func verify(_ data: Data, signature: Data, cert: Data, in directory: TemporaryDirectory) throws -> [String] {
        let home = try Self.freshHome(directory)
        _ = try gpg(home, ["--import"], stdin: cert)
        let dataFile = try directory.write("gpg-\(UUID().uuidString).data", String(decoding: data, as: UTF8.self))
        let sigFile = try directory.write("gpg-\(UUID().uuidString).sig", String(decoding: signature, as: UTF8.self))
        let result = try gpg(home, ["--status-fd", "1", "--verify", sigFile, dataFile])
        // "[GNUPG:] VALIDSIG <signing key fpr> <date> … <primary key fpr>": the last field is the primary.
        return result.stdout.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("[GNUPG:] VALIDSIG ") else { return nil }
            return line.split(separator: " ").last.map { String($0) }
        }
    }

    /// The primary fingerprint of a certificate as GnuPG computes it, so that no cell trusts our
    /// own fingerprint code.
    static func primaryFingerprint(of cert: Data, in directory: TemporaryDirectory) throws -> String {
        let gpg = try Peer.command("gpg", debian: "gnupg")
        let home = try freshHome(directory)
        let result = try run(
            gpg, ["--homedir", home, "--batch", "--with-colons", "--import-options", "show-only", "--import"],
            stdin: cert)
        guard let fingerprint = firstFingerprint(result.stdout) else {
            throw SOPCommandFailed(command: "gpg --import-options show-only", result: result)
        }
        return fingerprint
    }

    /// Field 10 of the first `fpr` line of a `--with-colons` listing: the primary key's fingerprint.
    private static func firstFingerprint(_ colons: String) -> String? {
        guard let line = colons.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }) else { return nil }
        return line.split(separator: ":", omittingEmptySubsequences: false).dropFirst(9).first.map { String($0) }
    }
}

/// pysequoia (Sequoia 2 for Python) behind the same verbs; it reads and writes v6 keys.
struct PySequoiaSOP: SOPImplementation {
    let name = "pysequoia"
    var signsText: Bool { false }
    let python: String

    init() throws {
        python = try Peer.python(module: "pysequoia", pypi: "pysequoia")
    }

    /// One verb per call; files in, standard output out.
    private static let script = """
        import sys, warnings
        warnings.simplefilter("ignore")
        import pysequoia as p
        verb, args = sys.argv[1], sys.argv[2:]
        read = lambda path: open(path, "rb").read()
        if verb == "generate-key":
            print(str(p.Cert.generate(args[0], profile=p.Profile.RFC9580).secrets), end="")
        elif verb == "extract-cert":
            print(str(p.Cert.from_bytes(read(args[0]))), end="")
        elif verb == "fingerprint":
            print(p.Cert.from_bytes(read(args[0])).fingerprint.upper())
        elif verb == "sign":
            key = p.Cert.from_bytes(read(args[0]))
            sys.stdout.write(p.sign(key.secrets.signer(), read(args[1]), mode=p.SignatureMode.DETACHED).decode())
        elif verb == "encrypt":
            cert, password, signer, data = args
            sys.stdout.write(p.encrypt(read(data), recipients=[p.Cert.from_bytes(read(cert))] if cert else [],
                passwords=[password] if password else [],
                signer=p.Cert.from_bytes(read(signer)).secrets.signer() if signer else None).decode())
        elif verb == "decrypt":
            key, password, verifier, message = args
            store = (lambda ids: [p.Cert.from_bytes(read(verifier))]) if verifier else None
            result = p.decrypt(read(message), decryptor=p.Cert.from_bytes(read(key)).secrets.decryptor() if key else None,
                store=store, passwords=[password] if password else [])
            print(result.bytes.hex())
            for good in result.valid_sigs:
                print(good.certificate.upper())
        elif verb == "verify":
            cert = p.Cert.from_bytes(read(args[1]))
            result = p.verify(bytes=read(args[2]), store=lambda ids: [cert], signature=p.Sig.from_bytes(read(args[0])))
            for good in result.valid_sigs:
                print(good.certificate.upper())
        """

    private func call(_ arguments: [String]) throws -> String {
        let result = try run(python, ["-c", Self.script] + arguments)
        guard result.status == 0 else { throw SOPCommandFailed(command: "pysequoia \(arguments[0])", result: result) }
        return result.stdout
    }

    private func file(_ data: Data, _ directory: TemporaryDirectory) throws -> String {
        try directory.write("pysequoia-\(UUID().uuidString)", String(decoding: data, as: UTF8.self))
    }

    func generateKey(userID: String, in directory: TemporaryDirectory) throws -> Data {
        Data(try call(["generate-key", userID]).utf8)
    }

    func extractCert(_ key: Data, in directory: TemporaryDirectory) throws -> Data {
        Data(try call(["extract-cert", try file(key, directory)]).utf8)
    }

    func sign(_ data: Data, key: Data, mode: String, in directory: TemporaryDirectory) throws -> Data {
        Data(try call(["sign", try file(key, directory), try file(data, directory)]).utf8)
    }

    func verify(_ data: Data, signature: Data, cert: Data, in directory: TemporaryDirectory) throws -> [String] {
        let output = try call([
            "verify", try file(signature, directory), try file(cert, directory), try file(data, directory),
        ])
        return output.split(separator: "\n").map(String.init)
    }

    func primaryFingerprint(of cert: Data, in directory: TemporaryDirectory) throws -> String {
        try call(["fingerprint", try file(cert, directory)]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func encrypt(_ data: Data, to cert: Data?, password: String?, signer: Data?, in directory: TemporaryDirectory)
        throws -> Data
    {
        Data(
            try call([
                "encrypt", try cert.map { try file($0, directory) } ?? "", password ?? "",
                try signer.map { try file($0, directory) } ?? "", try file(data, directory),
            ]).utf8)
    }

    func decrypt(
        _ message: Data, key: Data?, password: String?, verifier: Data?, in directory: TemporaryDirectory
    ) throws -> (plaintext: Data, signers: [String]) {
        let lines = try call([
            "decrypt", try key.map { try file($0, directory) } ?? "", password ?? "",
            try verifier.map { try file($0, directory) } ?? "", try file(message, directory),
        ]).split(separator: "\n").map(String.init)
        let hex = lines.first ?? ""
        var plaintext = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            plaintext.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return (plaintext, Array(lines.dropFirst()))
    }
}
