import DNS
import FuzzSupport

// Any text either fails with a PresentationError that points inside the text, or parses to
// records that print as zone-file lines which parse back to the same records, and that survive
// a trip through the wire format.
@_cdecl("fuzz_dns_zone_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDNSZone)
}

private let origin = (try? DomainName("example.com.")) ?? .root

private func fuzzDNSZone(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: input, as: UTF8.self)
    var parser = ZoneParser(origin: origin) { path in
        path == "inc" ? .success("included A 192.0.2.1\n") : .failure(IncludeFailure("no such file"))
    }
    parser.maximumGenerated = 256
    let records: [ResourceRecord]
    do {
        records = try parser.parse(text, file: "fuzz")
    } catch {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        guard error.line >= 1, error.line <= lines + 1, error.column >= 1 else {
            fatalError("error position \(error.line):\(error.column) outside the text: \(error)")
        }
        return 0
    }
    let printed = records.map { "\($0)\n" }.joined()
    do {
        let reparsed = try ZoneParser(origin: .root).parse(printed)
        guard reparsed == records else { fatalError("printed zone parses to different records:\n\(printed)") }
    } catch {
        fatalError("printed zone does not parse: \(error)\n\(printed)")
    }
    let message = Message(answers: records.filter { $0.type != .opt && $0.type != .tsig })
    guard let bytes = try? message.encode(), let decoded = try? Message.decode(bytes) else {
        fatalError("zone records do not survive the wire format:\n\(printed)")
    }
    // Past 64 KiB the encoder truncates and says so; below that nothing may change.
    guard decoded.truncated || decoded == message else {
        fatalError("zone records change on the wire:\n\(printed)")
    }
    return 0
}
