import DNS
import FuzzSupport

// Any bytes either fail to decode with a WireError or decode to a message that re-encodes and
// decodes to the same message, whose every record prints in presentation form and parses back
// to the same data.
@_cdecl("fuzz_dns_message_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDNSMessage)
}

private func fuzzDNSMessage(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let message = try? Message.decode(input) else { return 0 }
    let encoded: [UInt8]
    do {
        encoded = try message.encode()
    } catch {
        fatalError("a decoded message does not encode: \(error)")
    }
    guard let again = try? Message.decode(encoded) else { fatalError("our encoding does not decode") }
    guard again == message else { fatalError("decode(encode(m)) differs from m") }
    for record in message.answers + message.authority + message.additional where record.type != .opt {
        let text = record.data.presentation
        do {
            var scanner = try RDataScanner(text: text)
            let parsed = try RData.parse(type: record.type, from: &scanner)
            guard parsed == record.data else { fatalError("\(record.type) \(text) parses to different data") }
        } catch {
            fatalError("\(record.type) \(text) does not parse: \(error)")
        }
    }
    return 0
}
