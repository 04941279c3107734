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

/// The Stateless OpenPGP command line (draft-dkg-openpgp-stateless-cli) over the OpenPGP library.
@main
struct QuercusSOP: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-sop",
        abstract: "Stateless OpenPGP: keys, signatures and armor in the SOP command-line interface.",
        discussion: "Exit codes follow the SOP specification: 0 success, 3 no valid signature, 13 unsupported "
            + "algorithm, 17 certificate cannot encrypt, 19 missing argument, 23 incomplete verification, 29 cannot "
            + "decrypt, 31 password not human-readable, 37 unsupported option, 41 bad data, 53 expected text, "
            + "59 output exists, 61 missing input, 67 key is protected, 69 unsupported subcommand, 79 key cannot "
            + "sign, 83 incompatible options, 89 unsupported profile.",
        version: QuercusVersion.string,
        subcommands: [
            Version.self, ListProfiles.self, GenerateKey.self, RevokeKey.self, ExtractCert.self, Sign.self, Verify.self,
            Encrypt.self, Decrypt.self, InlineSign.self, InlineVerify.self, InlineDetach.self, ArmorCommand.self,
            Dearmor.self, ChangeKeyPassword.self,
        ]
    )

    /// SOP's exit codes replace the usual ones, so parsing errors are mapped here rather than in
    /// `QuercusCommand.main`.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let known = Set(configuration.subcommands.map { $0._commandName } + ["help"])
        if let verb = arguments.first, !verb.hasPrefix("-"), !known.contains(verb) {
            SOPError.unsupportedSubcommand.exit("\"\(verb)\" is not a subcommand quercus-sop supports")
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as SOPFailure {
            failure.code.exit(failure.message)
        } catch {
            let code = exitCode(for: error)
            guard code.rawValue == 64 else { exit(withError: error) }
            let message = fullMessage(for: error)
            if message.contains("Unknown option") || message.contains("Unexpected argument") {
                SOPError.unsupportedOption.exit(message)
            }
            SOPError.missingArgument.exit(message)
        }
    }
}

/// The SOP error codes (draft-dkg-openpgp-stateless-cli, "Failure Modes").
enum SOPError: Int32 {
    case generic = 1
    case noSignature = 3
    case unsupportedAsymmetricAlgorithm = 13
    case certCannotEncrypt = 17
    case missingArgument = 19
    case incompleteVerification = 23
    case cannotDecrypt = 29
    case passwordNotHumanReadable = 31
    case unsupportedOption = 37
    case badData = 41
    case expectedText = 53
    case outputExists = 59
    case missingInput = 61
    case keyIsProtected = 67
    case unsupportedSubcommand = 69
    case unsupportedSpecialPrefix = 71
    case keyCannotSign = 79
    case incompatibleOptions = 83
    case unsupportedProfile = 89

    func exit(_ message: String) -> Never {
        IO.write(Array("quercus-sop: \(message)\n".utf8), to: 2)
        Glibc.exit(rawValue)
    }
}

struct SOPFailure: Error {
    let code: SOPError
    let message: String

    init(_ code: SOPError, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The SOP failure for a library error.
    init(_ error: OpenPGPError, reading what: String) {
        switch error {
        case .malformed, .armor, .wrongKind: self.init(.badData, "\(what): \(error)")
        case .unsupported: self.init(.badData, "\(what): \(error)")
        case .rejected: self.init(.generic, "\(what): \(error)")
        }
    }
}

/// Reading inputs and writing outputs the way SOP asks: standard input, files, `@ENV:` and `@FD:`.
/// An OpenPGP message written to standard output as it is made, through streaming armor unless
/// `--no-armor` was given.
struct MessageOutput {
    private var armor: ArmorWriter?
    /// The armored text of one write, reused from write to write.
    private var armored: [UInt8] = []

    init(armored: Bool) {
        armor = armored ? ArmorWriter(kind: .message, checksum: true) : nil
    }

    mutating func write(_ bytes: [UInt8]) {
        guard armor != nil else { return IO.write(bytes) }
        armored.removeAll(keepingCapacity: true)
        armor?.update(bytes[...], into: &armored)
        IO.write(armored)
    }

    mutating func finish() {
        guard armor != nil else { return }
        armored.removeAll(keepingCapacity: true)
        armor?.finish(into: &armored)
        IO.write(armored)
    }
}

enum IO {
    /// All of standard input, read straight into one buffer (sized from the file when it is one),
    /// since messages are held whole and every extra copy of a large one costs page faults.
    static func standardInput() -> [UInt8] { readAll(0) }

    /// Everything a file descriptor gives until its end.
    static func readAll(_ descriptor: Int32) -> [UInt8] {
        var status = stat()
        var capacity = 1 << 16
        if fstat(descriptor, &status) == 0, status.st_size > 0 { capacity = Int(status.st_size) + 1 }
        var bytes = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let read = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress.map { $0 + count }, buffer.count - count)
            }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else { break }
            count += read
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Standard input in pieces of 64 KiB, one buffer reused, for the verbs that stream: they
    /// hold a few pieces at a time, so smaller pieces mean a smaller peak.
    static func forEachPieceOfStandardInput(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else { return }
            try body(buffer[..<read])
        }
    }

    static func write(_ bytes: [UInt8], to descriptor: Int32 = 1) {
        write(bytes[...], to: descriptor)
    }

    static func write(_ bytes: ArraySlice<UInt8>, to descriptor: Int32 = 1) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return }
            written += result
        }
    }

    static func write(_ text: String) {
        write(Array(text.utf8))
    }

    /// Writes OpenPGP data armored unless `--no-armor` was given.
    static func writePackets(_ bytes: [UInt8], armored: Bool) {
        if armored { write(Armor.encode(bytes)) } else { write(bytes) }
    }

    /// The bytes named by an argument: a file, `@ENV:NAME` or `@FD:N`.
    static func read(_ designator: String) throws -> [UInt8] {
        if designator.hasPrefix("@ENV:") {
            let name = String(designator.dropFirst(5))
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw SOPFailure(.missingInput, "environment variable \(name) is not set")
            }
            return Array(value.utf8)
        }
        if designator.hasPrefix("@FD:") {
            guard let descriptor = Int32(designator.dropFirst(4)), descriptor >= 0 else {
                throw SOPFailure(.unsupportedSpecialPrefix, "\(designator) does not name a file descriptor")
            }
            return IO.readAll(descriptor)
        }
        if designator.hasPrefix("@") {
            throw SOPFailure(.unsupportedSpecialPrefix, "unsupported special designator \(designator)")
        }
        guard let data = FileManager.default.contents(atPath: designator) else {
            throw SOPFailure(.missingInput, "\(designator): cannot read the file")
        }
        return Array(data)
    }

    static func now() -> UInt32 {
        UInt32(clamping: Int(Date().timeIntervalSince1970))
    }

    /// Certificates or keys from armored or binary input.
    static func certificates(_ bytes: [UInt8], from what: String) throws -> [Certificate] {
        do {
            let certificates = try Certificate.parseAll(Armor.binary(bytes))
            guard !certificates.isEmpty else { throw SOPFailure(.badData, "\(what): no certificate in it") }
            return certificates
        } catch let error as OpenPGPError {
            throw SOPFailure(error, reading: what)
        }
    }

    /// Secret keys named by arguments, unlocked with the key passwords named by `passwords`; a
    /// certificate where a key belongs is bad data, a key that stays locked KEY_IS_PROTECTED.
    static func secretKeys(_ designators: [String], passwords: [String] = []) throws -> [Certificate] {
        let keyPasswords = try keyPasswords(passwords)
        var keys: [Certificate] = []
        for designator in designators {
            for key in try certificates(try read(designator), from: designator) {
                guard key.isSecret else { throw SOPFailure(.badData, "\(designator): a certificate, not a secret key") }
                keys.append(try unlocked(key, with: keyPasswords, from: designator))
            }
        }
        return keys
    }

    /// The key with every protected secret opened by one of `passwords`, or KEY_IS_PROTECTED.
    static func unlocked(_ key: Certificate, with passwords: [[UInt8]], from what: String) throws -> Certificate {
        guard key.hasProtectedSecrets else { return key }
        let unlocked = key.unlocking(with: passwords)
        guard !unlocked.hasProtectedSecrets else {
            let reason = passwords.isEmpty ? "and no --with-key-password was given" : "and no key password opens it"
            throw SOPFailure(.keyIsProtected, "\(what): \(key.fingerprintHex) is password-protected \(reason)")
        }
        return unlocked
    }

    /// Key passwords named by arguments: each as given and, if different, without trailing
    /// whitespace (a password in a file usually ends with a newline).
    static func keyPasswords(_ designators: [String]) throws -> [[UInt8]] {
        var passwords: [[UInt8]] = []
        for designator in designators {
            let password = try read(designator)
            passwords.append(password)
            var trimmed = password
            while let last = trimmed.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
                trimmed.removeLast()
            }
            if trimmed != password { passwords.append(trimmed) }
        }
        return passwords
    }

    /// A password to protect a key with: trailing whitespace removed, UTF-8 required.
    static func newKeyPassword(_ designator: String) throws -> [UInt8] {
        guard var password = try keyPasswords([designator]).last else { return [] }
        while let last = password.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
            password.removeLast()
        }
        guard String(validating: password, as: UTF8.self) != nil else {
            throw SOPFailure(.passwordNotHumanReadable, "\(designator): the password is not UTF-8")
        }
        return password
    }
}
