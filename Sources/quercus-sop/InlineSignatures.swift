import ArgumentParser
import Foundation
import OpenPGP

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
        let data = IO.standardInput()
        do {
            if mode == "clearsigned" {
                IO.write(try Cleartext.sign(data, with: signers, at: IO.now()))
            } else {
                let signatureMode: SignatureMode = mode == "text" ? .text : .binary
                IO.writePackets(
                    try Messages.inlineSign(data, mode: signatureMode, signers: signers, at: IO.now()),
                    armored: !noArmor)
            }
        } catch .wrongKind(let reason) where mode != "binary" {
            throw SOPFailure(.expectedText, "standard input: \(reason)")
        } catch .rejected(let reason) {
            throw SOPFailure(.keyCannotSign, reason)
        } catch {
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
        let (data, signed, signatures) = try readInlineSigned(IO.standardInput())
        let now = IO.now()
        let verifications = DetachedSignatures.verify(
            signed, signatures: signatures, certificates: certificates,
            notBefore: try date(notBefore, ifDash: 0, now: now), notAfter: try date(notAfter, ifDash: .max, now: now),
            now: now)
        guard !verifications.isEmpty else {
            throw SOPFailure(.noSignature, "no valid signature by the given certificates")
        }
        if let verificationsOut {
            try Data(verifications.map { describe($0) + "\n" }.joined().utf8).write(
                to: URL(fileURLWithPath: verificationsOut))
        }
        IO.write(data)
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
        let (data, _, signatures) = try readInlineSigned(IO.standardInput())
        let packets = PacketFraming.encode(signatures.map(\.packet))
        let output = noArmor ? Data(packets) : Data(Armor.encode(packets).utf8)
        try output.write(to: URL(fileURLWithPath: signaturesOut))
        IO.write(data)
    }
}

/// The data, what was signed, and the signatures of a cleartext-signed or inline-signed message.
private func readInlineSigned(_ input: [UInt8]) throws -> (data: [UInt8], signed: [UInt8], signatures: [Signature]) {
    do {
        if Cleartext.isCleartext(input) {
            let parsed = try Cleartext.parse(input)
            return (parsed.text, parsed.signed, parsed.signatures)
        }
        let detached = try Messages.inlineDetach(Armor.binary(input))
        return (detached.data, detached.data, detached.signatures)
    } catch {
        throw SOPFailure(error, reading: "standard input")
    }
}
