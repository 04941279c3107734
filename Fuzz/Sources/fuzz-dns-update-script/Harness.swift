import DNS
import DNSClient
import FuzzSupport
import Wire

// Any text either fails with an UpdateScriptError that points inside the text, or gives batches
// of updates whose UPDATE messages encode with the zone, prerequisite and update counts of the
// batch and the opcode UPDATE.
@_cdecl("fuzz_dns_update_script_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzUpdateScript)
}

private let zone = (try? DomainName("example.com.")) ?? .root

private func fuzzUpdateScript(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: input, as: UTF8.self)
    let batches: [UpdateBatch]
    do {
        batches = try UpdateScriptParser().parse(text)
    } catch {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard error.line >= 1, error.line <= lines.count, error.column >= 1,
            error.column <= lines[error.line - 1].count + 1
        else { fatalError("error position \(error.line):\(error.column) outside the text: \(error)") }
        return 0
    }
    for batch in batches {
        guard !batch.updates.isEmpty || !batch.prerequisites.isEmpty else { fatalError("an empty batch") }
        let bytes: [UInt8]
        do {
            bytes = try batch.message(id: 1, zone: batch.zone ?? zone).encode()
        } catch {
            fatalError("an update does not encode: \(error)")
        }
        var header = WireReader(bytes)
        guard (try? header.readUInt16()) == 1, let flags = try? header.readUInt16(), flags >> 11 & 0xF == 5,
            (try? header.readUInt16()) == 1,
            (try? header.readUInt16()).map(Int.init) == batch.prerequisites.count,
            (try? header.readUInt16()).map(Int.init) == batch.updates.count
        else { fatalError("the UPDATE header does not count the batch") }
    }
    return 0
}
