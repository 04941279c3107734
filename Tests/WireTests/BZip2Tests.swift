import Testing

@testable import Wire

/// BZip2 decoding on a stream bzip2 1.0.8 wrote, its CRCs, truncation and damage. The interop test
/// (`CompressionInteropTests`) decodes what the real bzip2 and Python's bz2 write for many inputs.
@Suite struct BZip2Tests {
    /// `printf 'hello hello hello hello\n' | bzip2 -9`
    static let hello: [UInt8] = [
        0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x6f, 0x4f, 0x10, 0xf3, 0x00, 0x00, 0x05, 0xd1,
        0x00,
        0x00, 0x10, 0x40, 0x00, 0x02, 0x44, 0xa0, 0x00, 0x30, 0xc0, 0x02, 0xa8, 0x34, 0x71, 0x0d, 0xad, 0x87, 0x0f,
        0x17,
        0x72, 0x45, 0x38, 0x50, 0x90, 0x6f, 0x4f, 0x10, 0xf3,
    ]

    @Test func decodesWhatBzip2Wrote() throws {
        #expect(try BZip2.decompress(Self.hello, limit: 100) == Array("hello hello hello hello\n".utf8))
        // Two streams one after the other are one output.
        #expect(try BZip2.decompress(Self.hello + Self.hello, limit: 100).count == 48)
    }

    @Test func fedInPiecesItDecodesTheSame() throws {
        for size in 1...5 {
            var decoder = BZip2.Decoder(limit: 1000)
            var output: [UInt8] = []
            var offset = 0
            let input = Self.hello + Self.hello
            while offset < input.count {
                decoder.append(input[offset..<min(input.count, offset + size)])
                output += try decoder.read()
                offset += size
            }
            output += try decoder.finish()
            #expect(output == Array("hello hello hello hello\n".utf8) + Array("hello hello hello hello\n".utf8))
        }
        var truncated = BZip2.Decoder(limit: 1000)
        truncated.append(Self.hello.dropLast(3))
        _ = try truncated.read()
        #expect(throws: BZip2.Failure.self) { try truncated.finish() }
    }

    @Test func damageTruncationAndTheLimitAreErrors() {
        #expect(throws: BZip2.Failure.self) { try BZip2.decompress(Self.hello, limit: 10) }
        for cut in [0, 3, 10, 20, Self.hello.count - 1] {
            #expect(throws: BZip2.Failure.self) { try BZip2.decompress(Array(Self.hello.prefix(cut)), limit: 100) }
        }
        for index in 4..<Self.hello.count {
            var damaged = Self.hello
            damaged[index] ^= 0x10
            // Any change is caught: a CRC, a code or a structure no longer fits.
            #expect(throws: BZip2.Failure.self) { try BZip2.decompress(damaged, limit: 100) }
        }
    }

    @Test func theChecksumIsBzip2s() {
        // bzip2's CRC of "123456789" (CRC-32/BZIP2's check value).
        #expect(CRC32BigEndian.checksum(Array("123456789".utf8)[...]) == 0xFC89_1918)
    }
}
