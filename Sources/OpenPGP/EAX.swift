import Crypto
import _CryptoExtras

/// EAX (Bellare, Rogaway and Wagner) with 128-bit tags, the AEAD mode 1 of RFC 9580
/// (section 5.13.1), on the AES block function like `OCB`: OMAC (CMAC) over the nonce, the
/// associated data and the ciphertext, each with its own tweak block, and CTR mode from the
/// nonce's OMAC. OMAC is CBC encryption with a zero IV whose last block is the tag; CTR enciphers
/// all counter blocks of a chunk in one call.
struct EAX {
    private let key: SymmetricKey
    private let k1: [UInt8]
    private let k2: [UInt8]

    init(key: [UInt8]) throws {
        self.key = SymmetricKey(data: key)
        var zero = [UInt8](repeating: 0, count: 16)
        try AES.permute(&zero, key: self.key)
        k1 = OCB.double(zero)
        k2 = OCB.double(k1)
    }

    /// OMAC with tweak `t`: CMAC of the block [0, …, 0, t] followed by `message`.
    private func omac(_ tweak: UInt8, _ message: ArraySlice<UInt8>) throws -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 15) + [tweak]
        data.reserveCapacity(16 + message.count + 16)
        data += message
        let mask: [UInt8]
        // The tweak block makes the input at least one block, so an empty message ends complete.
        if message.count % 16 == 0 {
            mask = k1
        } else {
            data.append(0x80)
            data += [UInt8](repeating: 0, count: (16 - data.count % 16) % 16)
            mask = k2
        }
        let last = data.count - 16
        for index in 0..<16 { data[last + index] ^= mask[index] }
        let zero = [UInt8](repeating: 0, count: 16)
        let chained = try AES._CBC.encrypt(data, using: key, iv: AES._CBC.IV(ivBytes: zero), noPadding: true)
        return Array(chained.suffix(16))
    }

    /// CTR mode from `counter`, the 128-bit big-endian counter incremented per block.
    private func ctr(_ input: ArraySlice<UInt8>, counter initial: [UInt8]) throws -> [UInt8] {
        guard !input.isEmpty else { return [] }
        let blocks = (input.count + 15) / 16
        var counters = [UInt8](repeating: 0, count: blocks * 16)
        var counter = initial
        for block in 0..<blocks {
            for index in 0..<16 { counters[block * 16 + index] = counter[index] }
            var position = 15
            while position >= 0 {
                counter[position] &+= 1
                if counter[position] != 0 { break }
                position -= 1
            }
        }
        var output = try AESBlocks.encipher(counters, key: key)
        output.removeLast(output.count - input.count)
        var index = 0
        for byte in input {
            output[index] ^= byte
            index += 1
        }
        return output
    }

    /// Ciphertext followed by the 16-byte tag.
    func seal(_ plaintext: [UInt8], nonce: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        let n = try omac(0, nonce[...])
        let h = try omac(1, associatedData[...])
        let ciphertext = try ctr(plaintext[...], counter: n)
        let c = try omac(2, ciphertext[...])
        return ciphertext + (0..<16).map { n[$0] ^ h[$0] ^ c[$0] }
    }

    /// The plaintext of ciphertext-and-tag, decrypted only after the tag matched.
    func open(_ sealed: ArraySlice<UInt8>, nonce: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= 16 else { throw AuthenticationFailure() }
        let ciphertext = sealed.dropLast(16)
        let n = try omac(0, nonce[...])
        let h = try omac(1, associatedData[...])
        let c = try omac(2, ciphertext)
        let tag = (0..<16).map { n[$0] ^ h[$0] ^ c[$0] }
        guard constantTimeEqual(tag, Array(sealed.suffix(16))) else { throw AuthenticationFailure() }
        return try ctr(ciphertext, counter: n)
    }
}

/// The AES block function over many blocks in one call.
enum AESBlocks {
    /// CFB decryption computes the block function of each preceding ciphertext block, so with X₁ as
    /// the IV and X₂…Xₙ, 0 as the ciphertext, output block i XOR X₍ᵢ₊₁₎ is E(Xᵢ).
    static func encipher(_ blocks: [UInt8], key: SymmetricKey) throws -> [UInt8] {
        let iv = Array(blocks.prefix(16))
        let following = Array(blocks.dropFirst(16)) + [UInt8](repeating: 0, count: 16)
        var result = Array(try AES._CFB.decrypt(following, using: key, iv: AES._CFB.IV(ivBytes: iv)))
        for index in 0..<min(result.count, following.count) { result[index] ^= following[index] }
        return result
    }
}
