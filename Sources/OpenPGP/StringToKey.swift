import Wire

/// String-to-key specifiers (RFC 9580 section 3.7): how a password becomes a key.
public enum StringToKey: Sendable, Equatable {
    case simple(HashAlgorithm)
    case salted(HashAlgorithm, salt: [UInt8])
    /// `count` is the coded octet: the number of bytes hashed is (16 + low 4 bits) << (high 4 bits + 6).
    case iteratedSalted(HashAlgorithm, salt: [UInt8], count: UInt8)

    /// A new iterated-and-salted specifier hashing about 16 MiB, what GnuPG picks by default.
    static func iteratedSalted() -> StringToKey {
        .iteratedSalted(.sha256, salt: randomBytes(8), count: 0xE0)
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
        case 4: throw WireError(offset: typeOffset, kind: .invalid("Argon2 S2K is not supported yet"))
        default: throw WireError(offset: typeOffset, kind: .invalid("unknown S2K type \(type)"))
        }
    }

    var encoded: [UInt8] {
        switch self {
        case .simple(let hash): return [0, hash.rawValue]
        case .salted(let hash, let salt): return [1, hash.rawValue] + salt
        case .iteratedSalted(let hash, let salt, let count): return [3, hash.rawValue] + salt + [count]
        }
    }

    /// Derives `length` key bytes from the password.
    func deriveKey(password: [UInt8], length: Int) -> [UInt8] {
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
