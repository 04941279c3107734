// DEFLATE (RFC 1951) and its zlib wrapper (RFC 1950), in Swift so nothing links a C library: a
// writer that emits "stored" (uncompressed) blocks, which every zlib reader accepts (git objects),
// and a reader for real DEFLATE as git and OpenPGP implementations write it. The reader is a
// parser of untrusted bytes: it never traps, caps its output, and reports where the input went
// wrong.

public enum Zlib {
    public struct Failure: Error, Sendable, Equatable {
        /// The input offset where decoding stopped.
        public let offset: Int
        public let reason: String
    }

    /// `bytes` as a zlib stream of stored blocks: 5 bytes of framing per 64 KiB, no compression.
    public static func storedStream(_ bytes: [UInt8]) -> [UInt8] {
        // 0x78 0x01: DEFLATE with a 32 KiB window, no dictionary, "fastest"; (0x7801 % 31 == 0).
        var output: [UInt8] = [0x78, 0x01]
        output.reserveCapacity(bytes.count + bytes.count / 65_535 * 5 + 11)
        var start = 0
        repeat {
            let end = min(start + 65_535, bytes.count)
            let length = UInt16(end - start)
            // One byte holds BFINAL and BTYPE 00; a stored block then starts on the byte boundary.
            output.append(end == bytes.count ? 1 : 0)
            output += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            output += bytes[start..<end]
            start = end
        } while start < bytes.count
        let checksum = adler32(bytes)
        output += [
            UInt8(checksum >> 24), UInt8(checksum >> 16 & 0xFF), UInt8(checksum >> 8 & 0xFF), UInt8(checksum & 0xFF),
        ]
        return output
    }

    /// Decodes the zlib stream that starts at `start` (trailing bytes are allowed: packfiles put
    /// the next object there). Returns the output and the offset just past the checksum.
    public static func inflate(_ input: [UInt8], from start: Int = 0, limit: Int) throws(Failure) -> (
        output: [UInt8], end: Int
    ) {
        guard start >= 0, start + 2 <= input.count else {
            throw Failure(offset: start, reason: "zlib data is too short")
        }
        let method = input[start]
        let flags = input[start + 1]
        guard method & 0x0F == 8, method >> 4 <= 7, (Int(method) << 8 | Int(flags)) % 31 == 0 else {
            throw Failure(offset: start, reason: "not a zlib header")
        }
        guard flags & 0x20 == 0 else {
            throw Failure(offset: start + 1, reason: "zlib preset dictionaries are not used")
        }
        var reader = BitReader(input, start: start + 2)
        let output = try inflateBlocks(&reader, limit: limit)
        let end = reader.alignedByteOffset
        guard end + 4 <= input.count else { throw Failure(offset: end, reason: "zlib data ends without its checksum") }
        let expected = input[end..<(end + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard adler32(output) == expected else { throw Failure(offset: end, reason: "zlib checksum mismatch") }
        return (output, end + 4)
    }

    /// Raw DEFLATE data, no wrapper (what OpenPGP calls ZIP).
    public static func inflateRaw(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var reader = BitReader(input, start: 0)
        return try inflateBlocks(&reader, limit: limit)
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            // 5552 bytes is the most that can be summed before b could overflow 32 bits.
            let end = min(index + 5552, bytes.count)
            for byte in bytes[index..<end] {
                a &+= UInt32(byte)
                b &+= a
            }
            a %= 65521
            b %= 65521
            index = end
        }
        return b << 16 | a
    }

    struct BitReader {
        let bytes: [UInt8]
        var position: Int
        var bitBuffer: UInt64 = 0
        var bitCount = 0

        init(_ bytes: [UInt8], start: Int) {
            self.bytes = bytes
            position = start
        }

        mutating func bits(_ count: Int) throws(Failure) -> Int {
            while bitCount < count {
                guard position < bytes.count else {
                    throw Failure(offset: position, reason: "deflate data is truncated")
                }
                bitBuffer |= UInt64(bytes[position]) << UInt64(bitCount)
                position += 1
                bitCount += 8
            }
            let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
            bitBuffer >>= UInt64(count)
            bitCount -= count
            return value
        }

        /// Drops the bits left in the current byte; bytes already buffered are given back.
        mutating func alignToByte() {
            position -= bitCount / 8
            bitBuffer = 0
            bitCount = 0
        }

        /// The offset of the first byte not yet (even partly) consumed.
        var alignedByteOffset: Int { position - bitCount / 8 }
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]

        init(lengths: [Int]) throws(Failure) {
            for length in lengths where length > 0 && length < 16 { counts[length] += 1 }
            var left = 1
            for length in 1..<16 {
                left = left << 1 - counts[length]
                guard left >= 0 else { throw Failure(offset: 0, reason: "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length > 0 && length < 16 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }

        func decode(_ reader: inout BitReader) throws(Failure) -> Int {
            var code = 0
            var first = 0
            var index = 0
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(offset: reader.position, reason: "invalid Huffman code")
        }
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    private static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    private static func inflateBlocks(_ reader: inout BitReader, limit: Int) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        var isLast = false
        while !isLast {
            isLast = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let start = reader.position
                guard start + 4 <= reader.bytes.count else {
                    throw Failure(offset: start, reason: "deflate data is truncated")
                }
                let length = Int(reader.bytes[start]) | Int(reader.bytes[start + 1]) << 8
                let complement = Int(reader.bytes[start + 2]) | Int(reader.bytes[start + 3]) << 8
                guard length == ~complement & 0xFFFF else {
                    throw Failure(offset: start, reason: "stored block length mismatch")
                }
                guard start + 4 + length <= reader.bytes.count else {
                    throw Failure(offset: start, reason: "deflate data is truncated")
                }
                guard output.count + length <= limit else {
                    throw Failure(offset: start, reason: "inflated data exceeds \(limit) bytes")
                }
                output += reader.bytes[(start + 4)..<(start + 4 + length)]
                reader.position = start + 4 + length
            case 1:
                try codes(&reader, fixedLiterals, fixedDistances, &output, limit: limit)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codes(&reader, literals, distances, &output, limit: limit)
            default:
                throw Failure(offset: reader.position, reason: "reserved deflate block type")
            }
        }
        return output
    }

    private static let fixedLiterals = try? Huffman(
        lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112) + [Int](repeating: 7, count: 24)
            + [Int](repeating: 8, count: 8))
    private static let fixedDistances = try? Huffman(lengths: [Int](repeating: 5, count: 30))

    private static func dynamicTables(_ reader: inout BitReader) throws(Failure) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw Failure(offset: reader.position, reason: "too many Huffman codes")
        }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
        let lengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try lengthCode.decode(&reader)
            switch symbol {
            case 0..<16:
                lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else {
                    throw Failure(offset: reader.position, reason: "repeat with no previous length")
                }
                lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
            case 17:
                lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
            default:
                lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else {
            throw Failure(offset: reader.position, reason: "code lengths overrun their tables")
        }
        guard lengths[256] != 0 else { throw Failure(offset: reader.position, reason: "no end-of-block code") }
        return (
            try Huffman(lengths: Array(lengths[..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...]))
        )
    }

    private static func codes(
        _ reader: inout BitReader, _ literals: Huffman?, _ distances: Huffman?, _ output: inout [UInt8], limit: Int
    ) throws(Failure) {
        guard let literals, let distances else { throw Failure(offset: reader.position, reason: "no Huffman table") }
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                guard output.count < limit else {
                    throw Failure(offset: reader.position, reason: "inflated data exceeds \(limit) bytes")
                }
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < 29 else { throw Failure(offset: reader.position, reason: "invalid length code") }
                let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try distances.decode(&reader)
                guard distanceSymbol < 30 else {
                    throw Failure(offset: reader.position, reason: "invalid distance code")
                }
                let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
                guard distance <= output.count else {
                    throw Failure(offset: reader.position, reason: "distance before the start of the data")
                }
                guard output.count + length <= limit else {
                    throw Failure(offset: reader.position, reason: "inflated data exceeds \(limit) bytes")
                }
                let start = output.count - distance
                for index in 0..<length { output.append(output[start + index]) }
            }
        }
    }
}
