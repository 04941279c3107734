import Testing

@testable import Wire

/// The DEFLATE compressor, checked by the inflater every reader in Quercus uses (which git and
/// OpenPGP peers' output already exercise): every stream decodes to its input, compresses what is
/// compressible, and streams in pieces with the same result.
@Suite struct DeflateTests {
    static func text(_ count: Int) -> [UInt8] {
        let words = ["calendar", "resolver", "the", "zone", "record", "of", "signature", "DNS", "quercus", "and"]
        var generator = SplitMix(seed: 7)
        var bytes: [UInt8] = []
        while bytes.count < count {
            bytes += Array(words[Int(generator.next() % UInt64(words.count))].utf8) + [0x20]
        }
        return Array(bytes.prefix(count))
    }

    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    @Test(arguments: [0, 1, 2, 3, 100, 258, 259, 40_000, 300_000])
    func zlibStreamsRoundTrip(size: Int) throws {
        for input in [Self.text(size), Self.random(size, seed: UInt64(size)), Array(repeating: 0x61, count: size)] {
            let compressed = Deflater.compress(input, format: .zlib)
            let (output, end) = try Zlib.inflate(compressed, limit: size + 1)
            #expect(output == input)
            #expect(end == compressed.count)
            #expect(try Zlib.inflateRaw(Deflater.compress(input, format: .raw), limit: size + 1) == input)
        }
    }

    @Test func compressibleDataShrinksAndRandomDataBarelyGrows() throws {
        let text = Self.text(200_000)
        let compressed = Deflater.compress(text, format: .zlib)
        #expect(compressed.count < text.count * 35 / 100, "\(compressed.count) of \(text.count)")
        let zeros = Array(repeating: UInt8(0), count: 1 << 20)
        #expect(Deflater.compress(zeros, format: .zlib).count < 3000)
        let noise = Self.random(100_000, seed: 1)
        #expect(Deflater.compress(noise, format: .zlib).count < noise.count + noise.count / 50)
    }

    @Test func streamingInPiecesGivesAStreamThatDecodesTheSame() throws {
        let input = Self.text(150_000) + Self.random(70_000, seed: 3) + Self.text(90_000)
        var generator = SplitMix(seed: 11)
        var deflater = Deflater(format: .zlib)
        var compressed: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let piece = Int(generator.next() % 20_000)
            let end = min(input.count, offset + piece)
            compressed += deflater.update(input[offset..<end])
            offset = end
        }
        compressed += deflater.finish()
        #expect(try Zlib.inflate(compressed, limit: input.count).output == input)
    }
}

/// A small deterministic generator, so a failure repeats.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
