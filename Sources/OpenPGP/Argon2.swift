/// BLAKE2b (RFC 7693), unkeyed, with any digest length from 1 to 64 bytes: what Argon2 hashes with.
struct BLAKE2b {
    private static let iv: [UInt64] = [
        0x6A09_E667_F3BC_C908, 0xBB67_AE85_84CA_A73B, 0x3C6E_F372_FE94_F82B, 0xA54F_F53A_5F1D_36F1,
        0x510E_527F_ADE6_82D1, 0x9B05_688C_2B3E_6C1F, 0x1F83_D9AB_FB41_BD6B, 0x5BE0_CD19_137E_2179,
    ]

    private static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    private var state: [UInt64]
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0
    private let length: Int

    /// `length` is clamped to 1…64.
    init(length: Int) {
        self.length = min(64, max(1, length))
        state = BLAKE2b.iv
        state[0] ^= 0x0101_0000 ^ UInt64(self.length)
    }

    mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            // The last block is compressed in `finalize`, so a full buffer waits for more input.
            if buffer.count == 128 {
                counter &+= 128
                compress(last: false)
                buffer.removeAll(keepingCapacity: true)
            }
            buffer.append(byte)
        }
    }

    mutating func update(_ value: UInt32) {
        update([
            UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24),
        ])
    }

    mutating func finalize() -> [UInt8] {
        counter &+= UInt64(buffer.count)
        buffer += [UInt8](repeating: 0, count: 128 - buffer.count)
        compress(last: true)
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for word in state {
            for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return Array(output.prefix(length))
    }

    static func hash(_ bytes: [UInt8], length: Int) -> [UInt8] {
        var hash = BLAKE2b(length: length)
        hash.update(bytes)
        return hash.finalize()
    }

    private mutating func compress(last: Bool) {
        var m = [UInt64](repeating: 0, count: 16)
        for index in 0..<16 {
            var word: UInt64 = 0
            for byte in 0..<8 { word |= UInt64(buffer[index * 8 + byte]) << (8 * byte) }
            m[index] = word
        }
        var v = state + BLAKE2b.iv
        v[12] ^= counter
        if last { v[14] = ~v[14] }
        func mix(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
            v[a] = v[a] &+ v[b] &+ x
            v[d] = (v[d] ^ v[a]).rotatedRight(32)
            v[c] = v[c] &+ v[d]
            v[b] = (v[b] ^ v[c]).rotatedRight(24)
            v[a] = v[a] &+ v[b] &+ y
            v[d] = (v[d] ^ v[a]).rotatedRight(16)
            v[c] = v[c] &+ v[d]
            v[b] = (v[b] ^ v[c]).rotatedRight(63)
        }
        for round in 0..<12 {
            let s = BLAKE2b.sigma[round % 10]
            mix(0, 4, 8, 12, m[s[0]], m[s[1]])
            mix(1, 5, 9, 13, m[s[2]], m[s[3]])
            mix(2, 6, 10, 14, m[s[4]], m[s[5]])
            mix(3, 7, 11, 15, m[s[6]], m[s[7]])
            mix(0, 5, 10, 15, m[s[8]], m[s[9]])
            mix(1, 6, 11, 12, m[s[10]], m[s[11]])
            mix(2, 7, 8, 13, m[s[12]], m[s[13]])
            mix(3, 4, 9, 14, m[s[14]], m[s[15]])
        }
        for index in 0..<8 { state[index] ^= v[index] ^ v[index + 8] }
    }
}

extension UInt64 {
    @inline(__always) fileprivate func rotatedRight(_ count: UInt64) -> UInt64 {
        (self &>> count) | (self &<< (64 &- count))
    }
}

/// Argon2id (RFC 9106), version 0x13, as OpenPGP's S2K type 4 uses it (no secret and no
/// associated data, which only the RFC 9106 test vector sets). Lanes are filled one after another; the result is the same as filling them in parallel.
public enum Argon2 {
    /// Words in a 1 KiB block.
    private static let blockWords = 128

    /// The largest memory accepted, in KiB: 2^21 (2 GiB), RFC 9580's first recommendation and
    /// what its sample messages use. A message asking for more is refused rather than attempted.
    static let maximumMemoryExponent: UInt8 = 21

    /// RFC 9106's variable-length hash H'.
    static func variableHash(_ input: [UInt8], length: Int) -> [UInt8] {
        var first = BLAKE2b(length: min(length, 64))
        first.update(UInt32(truncatingIfNeeded: length))
        first.update(input)
        if length <= 64 { return first.finalize() }
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var previous = first.finalize()
        output += previous.prefix(32)
        while length - output.count > 64 {
            previous = BLAKE2b.hash(previous, length: 64)
            output += previous.prefix(32)
        }
        output += BLAKE2b.hash(previous, length: length - output.count)
        return output
    }

    /// The tag of `password` and `salt` after `passes` passes over `memory` KiB in `lanes` lanes.
    /// The caller checks the parameters: passes ≥ 1, 1 ≤ lanes < 2^24, memory ≥ 8 × lanes.
    public static func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [], passes: Int, lanes: Int,
        memory: Int, length: Int
    ) -> [UInt8] {
        var h0 = BLAKE2b(length: 64)
        for value in [lanes, length, memory, passes, 0x13, 2] { h0.update(UInt32(truncatingIfNeeded: value)) }
        h0.update(UInt32(truncatingIfNeeded: password.count))
        h0.update(password)
        h0.update(UInt32(truncatingIfNeeded: salt.count))
        h0.update(salt)
        h0.update(UInt32(truncatingIfNeeded: secret.count))
        h0.update(secret)
        h0.update(UInt32(truncatingIfNeeded: associatedData.count))
        h0.update(associatedData)
        let seed = h0.finalize()

        let segmentLength = max(memory, 8 * lanes) / (4 * lanes)
        let laneLength = segmentLength * 4
        let blockCount = laneLength * lanes
        var memoryWords = [UInt64](repeating: 0, count: blockCount * blockWords)
        var scratch = [UInt64](repeating: 0, count: 4 * blockWords)

        memoryWords.withUnsafeMutableBufferPointer { words in
            scratch.withUnsafeMutableBufferPointer { scratch in
                guard let base = words.baseAddress, let scratchBase = scratch.baseAddress else { return }
                for lane in 0..<lanes {
                    for column in 0..<2 {
                        var input = seed
                        for value in [column, lane] {
                            for shift in stride(from: 0, to: 32, by: 8) {
                                input.append(UInt8(truncatingIfNeeded: value >> shift))
                            }
                        }
                        let block = variableHash(input, length: 1024)
                        let target = base + (lane * laneLength + column) * blockWords
                        for word in 0..<blockWords {
                            var value: UInt64 = 0
                            for byte in 0..<8 { value |= UInt64(block[word * 8 + byte]) << (8 * byte) }
                            target[word] = value
                        }
                    }
                }
                let context = Context(
                    memory: base, scratch: scratchBase, lanes: lanes, laneLength: laneLength,
                    segmentLength: segmentLength, blockCount: blockCount, passes: passes)
                for pass in 0..<passes {
                    for slice in 0..<4 {
                        for lane in 0..<lanes { context.fillSegment(pass: pass, lane: lane, slice: slice) }
                    }
                }
            }
        }

        var final = [UInt64](repeating: 0, count: blockWords)
        for lane in 0..<lanes {
            let start = (lane * laneLength + laneLength - 1) * blockWords
            for word in 0..<blockWords { final[word] ^= memoryWords[start + word] }
        }
        var finalBytes: [UInt8] = []
        finalBytes.reserveCapacity(1024)
        for word in final {
            for shift in stride(from: 0, to: 64, by: 8) { finalBytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return variableHash(finalBytes, length: length)
    }

    /// The memory being filled and the sizes that index it; every index stays below `blockCount`.
    private struct Context {
        let memory: UnsafeMutablePointer<UInt64>
        /// Four blocks: the address generator's input, address and zero blocks, and a work block.
        let scratch: UnsafeMutablePointer<UInt64>
        let lanes: Int
        let laneLength: Int
        let segmentLength: Int
        let blockCount: Int
        let passes: Int

        func fillSegment(pass: Int, lane: Int, slice: Int) {
            let independent = pass == 0 && slice < 2
            let input = scratch
            let address = scratch + blockWords
            let zero = scratch + 2 * blockWords
            let work = scratch + 3 * blockWords
            if independent {
                for word in 0..<(3 * blockWords) { scratch[word] = 0 }
                input[0] = UInt64(pass)
                input[1] = UInt64(lane)
                input[2] = UInt64(slice)
                input[3] = UInt64(blockCount)
                input[4] = UInt64(passes)
                input[5] = 2  // Argon2id
            }
            var start = 0
            if pass == 0 && slice == 0 {
                start = 2
                if independent { nextAddresses(input: input, address: address, zero: zero, work: work) }
            }
            var current = lane * laneLength + slice * segmentLength + start
            var previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1
            for index in start..<segmentLength {
                if current % laneLength == 1 { previous = current - 1 }
                let pseudoRandom: UInt64
                if independent {
                    if index % blockWords == 0 { nextAddresses(input: input, address: address, zero: zero, work: work) }
                    pseudoRandom = address[index % blockWords]
                } else {
                    pseudoRandom = memory[previous * blockWords]
                }
                var referenceLane = Int((pseudoRandom >> 32) % UInt64(lanes))
                if pass == 0 && slice == 0 { referenceLane = lane }
                let referenceIndex = self.referenceIndex(
                    pass: pass, slice: slice, index: index, pseudoRandom: pseudoRandom & 0xFFFF_FFFF,
                    sameLane: referenceLane == lane)
                compress(
                    memory + previous * blockWords, memory + (referenceLane * laneLength + referenceIndex) * blockWords,
                    into: memory + current * blockWords, xor: pass > 0, work: work)
                current += 1
                previous += 1
            }
        }

        private func referenceIndex(pass: Int, slice: Int, index: Int, pseudoRandom: UInt64, sameLane: Bool) -> Int {
            let areaSize: Int
            if pass == 0 {
                if slice == 0 {
                    areaSize = index - 1
                } else if sameLane {
                    areaSize = slice * segmentLength + index - 1
                } else {
                    areaSize = slice * segmentLength + (index == 0 ? -1 : 0)
                }
            } else if sameLane {
                areaSize = laneLength - segmentLength + index - 1
            } else {
                areaSize = laneLength - segmentLength + (index == 0 ? -1 : 0)
            }
            var relative = (pseudoRandom &* pseudoRandom) >> 32
            relative = UInt64(areaSize) &- 1 &- ((UInt64(areaSize) &* relative) >> 32)
            let startPosition = pass == 0 || slice == 3 ? 0 : (slice + 1) * segmentLength
            return Int((UInt64(startPosition) &+ relative) % UInt64(laneLength))
        }

        private func nextAddresses(
            input: UnsafeMutablePointer<UInt64>, address: UnsafeMutablePointer<UInt64>,
            zero: UnsafeMutablePointer<UInt64>, work: UnsafeMutablePointer<UInt64>
        ) {
            input[6] &+= 1
            compress(zero, input, into: address, xor: false, work: work)
            compress(zero, address, into: address, xor: false, work: work)
        }

        /// G: `target` (XOR its old value when `xor`) gets P applied to X ⊕ Y, XOR X ⊕ Y.
        private func compress(
            _ x: UnsafeMutablePointer<UInt64>, _ y: UnsafeMutablePointer<UInt64>,
            into target: UnsafeMutablePointer<UInt64>,
            xor: Bool, work: UnsafeMutablePointer<UInt64>
        ) {
            // work = R = X ⊕ Y; target gets R (⊕ old target) now and P(R) later.
            if xor {
                for word in 0..<blockWords {
                    let r = x[word] ^ y[word]
                    work[word] = r
                    target[word] ^= r
                }
            } else {
                for word in 0..<blockWords {
                    let r = x[word] ^ y[word]
                    work[word] = r
                    target[word] = r
                }
            }
            for row in 0..<8 {
                let b = row * 16
                permute(
                    work, b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12,
                    b + 13, b + 14, b + 15)
            }
            for column in 0..<8 {
                let b = column * 2
                permute(
                    work, b, b + 1, b + 16, b + 17, b + 32, b + 33, b + 48, b + 49, b + 64, b + 65, b + 80, b + 81,
                    b + 96, b + 97, b + 112, b + 113)
            }
            for word in 0..<blockWords { target[word] ^= work[word] }
        }

        @inline(__always)
        private func permute(
            _ v: UnsafeMutablePointer<UInt64>, _ i0: Int, _ i1: Int, _ i2: Int, _ i3: Int, _ i4: Int, _ i5: Int,
            _ i6: Int, _ i7: Int, _ i8: Int, _ i9: Int, _ i10: Int, _ i11: Int, _ i12: Int, _ i13: Int, _ i14: Int,
            _ i15: Int
        ) {
            mix(v, i0, i4, i8, i12)
            mix(v, i1, i5, i9, i13)
            mix(v, i2, i6, i10, i14)
            mix(v, i3, i7, i11, i15)
            mix(v, i0, i5, i10, i15)
            mix(v, i1, i6, i11, i12)
            mix(v, i2, i7, i8, i13)
            mix(v, i3, i4, i9, i14)
        }

        @inline(__always)
        private func mix(_ v: UnsafeMutablePointer<UInt64>, _ ia: Int, _ ib: Int, _ ic: Int, _ id: Int) {
            var a = v[ia]
            var b = v[ib]
            var c = v[ic]
            var d = v[id]
            a = a &+ b &+ 2 &* (a & 0xFFFF_FFFF) &* (b & 0xFFFF_FFFF)
            d = (d ^ a).rotatedRight(32)
            c = c &+ d &+ 2 &* (c & 0xFFFF_FFFF) &* (d & 0xFFFF_FFFF)
            b = (b ^ c).rotatedRight(24)
            a = a &+ b &+ 2 &* (a & 0xFFFF_FFFF) &* (b & 0xFFFF_FFFF)
            d = (d ^ a).rotatedRight(16)
            c = c &+ d &+ 2 &* (c & 0xFFFF_FFFF) &* (d & 0xFFFF_FFFF)
            b = (b ^ c).rotatedRight(63)
            v[ia] = a
            v[ib] = b
            v[ic] = c
            v[id] = d
        }
    }
}
