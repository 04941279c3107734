import DAVStore
import FuzzSupport
import Wire

// The git object reader of DAVStore's GitStore reads repositories anyone with push access wrote,
// so it must never trap. The first byte picks what the rest of the input is: a loose object file
// (zlib stream), a tree or commit payload, a delta with its base, or a pack with its index. What
// parses must survive a round trip through the writer: the same object, the same entries; any
// bytes compressed by the DEFLATE writer inflate back to themselves.
@_cdecl("fuzz_git_objects_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzGitObjects)
}

private func fuzzGitObjects(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let mode = input.first else { return 0 }
    let body = Array(input.dropFirst())
    switch mode % 6 {
    case 0:
        if let object = try? GitObject.parseLoose(body) {
            guard (try? GitObject.parseLoose(object.looseFile)) == object else {
                fatalError("a loose object does not read back as written")
            }
            checkPayload(object.type, object.payload)
        }
    case 1: checkPayload(.tree, body)
    case 2: checkPayload(.commit, body)
    case 3:
        // The base's length, then the base, then the delta.
        let baseLength = Int(body.first ?? 0)
        let base = Array(body.dropFirst().prefix(baseLength))
        let delta = Array(body.dropFirst(1 + baseLength))
        _ = try? GitPack.applyDelta(delta, to: base)
    case 4:
        // Two bytes of index length, the index, then the pack; then look up every listed id.
        let indexLength = Int(body.first ?? 0) << 8 | Int(body.dropFirst().first ?? 0)
        let index = Array(body.dropFirst(2).prefix(indexLength))
        let pack = Array(body.dropFirst(2 + indexLength))
        guard let parsed = try? GitPack(index: index, pack: pack) else { return 0 }
        var offset = 8 + 1024
        while offset + 20 <= index.count, offset < 8 + 1024 + 20 * 16 {
            if let id = ObjectID(bytes: index[offset..<(offset + 20)]), let start = parsed.offset(of: id) {
                _ = try? parsed.object(at: start) { id throws(StoreError) in
                    throw StoreError.corrupt(path: "base", offset: 0, reason: "no base \(id)")
                }
            }
            offset += 20
        }
    default:
        // The writer's streams always inflate back to their input.
        let stream = Zlib.storedStream(body)
        guard let inflated = try? Zlib.inflate(stream, limit: body.count), inflated.output == body,
            inflated.end == stream.count
        else { fatalError("a stored zlib stream does not inflate to its input") }
        // So do the compressor's, whole and fed in two pieces, zlib and raw.
        let compressed = Deflater.compress(body, format: .zlib)
        guard let decompressed = try? Zlib.inflate(compressed, limit: body.count), decompressed.output == body,
            decompressed.end == compressed.count
        else { fatalError("a compressed zlib stream does not inflate to its input") }
        var deflater = Deflater(format: .raw)
        let split = body.count / 3
        let raw = deflater.update(body[..<split]) + deflater.update(body[split...]) + deflater.finish()
        guard (try? Zlib.inflateRaw(raw, limit: body.count)) == body else {
            fatalError("a compressed raw stream does not inflate to its input")
        }
        _ = try? Zlib.inflate(body, limit: 1 << 20)
    }
    return 0
}

/// Trees and commits that parse re-encode to payloads that parse to the same thing.
private func checkPayload(_ type: GitObjectType, _ payload: [UInt8]) {
    switch type {
    case .tree:
        guard let tree = try? GitTree.parse(payload) else { return }
        let again = try? GitTree.parse(tree.payload)
        guard let again, again.payload == tree.payload, again.entries.count == tree.entries.count else {
            fatalError("a tree does not read back as written")
        }
    case .commit:
        guard let commit = try? GitCommit.parse(payload) else { return }
        let again = try? GitCommit.parse(commit.payload)
        guard let again, again.tree == commit.tree, again.parents == commit.parents,
            again.time == max(0, commit.time)
        else { fatalError("a commit does not read back as written") }
    default:
        break
    }
}
