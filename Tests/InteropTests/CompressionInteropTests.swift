import Foundation
import TestSupport
import Testing
import Wire

/// Wire's compression codecs against the reference programs: what bzip2 writes (blocks of
/// 100 and 900 kB, runs, text, noise) BZip2 reads back; what Deflater writes Python's zlib (the
/// C zlib) reads back, raw and wrapped.
@Suite struct CompressionInteropTests {
    static func inputs() -> [(String, [UInt8])] {
        var state: UInt64 = 42
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let words = Array("the resolver signs calendar zones and quercus answers records ".utf8)
        let text = (0..<400_000).map { words[($0 * 7 + $0 / 13) % words.count] }
        return [
            ("empty", []),
            ("one byte", [0x41]),
            (
                "runs",
                Array(repeating: 0x61, count: 1000) + Array(repeating: 0x62, count: 4) + [0x63]
                    + Array(repeating: 0, count: 70_000)
            ),
            ("text", text),
            ("noise", (0..<250_000).map { _ in next() }),
            ("mixed", Array(text.prefix(150_000)) + (0..<150_000).map { _ in next() } + Array(text.prefix(300_000))),
        ]
    }

    @Test func bzip2sStreamsDecode() throws {
        let bzip2 = try Peer.command("bzip2", debian: "bzip2")
        let directory = try TemporaryDirectory("bzip2")
        defer { directory.remove() }
        for (name, input) in Self.inputs() {
            let path = directory.file("input")
            try Data(input).write(to: URL(fileURLWithPath: path))
            for level in ["-1", "-9"] {
                let compressed = directory.file("input.bz2")
                let result = try run("/bin/sh", ["-c", "'\(bzip2)' \(level) -c '\(path)' > '\(compressed)'"])
                #expect(result.status == 0, "\(result.stderr)")
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: compressed)))
                #expect(try BZip2.decompress(bytes, limit: input.count) == input, "\(name) \(level)")
                // Fed in 64 KiB pieces (how OpenPGP's reader feeds it), block by block.
                var decoder = BZip2.Decoder(limit: input.count)
                var streamed: [UInt8] = []
                for start in stride(from: 0, to: bytes.count, by: 1 << 16) {
                    decoder.append(bytes[start..<min(bytes.count, start + (1 << 16))])
                    streamed += try decoder.read()
                }
                streamed += try decoder.finish()
                #expect(streamed == input, "\(name) \(level) in pieces")
            }
        }
    }

    @Test func cZlibReadsWhatDeflaterWrites() throws {
        let python = try Peer.command("python3", debian: "python3")
        let directory = try TemporaryDirectory("deflate")
        defer { directory.remove() }
        for (name, input) in Self.inputs() {
            for (format, wbits) in [(Deflater.Format.zlib, "15"), (.raw, "-15")] {
                let path = directory.file("compressed")
                try Data(Deflater.compress(input, format: format)).write(to: URL(fileURLWithPath: path))
                let script = """
                    import sys, zlib
                    open(sys.argv[2], "wb").write(zlib.decompress(open(sys.argv[1], "rb").read(), \(wbits)))
                    """
                let output = directory.file("output")
                let result = try run(python, ["-c", script, path, output])
                #expect(result.status == 0, "\(name) \(format): \(result.stderr)")
                #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))) == input, "\(name) \(format)")
            }
        }
    }

    /// GnuPG compresses what it encrypts and signs; quercus-sop reads all three algorithms it
    /// can choose, password-encrypted and inline-signed.
    @Test func quercusSopReadsWhatGnuPGCompressed() throws {
        let gpg = try Peer.command("gpg", debian: "gnupg")
        let sop = try Product.path("quercus-sop")
        let directory = try TemporaryDirectory("pgp-compression")
        defer {
            if let gpgconf = try? Peer.command("gpgconf", debian: "gnupg") {
                _ = try? run(gpgconf, ["--homedir", directory.file("home"), "--kill", "all"])
            }
            directory.remove()
        }
        try FileManager.default.createDirectory(
            atPath: directory.file("home"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let base = ["--homedir", directory.file("home"), "--batch", "--no-tty", "--pinentry-mode", "loopback"]
        let text = Data(Self.inputs()[3].1.prefix(200_000))
        let passwordFile = try directory.write("password", "correct horse")
        let plain = try directory.write("plain", "")
        try text.write(to: URL(fileURLWithPath: plain))
        var compressedSizes: [String] = []
        for algorithm in ["zip", "zlib", "bzip2"] {
            let encrypted = directory.file("message-\(algorithm).gpg")
            let result = try run(
                gpg,
                base + [
                    "--passphrase", "correct horse", "--symmetric", "--compress-algo", algorithm, "--output", encrypted,
                    plain,
                ])
            #expect(result.status == 0, "\(result.stderr)")
            let size = (try? FileManager.default.attributesOfItem(atPath: encrypted)[.size] as? Int) ?? 0
            compressedSizes.append("\(algorithm) \(size)")
            let decrypted = try run(
                "/bin/sh",
                ["-c", "'\(sop)' decrypt --with-password '\(passwordFile)' < '\(encrypted)' > '\(plain).out'"])
            #expect(decrypted.status == 0, "\(algorithm): \(decrypted.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: plain + ".out")) == text, "\(algorithm)")
            #expect(size < text.count / 2, "\(algorithm) compressed \(size) of \(text.count)")
        }
        // Inline-signed with BZip2: the signature verifies over the decompressed text.
        _ = try run(
            gpg, base + ["--passphrase", "", "--quick-gen-key", "Signer <signer@test>", "ed25519", "sign", "never"])
        let cert = directory.file("cert")
        _ = try run(gpg, base + ["--armor", "--output", cert, "--export"])
        let signed = directory.file("signed.gpg")
        let signing = try run(
            gpg, base + ["--passphrase", "", "--sign", "--compress-algo", "bzip2", "--output", signed, plain])
        #expect(signing.status == 0, "\(signing.stderr)")
        let verified = try run(
            "/bin/sh", ["-c", "'\(sop)' inline-verify '\(cert)' < '\(signed)' > '\(plain).verified'"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: plain + ".verified")) == text)
        print("GnuPG compressed 200,000 bytes of text to: \(compressedSizes.joined(separator: ", "))")
    }
}
