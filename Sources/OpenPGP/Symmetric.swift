import Crypto
import _CryptoExtras

/// Symmetric algorithm identifiers (RFC 9580 section 9.3); only AES is supported.
public enum SymmetricAlgorithm: UInt8, Sendable {
    case aes128 = 7
    case aes192 = 8
    case aes256 = 9

    public var keySize: Int {
        switch self {
        case .aes128: return 16
        case .aes192: return 24
        case .aes256: return 32
        }
    }
}

/// AEAD mode identifiers (RFC 9580 section 9.6).
public enum AEADMode: UInt8, Sendable {
    case eax = 1
    case ocb = 2
    case gcm = 3

    var nonceSize: Int {
        switch self {
        case .eax: return 16
        case .ocb: return 15
        case .gcm: return 12
        }
    }
}

/// Authentication failed or the key was wrong; deliberately without detail.
struct AuthenticationFailure: Error {}

/// CFB over a stream that arrives in pieces of any size, as SEIPD v1 uses it: one call to
/// swift-crypto's `AES._CFB` per piece for its whole blocks (the key schedule is made once per
/// call, so large pieces are cheap), continued from the last ciphertext block; up to 15 bytes
/// wait for the next piece.
struct CFBStream {
    private let key: SymmetricKey
    private let decrypting: Bool
    private var iv = [UInt8](repeating: 0, count: 16)
    private var carry: [UInt8] = []

    init(key: [UInt8], decrypting: Bool) {
        self.key = SymmetricKey(data: key)
        self.decrypting = decrypting
        carry.reserveCapacity(16)
    }

    /// Appends the output for `input` to `output`: whole blocks only, unless `final`.
    mutating func update(_ input: ArraySlice<UInt8>, final: Bool = false, into output: inout [UInt8])
        throws(OpenPGPError)
    {
        var rest = input
        if !carry.isEmpty {
            let take = min(16 - carry.count, rest.count)
            carry += rest.prefix(take)
            rest = rest.dropFirst(take)
            guard carry.count == 16 || final else { return }
            try run(carry[...], into: &output)
            carry.removeAll(keepingCapacity: true)
        }
        let whole = final ? rest.count : rest.count / 16 * 16
        try run(rest.prefix(whole), into: &output)
        carry += rest.dropFirst(whole)
    }

    private mutating func run(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) throws(OpenPGPError) {
        guard !input.isEmpty else { return }
        let start = output.count
        do {
            let cfbIV = try AES._CFB.IV(ivBytes: iv)
            if decrypting {
                output += try AES._CFB.decrypt(input, using: key, iv: cfbIV)
            } else {
                output += try AES._CFB.encrypt(input, using: key, iv: cfbIV)
            }
        } catch {
            throw .rejected("AES-CFB failed: \(error)")
        }
        // The next IV is the last ciphertext block (only a final piece can be shorter).
        guard input.count >= 16 else { return }
        if decrypting {
            iv.withUnsafeMutableBytes { $0.copyBytes(from: input.suffix(16)) }
        } else {
            iv.withUnsafeMutableBytes { $0.copyBytes(from: output[(start + input.count - 16)...]) }
        }
    }
}

/// OpenPGP's CFB mode with a zero IV, as SEIPD v1 uses it (no resynchronisation).
enum OpenPGPCFB {
    static func encrypt(_ plaintext: [UInt8], key: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return Array(
                try AES._CFB.encrypt(plaintext, using: SymmetricKey(data: key), iv: AES._CFB.IV(ivBytes: zeroIV)))
        } catch {
            throw .rejected("AES-CFB failed: \(error)")
        }
    }

    /// CFB from a given IV: the last ciphertext block, when continuing a stream.
    static func encrypt(_ plaintext: ArraySlice<UInt8>, key: [UInt8], iv: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        guard !plaintext.isEmpty else { return [] }
        do {
            return Array(try AES._CFB.encrypt(plaintext, using: SymmetricKey(data: key), iv: AES._CFB.IV(ivBytes: iv)))
        } catch {
            throw .rejected("AES-CFB failed: \(error)")
        }
    }

    static func decrypt(_ ciphertext: ArraySlice<UInt8>, key: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return Array(
                try AES._CFB.decrypt(
                    Array(ciphertext), using: SymmetricKey(data: key), iv: AES._CFB.IV(ivBytes: zeroIV)))
        } catch {
            throw .rejected("AES-CFB failed: \(error)")
        }
    }

    /// CFB decryption from a given IV, as protected secret keys use it.
    static func decrypt(_ ciphertext: ArraySlice<UInt8>, key: [UInt8], iv: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        guard !ciphertext.isEmpty else { return [] }
        do {
            return Array(
                try AES._CFB.decrypt(Array(ciphertext), using: SymmetricKey(data: key), iv: AES._CFB.IV(ivBytes: iv)))
        } catch {
            throw .rejected("AES-CFB failed: \(error)")
        }
    }

    private static let zeroIV = [UInt8](repeating: 0, count: 16)
}

/// OCB (RFC 7253) with 128-bit tags, built on the AES block function as RFC 9580 requires of
/// every implementation.
struct OCB {
    private let key: SymmetricKey
    private let lStar: [UInt8]
    private let lDollar: [UInt8]
    /// L₀, L₁, … L₃₉ (RFC 7253), 16 bytes each, one after another.
    private let lTable: [UInt8]

    init(key: [UInt8]) throws {
        self.key = SymmetricKey(data: key)
        var zero = [UInt8](repeating: 0, count: 16)
        try AES.permute(&zero, key: self.key)
        lStar = zero
        lDollar = OCB.double(lStar)
        var table = OCB.double(lDollar)
        for _ in 1..<40 { table += OCB.double(Array(table.suffix(16))) }
        lTable = table
    }

    /// Doubling in GF(2^128), as OCB and CMAC define it.
    static func double(_ block: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 {
            let next = index < 15 ? block[index + 1] >> 7 : 0
            result[index] = block[index] << 1 | next
        }
        if block[0] & 0x80 != 0 { result[15] ^= 0x87 }
        return result
    }

    private func encipher(_ block: [UInt8]) throws -> [UInt8] {
        var block = block
        try AES.permute(&block, key: key)
        return block
    }

    private static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = a
        for index in 0..<min(a.count, b.count) { result[index] ^= b[index] }
        return result
    }

    private func initialOffset(nonce: [UInt8]) throws -> [UInt8] {
        // Nonce block: 7 bits of tag length (0 for 128), zeros, a 1 bit, then the nonce.
        var block = [UInt8](repeating: 0, count: 16 - nonce.count) + nonce
        block[15 - nonce.count] |= 0x01
        let bottom = Int(block[15] & 0x3F)
        block[15] &= 0xC0
        let top = try encipher(block)
        let stretch = top + (0..<8).map { top[$0] ^ top[$0 + 1] }
        var offset = [UInt8](repeating: 0, count: 16)
        let byteShift = bottom / 8
        let bitShift = bottom % 8
        for index in 0..<16 {
            let high = stretch[index + byteShift] << bitShift
            let low = bitShift == 0 ? 0 : stretch[index + byteShift + 1] >> (8 - bitShift)
            offset[index] = high | low
        }
        return offset
    }

    private func hash(_ associated: [UInt8]) throws -> [UInt8] {
        var sum = [UInt8](repeating: 0, count: 16)
        var offset = [UInt8](repeating: 0, count: 16)
        let fullBlocks = associated.count / 16
        for block in 0..<fullBlocks {
            let l = (block + 1).trailingZeroBitCount * 16
            offset = OCB.xor(offset, Array(lTable[l..<(l + 16)]))
            sum = OCB.xor(sum, try encipher(OCB.xor(Array(associated[(block * 16)..<(block * 16 + 16)]), offset)))
        }
        let rest = associated[(fullBlocks * 16)...]
        if !rest.isEmpty {
            offset = OCB.xor(offset, lStar)
            let padded = Array(rest) + [0x80] + [UInt8](repeating: 0, count: 15 - rest.count)
            sum = OCB.xor(sum, try encipher(OCB.xor(padded, offset)))
        }
        return sum
    }

    /// Ciphertext followed by the 16-byte tag.
    func seal(_ plaintext: [UInt8], nonce: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        try crypt(plaintext[...], nonce: nonce, associatedData: associatedData, decrypting: false).output
    }

    /// The plaintext of ciphertext-and-tag, or a throw when the tag does not match.
    func open(_ sealed: ArraySlice<UInt8>, nonce: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= 16 else { throw AuthenticationFailure() }
        let body = sealed.dropLast(16)
        let result = try crypt(body, nonce: nonce, associatedData: associatedData, decrypting: true)
        guard constantTimeEqual(result.tag, Array(sealed.suffix(16))) else { throw AuthenticationFailure() }
        return result.output
    }

    /// Blocks per call into swift-crypto: 16 KiB, so the buffers are reused from the heap
    /// rather than mapped and faulted in for every chunk.
    private static let batchBlocks = 1024

    private func crypt(
        _ input: ArraySlice<UInt8>, nonce: [UInt8], associatedData: [UInt8], decrypting: Bool
    ) throws -> (output: [UInt8], tag: [UInt8]) {
        var offset = try initialOffset(nonce: nonce)
        var checksum = [UInt8](repeating: 0, count: 16)
        let fullBlocks = input.count / 16
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 16)
        let batch = min(fullBlocks, Self.batchBlocks)
        // Each batch's masked blocks Xᵢ = Pᵢ ⊕ Offsetᵢ (or Cᵢ ⊕ Offsetᵢ), a zero block after them,
        // and the offsets; blocks are handled as two 64-bit lanes (XOR does not care about order).
        var masked = [UInt8](repeating: 0, count: (batch + 1) * 16)
        var offsets = [UInt8](repeating: 0, count: batch * 16)
        var lanes = Lanes(offset)
        var sum = Lanes(checksum)
        var done = 0
        while done < fullBlocks {
            let count = min(Self.batchBlocks, fullBlocks - done)
            let bytes = count * 16
            let source = input.dropFirst(done * 16).prefix(bytes)
            source.withUnsafeBytes { source in
                masked.withUnsafeMutableBytes { masked in
                    offsets.withUnsafeMutableBytes { offsets in
                        lTable.withUnsafeBytes { lTable in
                            for block in 0..<count {
                                let at = block * 16
                                lanes.formXor(Lanes(lTable, at: (done + block + 1).trailingZeroBitCount * 16))
                                lanes.store(offsets, at: at)
                                Lanes(source, at: at).xor(lanes).store(masked, at: at)
                            }
                            Lanes(0, 0).store(masked, at: bytes)
                        }
                    }
                }
            }
            let start = output.count
            if decrypting {
                // CBC decryption with a zero IV: block i is D(Xᵢ) ⊕ Xᵢ₋₁.
                output += try AES._CBC.decrypt(
                    masked[..<bytes], using: key, iv: AES._CBC.IV(ivBytes: Self.zeroBlock), noPadding: true)
            } else {
                // CFB decryption with X₁ as the IV over X₂…Xₙ, 0: block i is E(Xᵢ) ⊕ Xᵢ₊₁.
                output += try AES._CFB.decrypt(
                    masked[16..<(bytes + 16)], using: key, iv: AES._CFB.IV(ivBytes: masked[..<16]))
            }
            output.withUnsafeMutableBytes { output in
                masked.withUnsafeBytes { masked in
                    offsets.withUnsafeBytes { offsets in
                        source.withUnsafeBytes { source in
                            for block in 0..<count {
                                let at = block * 16
                                let chained =
                                    decrypting
                                    ? (at == 0 ? Lanes(0, 0) : Lanes(masked, at: at - 16)) : Lanes(masked, at: at + 16)
                                let result = Lanes(output, at: start + at).xor(chained).xor(Lanes(offsets, at: at))
                                result.store(output, at: start + at)
                                sum.formXor(decrypting ? result : Lanes(source, at: at))
                            }
                        }
                    }
                }
            }
            done += count
        }
        offset = lanes.bytes
        checksum = sum.bytes
        let rest = Array(input.dropFirst(fullBlocks * 16))
        if !rest.isEmpty {
            offset = OCB.xor(offset, lStar)
            let pad = try encipher(offset)
            let result = OCB.xor(rest, pad)
            let plain = decrypting ? result : rest
            checksum = OCB.xor(checksum, plain + [0x80] + [UInt8](repeating: 0, count: 15 - plain.count))
            output += result
        }
        let tag = OCB.xor(try encipher(OCB.xor(OCB.xor(checksum, offset), lDollar)), try hash(associatedData))
        if !decrypting { output += tag }
        return (output, tag)
    }

    private static let zeroBlock = [UInt8](repeating: 0, count: 16)
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}

/// The AEAD modes of SEIPD v2 and v6 SKESK behind one interface.
enum AEAD {
    static func seal(
        _ mode: AEADMode, key: [UInt8], nonce: [UInt8], associatedData: [UInt8], plaintext: [UInt8]
    ) throws(OpenPGPError) -> [UInt8] {
        do {
            switch mode {
            case .ocb:
                return try OCB(key: key).seal(plaintext, nonce: nonce, associatedData: associatedData)
            case .gcm:
                let box = try AES.GCM.seal(
                    plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce),
                    authenticating: associatedData)
                return Array(box.ciphertext) + Array(box.tag)
            case .eax:
                return try EAX(key: key).seal(plaintext, nonce: nonce, associatedData: associatedData)
            }
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("AEAD encryption failed: \(error)")
        }
    }

    /// Throws `.rejected` without detail when authentication fails.
    static func open(
        _ mode: AEADMode, key: [UInt8], nonce: [UInt8], associatedData: [UInt8], sealed: ArraySlice<UInt8>
    ) throws(OpenPGPError) -> [UInt8] {
        do {
            switch mode {
            case .ocb:
                return try OCB(key: key).open(sealed, nonce: nonce, associatedData: associatedData)
            case .gcm:
                guard sealed.count >= 16 else { throw AuthenticationFailure() }
                let box = try AES.GCM.SealedBox(
                    nonce: AES.GCM.Nonce(data: nonce), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
                return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: associatedData))
            case .eax:
                return try EAX(key: key).open(sealed, nonce: nonce, associatedData: associatedData)
            }
        } catch let error as OpenPGPError {
            throw error
        } catch {
            throw .rejected("authentication failed: the data was modified or the key is wrong")
        }
    }
}

/// HKDF-SHA256 as RFC 9580 uses it for SEIPD v2, v6 SKESK and X25519.
func hkdfSHA256(_ inputKeyMaterial: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
    let key = HKDF<SHA256>.deriveKey(
        inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: salt, info: info, outputByteCount: length)
    return key.withUnsafeBytes { Array($0) }
}

/// AES key wrap (RFC 3394), which ECDH and X25519 use to protect session keys.
enum KeyWrap {
    static func wrap(_ key: [UInt8], with kek: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return Array(try AES.KeyWrap.wrap(SymmetricKey(data: key), using: SymmetricKey(data: kek)))
        } catch {
            throw .rejected("AES key wrap failed: \(error)")
        }
    }

    static func unwrap(_ wrapped: [UInt8], with kek: [UInt8]) throws(OpenPGPError) -> [UInt8] {
        do {
            return try AES.KeyWrap.unwrap(wrapped, using: SymmetricKey(data: kek)).withUnsafeBytes { Array($0) }
        } catch {
            throw .rejected("the session key does not unwrap: wrong key or modified message")
        }
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

/// A 16-byte block as two 64-bit words, for XOR-ing blocks without a byte loop.
private struct Lanes {
    var low: UInt64
    var high: UInt64

    init(_ low: UInt64, _ high: UInt64) {
        self.low = low
        self.high = high
    }

    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Lanes($0, at: 0) }
    }

    init(_ buffer: UnsafeRawBufferPointer, at offset: Int) {
        low = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        high = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
    }

    init(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        self.init(UnsafeRawBufferPointer(buffer), at: offset)
    }

    func xor(_ other: Lanes) -> Lanes { Lanes(low ^ other.low, high ^ other.high) }

    mutating func formXor(_ other: Lanes) { self = xor(other) }

    func store(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer.storeBytes(of: low, toByteOffset: offset, as: UInt64.self)
        buffer.storeBytes(of: high, toByteOffset: offset + 8, as: UInt64.self)
    }

    var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { store($0, at: 0) }
        return bytes
    }
}
