import ArgumentParser
import OpenPGP

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

struct Encrypt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encrypt standard input to certificates and passwords.")

    @Flag(help: "Write binary instead of ASCII armor.") var noArmor = false
    @Option(name: .customLong("as"), help: "binary (default) or text.") var mode: String = "binary"
    @Option(help: "Also encrypt with this password (a file, @ENV:NAME or @FD:N).") var withPassword: [String] = []
    @Option(help: "Sign with this secret key.") var signWith: [String] = []
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []
    @Option(help: "rfc9580 (default) or rfc4880.") var profile: String = "default"
    @Option(
        help:
            "Not in the SOP specification: none (default), zip or zlib compresses the data inside the encryption."
    )
    var compress: String = "none"
    @Argument(help: "Certificates to encrypt to.") var certs: [String] = []

    func run() throws {
        guard let literalMode = SignatureMode(rawValue: mode) else {
            throw SOPFailure(.unsupportedOption, "--as takes binary or text, not \"\(mode)\"")
        }
        guard let chosen = profile == "default" ? EncryptionProfile.rfc9580 : EncryptionProfile(rawValue: profile)
        else {
            throw SOPFailure(.unsupportedProfile, "unknown profile \"\(profile)\"")
        }
        guard let compression = MessageCompression(rawValue: compress) else {
            throw SOPFailure(.unsupportedOption, "--compress takes none, zip or zlib, not \"\(compress)\"")
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
        var output = MessageOutput(armored: !noArmor)
        do {
            var encryptor = try MessageEncryptor(
                recipients: recipients, passwords: passwords, signers: signers, mode: literalMode, profile: chosen,
                compression: compression, at: IO.now())
            // One output buffer for the whole message.
            var buffer: [UInt8] = []
            try IO.forEachPieceOfStandardInput { piece throws(OpenPGPError) in
                buffer.removeAll(keepingCapacity: true)
                try encryptor.update(piece, into: &buffer)
                output.write(buffer)
            }
            output.write(try encryptor.finish())
            output.finish()
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
        let now = IO.now()
        // Streamed: SEIPD v2 plaintext goes out chunk by chunk once each chunk's tag checks;
        // SEIPD v1 plaintext waits in a temporary file until the MDC at the end has matched.
        var armor = ArmorReader()
        var decryptor = MessageDecryptor(
            keys: secretKeys, passwords: passwords, sessionKeys: sessionKeys, verifyWith: certificates, now: now,
            decompressionLimit: .max)
        let output = try PlaintextOutput()
        let result: DecryptionResult
        do {
            try IO.forEachPieceOfStandardInput { piece in
                try decryptor.update(try armor.update(piece)[...], output: output.take)
                try output.check()
            }
            try decryptor.update(try armor.finish()[...], output: output.take)
            result = try decryptor.finish(output: output.take)
            try output.check()
        } catch let failure as SOPFailure {
            throw failure
        } catch OpenPGPError.malformed(let error) {
            throw SOPFailure(.badData, "standard input: \(error)")
        } catch OpenPGPError.wrongKind(let reason) {
            throw SOPFailure(.badData, "standard input: \(reason)")
        } catch let error as OpenPGPError {
            if case .armor = error { throw SOPFailure(error, reading: "standard input") }
            throw SOPFailure(.cannotDecrypt, "cannot decrypt: \(error)")
        }
        let notBefore = try date(verifyNotBefore, ifDash: 0, now: now)
        let notAfter = try date(verifyNotAfter, ifDash: .max, now: now)
        let verifications = result.verifications.filter { $0.created >= notBefore && $0.created <= notAfter }
        if let sessionKeyOut {
            let text =
                "\(result.sessionKey.algorithm.rawValue):\(hexString(result.sessionKey.key))\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: sessionKeyOut))
        }
        if let verificationsOut {
            let text = verifications.map { describe($0) + "\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: verificationsOut))
        }
        try output.release()
    }

    private func parseSessionKey(_ text: String, _ designator: String) throws -> SessionKey {
        let trimmed = text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()
        let parts = String(trimmed).split(separator: ":", maxSplits: 1)
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

/// Plaintext on its way to standard output. Verified pieces go out at once; pending ones (SEIPD
/// v1 before its MDC, inline-signed data before its signatures are checked) are held back until
/// `release`: the first MiB in memory, the rest in a temporary file, created 0600 and unlinked at
/// once so that nothing is left behind, written a MiB at a time and copied to standard output by
/// the kernel (`sendfile`).
final class PlaintextOutput {
    private static let held = 1 << 20
    private var buffer: [UInt8] = []
    private var spill: Int32 = -1
    private var spilled = 0
    private var failure: String?

    init() throws {}

    deinit {
        if spill >= 0 { close(spill) }
    }

    func take(_ piece: ArraySlice<UInt8>, _ integrity: PlaintextIntegrity) {
        guard failure == nil, !piece.isEmpty else { return }
        guard integrity == .pending else {
            IO.write(piece)
            return
        }
        if buffer.count + piece.count > Self.held, !buffer.isEmpty {
            spillBuffer()
        }
        if piece.count >= Self.held {
            spillBytes(piece)
        } else {
            if buffer.capacity < Self.held { buffer.reserveCapacity(Self.held) }
            buffer += piece
        }
    }

    /// Throws if holding plaintext back failed.
    func check() throws {
        if let failure { throw SOPFailure(.generic, failure) }
    }

    /// Copies what was held back to standard output.
    func release() throws {
        try check()
        if spill >= 0 {
            guard lseek(spill, 0, SEEK_SET) == 0 else {
                throw SOPFailure(.generic, "cannot rewind the temporary file")
            }
            try copySpill()
        }
        IO.write(buffer[...])
        buffer = []
    }

    /// The temporary file to standard output: in the kernel, or through a buffer where
    /// `sendfile` cannot write to standard output.
    private func copySpill() throws {
        var left = spilled
        while left > 0 {
            let sent = sendfile(1, spill, nil, left)
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { break }
            left -= sent
        }
        guard left > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(spill, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SOPFailure(.generic, "cannot read the temporary file") }
            guard count > 0 else { return }
            IO.write(chunk[..<count])
        }
    }

    private func spillBuffer() {
        spillBytes(buffer[...])
        buffer.removeAll(keepingCapacity: true)
    }

    private func spillBytes(_ bytes: ArraySlice<UInt8>) {
        if spill < 0 { openSpill() }
        var written = 0
        while spill >= 0, written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(spill, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                failure = "cannot write the temporary file: \(String(cString: strerror(errno)))"
                return
            }
            written += result
        }
        spilled += written
    }

    private func openSpill() {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/quercus-sop-XXXXXX".utf8CString)
        // mkstemp creates the file with mode 0600; unlinking it at once leaves only our descriptor.
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            let descriptor = mkstemp(base)
            if descriptor >= 0 { unlink(base) }
            return descriptor
        }
        guard descriptor >= 0 else {
            failure = "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))"
            return
        }
        spill = descriptor
    }
}
