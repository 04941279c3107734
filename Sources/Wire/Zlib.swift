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

    /// The reason of the failure that means "more input needed", which `Inflater` waits out.
    static let truncatedReason = "deflate data is truncated"

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        adler32(1, bytes[...])
    }

    /// Adler-32 continued from `checksum` (1 for the empty input) over `bytes`.
    static func adler32(_ checksum: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        var a: UInt32 = checksum & 0xFFFF
        var b: UInt32 = checksum >> 16
        var index = bytes.startIndex
        while index < bytes.endIndex {
            // 5552 bytes is the most that can be summed before b could overflow 32 bits.
            let end = min(index + 5552, bytes.endIndex)
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
                    throw Failure(offset: position, reason: truncatedReason)
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

    // RFC 1951's length and distance tables, shared with the compressor.
    static let lengthBase = DeflateTables.lengthBase
    static let lengthExtra = DeflateTables.lengthExtraBits
    static let distanceBase = DeflateTables.distanceBase
    static let distanceExtra = DeflateTables.distanceExtraBits

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
                    throw Failure(offset: start, reason: truncatedReason)
                }
                let length = Int(reader.bytes[start]) | Int(reader.bytes[start + 1]) << 8
                let complement = Int(reader.bytes[start + 2]) | Int(reader.bytes[start + 3]) << 8
                guard length == ~complement & 0xFFFF else {
                    throw Failure(offset: start, reason: "stored block length mismatch")
                }
                guard start + 4 + length <= reader.bytes.count else {
                    throw Failure(offset: start, reason: truncatedReason)
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

extension Zlib {
    /// DEFLATE decoded as its input arrives, in bounded memory: the 32 KiB window and the input
    /// not yet decoded. `append` gives it input; `read` hands back at most `pieceSize` bytes of
    /// output at a time, and an empty array when it needs more input; `finish` says whether the
    /// stream ended properly. Input after the end of the stream is ignored, as `inflate` allows.
    public struct Inflater {
        public enum Format: Sendable {
            /// Raw DEFLATE (OpenPGP's ZIP).
            case raw
            /// DEFLATE in the zlib wrapper, with its Adler-32 checked.
            case zlib
        }

        private enum State {
            case zlibHeader
            case blockHeader
            case stored(remaining: Int)
            case codes(Huffman, Huffman)
            case trailer
            case done
        }

        public static let pieceSize = 1 << 18
        private static let windowSize = 1 << 15
        private let format: Format
        private let limit: Int
        private var state: State
        private var isLastBlock = false
        private var input: [UInt8] = []
        /// Bytes dropped from the front of `input`, so failures name offsets in the whole stream.
        private var dropped = 0
        private var position = 0
        private var bitBuffer: UInt64 = 0
        private var bitCount = 0
        /// The last 32 KiB of output (what back-references may reach) and the output not yet read.
        private var window: [UInt8] = []
        private var unread = 0
        private var produced = 0
        private var checksum: UInt32 = 1

        /// Output beyond `limit` bytes in total is a failure.
        public init(format: Format, limit: Int) {
            self.format = format
            self.limit = limit
            state = format == .zlib ? .zlibHeader : .blockHeader
        }

        public var isFinished: Bool {
            if case .done = state { return true }
            return false
        }

        public mutating func append(_ bytes: ArraySlice<UInt8>) {
            guard !isFinished else { return }
            if position > 1 << 16, position > input.count / 2 {
                input.removeFirst(position)
                dropped += position
                position = 0
            }
            input += bytes
        }

        /// The next piece of output; empty when all the input so far is decoded.
        public mutating func read() throws(Failure) -> [UInt8] {
            var reader = BitReader(input, start: position)
            reader.bitBuffer = bitBuffer
            reader.bitCount = bitCount
            defer {
                position = reader.position
                bitBuffer = reader.bitBuffer
                bitCount = reader.bitCount
            }
            let start = window.count
            do {
                try run(&reader, until: start + Self.pieceSize)
            } catch {
                throw Failure(offset: error.offset + dropped, reason: error.reason)
            }
            let output = Array(window[unread...])
            produced += output.count
            guard produced <= limit else {
                throw Failure(offset: reader.position + dropped, reason: "inflated data exceeds \(limit) bytes")
            }
            if format == .zlib { checksum = adler32(checksum, output[...]) }
            if window.count > 2 * Self.windowSize { window.removeFirst(window.count - Self.windowSize) }
            unread = window.count
            if case .trailer = state { try readTrailer(&reader) }
            return output
        }

        /// Fails unless the stream reached its end (and, for zlib, its checksum matched).
        public func finish() throws(Failure) {
            guard isFinished else { throw Failure(offset: input.count + dropped, reason: truncatedReason) }
        }

        private mutating func readTrailer(_ reader: inout BitReader) throws(Failure) {
            reader.alignToByte()
            let start = reader.position
            guard start + 4 <= input.count else { return }
            let expected = input[start..<(start + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard expected == checksum else {
                throw Failure(offset: start + dropped, reason: "zlib checksum mismatch")
            }
            reader.position = start + 4
            state = .done
        }

        /// Decodes until the window holds `end` bytes, the input runs out or the stream ends;
        /// running out of input leaves the reader where the unfinished symbol or header began.
        private mutating func run(_ reader: inout BitReader, until end: Int) throws(Failure) {
            while window.count < end {
                let checkpoint = (reader.position, reader.bitBuffer, reader.bitCount)
                do throws(Failure) {
                    switch state {
                    case .done, .trailer:
                        return
                    case .zlibHeader:
                        guard reader.position + 2 <= input.count else { return }
                        let method = input[reader.position]
                        let flags = input[reader.position + 1]
                        guard method & 0x0F == 8, method >> 4 <= 7, (Int(method) << 8 | Int(flags)) % 31 == 0 else {
                            throw Failure(offset: reader.position, reason: "not a zlib header")
                        }
                        guard flags & 0x20 == 0 else {
                            throw Failure(offset: reader.position + 1, reason: "zlib preset dictionaries are not used")
                        }
                        reader.position += 2
                        state = .blockHeader
                    case .blockHeader:
                        try readBlockHeader(&reader)
                    case .stored(let remaining):
                        let available = min(remaining, input.count - reader.position, end - window.count)
                        guard available > 0 else { return }
                        window += input[reader.position..<(reader.position + available)]
                        reader.position += available
                        if remaining == available {
                            endBlock()
                        } else {
                            state = .stored(remaining: remaining - available)
                        }
                    case .codes(let literals, let distances):
                        try decodeSymbol(&reader, literals, distances)
                    }
                } catch {
                    guard error.reason == truncatedReason else { throw error }
                    (reader.position, reader.bitBuffer, reader.bitCount) = checkpoint
                    return
                }
            }
        }

        private mutating func endBlock() {
            state = isLastBlock ? (format == .zlib ? .trailer : .done) : .blockHeader
        }

        private mutating func readBlockHeader(_ reader: inout BitReader) throws(Failure) {
            let last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let start = reader.position
                guard start + 4 <= input.count else { throw Failure(offset: start, reason: truncatedReason) }
                let length = Int(input[start]) | Int(input[start + 1]) << 8
                let complement = Int(input[start + 2]) | Int(input[start + 3]) << 8
                guard length == ~complement & 0xFFFF else {
                    throw Failure(offset: start, reason: "stored block length mismatch")
                }
                reader.position = start + 4
                isLastBlock = last
                if length == 0 { endBlock() } else { state = .stored(remaining: length) }
            case 1:
                guard let literals = fixedLiterals, let distances = fixedDistances else {
                    throw Failure(offset: reader.position, reason: "no Huffman table")
                }
                isLastBlock = last
                state = .codes(literals, distances)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                isLastBlock = last
                state = .codes(literals, distances)
            default:
                throw Failure(offset: reader.position, reason: "reserved deflate block type")
            }
        }

        private mutating func decodeSymbol(
            _ reader: inout BitReader, _ literals: Huffman, _ distances: Huffman
        ) throws(Failure) {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                window.append(UInt8(symbol))
            } else if symbol == 256 {
                endBlock()
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < 29 else { throw Failure(offset: reader.position, reason: "invalid length code") }
                let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try distances.decode(&reader)
                guard distanceSymbol < 30 else {
                    throw Failure(offset: reader.position, reason: "invalid distance code")
                }
                let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
                guard distance <= window.count else {
                    throw Failure(offset: reader.position, reason: "distance before the start of the data")
                }
                let start = window.count - distance
                for index in 0..<length { window.append(window[start + index]) }
            }
        }
    }
}
