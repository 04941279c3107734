import Wire

// Reading objects from a packfile (what `git gc` and `git push` leave), through its version 2
// index: https://git-scm.com/docs/pack-format. Both files are untrusted input, so every offset
// and count is checked before use, and delta chains have a depth limit.

public struct GitPack: Sendable {
    public let path: String
    private let index: [UInt8]
    private let pack: [UInt8]
    private let count: Int

    /// Longest delta chain followed (git's default is 50; `--depth` allows up to 4095).
    static let maximumDeltaDepth = 4096

    public init(index: [UInt8], pack: [UInt8], path: String = "pack") throws(StoreError) {
        self.path = path
        self.index = index
        self.pack = pack
        guard index.count >= 8 + 1024, index[..<8].elementsEqual([0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2]) else {
            throw StoreError.corrupt(path: path + ".idx", offset: 0, reason: "not a version 2 pack index")
        }
        count = Self.uint32(index, at: 8 + 255 * 4)
        guard index.count >= 8 + 1024 + count * 28 + 40 else {
            throw StoreError.corrupt(
                path: path + ".idx", offset: 8 + 255 * 4, reason: "index is shorter than its count")
        }
        guard pack.count >= 12 + 20, pack[..<4].elementsEqual("PACK".utf8), [2, 3].contains(Self.uint32(pack, at: 4)),
            Self.uint32(pack, at: 8) == count
        else {
            throw StoreError.corrupt(path: path + ".pack", offset: 0, reason: "pack header does not match its index")
        }
    }

    private static func uint32(_ bytes: [UInt8], at offset: Int) -> Int {
        guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
        return bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Where the object starts in the pack, if the index lists it.
    public func offset(of id: ObjectID) -> Int? {
        guard let first = id.bytes.first else { return nil }
        let high = min(Self.uint32(index, at: 8 + Int(first) * 4), count)
        var low = first == 0 ? 0 : min(Self.uint32(index, at: 8 + (Int(first) - 1) * 4), high)
        var upper = high
        let names = 8 + 1024
        while low < upper {
            let middle = (low + upper) / 2
            let name = index[(names + middle * 20)..<(names + middle * 20 + 20)]
            if name.elementsEqual(id.bytes) {
                let offsets = names + count * 24
                let small = Self.uint32(index, at: offsets + middle * 4)
                guard small & 0x8000_0000 != 0 else { return small }
                // Packs over 2 GiB keep large offsets in a table of 8-byte entries after the small ones.
                let large = offsets + count * 4 + (small & 0x7FFF_FFFF) * 8
                return Self.uint32(index, at: large) << 32 | Self.uint32(index, at: large + 4)
            }
            if name.lexicographicallyPrecedes(id.bytes) { low = middle + 1 } else { upper = middle }
        }
        return nil
    }

    /// The object at `offset`, its deltas applied. `base` finds the base of a REF_DELTA (which
    /// may be anywhere in the repository).
    public func object(at start: Int, base: (ObjectID) throws(StoreError) -> GitObject) throws(StoreError)
        -> GitObject
    {
        var deltas: [[UInt8]] = []
        var offset = start
        while deltas.count <= Self.maximumDeltaDepth {
            guard offset >= 12, offset < pack.count - 20 else {
                throw corrupt(offset, "object offset outside the pack")
            }
            var position = offset
            var byte = Int(pack[position])
            position += 1
            let type = byte >> 4 & 7
            var size = byte & 0x0F
            var shift = 4
            while byte & 0x80 != 0 {
                guard position < pack.count, shift < 56 else { throw corrupt(position, "bad object size") }
                byte = Int(pack[position])
                position += 1
                size |= (byte & 0x7F) << shift
                shift += 7
            }
            guard size <= GitObject.sizeLimit else { throw corrupt(offset, "object is too large") }
            switch type {
            case 1, 2, 3, 4:
                let types: [GitObjectType] = [.commit, .tree, .blob, .tag]
                var object = GitObject(type: types[type - 1], payload: try inflate(at: position, size: size))
                for delta in deltas.reversed() { object.payload = try Self.applyDelta(delta, to: object.payload) }
                return object
            case 6:
                // OFS_DELTA: the base is `distance` bytes before this object, in a variable-length
                // number where each continuation adds one before shifting (so no value has two spellings).
                guard position < pack.count else { throw corrupt(position, "truncated delta offset") }
                byte = Int(pack[position])
                position += 1
                var distance = byte & 0x7F
                while byte & 0x80 != 0 {
                    guard position < pack.count, distance < 1 << 48 else { throw corrupt(position, "bad delta offset") }
                    byte = Int(pack[position])
                    position += 1
                    distance = (distance + 1) << 7 | byte & 0x7F
                }
                guard distance > 0, distance < offset else { throw corrupt(offset, "delta base outside the pack") }
                deltas.append(try inflate(at: position, size: size))
                offset -= distance
            case 7:
                guard position + 20 <= pack.count, let id = ObjectID(bytes: pack[position..<(position + 20)]) else {
                    throw corrupt(position, "truncated delta base")
                }
                deltas.append(try inflate(at: position + 20, size: size))
                var object = try base(id)
                for delta in deltas.reversed() { object.payload = try Self.applyDelta(delta, to: object.payload) }
                return object
            default:
                throw corrupt(offset, "unknown pack object type \(type)")
            }
        }
        throw corrupt(start, "delta chain is too long")
    }

    private func corrupt(_ offset: Int, _ reason: String) -> StoreError {
        .corrupt(path: path + ".pack", offset: offset, reason: reason)
    }

    private func inflate(at offset: Int, size: Int) throws(StoreError) -> [UInt8] {
        let output: [UInt8]
        do {
            output = try Zlib.inflate(pack, from: offset, limit: size).output
        } catch {
            throw corrupt(error.offset, error.reason)
        }
        guard output.count == size else { throw corrupt(offset, "object size does not match its header") }
        return output
    }

    /// A git delta: the base's size, the result's size, then instructions that copy a range of
    /// the base or insert literal bytes.
    public static func applyDelta(_ delta: [UInt8], to base: [UInt8]) throws(StoreError) -> [UInt8] {
        var position = 0
        func size() throws(StoreError) -> Int {
            var value = 0
            var shift = 0
            while true {
                guard position < delta.count, shift < 56 else {
                    throw StoreError.corrupt(path: "delta", offset: position, reason: "bad size")
                }
                let byte = Int(delta[position])
                position += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
        }
        guard try size() == base.count else {
            throw StoreError.corrupt(path: "delta", offset: 0, reason: "delta is for a base of another size")
        }
        let resultSize = try size()
        guard resultSize <= GitObject.sizeLimit else {
            throw StoreError.corrupt(path: "delta", offset: position, reason: "delta result is too large")
        }
        var result: [UInt8] = []
        result.reserveCapacity(resultSize)
        while position < delta.count {
            let instruction = Int(delta[position])
            let start = position
            position += 1
            if instruction & 0x80 != 0 {
                // Bits 0–3 say which offset bytes follow, bits 4–6 which size bytes (little-endian).
                var copyOffset = 0
                var copySize = 0
                for bit in 0..<7 where instruction & 1 << bit != 0 {
                    guard position < delta.count else {
                        throw StoreError.corrupt(path: "delta", offset: start, reason: "truncated copy")
                    }
                    let byte = Int(delta[position])
                    position += 1
                    if bit < 4 { copyOffset |= byte << (8 * bit) } else { copySize |= byte << (8 * (bit - 4)) }
                }
                if copySize == 0 { copySize = 0x10000 }
                guard copyOffset + copySize <= base.count, result.count + copySize <= resultSize else {
                    throw StoreError.corrupt(path: "delta", offset: start, reason: "copy outside the base or result")
                }
                result += base[copyOffset..<(copyOffset + copySize)]
            } else if instruction != 0 {
                guard position + instruction <= delta.count, result.count + instruction <= resultSize else {
                    throw StoreError.corrupt(path: "delta", offset: start, reason: "truncated insert")
                }
                result += delta[position..<(position + instruction)]
                position += instruction
            } else {
                throw StoreError.corrupt(path: "delta", offset: start, reason: "reserved delta instruction")
            }
        }
        guard result.count == resultSize else {
            throw StoreError.corrupt(path: "delta", offset: position, reason: "delta result has the wrong size")
        }
        return result
    }
}
