/// SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018 builds server cookies with.
/// swift-crypto has no SipHash, and it is 40 lines.
struct SipHash24 {
    private var v0: UInt64 = 0x736f_6d65_7073_6575
    private var v1: UInt64 = 0x646f_7261_6e64_6f6d
    private var v2: UInt64 = 0x6c79_6765_6e65_7261
    private var v3: UInt64 = 0x7465_6462_7974_6573

    /// `key` is 16 bytes; shorter keys are padded with zeros, longer ones cut (callers check).
    init(key: [UInt8]) {
        let k0 = Self.littleEndianWord(key, from: 0)
        let k1 = Self.littleEndianWord(key, from: 8)
        v0 ^= k0
        v1 ^= k1
        v2 ^= k0
        v3 ^= k1
    }

    /// The 64-bit hash of `message`, as the 8 bytes the algorithm outputs (little-endian).
    static func hash(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var state = SipHash24(key: key)
        let fullWords = message.count / 8
        for index in 0..<fullWords {
            state.compress(littleEndianWord(message, from: index * 8))
        }
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for (shift, byte) in message[(fullWords * 8)...].enumerated() {
            last |= UInt64(byte) << UInt64(shift * 8)
        }
        state.compress(last)
        state.v2 ^= 0xFF
        for _ in 0..<4 { state.round() }
        let result = state.v0 ^ state.v1 ^ state.v2 ^ state.v3
        return (0..<8).map { UInt8(truncatingIfNeeded: result >> UInt64($0 * 8)) }
    }

    private mutating func compress(_ word: UInt64) {
        v3 ^= word
        round()
        round()
        v0 ^= word
    }

    private mutating func round() {
        v0 &+= v1
        v1 = v1.rotatedLeft(by: 13) ^ v0
        v0 = v0.rotatedLeft(by: 32)
        v2 &+= v3
        v3 = v3.rotatedLeft(by: 16) ^ v2
        v0 &+= v3
        v3 = v3.rotatedLeft(by: 21) ^ v0
        v2 &+= v1
        v1 = v1.rotatedLeft(by: 17) ^ v2
        v2 = v2.rotatedLeft(by: 32)
    }

    private static func littleEndianWord(_ bytes: [UInt8], from start: Int) -> UInt64 {
        var word: UInt64 = 0
        for offset in 0..<8 where start + offset < bytes.count {
            word |= UInt64(bytes[start + offset]) << UInt64(offset * 8)
        }
        return word
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by count: UInt64) -> UInt64 {
        self << count | self >> (64 - count)
    }
}
