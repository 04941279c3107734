import FuzzSupport
import Wire

// The pattern every Quercus fuzz target follows: decode arbitrary bytes with the public API, and
// check properties that must hold for every input, so the fuzzer finds wrong answers, not only
// traps. Here the input is both program and data: each opcode byte asks the reader for one kind
// of field, and whatever was read successfully must re-encode to exactly the bytes consumed.
// The input is also decoded as bzip2 (seeds in Fuzz/Seeds/fuzz-wire-reader are real streams).
@_cdecl("fuzz_wire_reader_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzWireReader)
}

private func fuzzWireReader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    // The same bytes as a bzip2 stream: decoded within the limit, or an error inside the input.
    do {
        let output = try BZip2.decompress(input, limit: 1 << 16)
        guard output.count <= 1 << 16 else { fatalError("bzip2 output over its limit") }
    } catch {
        guard error.offset >= 0, error.offset <= input.count else { fatalError("bzip2 error offset out of range") }
    }
    var reader = WireReader(input)
    var writer = WireWriter()
    interpret(&reader, into: &writer, depth: 0)
    // Everything consumed re-encodes to the same bytes.
    guard writer.bytes[...] == input[..<reader.offset] else {
        fatalError("re-encoding differs from the consumed input")
    }
    return 0
}

private func interpret(_ reader: inout WireReader, into writer: inout WireWriter, depth: Int) {
    while !reader.isAtEnd {
        let savedReader = reader
        let savedWriter = writer
        var afterOpcode = reader.offset
        do throws(WireError) {
            let opcode = try reader.readUInt8()
            afterOpcode = reader.offset
            writer.write(opcode)
            switch opcode % 8 {
            case 0: writer.write(try reader.readUInt16())
            case 1: writer.writeUInt24(try reader.readUInt24())
            case 2: writer.write(try reader.readUInt32())
            case 3: writer.writeUInt48(try reader.readUInt48())
            case 4: writer.write(try reader.readUInt64())
            case 5:
                let length = Int(try reader.peekUInt8()) % 9
                writer.write(bytes: try reader.readBytes(length))
            case 6 where depth < 8:
                let width = LengthWidth.allCases[Int(opcode / 8) % LengthWidth.allCases.count]
                var body = try reader.readLengthPrefixed(width)
                let mark = writer.beginLength(width)
                interpret(&body, into: &writer, depth: depth + 1)
                // An inner read failed: the body cannot be re-encoded whole, so undo this field.
                guard body.isAtEnd else { throw body.invalid("inner field failed") }
                try writer.endLength(mark)
            default:
                writer.writeLittleEndian(try reader.readLittleEndian(UInt32.self))
            }
        } catch {
            // A failed read leaves the reader where it was and names an offset inside the input.
            guard reader.offset == afterOpcode || error.kind == .invalid("inner field failed") else {
                fatalError("a failed read moved the reader")
            }
            guard error.offset >= 0, error.offset <= reader.bytes.count else { fatalError("error offset out of range") }
            // Drop the whole operation, so the consumed prefix stays re-encodable, and stop.
            reader = savedReader
            writer = savedWriter
            return
        }
    }
}
