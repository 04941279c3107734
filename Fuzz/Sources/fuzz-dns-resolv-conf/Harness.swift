import DNS
import DNSClient
import FuzzSupport

// Any text either fails with a ResolverConfigurationError that points inside the text, or gives
// a configuration within resolv.conf(5)'s limits that prints as text which parses back to the
// same configuration, and whose candidate names for a short and a dotted name are well formed.
@_cdecl("fuzz_dns_resolv_conf_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzResolvConf)
}

private func fuzzResolvConf(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: input, as: UTF8.self)
    let configuration: ResolverConfiguration
    do {
        configuration = try ResolverConfiguration.parse(text)
    } catch {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard error.line >= 1, error.line <= lines.count, error.column >= 1,
            error.column <= lines[error.line - 1].count + 1
        else { fatalError("error position \(error.line):\(error.column) outside the text: \(error)") }
        return 0
    }
    guard configuration.nameservers.count <= ResolverConfiguration.maximumNameservers,
        (0...ResolverConfiguration.maximumNdots).contains(configuration.ndots),
        (1...ResolverConfiguration.maximumTimeout).contains(configuration.timeout),
        (1...ResolverConfiguration.maximumAttempts).contains(configuration.attempts)
    else { fatalError("configuration outside resolv.conf's limits: \(configuration)") }
    // Names holding a comment character or white space cannot be written back as words.
    let writable = configuration.search.allSatisfy { name in
        !name.description.contains { "#; \t\r\n".contains($0) }
    }
    if writable {
        do {
            let again = try ResolverConfiguration.parse(configuration.text)
            guard again == configuration else {
                fatalError("printed configuration parses differently:\n\(configuration.text)")
            }
        } catch {
            fatalError("printed configuration does not parse: \(error)\n\(configuration.text)")
        }
    }
    for name in ["host", "a.b.c", "absolute."] {
        guard let candidates = try? configuration.candidateNames(for: name) else {
            fatalError("no candidate names for \(name)")
        }
        guard !candidates.isEmpty, Set(candidates).count == candidates.count else {
            fatalError("candidate names for \(name) are empty or repeat: \(candidates)")
        }
    }
    for sequence in 0..<4 {
        guard configuration.serverOrder(forQueryNumber: sequence).sorted() == configuration.nameservers.sorted() else {
            fatalError("rotation lost or added a server")
        }
    }
    return 0
}
