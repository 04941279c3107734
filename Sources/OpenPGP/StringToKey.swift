import Wire

/// String-to-key specifiers (RFC 9580 section 3.7): how a password becomes a key.
public enum StringToKey: Sendable, Equatable {
    case simple(HashAlgorithm)
    case salted(HashAlgorithm, salt: [UInt8])
    /// `count` is the coded octet: the number of bytes hashed is (16 + low 4 bits) << (high 4 bits + 6).
    case iteratedSalted(HashAlgorithm, salt: [UInt8], count: UInt8)
    /// Argon2id (RFC 9580 section 3.7.1.4): a 16-byte salt, `passes` (t), `parallelism` (p) and
    /// memory of 2^`memoryExponent` KiB.
    case argon2(salt: [UInt8], passes: UInt8, parallelism: UInt8, memoryExponent: UInt8)

    /// A new iterated-and-salted specifier hashing about 16 MiB, what GnuPG picks by default.
    static func iteratedSalted() -> StringToKey {
        .iteratedSalted(.sha256, salt: randomBytes(8), count: 0xE0)
    }

    /// A new Argon2 specifier with RFC 9580's second recommended parameters: t = 3, p = 4 and
    /// 64 MiB (the first, 2 GiB, is too much for a command-line tool).
    static func argon2() -> StringToKey {
        .argon2(salt: randomBytes(16), passes: 3, parallelism: 4, memoryExponent: 16)
    }

    static func read(_ reader: inout WireReader) throws(WireError) -> StringToKey {
        let typeOffset = reader.offset
        let type = try reader.readUInt8()
        func hash() throws(WireError) -> HashAlgorithm {
            let value = try reader.readUInt8()
            guard let algorithm = HashAlgorithm(rawValue: value) else {
                throw WireError(offset: reader.offset - 1, kind: .invalid("unsupported S2K hash algorithm \(value)"))
            }
            return algorithm
        }
        switch type {
        case 0: return .simple(try hash())
        case 1: return .salted(try hash(), salt: Array(try reader.readBytes(8)))
        case 3:
            let algorithm = try hash()
            return .iteratedSalted(algorithm, salt: Array(try reader.readBytes(8)), count: try reader.readUInt8())
        case 4:
            let salt = Array(try reader.readBytes(16))
            let passes = try reader.readUInt8()
            let parallelism = try reader.readUInt8()
            let exponentOffset = reader.offset
            let exponent = try reader.readUInt8()
            guard passes > 0, parallelism > 0 else {
                throw WireError(offset: exponentOffset - 2, kind: .invalid("Argon2 with zero passes or lanes"))
            }
            // RFC 9580: 3 + ceil(log2(p)) <= encoded m <= 31, so that m >= 8p.
            let minimum = 3 + (Int(parallelism) - 1).bitWidth - (Int(parallelism) - 1).leadingZeroBitCount
            guard Int(exponent) >= minimum, exponent <= 31 else {
                throw WireError(offset: exponentOffset, kind: .invalid("Argon2 memory exponent \(exponent)"))
            }
            return .argon2(salt: salt, passes: passes, parallelism: parallelism, memoryExponent: exponent)
        default: throw WireError(offset: typeOffset, kind: .invalid("unknown S2K type \(type)"))
        }
    }

    var encoded: [UInt8] {
        switch self {
        case .simple(let hash): return [0, hash.rawValue]
        case .salted(let hash, let salt): return [1, hash.rawValue] + salt
        case .iteratedSalted(let hash, let salt, let count): return [3, hash.rawValue] + salt + [count]
        case .argon2(let salt, let passes, let parallelism, let exponent):
            return [4] + salt + [passes, parallelism, exponent]
        }
    }

    /// Whether deriving a key takes little work: what a fuzzer may try.
    public var isCheap: Bool {
        switch self {
        case .simple, .salted: return true
        case .iteratedSalted(_, _, let count): return count < 0x40
        case .argon2(_, let passes, _, let exponent): return passes <= 2 && exponent <= 8
        }
    }

    /// Derives `length` key bytes from the password; Argon2 above 2 GiB is refused.
    func deriveKey(password: [UInt8], length: Int) throws(OpenPGPError) -> [UInt8] {
        let hash: HashAlgorithm
        var input: [UInt8]
        var total: Int
        switch self {
        case .simple(let algorithm):
            (hash, input, total) = (algorithm, password, password.count)
        case .salted(let algorithm, let salt):
            (hash, input, total) = (algorithm, salt + password, salt.count + password.count)
        case .iteratedSalted(let algorithm, let salt, let count):
            input = salt + password
            hash = algorithm
            total = max(input.count, (16 + Int(count & 15)) << (Int(count >> 4) + 6))
        case .argon2(let salt, let passes, let parallelism, let exponent):
            guard exponent <= Argon2.maximumMemoryExponent else {
                throw .unsupported(
                    "Argon2 with 2^\(exponent) KiB of memory (at most 2^\(Argon2.maximumMemoryExponent))")
            }
            return Argon2.hash(
                password: password, salt: salt, passes: Int(passes), lanes: Int(parallelism),
                memory: 1 << Int(exponent),
                length: length)
        }
        var key: [UInt8] = []
        var contexts = 0
        // Each further hash context is preloaded with one more zero byte.
        while key.count < length {
            var digest = Digest(hash)
            digest.update([UInt8](repeating: 0, count: contexts))
            var remaining = total
            if !input.isEmpty {
                let block = Array(repeatElement(input, count: max(1, 65_536 / input.count)).joined())
                while remaining >= block.count {
                    digest.update(block)
                    remaining -= block.count
                }
                digest.update(block[..<remaining])
            }
            key += digest.finalize()
            contexts += 1
        }
        return Array(key.prefix(length))
    }
}
