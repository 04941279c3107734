// DEFLATE compression (RFC 1951), raw or in the zlib wrapper (RFC 1950): LZ77 over a 32 KiB
// window with hash chains, then Huffman codes built for each block from its own symbol counts
// (dynamic blocks), or the fixed codes when those come out shorter. It streams: input is taken
// in pieces and compressed output handed back as it is made, so a message of any size is
// compressed in bounded memory (the window, one block of symbols, the hash tables).

/// A streaming DEFLATE compressor.
public struct Deflater: Sendable {
    public enum Format: Sendable {
        /// Bare DEFLATE blocks (OpenPGP's ZIP algorithm).
        case raw
        /// DEFLATE in the zlib wrapper with its Adler-32 (OpenPGP's ZLIB, git objects).
        case zlib
    }

    static let windowSize = 1 << 15
    static let minimumMatch = 3
    static let maximumMatch = 258
    static let hashBits = 15
    /// How many earlier positions a match search looks at: zlib's level 6 looks at 128, this
    /// trades a little ratio for speed.
    static let chainLimit = 64
    /// Symbols per block: a block's codes fit its own data.
    static let blockSymbols = 1 << 14

    private let format: Format
    /// The last 32 KiB already compressed (the window), then the input not compressed yet.
    private var buffer: [UInt8] = []
    /// Absolute stream offset of `buffer[0]`.
    private var base = 0
    /// Index in `buffer` of the next byte to compress.
    private var position = 0
    /// For each hash of three bytes, the latest absolute offset + 1 where they started (0: none).
    private var head: [Int32]
    /// For each absolute offset modulo the window, the previous offset + 1 with the same hash.
    private var previous: [Int32]
    /// Literal bytes (0...255) and matches (length 3...258 as 256 + length, with a distance).
    private var symbols: [UInt16] = []
    private var distances: [UInt16] = []
    private var bits = BitWriter()
    private var checksum: UInt32 = 1
    private var startedStream = false

    public init(format: Format) {
        self.format = format
        head = Array(repeating: 0, count: 1 << Self.hashBits)
        previous = Array(repeating: 0, count: Self.windowSize)
    }

    /// Compresses `input` as one whole stream.
    public static func compress(_ input: [UInt8], format: Format) -> [UInt8] {
        var deflater = Deflater(format: format)
        return deflater.update(input[...]) + deflater.finish()
    }

    /// Takes more input; returns the compressed bytes completed so far.
    public mutating func update(_ input: ArraySlice<UInt8>) -> [UInt8] {
        if format == .zlib { checksum = Zlib.adler32(checksum, input) }
        buffer.append(contentsOf: input)
        // Keep the longest possible match's worth of lookahead for the next call.
        compress(until: buffer.count - Self.maximumMatch)
        slideWindow()
        return takeOutput()
    }

    /// Compresses what is left and ends the stream.
    public mutating func finish() -> [UInt8] {
        compress(until: buffer.count)
        emitBlock(final: true)
        bits.alignToByte()
        if format == .zlib {
            for shift in stride(from: 24, through: 0, by: -8) {
                bits.bytes.append(UInt8(truncatingIfNeeded: checksum >> UInt32(shift)))
            }
        }
        return takeOutput()
    }

    private mutating func takeOutput() -> [UInt8] {
        var output: [UInt8] = []
        if !startedStream {
            startedStream = true
            // CMF: DEFLATE with a 32 KiB window; FLG: default level, no dictionary, check bits.
            if format == .zlib { output = [0x78, 0x9C] }
        }
        output += bits.bytes
        bits.bytes.removeAll(keepingCapacity: true)
        return output
    }

    // MARK: LZ77

    private mutating func compress(until end: Int) {
        while position < end {
            let (length, distance) = longestMatch()
            if length >= Self.minimumMatch {
                symbols.append(UInt16(256 + length))
                distances.append(UInt16(distance))
                for offset in 0..<length { insertHash(at: position + offset) }
                position += length
            } else {
                symbols.append(UInt16(buffer[position]))
                distances.append(0)
                insertHash(at: position)
                position += 1
            }
            if symbols.count >= Self.blockSymbols { emitBlock(final: false) }
        }
    }

    private func hash(at index: Int) -> Int? {
        guard index + 2 < buffer.count else { return nil }
        let value = Int(buffer[index]) << 10 ^ Int(buffer[index + 1]) << 5 ^ Int(buffer[index + 2])
        return value & ((1 << Self.hashBits) - 1)
    }

    private mutating func insertHash(at index: Int) {
        guard let key = hash(at: index) else { return }
        let absolute = base + index
        previous[absolute & (Self.windowSize - 1)] = head[key]
        head[key] = Int32(truncatingIfNeeded: absolute + 1)
    }

    private func longestMatch() -> (length: Int, distance: Int) {
        guard let key = hash(at: position) else { return (0, 0) }
        let absolute = base + position
        let limit = min(Self.maximumMatch, buffer.count - position)
        var best = (length: 0, distance: 0)
        var candidate = Int(head[key]) - 1
        var steps = 0
        while candidate >= 0, absolute - candidate <= Self.windowSize, candidate < absolute, steps < Self.chainLimit {
            let start = candidate - base
            guard start >= 0 else { break }
            if buffer[start + best.length] == buffer[position + best.length] || best.length == 0 {
                var length = 0
                while length < limit, buffer[start + length] == buffer[position + length] { length += 1 }
                if length > best.length {
                    best = (length, absolute - candidate)
                    if length == limit { break }
                }
            }
            let next = Int(previous[candidate & (Self.windowSize - 1)]) - 1
            guard next < candidate else { break }
            candidate = next
            steps += 1
        }
        return best
    }

    /// Drops what lies more than a window behind the next byte to compress.
    private mutating func slideWindow() {
        let excess = position - Self.windowSize
        guard excess >= Self.windowSize else { return }
        buffer.removeFirst(excess)
        base += excess
        position -= excess
    }

    // MARK: Blocks

    private mutating func emitBlock(final: Bool) {
        var literalCounts = Array(repeating: 0, count: 286)
        var distanceCounts = Array(repeating: 0, count: 30)
        for (symbol, distance) in zip(symbols, distances) {
            if symbol < 256 {
                literalCounts[Int(symbol)] += 1
            } else {
                literalCounts[DeflateTables.lengthCode(Int(symbol) - 256)] += 1
                distanceCounts[DeflateTables.distanceCode(Int(distance))] += 1
            }
        }
        literalCounts[256] = 1
        let literalLengths = Huffman.lengths(literalCounts, limit: 15)
        var distanceLengths = Huffman.lengths(distanceCounts, limit: 15)
        // A block without matches still describes one distance code.
        if distanceLengths.allSatisfy({ $0 == 0 }) { distanceLengths[0] = 1 }
        let header = DynamicHeader(literalLengths: literalLengths, distanceLengths: distanceLengths)
        let dynamicCost = header.bitCount + cost(literalLengths, distanceLengths, literalCounts, distanceCounts)
        let fixedCost = cost(
            DeflateTables.fixedLiteralLengths, DeflateTables.fixedDistanceLengths, literalCounts, distanceCounts)
        bits.write(final ? 1 : 0, count: 1)
        if fixedCost <= dynamicCost {
            bits.write(1, count: 2)
            writeSymbols(
                literals: DeflateTables.fixedLiteralCodes, literalLengths: DeflateTables.fixedLiteralLengths,
                distances: DeflateTables.fixedDistanceCodes, distanceLengths: DeflateTables.fixedDistanceLengths)
        } else {
            bits.write(2, count: 2)
            header.write(into: &bits)
            writeSymbols(
                literals: Huffman.codes(literalLengths), literalLengths: literalLengths,
                distances: Huffman.codes(distanceLengths), distanceLengths: distanceLengths)
        }
        symbols.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
    }

    private func cost(
        _ literalLengths: [Int], _ distanceLengths: [Int], _ literalCounts: [Int], _ distanceCounts: [Int]
    )
        -> Int
    {
        var total = 0
        for code in 0..<literalCounts.count {
            total +=
                literalCounts[code]
                * (literalLengths[code] + (code > 256 ? DeflateTables.lengthExtraBits[code - 257] : 0))
        }
        for code in 0..<distanceCounts.count {
            total += distanceCounts[code] * (distanceLengths[code] + DeflateTables.distanceExtraBits[code])
        }
        return total
    }

    private mutating func writeSymbols(
        literals: [UInt32], literalLengths: [Int], distances codes: [UInt32], distanceLengths: [Int]
    ) {
        for (symbol, distance) in zip(symbols, distances) {
            if symbol < 256 {
                bits.write(literals[Int(symbol)], count: literalLengths[Int(symbol)])
                continue
            }
            let length = Int(symbol) - 256
            let lengthCode = DeflateTables.lengthCode(length)
            bits.write(literals[lengthCode], count: literalLengths[lengthCode])
            let lengthExtra = DeflateTables.lengthExtraBits[lengthCode - 257]
            if lengthExtra > 0 {
                bits.write(UInt32(length - DeflateTables.lengthBase[lengthCode - 257]), count: lengthExtra)
            }
            let distanceCode = DeflateTables.distanceCode(Int(distance))
            bits.write(codes[distanceCode], count: distanceLengths[distanceCode])
            let distanceExtra = DeflateTables.distanceExtraBits[distanceCode]
            if distanceExtra > 0 {
                bits.write(UInt32(Int(distance) - DeflateTables.distanceBase[distanceCode]), count: distanceExtra)
            }
        }
        bits.write(literals[256], count: literalLengths[256])
    }
}

/// Bits packed least significant first, as DEFLATE reads them.
struct BitWriter: Sendable {
    var bytes: [UInt8] = []
    private var pending: UInt64 = 0
    private var pendingCount = 0

    mutating func write(_ value: UInt32, count: Int) {
        pending |= UInt64(value) << UInt64(pendingCount)
        pendingCount += count
        while pendingCount >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: pending))
            pending >>= 8
            pendingCount -= 8
        }
    }

    mutating func alignToByte() {
        if pendingCount > 0 { bytes.append(UInt8(truncatingIfNeeded: pending)) }
        pending = 0
        pendingCount = 0
    }
}

/// The code lengths of a dynamic block and their own code (RFC 1951 §3.2.7).
struct DynamicHeader {
    static let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    let literalCount: Int
    let distanceCount: Int
    /// The run-length encoded lengths: a symbol 0...18 and its extra bits' value.
    let runs: [(symbol: Int, extra: Int)]
    let codeLengths: [Int]
    let codeLengthCount: Int

    init(literalLengths: [Int], distanceLengths: [Int]) {
        literalCount = max(257, (literalLengths.lastIndex { $0 != 0 } ?? 0) + 1)
        distanceCount = max(1, (distanceLengths.lastIndex { $0 != 0 } ?? 0) + 1)
        let all = Array(literalLengths.prefix(literalCount)) + Array(distanceLengths.prefix(distanceCount))
        var runs: [(Int, Int)] = []
        var index = 0
        while index < all.count {
            let length = all[index]
            var run = 1
            while index + run < all.count, all[index + run] == length { run += 1 }
            var left = run
            if length == 0 {
                while left >= 11 {
                    let take = min(left, 138)
                    runs.append((18, take - 11))
                    left -= take
                }
                if left >= 3 {
                    runs.append((17, left - 3))
                    left = 0
                }
            } else {
                runs.append((length, 0))
                left -= 1
                while left >= 3 {
                    let take = min(left, 6)
                    runs.append((16, take - 3))
                    left -= take
                }
            }
            for _ in 0..<left { runs.append((length, 0)) }
            index += run
        }
        self.runs = runs
        var counts = Array(repeating: 0, count: 19)
        for run in runs { counts[run.0] += 1 }
        // A code of one symbol is incomplete, which inflaters refuse for this code: give it two.
        if counts.filter({ $0 > 0 }).count < 2 { counts[counts[0] > 0 ? 1 : 0] += 1 }
        let lengths = Huffman.lengths(counts, limit: 7)
        codeLengths = lengths
        codeLengthCount = max(4, (Self.order.lastIndex { lengths[$0] != 0 } ?? 0) + 1)
    }

    var bitCount: Int {
        var total = 5 + 5 + 4 + 3 * codeLengthCount
        for run in runs {
            total += codeLengths[run.symbol] + [16: 2, 17: 3, 18: 7][run.symbol, default: 0]
        }
        return total
    }

    func write(into bits: inout BitWriter) {
        bits.write(UInt32(literalCount - 257), count: 5)
        bits.write(UInt32(distanceCount - 1), count: 5)
        bits.write(UInt32(codeLengthCount - 4), count: 4)
        for symbol in Self.order.prefix(codeLengthCount) { bits.write(UInt32(codeLengths[symbol]), count: 3) }
        let codes = Huffman.codes(codeLengths)
        for run in runs {
            bits.write(codes[run.symbol], count: codeLengths[run.symbol])
            switch run.symbol {
            case 16: bits.write(UInt32(run.extra), count: 2)
            case 17: bits.write(UInt32(run.extra), count: 3)
            case 18: bits.write(UInt32(run.extra), count: 7)
            default: break
            }
        }
    }
}

enum Huffman {
    /// Code lengths for symbols with these counts, none longer than `limit` (zero for unused
    /// symbols; a lone used symbol gets length 1). Package-merge would be optimal; this builds
    /// the Huffman tree and, if it is too deep, flattens the counts and tries again.
    static func lengths(_ counts: [Int], limit: Int) -> [Int] {
        var weights = counts
        while true {
            let lengths = treeLengths(weights)
            if (lengths.max() ?? 0) <= limit { return lengths }
            weights = weights.map { $0 == 0 ? 0 : $0 / 2 + 1 }
        }
    }

    private static func treeLengths(_ counts: [Int]) -> [Int] {
        var lengths = Array(repeating: 0, count: counts.count)
        let used = counts.indices.filter { counts[$0] > 0 }
        if used.count == 1 {
            lengths[used[0]] = 1
            return lengths
        }
        guard used.count > 1 else { return lengths }
        // Nodes: leaves first, then merged nodes; each has a weight and a parent.
        var weight = used.map { counts[$0] }
        var parent = Array(repeating: -1, count: used.count)
        var queue = Array(0..<used.count).sorted { weight[$0] < weight[$1] }
        var merged: [Int] = []
        var queueIndex = 0
        var mergedIndex = 0
        func takeSmallest() -> Int {
            if queueIndex < queue.count,
                mergedIndex >= merged.count || weight[queue[queueIndex]] <= weight[merged[mergedIndex]]
            {
                queueIndex += 1
                return queue[queueIndex - 1]
            }
            mergedIndex += 1
            return merged[mergedIndex - 1]
        }
        for _ in 0..<(used.count - 1) {
            let a = takeSmallest()
            let b = takeSmallest()
            let node = weight.count
            weight.append(weight[a] + weight[b])
            parent.append(-1)
            parent[a] = node
            parent[b] = node
            merged.append(node)
        }
        queue = []
        var depth = Array(repeating: 0, count: weight.count)
        for node in stride(from: weight.count - 2, through: 0, by: -1) { depth[node] = depth[parent[node]] + 1 }
        for (leaf, symbol) in used.enumerated() { lengths[symbol] = depth[leaf] }
        return lengths
    }

    /// Canonical codes for the lengths (RFC 1951 §3.2.2), bit-reversed for the LSB-first writer.
    static func codes(_ lengths: [Int]) -> [UInt32] {
        let maximum = lengths.max() ?? 0
        var countOfLength = Array(repeating: 0, count: maximum + 1)
        for length in lengths where length > 0 { countOfLength[length] += 1 }
        var next = Array(repeating: 0, count: maximum + 2)
        var code = 0
        if maximum >= 1 {
            for bitsLength in 1...maximum {
                code = (code + countOfLength[bitsLength - 1]) << 1
                next[bitsLength] = code
            }
        }
        return lengths.map { length in
            guard length > 0 else { return 0 }
            let value = next[length]
            next[length] += 1
            var reversed: UInt32 = 0
            for bit in 0..<length where value >> bit & 1 == 1 { reversed |= 1 << UInt32(length - 1 - bit) }
            return reversed
        }
    }
}

enum DeflateTables {
    static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    static let lengthExtraBits = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtraBits = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    /// The length code (257...285) for a match length 3...258.
    static let lengthCodes: [Int] = (0...258).map { length in
        guard length >= 3 else { return 257 }
        return 257 + (lengthBase.lastIndex { $0 <= length } ?? 0)
    }

    static func lengthCode(_ length: Int) -> Int { lengthCodes[min(max(length, 3), 258)] }

    static func distanceCode(_ distance: Int) -> Int {
        distanceBase.lastIndex { $0 <= distance } ?? 0
    }

    static let fixedLiteralLengths: [Int] = (0..<286).map { symbol in
        switch symbol {
        case 0...143: return 8
        case 144...255: return 9
        case 256...279: return 7
        default: return 8
        }
    }
    static let fixedLiteralCodes = Huffman.codes(fixedLiteralLengths + [8, 8]).prefix(286).map { $0 }
    static let fixedDistanceLengths = Array(repeating: 5, count: 30)
    static let fixedDistanceCodes = Huffman.codes(fixedDistanceLengths + [5, 5]).prefix(30).map { $0 }
}
