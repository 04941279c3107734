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
}
