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

struct InlineSign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign standard input into an inline-signed message.")

    @Flag(help: "Write binary instead of ASCII armor (not with clearsigned).") var noArmor = false
    @Option(name: .customLong("as"), help: "binary (default), text or clearsigned.") var mode: String = "binary"
    @Option(help: "Password of a protected key (a file, @ENV:NAME or @FD:N).") var withKeyPassword: [String] = []
    @Argument(help: "Secret keys to sign with.") var keys: [String] = []

    func run() throws {
        guard ["binary", "text", "clearsigned"].contains(mode) else {
            throw SOPFailure(.unsupportedOption, "--as takes binary, text or clearsigned, not \"\(mode)\"")
        }
        guard !(noArmor && mode == "clearsigned") else {
            throw SOPFailure(.incompatibleOptions, "--no-armor and --as=clearsigned exclude each other")
        }
        guard !keys.isEmpty else { throw SOPFailure(.missingArgument, "inline-sign needs at least one KEYS file") }
        let signers = try IO.secretKeys(keys, passwords: withKeyPassword)
        do {
            if mode == "clearsigned" {
                var signer = try CleartextSigner(keys: signers, at: IO.now())
                try IO.forEachPieceOfStandardInput { piece in IO.write(try signer.update(piece)) }
                IO.write(try signer.finish())
                return
            }
            // Streamed: memory stays bounded whatever the size of standard input.
            var signer = try InlineSigner(keys: signers, mode: mode == "text" ? .text : .binary, at: IO.now())
            var output = MessageOutput(armored: !noArmor)
            try IO.forEachPieceOfStandardInput { piece in output.write(try signer.update(piece)) }
            output.write(try signer.finish())
            output.finish()
        } catch let failure as SOPFailure {
            throw failure
        } catch OpenPGPError.wrongKind(let reason) where mode != "binary" {
            throw SOPFailure(.expectedText, "standard input: \(reason)")
        } catch OpenPGPError.rejected(let reason) {
            throw SOPFailure(.keyCannotSign, reason)
        } catch let error as OpenPGPError {
            throw SOPFailure(error, reading: "standard input")
        }
    }
}

struct InlineVerify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify an inline-signed message and print its data.")

    @Option(help: "Ignore signatures made before this date.") var notBefore: String = "-"
    @Option(help: "Ignore signatures made after this date.") var notAfter: String = "now"
    @Option(help: "Write the verifications here.") var verificationsOut: String?
    @Argument(help: "Certificates of the expected signers.") var certs: [String] = []

    func run() throws {
        guard !certs.isEmpty else { throw SOPFailure(.missingArgument, "inline-verify needs CERTS") }
        if let verificationsOut, FileManager.default.fileExists(atPath: verificationsOut) {
            throw SOPFailure(.outputExists, "\(verificationsOut) already exists")
        }
        var certificates: [Certificate] = []
        for file in certs { certificates += try IO.certificates(try IO.read(file), from: file) }
        let now = IO.now()
        let notBefore = try date(notBefore, ifDash: 0, now: now)
        let notAfter = try date(notAfter, ifDash: .max, now: now)
        // The data is held in a temporary file until a signature has been verified.
        let output = try PlaintextOutput()
        let verifications = try readInlineSigned(output: output) { signatures, signed, verifier in
            if let signed {
                return DetachedSignatures.verify(
                    signed, signatures: signatures, certificates: certificates, notBefore: notBefore,
                    notAfter: notAfter, now: now)
            }
            return verifier?.verifications(
                certificates: certificates, notBefore: notBefore, notAfter: notAfter, now: now) ?? []
        }
        guard !verifications.isEmpty else {
            throw SOPFailure(.noSignature, "no valid signature by the given certificates")
        }
        if let verificationsOut {
            try Data(verifications.map { describe($0) + "\n" }.joined().utf8).write(
                to: URL(fileURLWithPath: verificationsOut))
        }
        try output.release()
    }
}

struct InlineDetach: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split an inline-signed message into data and signatures.")

    @Flag(help: "Write the signatures in binary instead of ASCII armor.") var noArmor = false
    @Option(help: "Where to write the signatures.") var signaturesOut: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: signaturesOut) else {
            throw SOPFailure(.outputExists, "\(signaturesOut) already exists")
        }
        let output = try PlaintextOutput()
        var signatures: [Signature] = []
        _ = try readInlineSigned(output: output, integrity: .verified) { found, _, _ in
            signatures = found
            return []
        }
        let packets = PacketFraming.encode(signatures.map(\.packet))
        let armored = noArmor ? Data(packets) : Data(Armor.encode(packets).utf8)
        try armored.write(to: URL(fileURLWithPath: signaturesOut))
        try output.release()
    }
}

/// Reads a cleartext-signed or inline-signed message from standard input, hands its data to
/// `output` as `integrity`, and calls `check` with the signatures and either the signed text
/// (cleartext, which is read whole) or the reader that hashed the data as it passed (inline
/// messages, which are streamed).
private func readInlineSigned(
    output: PlaintextOutput, integrity: PlaintextIntegrity = .pending,
    check: ([Signature], [UInt8]?, SignedMessageReader?) throws -> [Verification]
) throws -> [Verification] {
    do {
        let start = startOfStandardInput()
        if Cleartext.isCleartext(start) {
            let parsed = try Cleartext.parse(start + IO.standardInput())
            output.take(parsed.text[...], integrity)
            return try check(parsed.signatures, parsed.signed, nil)
        }
        var armor = ArmorReader()
        var reader = SignedMessageReader(decompressionLimit: .max)
        try reader.update(try armor.update(start[...])[...]) { output.take($0, integrity) }
        try IO.forEachPieceOfStandardInput { piece in
            try reader.update(try armor.update(piece)[...]) { output.take($0, integrity) }
            try output.check()
        }
        try reader.update(try armor.finish()[...]) { output.take($0, integrity) }
        let signatures = try reader.finish { output.take($0, integrity) }
        try output.check()
        return try check(signatures, nil, reader)
    } catch let failure as SOPFailure {
        throw failure
    } catch let error as OpenPGPError {
        throw SOPFailure(error, reading: "standard input")
    }
}

/// The first bytes of standard input: enough, after any leading whitespace, to tell the
/// cleartext framework from other input.
private func startOfStandardInput() -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while bytes.drop(while: { [0x20, 0x09, 0x0A, 0x0D].contains($0) }).count < 64, bytes.count < 1 << 20 {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += buffer[..<count]
    }
    return bytes
}
