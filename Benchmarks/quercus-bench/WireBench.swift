import Wire

/// The cost of safety: walking type-length-value records with the bounds-checked `WireReader`
/// against the same walk with unchecked pointer reads. The ratio is what checking costs.
func benchmarkWire(smoke: Bool) -> String {
    var records: [UInt8] = []
    var generator = SystemRandomNumberGenerator()
    while records.count < 1 << 20 {
        let length = Int.random(in: 0..<64, using: &generator)
        records += [UInt8.random(in: 0...255), UInt8.random(in: 0...255), 0, UInt8(length)]
        records += (0..<length).map { _ in UInt8.random(in: 0...255) }
    }
    let recordCount = { () -> Int in
        var reader = WireReader(records)
        var count = 0
        while !reader.isAtEnd, (try? reader.readUInt16()) != nil, (try? reader.readLengthPrefixed(.uint16)) != nil {
            count += 1
        }
        return count
    }()

    func checked() -> Int { walkChecked(opaque(records)) }
    func unchecked() -> Int { walkUnchecked(opaque(records)) }

    guard checked() == unchecked() else { return "wire: FAILED, the two walks disagree" }
    var result = SideBySide(name: "wire TLV walk", unit: "ns/record", baseline: "unchecked", ours: "WireReader")
    let rounds = smoke ? 3 : 15
    let iterations = smoke ? 3 : 40
    for _ in 0..<rounds {
        let base = cpuNanosecondsPerIteration(iterations: iterations) { consume(unchecked()) }
        let ours = cpuNanosecondsPerIteration(iterations: iterations) { consume(checked()) }
        result.record(baseline: base / Double(recordCount), ours: ours / Double(recordCount))
    }
    return result.report()
}

@inline(never)
private func walkChecked(_ records: [UInt8]) -> Int {
    var reader = WireReader(records)
    var sum = 0
    do {
        while !reader.isAtEnd {
            sum &+= Int(try reader.readUInt16())
            var body = try reader.readLengthPrefixed(.uint16)
            if !body.isAtEnd { sum &+= Int(try body.readUInt8()) }
        }
    } catch {
        return -1
    }
    return sum
}

@inline(never)
private func walkUnchecked(_ records: [UInt8]) -> Int {
    records.withUnsafeBufferPointer { buffer in
        var sum = 0
        var offset = 0
        while offset < buffer.count {
            sum &+= Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
            let length = Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
            if length > 0 { sum &+= Int(buffer[offset + 4]) }
            offset += 4 + length
        }
        return sum
    }
}
