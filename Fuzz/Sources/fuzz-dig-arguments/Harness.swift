import DNS
import DNSClient
import FuzzSupport

// Bytes split at NUL into arguments: dig's command line either fails with a DigUsageError naming
// one of the arguments, or parses to a request whose name is a domain name, whose port is a
// port, and which parses the same again from the same arguments.
@_cdecl("fuzz_dig_arguments_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzDigArguments)
}

private func fuzzDigArguments(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let arguments = input.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
    }
    let command: DigCommand
    do {
        command = try DigCommand.parse(arguments)
    } catch {
        guard error.argument >= 0, error.argument <= arguments.count else {
            fatalError("error names argument \(error.argument) of \(arguments.count): \(error)")
        }
        return 0
    }
    guard (try? DigCommand.parse(arguments)) == command else { fatalError("parsing twice differs: \(arguments)") }
    switch command {
    case .query(let request):
        guard (1...65535).contains(request.port) else { fatalError("port \(request.port)") }
        let absolute = request.name.hasSuffix(".") ? request.name : request.name + "."
        guard (try? DomainName(absolute)) != nil else { fatalError("name \(request.name) is not a domain name") }
        if request.isTransfer && !request.usesTCP { fatalError("a transfer over UDP") }
    case .update(let invocation):
        guard (1...65535).contains(invocation.port) else { fatalError("update port \(invocation.port)") }
    case .help, .version:
        break
    }
    return 0
}
