import DNS
import Foundation

/// One query answered: decode it, look the name up in a 1,000-name zone, encode a 3-answer
/// response with compression. Ours is the allocation-free path (`QueryView`, `NameIndex`,
/// `MessageWriter.writeAnswer`); the baseline is the same work through the general `Message` API.
/// Both must produce the same bytes. Allocations per query come from valgrind's heap summary for
/// N and 2N queries, so setup cost cancels out.
func benchmarkDNS(smoke: Bool) -> String {
    let fixture: DNSFixture
    do {
        fixture = try DNSFixture()
    } catch {
        return "dns: FAILED to build the zone: \(error)"
    }
    if let mode = CommandLine.arguments.first(where: { $0.hasPrefix("--dns-allocations") }) {
        return fixture.allocationRun(mode)
    }
    var writer = MessageWriter(capacity: 512)
    for query in fixture.queries.prefix(50) {
        guard let fast = fixture.answerFast(query, writer: &writer), let general = fixture.answerGeneral(query),
            fast == general
        else { return "dns: FAILED, the two paths answer differently" }
    }

    var result = SideBySide(name: "dns query", unit: "ns/query", baseline: "Message API", ours: "zero-allocation path")
    let rounds = smoke ? 3 : 15
    let iterations = smoke ? 2_000 : 100_000
    for _ in 0..<rounds {
        var index = 0
        let base = cpuNanosecondsPerIteration(iterations: iterations) {
            consume(fixture.answerGeneral(fixture.queries[index % fixture.queries.count]))
            index += 1
        }
        let ours = cpuNanosecondsPerIteration(iterations: iterations) {
            consume(fixture.answerFast(fixture.queries[index % fixture.queries.count], writer: &writer)?.count)
            index += 1
        }
        result.record(baseline: base, ours: ours)
    }
    return result.report() + "; " + allocationsPerQuery(smoke: smoke)
}

/// Runs this benchmark under valgrind for N and 2N queries per path and reports the difference per query.
private func allocationsPerQuery(smoke: Bool) -> String {
    guard
        let valgrind = ["/usr/bin/valgrind", "/usr/local/bin/valgrind"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        })
    else { return "allocations: valgrind not installed (apt-get install valgrind)" }
    // Valgrind cannot read the DWARF 5 debug information Swift emits: it watches a stripped copy.
    let executable = FileManager.default.temporaryDirectory.appendingPathComponent("quercus-bench-dns-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: executable) }
    let strip = Process()
    strip.executableURL = URL(fileURLWithPath: "/usr/bin/strip")
    strip.arguments = [
        "--strip-debug", "-o", executable, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
    ]
    guard (try? strip.run()) != nil else { return "allocations: strip (binutils) not installed" }
    strip.waitUntilExit()
    guard strip.terminationStatus == 0 else { return "allocations: strip failed" }
    let count = smoke ? 200 : 2_000
    func heapAllocations(_ mode: String, _ queries: Int) -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: valgrind)
        process.arguments = [executable, "dns", "\(mode)=\(queries)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "total heap usage: 12,345 allocs, 12,340 frees, 1,234,567 bytes allocated"
        guard let range = text.range(of: "total heap usage: ") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "," }.filter(\.isNumber)
        return Int(digits)
    }
    var parts: [String] = []
    for (label, mode) in [("Message API", "--dns-allocations-general"), ("zero-allocation path", "--dns-allocations")] {
        guard let single = heapAllocations(mode, count), let double = heapAllocations(mode, 2 * count) else {
            return "allocations: valgrind run failed"
        }
        parts.append(String(format: "%@ %.2f", label, Double(double - single) / Double(count)))
    }
    return "allocations/query (valgrind, \(count) vs \(2 * count) queries): " + parts.joined(separator: ", ")
}

private struct DNSFixture {
    let zone: Zone
    let index: NameIndex
    let queries: [[UInt8]]

    init() throws {
        let origin = try DomainName("example.com.")
        var text = "$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n"
        for host in 0..<999 {
            for address in 1...3 { text += "host\(host) A 10.\(host / 256).\(host % 256).\(address)\n" }
        }
        zone = try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
        index = NameIndex(zone)
        var generator = SystemRandomNumberGenerator()
        queries = try (0..<1024).map { _ in
            let host = Int.random(in: 0..<999, using: &generator)
            let name = try DomainName("HOST\(host).Example.com.")
            return try Message(id: UInt16.random(in: 0...0xFFFF), questions: [Question(name: name, type: .a)]).encode()
        }
    }

    func answerFast(_ query: [UInt8], writer: inout MessageWriter) -> [UInt8]? {
        guard let view = try? QueryView(query),
            let rrset = index.records(nameIn: query, range: view.nameRange)?.rrset(view.type)
        else { return nil }
        writer.reset()
        guard (try? writer.writeAnswer(to: view, queryBytes: query, answers: rrset)) != nil else { return nil }
        return writer.bytes
    }

    func answerGeneral(_ query: [UInt8]) -> [UInt8]? {
        guard let message = try? Message.decode(query), let question = message.questions.first,
            let rrset = zone.rrset(question.type, at: question.name)
        else { return nil }
        let response = Message(
            id: message.id, isResponse: true, opcode: message.opcode, authoritative: true,
            recursionDesired: message.recursionDesired, questions: message.questions,
            answers: rrset.data.map { ResourceRecord(name: question.name, ttl: rrset.ttl, data: $0) })
        return try? response.encode()
    }

    /// The child process valgrind watches: N queries on one path, nothing else printed.
    func allocationRun(_ mode: String) -> String {
        let count = Int(mode.split(separator: "=").last ?? "") ?? 0
        var writer = MessageWriter(capacity: 512)
        var checksum = 0
        for query in 0..<count {
            let bytes = queries[query % queries.count]
            if mode.hasPrefix("--dns-allocations-general") {
                checksum &+= answerGeneral(bytes)?.count ?? 0
            } else {
                checksum &+= answerFast(bytes, writer: &writer)?.count ?? 0
            }
        }
        return "dns allocation run: \(count) queries, \(checksum) bytes"
    }
}
