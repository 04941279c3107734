import DNS
import DNSClient
import FuzzSupport
import Resolver

// The resolver's untrusted inputs: whatever authorities send back, and the root hints and block
// list files. The input is a series of messages, each a flag byte, a 16-bit length and the bytes;
// each becomes the answer to the resolver's outstanding query (from the right server or another,
// with its ID and question patched to match or left as they are). Whatever they say, the client
// gets exactly one well-formed answer with its own ID, within its UDP size, after a bounded
// number of queries; the text is parsed as root hints, a block list and trust anchors without
// trapping. When the first byte's top bit is set the resolver validates DNSSEC from a root anchor,
// so the chain of trust and the NSEC/NSEC3 proofs are fed whatever the messages hold.
@_cdecl("fuzz_resolver_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzResolver)
}

private let root = ServerAddress(host: "10.0.0.1")
private let anchors = try? TrustAnchors.parse(
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
        + ". IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n")
private let question: Question? = (try? DomainName("www.example.test.")).map { Question(name: $0, type: .a) }

private func fuzzResolver(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    parseFiles(input)
    checkQueryView(input)
    guard let question else { fatalError("the fuzz question does not parse") }
    guard let anchors else { fatalError("the fuzz trust anchors do not parse") }
    var settings = ResolverSettings(rootServers: [root], maximumQueriesPerRequest: 32)
    if let first = input.first, first & 0x80 != 0 { settings.trustAnchors = anchors }
    var resolver = RecursiveResolver(
        settings: settings,
        cache: ResolverCache(capacity: 1 << 16), randomID: { 0x4242 })
    var query = Message(id: 0x1234, recursionDesired: true, questions: [question])
    query.edns = EDNS(udpPayloadSize: 1232)
    query.edns?.dnssecOK = input.count > 1 && input[1] & 0x80 != 0
    guard let queryBytes = try? query.encode() else { fatalError("the fuzz query does not encode") }
    var actions = resolver.receiveQuery(queryBytes, from: ClientHandle(1), over: .udp, now: 1000)
    var outstanding: [OutgoingQuery] = []
    var replies: [[UInt8]] = []
    var offset = 0
    var clock = 1000.0
    var upstream = 0
    for _ in 0..<10_000 {
        for action in actions {
            switch action {
            case .reply(_, let bytes): replies.append(bytes)
            case .send(let sent):
                outstanding.append(sent)
                upstream += 1
            }
        }
        actions = []
        guard let sent = outstanding.last else { break }
        clock += 0.001
        if offset + 3 <= input.count {
            let flags = input[offset]
            let length = Int(input[offset + 1]) << 8 | Int(input[offset + 2])
            let end = min(input.count, offset + 3 + length)
            let bytes = Array(input[(offset + 3)..<end])
            offset = end
            let source = flags & 1 == 0 ? sent.server : ServerAddress(host: "10.6.6.6")
            actions = resolver.receiveResponse(
                patched(bytes, flags, for: sent), for: sent.token, from: source, now: clock)
            if !resolver.isWaiting(for: sent.token) { outstanding.removeAll { $0.token == sent.token } }
        } else {
            outstanding.removeLast()
            clock += sent.timeout
            actions = resolver.timedOut(sent.token, now: clock)
        }
    }
    guard replies.count == 1, let reply = replies.first else { fatalError("\(replies.count) answers to one question") }
    guard upstream <= 32 + 1 else { fatalError("\(upstream) queries for one question") }
    guard reply.count <= 1232, let message = try? Message.decode(reply), message.isResponse, message.id == 0x1234,
        message.questions == [question]
    else { fatalError("a malformed answer to the client") }
    return 0
}

/// With flag bit 1, the bytes decoded and given the query's ID and question (so that the
/// resolver's learning, not only its acceptance, is exercised); with bit 2, only the ID.
private func patched(_ bytes: [UInt8], _ flags: UInt8, for sent: OutgoingQuery) -> [UInt8] {
    guard let query = try? Message.decode(sent.bytes) else { return bytes }
    if flags & 2 != 0, var message = try? Message.decode(bytes) {
        message.id = query.id
        message.isResponse = true
        message.questions = query.questions
        return (try? message.encode()) ?? bytes
    }
    if flags & 4 != 0, bytes.count >= 2 {
        return [UInt8(query.id >> 8), UInt8(query.id & 0xFF)] + bytes.dropFirst(2)
    }
    return bytes
}

private func parseFiles(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    if let servers = try? RootHints.parse(text) {
        guard !servers.isEmpty, servers.allSatisfy({ $0.port == 53 }) else { fatalError("empty root hints accepted") }
    }
    do {
        let list = try BlockList.parse(text)
        for name in list.names where !list.blocks(name) { fatalError("\(name) is listed but not blocked") }
    } catch {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        guard (1...lines).contains(error.line) else { fatalError("error line \(error.line) outside the input") }
    }
    do {
        let parsed = try TrustAnchors.parse(text)
        guard !parsed.isEmpty else { fatalError("empty trust anchors accepted") }
    } catch {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        guard (0...lines).contains(error.line) else { fatalError("anchor error line \(error.line) outside the input") }
    }
}

/// A client query read by the cache's fast path (header, question, OPT) must read as the full
/// decoder reads it: the bytes as they are, and with a header that asks one question.
private func checkQueryView(_ input: [UInt8]) {
    var patched = input
    if patched.count >= 12 {
        patched[2] &= 0x07
        patched.replaceSubrange(4..<12, with: [0, 1, 0, 0, 0, 0, 0, input[11] & 1])
    }
    for bytes in [input, patched] where !RecursiveResolver.queryViewAgreesWithDecoder(bytes) {
        fatalError("the query view disagrees with the decoder on \(bytes)")
    }
}
