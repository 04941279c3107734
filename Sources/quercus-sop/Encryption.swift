import ArgumentParser
import Foundation
import OpenPGP

struct Encrypt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encrypt standard input to certificates and passwords.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(name: .customLong("as"), help: "binary (default) or text.") var mode: String = "binary"
    @Option(help: "Also encrypt with this password (a file, @ENV:NAME or @FD:N).") var withPassword: [String] = []
    @Option(help: "Sign with this secret key.") var signWith: [String] = []
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []
    @Option(help: "rfc9580 (default) or rfc4880.") var profile: String = "default"
    @Argument(help: "Certificates to encrypt to.") var certs: [String] = []

    func run() throws {
        guard let literalMode = SignatureMode(rawValue: mode) else {
            throw SOPFailure(.unsupportedOption, "--as takes binary or text, not \"\(mode)\"")
        }
        guard let chosen = profile == "default" ? EncryptionProfile.rfc9580 : EncryptionProfile(rawValue: profile)
        else {
            throw SOPFailure(.unsupportedProfile, "unknown profile \"\(profile)\"")
        }
        guard !certs.isEmpty || !withPassword.isEmpty else {
            throw SOPFailure(.missingArgument, "encrypt needs CERTS or --with-password")
        }
        var passwords: [[UInt8]] = []
        for designator in withPassword {
            let password = trimmingTrailingWhitespace(try IO.read(designator))
            guard String(validating: password, as: UTF8.self) != nil else {
                throw SOPFailure(.passwordNotHumanReadable, "\(designator): the password is not UTF-8")
            }
            passwords.append(password)
        }
        var recipients: [Certificate] = []
        for file in certs { recipients += try IO.certificates(try IO.read(file), from: file) }
        let signers = try IO.secretKeys(signWith, passwords: withKeyPassword)
        // Streamed: memory stays bounded whatever the size of standard input.
        var armor = noArmor ? nil : ArmorWriter(kind: .message, checksum: true)
        func emit(_ bytes: [UInt8]) {
            if armor != nil {
                IO.write(armor?.update(bytes) ?? [])
            } else {
                IO.write(bytes)
            }
        }
        do {
            var encryptor = try MessageEncryptor(
                recipients: recipients, passwords: passwords, signers: signers, mode: literalMode, profile: chosen,
                at: IO.now())
            try IO.forEachPieceOfStandardInput { piece throws(OpenPGPError) in emit(try encryptor.update(piece)) }
            emit(try encryptor.finish())
            if let finished = armor?.finish() { IO.write(finished) }
        } catch let failure as SOPFailure {
            throw failure
        } catch OpenPGPError.rejected(let reason) where reason.contains("encryption-capable") {
            throw SOPFailure(.certCannotEncrypt, reason)
        } catch OpenPGPError.rejected(let reason)
            where reason.contains("signing") || reason.contains("cannot make signatures")
        {
            throw SOPFailure(.keyCannotSign, reason)
        } catch OpenPGPError.wrongKind(let reason) where literalMode == .text {
            throw SOPFailure(.expectedText, reason)
        } catch OpenPGPError.unsupported(let what) {
            throw SOPFailure(.unsupportedAsymmetricAlgorithm, "cannot encrypt: \(what)")
        } catch let error as OpenPGPError {
            throw SOPFailure(error, reading: "standard input")
        }

    }
}

struct Decrypt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decrypt standard input.")

    @Option(help: "Write the session key here (ALGORITHM:HEX).") var sessionKeyOut: String?
    @Option(help: "Decrypt with this session key (ALGORITHM:HEX in a file, @ENV:NAME or @FD:N).")
    var withSessionKey: [String] = []
    @Option(help: "Decrypt with this password.") var withPassword: [String] = []
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []
    @Option(name: [.customLong("verifications-out"), .customLong("verify-out")], help: "Write the verifications here.")
    var verificationsOut: String?
    @Option(help: "Verify signatures inside with these certificates.") var verifyWith: [String] = []
    @Option(help: "Ignore signatures made before this date.") var verifyNotBefore: String = "-"
    @Option(help: "Ignore signatures made after this date.") var verifyNotAfter: String = "now"
    @Argument(help: "Secret keys to decrypt with.") var keys: [String] = []

    func run() throws {
        guard !keys.isEmpty || !withPassword.isEmpty || !withSessionKey.isEmpty else {
            throw SOPFailure(.missingArgument, "decrypt needs KEYS, --with-password or --with-session-key")
        }
        guard (verificationsOut == nil) == verifyWith.isEmpty else {
            throw SOPFailure(.incompleteVerification, "--verify-with and --verifications-out go together")
        }
        for output in [sessionKeyOut, verificationsOut].compactMap({ $0 })
        where FileManager.default.fileExists(atPath: output) {
            throw SOPFailure(.outputExists, "\(output) already exists")
        }
        var passwords: [[UInt8]] = []
        for designator in withPassword {
            let password = try IO.read(designator)
            passwords.append(password)
            // A password typed into a file usually gains a newline; try it without too.
            let trimmed = trimmingTrailingWhitespace(password)
            if trimmed != password { passwords.append(trimmed) }
        }
        var sessionKeys: [SessionKey] = []
        for designator in withSessionKey {
            sessionKeys.append(
                try parseSessionKey(String(decoding: try IO.read(designator), as: UTF8.self), designator))
        }
        let secretKeys = try IO.secretKeys(keys, passwords: withKeyPassword)
        var certificates: [Certificate] = []
        for file in verifyWith { certificates += try IO.certificates(try IO.read(file), from: file) }
        let input = IO.standardInput()
        let message: [UInt8]
        do {
            message = try Armor.binary(input)
        } catch {
            throw SOPFailure(error, reading: "standard input")
        }
        let now = IO.now()
        let result: DecryptedMessage
        do {
            result = try Messages.decrypt(
                message, keys: secretKeys, passwords: passwords, sessionKeys: sessionKeys, verifyWith: certificates,
                now: now)
        } catch .malformed(let error) {
            throw SOPFailure(.badData, "standard input: \(error)")
        } catch .wrongKind(let reason) {
            throw SOPFailure(.badData, "standard input: \(reason)")
        } catch {
            throw SOPFailure(.cannotDecrypt, "cannot decrypt: \(error)")
        }
        let notBefore = try date(verifyNotBefore, ifDash: 0, now: now)
        let notAfter = try date(verifyNotAfter, ifDash: .max, now: now)
        let verifications = result.verifications.filter { $0.created >= notBefore && $0.created <= notAfter }
        if let sessionKeyOut {
            let text =
                "\(result.sessionKey.algorithm.rawValue):\(result.sessionKey.key.map { String(format: "%02X", $0) }.joined())\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: sessionKeyOut))
        }
        if let verificationsOut {
            let text = verifications.map { describe($0) + "\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: verificationsOut))
        }
        IO.write(result.plaintext)
    }

    private func parseSessionKey(_ text: String, _ designator: String) throws -> SessionKey {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let value = UInt8(parts[0]), let algorithm = SymmetricAlgorithm(rawValue: value),
            parts[1].count == algorithm.keySize * 2
        else { throw SOPFailure(.badData, "\(designator): not a session key (ALGORITHM:HEX)") }
        var key: [UInt8] = []
        var index = parts[1].startIndex
        while index < parts[1].endIndex {
            let next = parts[1].index(index, offsetBy: 2)
            guard let byte = UInt8(parts[1][index..<next], radix: 16) else {
                throw SOPFailure(.badData, "\(designator): the session key is not hexadecimal")
            }
            key.append(byte)
            index = next
        }
        return SessionKey(algorithm: algorithm, key: key)
    }
}

func trimmingTrailingWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    var end = bytes.count
    while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end - 1]) { end -= 1 }
    return Array(bytes[..<end])
}
