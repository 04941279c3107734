/// DEFLATE decompression (RFC 1951) and the ZLIB wrapper (RFC 1950), for compressed data
/// packets. Output is capped so that a small packet cannot expand without bound.
enum Inflate {
    struct Failure: Error {
        let reason: String
    }

    /// ZLIB: a two-byte header, DEFLATE data, then the Adler-32 of the output.
    static func zlib(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        guard input.count >= 6 else { throw Failure(reason: "ZLIB data is too short") }
        let method = input[0]
        let flags = input[1]
        guard method & 0x0F == 8, (Int(method) << 8 | Int(flags)) % 31 == 0, flags & 0x20 == 0 else {
            throw Failure(reason: "not a ZLIB header")
        }
        var reader = BitReader(input, start: 2)
        let output = try inflate(&reader, limit: limit)
        let end = reader.alignedByteOffset
        guard end + 4 <= input.count else { throw Failure(reason: "ZLIB data ends without its checksum") }
        let expected = input[end..<(end + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard adler32(output) == expected else { throw Failure(reason: "ZLIB checksum mismatch") }
        return output
    }

    /// Raw DEFLATE data (what OpenPGP calls ZIP).
    static func raw(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var reader = BitReader(input, start: 0)
        return try inflate(&reader, limit: limit)
    }

    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            for byte in bytes[index..<end] {
                a += UInt32(byte)
                b += a
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
        var bitBuffer: UInt32 = 0
        var bitCount = 0

        init(_ bytes: [UInt8], start: Int) {
            self.bytes = bytes
            position = start
        }

        mutating func bits(_ count: Int) throws(Failure) -> Int {
            while bitCount < count {
                guard position < bytes.count else { throw Failure(reason: "compressed data is truncated") }
                bitBuffer |= UInt32(bytes[position]) << UInt32(bitCount)
                position += 1
                bitCount += 8
            }
            let value = Int(bitBuffer & ((1 << UInt32(count)) - 1))
            bitBuffer >>= UInt32(count)
            bitCount -= count
            return value
        }

        mutating func alignToByte() {
            bitBuffer = 0
            bitCount = 0
        }

        /// The offset of the first byte not yet (even partly) consumed.
        var alignedByteOffset: Int { position - bitCount / 8 }
    }

    /// A canonical Huffman code as counts per length and symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws(Failure) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var left = 1
            for length in 1..<16 {
                left = left << 1 - counts[length]
                guard left >= 0 else { throw Failure(reason: "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
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
                if code - count < first { return symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Failure(reason: "invalid Huffman code")
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

    private static func inflate(_ reader: inout BitReader, limit: Int) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        var isLast = false
        while !isLast {
            isLast = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let start = reader.position
                guard start + 4 <= reader.bytes.count else { throw Failure(reason: "compressed data is truncated") }
                let length = Int(reader.bytes[start]) | Int(reader.bytes[start + 1]) << 8
                let complement = Int(reader.bytes[start + 2]) | Int(reader.bytes[start + 3]) << 8
                guard length == ~complement & 0xFFFF else { throw Failure(reason: "stored block length mismatch") }
                guard start + 4 + length <= reader.bytes.count else {
                    throw Failure(reason: "compressed data is truncated")
                }
                guard output.count + length <= limit else {
                    throw Failure(reason: "decompressed data exceeds the limit")
                }
                output += reader.bytes[(start + 4)..<(start + 4 + length)]
                reader.position = start + 4 + length
            case 1:
                let literals = try Huffman(
                    lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                        + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
                let distances = try Huffman(lengths: [Int](repeating: 5, count: 30))
                try codes(&reader, literals, distances, &output, limit: limit)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codes(&reader, literals, distances, &output, limit: limit)
            default:
                throw Failure(reason: "reserved DEFLATE block type")
            }
        }
        return output
    }

    private static func dynamicTables(_ reader: inout BitReader) throws(Failure) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw Failure(reason: "too many Huffman codes") }
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
                guard let previous = lengths.last else { throw Failure(reason: "repeat with no previous length") }
                lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
            case 17:
                lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
            default:
                lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw Failure(reason: "too many code lengths") }
        guard lengths[256] != 0 else { throw Failure(reason: "no end-of-block code") }
        return (
            try Huffman(lengths: Array(lengths[..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...]))
        )
    }

    private static func codes(
        _ reader: inout BitReader, _ literals: Huffman, _ distances: Huffman, _ output: inout [UInt8], limit: Int
    ) throws(Failure) {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                guard output.count < limit else { throw Failure(reason: "decompressed data exceeds the limit") }
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < 29 else { throw Failure(reason: "invalid length code") }
                let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try distances.decode(&reader)
                guard distanceSymbol < 30 else { throw Failure(reason: "invalid distance code") }
                let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
                guard distance <= output.count else { throw Failure(reason: "distance before the start of the data") }
                guard output.count + length <= limit else {
                    throw Failure(reason: "decompressed data exceeds the limit")
                }
                let start = output.count - distance
                for index in 0..<length { output.append(output[start + index]) }
            }
        }
    }
}
