import FuzzSupport
import XML

// Parses arbitrary bytes; whatever parses must write back to a document that parses to an equal
// tree, and writing that tree again must give the same bytes. Errors must name an offset inside
// the input and a line no later than the input's last.
@_cdecl("fuzz_xml_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzXML)
}

private let limits = XMLLimits(maximumBytes: 1 << 16, maximumDepth: 32, maximumNodes: 4096, maximumAttributes: 16)

private func fuzzXML(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let tree: XMLElement
    do throws(XMLError) {
        tree = try XMLDocument.parse(input, limits: limits)
    } catch {
        guard error.offset >= 0, error.offset <= input.count else { fatalError("error offset out of range: \(error)") }
        let lines = 1 + input.count { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        guard error.line >= 1, error.line <= lines else { fatalError("error line out of range: \(error)") }
        return 0
    }
    let written = XMLWriter.document(tree)
    let reparsed: XMLElement
    do throws(XMLError) {
        // Writing adds declarations and escapes, so the written form may be larger than the input.
        reparsed = try XMLDocument.parse(written, limits: XMLLimits(maximumBytes: 1 << 24))
    } catch {
        fatalError("written tree does not parse: \(error)\n\(String(decoding: written, as: UTF8.self))")
    }
    guard reparsed == tree else {
        fatalError("round trip differs:\n\(tree)\n\(reparsed)")
    }
    guard XMLWriter.document(reparsed) == written else { fatalError("writing is not deterministic") }
    return 0
}
