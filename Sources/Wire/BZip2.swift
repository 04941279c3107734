// BZip2 decompression, for OpenPGP's compression algorithm 3 (GnuPG can still write it): per
// block, the Huffman-coded move-to-front symbols with their zero runs, the inverse
// Burrows-Wheeler transform and the final run-length decoding, each block's CRC checked. Output
// is bounded by `limit`; errors name the bit offset where the data stopped making sense.

public enum BZip2 {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The byte offset in the input where decoding failed.
        public let offset: Int
        public let reason: String

        public var description: String { "bzip2 data at byte \(offset): \(reason)" }
    }

    static let blockMagic: UInt64 = 0x3141_5926_5359
    static let endMagic: UInt64 = 0x1772_4538_5090
    /// The reason of the failure that means "more input needed", which `Decoder` waits out.
    static let truncatedReason = "the data ends too soon"

    /// Decodes one or more concatenated bzip2 streams, at most `limit` bytes of output.
    public static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var decoder = Decoder(limit: limit)
        decoder.append(input[...])
        return try decoder.read() + decoder.finish()
    }

    /// Decodes bzip2 fed in pieces, a whole block at a time: memory is bounded by one block
    /// (at most 900 kB of output, and its compressed bytes), not by the stream.
    public struct Decoder: Sendable {
        private enum Expecting: Sendable {
            case streamHeader
            case block(maximum: Int, combined: UInt32)
        }

        private var buffer: [UInt8] = []
        /// Bits of `buffer` already decoded.
        private var consumedBits = 0
        /// Bytes dropped from the front of `buffer`, for error offsets.
        private var dropped = 0
        private var expecting = Expecting.streamHeader
        private var produced = 0
        /// After a block ran out of input, the buffer size worth trying it again at: the input
        /// pending doubles between tries, so a block costs a few decodes, whatever the piece size.
        private var retryAt = 0
        private let limit: Int

        public init(limit: Int) { self.limit = limit }

        public mutating func append(_ bytes: ArraySlice<UInt8>) { buffer.append(contentsOf: bytes) }

        /// Decodes every block the input so far holds whole; returns their output.
        public mutating func read() throws(Failure) -> [UInt8] {
            guard buffer.count >= retryAt else { return [] }
            var output: [UInt8] = []
            while true {
                var reader = MSBBitReader(buffer, bitOffset: consumedBits, base: dropped)
                do {
                    guard try step(&reader, into: &output) else { break }
                    consumedBits = reader.bitOffset
                } catch  where error.reason == BZip2.truncatedReason {
                    retryAt = buffer.count + max(1 << 12, buffer.count - consumedBits / 8)
                    break
                }
            }
            let whole = consumedBits / 8
            if whole > 1 << 16 {
                buffer.removeFirst(whole)
                dropped += whole
                consumedBits -= whole * 8
            }
            return output
        }

        /// Decodes what is left; fails unless the input ended after a whole stream.
        public mutating func finish() throws(Failure) -> [UInt8] {
            retryAt = 0
            let output = try read()
            let reader = MSBBitReader(buffer, bitOffset: consumedBits, base: dropped)
            switch expecting {
            case .streamHeader where produced > 0 || consumedBits > 0:
                // Up to 7 bits of padding may follow the last stream; more must be another stream.
                guard reader.remainingBits < 8 else { throw reader.failure("trailing data after the stream") }
            case .streamHeader: throw reader.failure("not a bzip2 stream (no data)")
            case .block: throw reader.failure(BZip2.truncatedReason)
            }
            return output
        }

        /// Decodes one stream header, block or stream end; false when there is nothing to decode.
        private mutating func step(_ reader: inout MSBBitReader, into output: inout [UInt8]) throws(Failure) -> Bool {
            switch expecting {
            case .streamHeader:
                guard reader.remainingBits >= 32 else { return false }
                guard try reader.read(8) == 0x42, try reader.read(8) == 0x5A, try reader.read(8) == 0x68 else {
                    throw reader.failure("not a bzip2 stream (no \"BZh\")")
                }
                let level = try reader.read(8)
                guard (0x31...0x39).contains(level) else { throw reader.failure("block size \(level) is not 1 to 9") }
                expecting = .block(maximum: Int(level - 0x30) * 100_000, combined: 0)
                return true
            case .block(let maximum, let combined):
                let magic = try reader.read(48)
                if magic == endMagic {
                    let expected = UInt32(try reader.read(32))
                    guard expected == combined else { throw reader.failure("stream CRC mismatch") }
                    reader.alignToByte()
                    expecting = .streamHeader
                    return true
                }
                guard magic == blockMagic else { throw reader.failure("not a block header") }
                let expected = UInt32(try reader.read(32))
                var block: [UInt8] = []
                try decodeBlock(&reader, maximumBlock: maximum, into: &block, limit: limit - produced)
                let crc = CRC32BigEndian.checksum(block[...])
                guard crc == expected else { throw reader.failure("block CRC mismatch") }
                expecting = .block(maximum: maximum, combined: (combined << 1 | combined >> 31) ^ crc)
                produced += block.count
                output += block
                return true
            }
        }
    }

    fileprivate static func decodeBlock(
        _ reader: inout MSBBitReader, maximumBlock: Int, into output: inout [UInt8], limit: Int
    ) throws(Failure) {
        guard try reader.read(1) == 0 else { throw reader.failure("randomised blocks are not supported") }
        let origin = Int(try reader.read(24))
        // The bytes used, as a 16x16 bitmap.
        let ranges = try reader.read(16)
        var used: [UInt8] = []
        for range in 0..<16 where ranges >> (15 - UInt64(range)) & 1 == 1 {
            let bits = try reader.read(16)
            for low in 0..<16 where bits >> (15 - UInt64(low)) & 1 == 1 { used.append(UInt8(range * 16 + low)) }
        }
        guard !used.isEmpty else { throw reader.failure("a block uses no bytes") }
        let alphabetSize = used.count + 2
        let groupCount = Int(try reader.read(3))
        guard (2...6).contains(groupCount) else { throw reader.failure("\(groupCount) Huffman groups") }
        let selectorCount = Int(try reader.read(15))
        guard selectorCount > 0 else { throw reader.failure("no selectors") }
        // Selectors, move-to-front coded in unary.
        var order = Array(0..<groupCount)
        var selectors: [Int] = []
        selectors.reserveCapacity(selectorCount)
        for _ in 0..<selectorCount {
            var index = 0
            while try reader.read(1) == 1 {
                index += 1
                guard index < groupCount else { throw reader.failure("selector out of range") }
            }
            let group = order.remove(at: index)
            order.insert(group, at: 0)
            selectors.append(group)
        }
        // Each group's code lengths, delta coded.
        var tables: [HuffmanDecoder] = []
        for _ in 0..<groupCount {
            var length = Int(try reader.read(5))
            var lengths: [Int] = []
            for _ in 0..<alphabetSize {
                while true {
                    guard (1...20).contains(length) else { throw reader.failure("code length \(length)") }
                    if try reader.read(1) == 0 { break }
                    length += try reader.read(1) == 0 ? 1 : -1
                }
                lengths.append(length)
            }
            guard let table = HuffmanDecoder(lengths: lengths) else { throw reader.failure("an impossible code") }
            tables.append(table)
        }
        // The symbols: zero runs (RUNA, RUNB in bijective base 2), move-to-front indexes, end.
        var front = Array(0..<used.count).map { UInt8($0) }
        var block: [UInt8] = []
        var counts = Array(repeating: 0, count: 256)
        var run = 0
        var runWeight = 1
        var symbolIndex = 0
        func flushRun() throws(Failure) {
            guard run > 0 else { return }
            let byte = used[Int(front[0])]
            guard block.count + run <= maximumBlock else { throw reader.failure("block longer than its size") }
            block.append(contentsOf: repeatElement(byte, count: run))
            counts[Int(byte)] += run
            run = 0
            runWeight = 1
        }
        while true {
            let selector = symbolIndex / 50
            guard selector < selectors.count else { throw reader.failure("more symbols than selectors") }
            let symbol = try tables[selectors[selector]].decode(&reader)
            symbolIndex += 1
            if symbol <= 1 {
                guard runWeight <= maximumBlock else { throw reader.failure("zero run too long") }
                run += (symbol + 1) * runWeight
                runWeight <<= 1
                continue
            }
            try flushRun()
            if symbol == alphabetSize - 1 { break }
            let index = symbol - 1
            guard index < front.count else { throw reader.failure("symbol out of range") }
            let value = front.remove(at: index)
            front.insert(value, at: 0)
            let byte = used[Int(value)]
            guard block.count < maximumBlock else { throw reader.failure("block longer than its size") }
            block.append(byte)
            counts[Int(byte)] += 1
        }
        guard origin < block.count else { throw reader.failure("origin pointer outside the block") }
        // The inverse Burrows-Wheeler transform: follow the links from the origin.
        var starts = Array(repeating: 0, count: 256)
        var sum = 0
        for byte in 0..<256 {
            starts[byte] = sum
            sum += counts[byte]
        }
        var links = Array(repeating: 0, count: block.count)
        for (index, byte) in block.enumerated() {
            links[starts[Int(byte)]] = index
            starts[Int(byte)] += 1
        }
        // Undo the first run-length step: four equal bytes are followed by a count of more.
        var position = links[origin]
        var last = -1
        var same = 0
        for _ in 0..<block.count {
            let byte = block[position]
            position = links[position]
            if same == 4 {
                guard output.count + Int(byte) <= limit else { throw reader.failure("output over \(limit) bytes") }
                output.append(contentsOf: repeatElement(last >= 0 ? UInt8(last) : 0, count: Int(byte)))
                same = 0
                last = -1
                continue
            }
            if Int(byte) == last { same += 1 } else { same = 1 }
            last = Int(byte)
            guard output.count < limit else { throw reader.failure("output over \(limit) bytes") }
            output.append(byte)
        }
    }
}

/// Bits most significant first, as bzip2 writes them; reading past the end is an error.
struct MSBBitReader {
    let bytes: [UInt8]
    private(set) var bitOffset: Int
    /// Where `bytes` starts in the whole input, for error offsets.
    let base: Int

    init(_ bytes: [UInt8], bitOffset: Int = 0, base: Int = 0) {
        self.bytes = bytes
        self.bitOffset = bitOffset
        self.base = base
    }

    var remainingBits: Int { bytes.count * 8 - bitOffset }

    mutating func read(_ count: Int) throws(BZip2.Failure) -> UInt64 {
        guard count <= remainingBits else { throw failure(BZip2.truncatedReason) }
        var value: UInt64 = 0
        for _ in 0..<count {
            let byte = bytes[bitOffset >> 3]
            value = value << 1 | UInt64(byte >> (7 - UInt8(bitOffset & 7)) & 1)
            bitOffset += 1
        }
        return value
    }

    mutating func alignToByte() { bitOffset = (bitOffset + 7) & ~7 }

    func failure(_ reason: String) -> BZip2.Failure { BZip2.Failure(offset: base + bitOffset / 8, reason: reason) }
}

/// A canonical Huffman code read one bit at a time (bzip2 assigns codes in symbol order by length).
struct HuffmanDecoder {
    /// For each length: the first code, how many codes, and where its symbols start in `symbols`.
    private var firstCode: [Int] = []
    private var count: [Int] = []
    private var offset: [Int] = []
    private var symbols: [Int] = []
    private let maximumLength: Int

    init?(lengths: [Int]) {
        guard let maximum = lengths.max(), let minimum = lengths.min(), minimum >= 1, maximum <= 20 else { return nil }
        maximumLength = maximum
        var code = 0
        for length in 0...maximum {
            let members = lengths.indices.filter { lengths[$0] == length }
            firstCode.append(code)
            count.append(members.count)
            offset.append(symbols.count)
            symbols += members
            code = (code + members.count) << 1
        }
        // More codes than the lengths allow is no prefix code at all.
        var capacity = 1
        for length in 1...maximum {
            capacity = capacity * 2 - count[length]
            if capacity < 0 { return nil }
        }
    }

    func decode(_ reader: inout MSBBitReader) throws(BZip2.Failure) -> Int {
        var code = 0
        for length in 1...maximumLength {
            code = code << 1 | Int(try reader.read(1))
            let index = code - firstCode[length]
            if index >= 0, index < count[length] { return symbols[offset[length] + index] }
        }
        throw reader.failure("no symbol has this code")
    }
}

/// CRC-32 with the polynomial 0x04C11DB7 shifted in most significant bit first (bzip2's).
enum CRC32BigEndian {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index) << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? crc << 1 ^ 0x04C1_1DB7 : crc << 1 }
        return crc
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crc << 8 ^ table[Int(UInt8(truncatingIfNeeded: crc >> 24) ^ byte)] }
        return ~crc
    }
}
