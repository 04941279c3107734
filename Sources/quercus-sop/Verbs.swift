import ArgumentParser
import OpenPGP
import QuercusCLI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of this implementation.")

    @Flag(help: "Print the cryptographic backend instead.") var backend = false
    @Flag(help: "Print more detail.") var extended = false
    @Flag(help: "Print the SOP specification revision implemented.") var sopSpec = false

    func run() throws {
        if sopSpec {
            IO.write("draft-dkg-openpgp-stateless-cli-11\n")
        } else if backend {
            IO.write("Quercus OpenPGP (swift-crypto)\n")
        } else if extended {
            IO.write("quercus-sop \(QuercusVersion.string)\nOpenPGP library: Quercus OpenPGP, swift-crypto\n")
        } else {
            IO.write("quercus-sop \(QuercusVersion.release)\n")
        }
    }
}

struct ListProfiles: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the profiles a subcommand accepts.")

    @Argument(help: "The subcommand, for example generate-key.") var subcommand: String

    func run() throws {
        let profiles: [(name: String, summary: String)]
        switch subcommand {
        case "generate-key": profiles = KeyProfile.allCases.map { ($0.rawValue, $0.summary) }
        case "encrypt": profiles = EncryptionProfile.allCases.map { ($0.rawValue, $0.summary) }
        default: throw SOPFailure(.unsupportedProfile, "\(subcommand) has no profiles")
        }
        for (index, profile) in profiles.enumerated() {
            IO.write("\(profile.name): \(index == 0 ? "(default) " : "")\(profile.summary)\n")
        }
    }
}

struct GenerateKey: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate a secret key.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(help: "rfc9580 (default) or rfc4880.") var profile: String = "default"
    @Flag(help: "Make no encryption subkey.") var signingOnly = false
    @Option(help: "Protect the key with this password (a file, @ENV:NAME or @FD:N).") var withKeyPassword: String?
    @Argument(help: "User IDs, for example \"Alice <alice@example.org>\".") var userIDs: [String] = []

    func run() throws {
        let password = try withKeyPassword.map(IO.newKeyPassword)
        let chosen = profile == "default" ? KeyProfile.rfc9580 : KeyProfile(rawValue: profile)
        guard let chosen else { throw SOPFailure(.unsupportedProfile, "unknown profile \"\(profile)\"") }
        let key: Certificate
        do {
            let generated = try Certificate.generate(
                profile: chosen, userIDs: userIDs, signingOnly: signingOnly, created: IO.now())
            // v6: AEAD (OCB) with Argon2; v4: CFB and SHA-1 with iterated-salted S2K.
            key =
                try password.map { password throws(OpenPGPError) in try generated.protecting(with: password) }
                ?? generated
        } catch {
            throw SOPFailure(.generic, "cannot generate the key: \(error)")
        }
        IO.writePackets(PacketFraming.encode(key.packets()), armored: !noArmor)
    }
}

struct ExtractCert: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Extract the certificate of a secret key.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false

    func run() throws {
        let keys = try IO.certificates(IO.standardInput(), from: "standard input")
        guard keys.allSatisfy(\.isSecret) else { throw SOPFailure(.badData, "standard input: not a secret key") }
        let packets = keys.flatMap { $0.packets(includingSecrets: false) }
        IO.writePackets(PacketFraming.encode(packets), armored: !noArmor)
    }
}

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make detached signatures over standard input.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(name: .customLong("as"), help: "binary (default) or text.") var mode: String = "binary"
    @Option(help: "Write the digest algorithm name for PGP/MIME to this file.") var micalgOut: String?
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []
    @Argument(help: "Secret keys to sign with.") var keys: [String] = []

    func run() throws {
        guard let signatureMode = SignatureMode(rawValue: mode) else {
            throw SOPFailure(.unsupportedOption, "--as takes binary or text, not \"\(mode)\"")
        }
        guard !keys.isEmpty else { throw SOPFailure(.missingArgument, "sign needs at least one KEYS file") }
        if let micalgOut, FileManager.default.fileExists(atPath: micalgOut) {
            throw SOPFailure(.outputExists, "\(micalgOut) already exists")
        }
        let secretKeys = try IO.secretKeys(keys, passwords: withKeyPassword)
        if let locked = secretKeys.first(where: { key in
            key.signingKeys(at: IO.now()).contains { $0.secret.map(isLocked) ?? true }
        }) {
            throw SOPFailure(.keyIsProtected, "\(locked.fingerprintHex) is password-protected")
        }
        let signatures: [Signature]
        do {
            var signer = try DetachedSigner(keys: secretKeys, mode: signatureMode, at: IO.now())
            try IO.forEachPieceOfStandardInput { piece throws(OpenPGPError) in try signer.update(piece) }
            signatures = try signer.finish()
        } catch let failure as SOPFailure {
            throw failure
        } catch OpenPGPError.wrongKind(let reason) where signatureMode == .text {
            throw SOPFailure(.expectedText, "standard input: \(reason)")
        } catch OpenPGPError.rejected(let reason) {
            throw SOPFailure(.keyCannotSign, reason)
        } catch let error as OpenPGPError {
            throw SOPFailure(error, reading: "standard input")
        }
        if let micalgOut {
            // RFC 3156's name of the one digest algorithm used; empty if the signatures differ.
            let names: [UInt8: String] = [2: "pgp-sha1", 8: "pgp-sha256", 9: "pgp-sha384", 10: "pgp-sha512"]
            let used = Set(signatures.map(\.hashAlgorithmValue))
            let micalg = used.count == 1 ? used.first.flatMap { names[$0] } ?? "" : ""
            try Data(micalg.utf8).write(to: URL(fileURLWithPath: micalgOut))
        }
        IO.writePackets(PacketFraming.encode(signatures.map(\.packet)), armored: !noArmor)
    }

    private func isLocked(_ secret: SecretKeyMaterial) -> Bool {
        if case .opaque = secret { return true }
        return false
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify detached signatures over standard input.")

    @Option(help: "Ignore signatures made before this date (ISO 8601, \"-\" for the beginning of time).")
    var notBefore: String = "-"
    @Option(help: "Ignore signatures made after this date (ISO 8601, \"now\" or \"-\" for the end of time).")
    var notAfter: String = "now"
    @Argument(help: "The signatures file, then certificates.") var files: [String] = []

    func run() throws {
        guard files.count >= 2 else { throw SOPFailure(.missingArgument, "verify needs SIGNATURES and CERTS") }
        let signatureBytes = try IO.read(files[0])
        let signatures: [Signature]
        do {
            signatures = try DetachedSignatures.parseSignatures(Armor.binary(signatureBytes))
        } catch {
            throw SOPFailure(error, reading: files[0])
        }
        var certificates: [Certificate] = []
        for file in files.dropFirst() { certificates += try IO.certificates(try IO.read(file), from: file) }
        let now = IO.now()
        var verifier = DetachedVerifier(signatures: signatures)
        try IO.forEachPieceOfStandardInput { verifier.update($0) }
        let verifications = verifier.finish(
            certificates: certificates, notBefore: try date(notBefore, ifDash: 0, now: now),
            notAfter: try date(notAfter, ifDash: .max, now: now), now: now)
        guard !verifications.isEmpty else {
            throw SOPFailure(.noSignature, "no valid signature by the given certificates")
        }
        for verification in verifications { IO.write(describe(verification) + "\n") }
    }
}

/// A VERIFICATIONS line: time, signing key fingerprint, primary key fingerprint, mode.
func describe(_ verification: Verification) -> String {
    let time = Date(timeIntervalSince1970: TimeInterval(verification.created)).formatted(.iso8601)
    return "\(time) \(hexString(verification.signingKeyFingerprint)) \(hexString(verification.primaryKeyFingerprint)) "
        + "mode:\(verification.mode.rawValue)"
}

/// Upper-case hexadecimal, as SOP prints fingerprints and session keys.
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

/// A SOP DATE: ISO 8601, "now", or "-" meaning the open end.
func date(_ text: String, ifDash: UInt32, now: UInt32) throws -> UInt32 {
    if text == "-" { return ifDash }
    if text == "now" { return now }
    let styles = [
        Date.ISO8601FormatStyle(), Date.ISO8601FormatStyle(includingFractionalSeconds: true),
        Date.ISO8601FormatStyle().year().month().day(),
    ]
    for style in styles {
        if let date = try? style.parse(text) { return UInt32(clamping: Int(date.timeIntervalSince1970)) }
    }
    throw SOPFailure(.unsupportedOption, "\"\(text)\" is not an ISO 8601 date")
}

struct ArmorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "armor", abstract: "Add ASCII armor to standard input.")

    @Option(help: "Deprecated: auto, sig, key, cert or message.") var label: String = "auto"

    func run() throws {
        let input = IO.standardInput()
        // Armoring armored data changes nothing.
        if Armor.isArmored(input) {
            do {
                _ = try Armor.decode(input)
            } catch {
                throw SOPFailure(error, reading: "standard input")
            }
            IO.write(input)
            return
        }
        do {
            _ = try PacketFraming.packets(input)
        } catch {
            throw SOPFailure(error, reading: "standard input")
        }
        let kinds: [String: OpenPGP.Armor.Kind] = [
            "sig": .signature, "key": .privateKey, "cert": .publicKey, "message": .message,
        ]
        if label == "auto" {
            IO.write(Armor.encode(input))
        } else if let kind = kinds[label] {
            IO.write(Armor.encode(input, kind: kind))
        } else {
            throw SOPFailure(.unsupportedOption, "unknown --label \(label)")
        }
    }
}

struct Dearmor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove ASCII armor from standard input.")

    func run() throws {
        let input = IO.standardInput()
        do {
            let bytes = try Armor.binary(input)
            _ = try PacketFraming.packets(bytes)
            IO.write(bytes)
        } catch {
            throw SOPFailure(error, reading: "standard input")
        }
    }
}

struct RevokeKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make revoked certificates of the keys on standard input.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []

    func run() throws {
        let keys = try IO.certificates(IO.standardInput(), from: "standard input")
        let passwords = try IO.keyPasswords(withKeyPassword)
        var packets: [Packet] = []
        for locked in keys {
            guard locked.isSecret else {
                throw SOPFailure(.badData, "standard input: \(locked.fingerprintHex) is not a secret key")
            }
            let key = try IO.unlocked(locked, with: passwords, from: "standard input")
            guard let primarySecret = key.primarySecret, key.primary.material.canSign,
                SecretKey(publicKey: key.primary, secret: primarySecret).isUnlocked
            else {
                throw SOPFailure(.keyIsProtected, "\(key.fingerprintHex) is password-protected or cannot sign")
            }
            do {
                packets += try key.revoked(at: IO.now()).packets(includingSecrets: false)
            } catch {
                throw SOPFailure(error, reading: "standard input")
            }
        }
        IO.writePackets(PacketFraming.encode(packets), armored: !noArmor)
    }
}

struct ChangeKeyPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Protect the keys on standard input with a new password, or remove their protection.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(help: "The new password (a file, @ENV:NAME or @FD:N); without it the keys are left unprotected.")
    var newKeyPassword: String?
    @Option(help: "A password that may open the keys now.") var oldKeyPassword: [String] = []

    func run() throws {
        let keys = try IO.certificates(IO.standardInput(), from: "standard input")
        let oldPasswords = try IO.keyPasswords(oldKeyPassword)
        let newPassword = try newKeyPassword.map(IO.newKeyPassword)
        var packets: [Packet] = []
        for locked in keys {
            guard locked.isSecret else {
                throw SOPFailure(.badData, "standard input: \(locked.fingerprintHex) is not a secret key")
            }
            let key = try IO.unlocked(locked, with: oldPasswords, from: "standard input")
            do {
                let changed = try newPassword.map { password throws(OpenPGPError) in try key.protecting(with: password)
                }
                packets += (changed ?? key).packets()
            } catch {
                throw SOPFailure(error, reading: "standard input")
            }
        }
        IO.writePackets(PacketFraming.encode(packets), armored: !noArmor)
    }
}
