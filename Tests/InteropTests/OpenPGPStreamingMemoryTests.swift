import Foundation
import TestSupport
import Testing

/// `quercus-sop` on a 64 MiB file: encrypt → decrypt (SEIPD v2 and v1) and inline-sign →
/// inline-verify give back the file, and the peak resident memory of each run (`/usr/bin/time`'s
/// %M) stays within a fixed margin of what `quercus-sop version` needs: a Swift executable with
/// Foundation maps 20 to 22 MiB before it reads a byte, and streaming adds the 64 KiB input piece,
/// a 256 KiB AEAD chunk, armor and allocator slack, not the file. The figures are printed; no time
/// is measured.
@Suite(.serialized) struct OpenPGPStreamingMemoryTests {
    /// What a run may add to the baseline.
    static let marginKiB = 12 * 1024
    static let sizeMiB = 64

    @Test func largeFilesStreamInBoundedMemory() throws {
        let sop = try Product.path("quercus-sop")
        let time = try Peer.command("time", debian: "time")
        let directory = try TemporaryDirectory("openpgp-memory")
        defer { directory.remove() }
        let data = directory.file("data")
        let shell = "/bin/sh"
        // Random data, so that nothing compresses and every byte passes through every stage.
        #expect(
            try run(shell, ["-c", "head -c \(Self.sizeMiB * 1024 * 1024) /dev/urandom > '\(data)'"]).status == 0)

        func sopRun(_ name: String, _ arguments: String, input: String, output: String) throws -> Int {
            let report = directory.file("\(name).time")
            let command =
                "'\(time)' -f %M -o '\(report)' '\(sop)' \(arguments) < '\(input)' > '\(directory.file(output))'"
            let result = try run(shell, ["-c", command], timeout: 600)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let text = try String(contentsOfFile: report, encoding: .utf8)
            let kib = Int(text.split(separator: "\n").last.map(String.init) ?? "") ?? Int.max
            print("quercus-sop \(name), \(Self.sizeMiB) MiB: peak RSS \(kib / 1024) MiB (\(kib) KiB)")
            return kib
        }

        let baseline = try sopRun("version", "version", input: "/dev/null", output: "version.out")
        var peaks: [String: Int] = [:]
        for profile in ["rfc9580", "rfc4880"] {
            let key = directory.file("\(profile).key")
            let cert = directory.file("\(profile).cert")
            #expect(try run(shell, ["-c", "'\(sop)' generate-key --profile \(profile) Bob > '\(key)'"]).status == 0)
            #expect(try run(shell, ["-c", "'\(sop)' extract-cert < '\(key)' > '\(cert)'"]).status == 0)
            peaks["encrypt \(profile)"] = try sopRun(
                "encrypt-\(profile)", "encrypt --profile \(profile) '\(cert)'", input: data,
                output: "\(profile).asc")
            peaks["decrypt \(profile)"] = try sopRun(
                "decrypt-\(profile)", "decrypt '\(key)'", input: directory.file("\(profile).asc"),
                output: "\(profile).out")
            #expect(try run("/usr/bin/cmp", [data, directory.file("\(profile).out")]).status == 0)
            peaks["inline-sign \(profile)"] = try sopRun(
                "inline-sign-\(profile)", "inline-sign '\(key)'", input: data, output: "\(profile).signed")
            peaks["inline-verify \(profile)"] = try sopRun(
                "inline-verify-\(profile)", "inline-verify '\(cert)'", input: directory.file("\(profile).signed"),
                output: "\(profile).verified")
            #expect(try run("/usr/bin/cmp", [data, directory.file("\(profile).verified")]).status == 0)
        }
        for (name, kib) in peaks.sorted(by: { $0.key < $1.key }) {
            #expect(kib < baseline + Self.marginKiB, "\(name): peak RSS \(kib) KiB, baseline \(baseline) KiB")
        }
    }

    @Test func tamperedV1MessagesWriteNothing() throws {
        let sop = try Product.path("quercus-sop")
        let directory = try TemporaryDirectory("openpgp-tamper")
        defer { directory.remove() }
        let shell = "/bin/sh"
        let key = directory.file("bob.key")
        let cert = directory.file("bob.cert")
        #expect(try run(shell, ["-c", "'\(sop)' generate-key --profile rfc4880 Bob > '\(key)'"]).status == 0)
        #expect(try run(shell, ["-c", "'\(sop)' extract-cert < '\(key)' > '\(cert)'"]).status == 0)
        let message = directory.file("message")
        #expect(
            try run(
                shell,
                [
                    "-c",
                    "head -c 3000000 /dev/zero | '\(sop)' encrypt --no-armor --profile rfc4880 '\(cert)' > '\(message)'",
                ]
            ).status == 0)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: message)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: message))
        let result = try run(shell, ["-c", "'\(sop)' decrypt '\(key)' < '\(message)'"])
        #expect(result.status == 29 || result.status == 41, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
