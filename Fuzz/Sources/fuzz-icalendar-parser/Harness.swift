import FuzzSupport
import ICalendar

// Content lines and the component tree. For every input: lenient parsing never traps; what it
// accepts prints as lines of at most 75 octets that parse back to the same components (the
// round trip is lossless), and printing again gives the same bytes. Where strict parsing
// accepts the input, strict parsing also accepts our output.
@_cdecl("fuzz_icalendar_parser_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzParser)
}

private func fuzzParser(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let strict = try? Component.parseAll(input, mode: .strict)
    guard let components = try? Component.parseAll(input, mode: .lenient) else { return 0 }
    let printed = components.flatMap { $0.printedBytes() }
    var lineLength = 0
    for byte in printed {
        if byte == 0x0A {
            lineLength = 0
        } else if byte != 0x0D {
            lineLength += 1
            if lineLength > 75 { fatalError("a printed line is longer than 75 octets") }
        }
    }
    guard let reparsed = try? Component.parseAll(printed, mode: .lenient) else {
        fatalError("our own output does not parse")
    }
    guard reparsed == components else { fatalError("parse, print, parse changed the components") }
    guard reparsed.flatMap({ $0.printedBytes() }) == printed else { fatalError("printing is not stable") }
    if let strict {
        guard (try? Component.parseAll(strict.flatMap { $0.printedBytes() }, mode: .strict)) == strict else {
            fatalError("strictly valid input printed as something strict parsing rejects")
        }
    }
    for component in components { _ = Validator.firstProblem(in: component) }
    return 0
}
