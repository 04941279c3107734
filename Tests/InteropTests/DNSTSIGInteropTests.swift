import DNS
import DNSSecurity
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Transaction signatures made by BIND's dig and nsupdate and by dnspython verify here, and ours verify there.
@Suite struct DNSTSIGInteropTests {
    static let secret = "c2VjcmV0LWtleS1mb3ItdGVzdHM="

    static func key(_ algorithm: TSIGAlgorithm) throws -> TSIGKey {
        try TSIGKey(dashY: "\(algorithm.rawValue.dropLast()):tsig-key:\(secret)")
    }

    static var now: UInt64 { UInt64(Date().timeIntervalSince1970) }

    /// Answers one query from a peer program: receives it, lets `respond` build the reply, sends it.
    private func serveOnce(
        launch: (_ port: UInt16) throws -> Process, respond: ([UInt8]) throws -> [UInt8]
    ) throws -> (query: [UInt8], process: Process) {
        let socket = try LoopbackUDPSocket()
        defer { socket.close() }
        let process = try launch(socket.port)
        let (query, peer) = try socket.receive(timeoutSeconds: 10)
        try socket.send(try respond(query), to: peer)
        return (query, process)
    }

    private func launch(_ path: String, _ arguments: [String], stdin: String? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return (process, output)
    }

    private func finish(_ process: Process, _ output: Pipe) -> String {
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    private func signedAnswer(to query: [UInt8], key: TSIGKey, tamper: Bool = false) throws -> [UInt8] {
        let verified = try TSIG.verify(query, keys: [key], now: Self.now).get()
        let request = verified.message
        let response = Message(
            id: request.id, isResponse: true, opcode: request.opcode, authoritative: true,
            recursionDesired: request.recursionDesired, questions: request.questions,
            answers: request.opcode == .query
                ? [
                    ResourceRecord(
                        name: try DomainName("example.com."), ttl: 300,
                        data: .a(ARecord(address: IPv4Address(192, 0, 2, 1))))
                ]
                : [])
        var signed = try TSIG.sign(try response.encode(), key: key, time: Self.now, requestMAC: verified.mac).bytes
        if tamper { signed[signed.count - 10] ^= 0xFF }
        return signed
    }

    @Test(arguments: TSIGAlgorithm.allCases)
    func digSignedQueryVerifiesAndOurSignedAnswerVerifiesInDig(algorithm: TSIGAlgorithm) throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let key = try Self.key(algorithm)
        var pipe = Pipe()
        let (query, process) = try serveOnce(
            launch: { port in
                let (process, output) = try launch(
                    dig,
                    [
                        "-y", "\(algorithm.rawValue.dropLast()):tsig-key:\(Self.secret)", "@127.0.0.1", "-p", "\(port)",
                        "example.com", "A", "+tries=1", "+time=5",
                    ])
                pipe = output
                return process
            }, respond: { try signedAnswer(to: $0, key: key) })
        let output = finish(process, pipe)
        #expect(try Message.decode(query).tsig?.name == key.name)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("192.0.2.1"), "\(output)")
        #expect(!output.lowercased().contains("verify"), "\(output)")
    }

    @Test func digRejectsATamperedAnswer() throws {
        let dig = try Peer.command("dig", debian: "bind9-dnsutils")
        let key = try Self.key(.hmacSHA256)
        var pipe = Pipe()
        let (_, process) = try serveOnce(
            launch: { port in
                let (process, output) = try launch(
                    dig,
                    [
                        "-y", "hmac-sha256:tsig-key:\(Self.secret)", "@127.0.0.1", "-p", "\(port)", "example.com",
                        "+tries=1", "+time=5",
                    ])
                pipe = output
                return process
            }, respond: { try signedAnswer(to: $0, key: key, tamper: true) })
        let output = finish(process, pipe)
        #expect(output.contains("Couldn't verify signature"), "\(output)")
    }

    @Test(arguments: [false, true])
    func nsupdateSignedUpdateVerifiesAndChecksOurSignedReply(tamper: Bool) throws {
        let nsupdate = try Peer.command("nsupdate", debian: "bind9-dnsutils")
        let key = try Self.key(.hmacSHA512)
        var pipe = Pipe()
        let (query, process) = try serveOnce(
            launch: { port in
                let (process, output) = try launch(
                    nsupdate, ["-y", "hmac-sha512:tsig-key:\(Self.secret)", "-t", "5"],
                    stdin:
                        "server 127.0.0.1 \(port)\nzone example.com\nupdate add x.example.com 300 A 192.0.2.9\nsend\n")
                pipe = output
                return process
            }, respond: { try signedAnswer(to: $0, key: key, tamper: tamper) })
        let output = finish(process, pipe)
        let update = try Message.decode(query)
        #expect(update.opcode == .update)
        #expect(update.tsig != nil)
        // nsupdate exits 0 only when our reply's signature checks out.
        #expect((process.terminationStatus == 0) == !tamper, "\(output)")
    }

    /// dnspython signs a query and an AXFR-style sequence of three responses; we verify them all,
    /// then sign our own answer and sequence, which dnspython verifies.
    @Test func dnspythonSignaturesVerifyHereAndOursThere() throws {
        let python = try Peer.python(module: "dns", pypi: "dnspython")
        let script = """
            import sys, dns.message, dns.tsigkeyring, dns.rrset
            keyring = dns.tsigkeyring.from_text({'tsig-key.': ('hmac-sha384', '\(Self.secret)')})
            q = dns.message.make_query('example.com.', 'AXFR')
            q.use_tsig(keyring, 'tsig-key.', algorithm='hmac-sha384')
            print(q.to_wire().hex())
            ctx = None
            for i in range(3):
                r = dns.message.make_response(q)
                r.answer.append(dns.rrset.from_text('example.com.', 300, 'IN', 'A', '192.0.2.%d' % i))
                r.use_tsig(keyring, 'tsig-key.', algorithm='hmac-sha384')
                print(r.to_wire(multi=True, tsig_ctx=ctx).hex())
                ctx = r.tsig_ctx
            """
        let result = try run(python, ["-c", script])
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { TextEncoding.decodeHex($0) }
        try #require(lines.count == 4)
        let key = try Self.key(.hmacSHA384)
        let query = try TSIG.verify(lines[0], keys: [key], now: Self.now).get()
        var verifier = TSIGSequenceVerifier(keys: [key], requestMAC: query.mac)
        for (index, bytes) in lines.dropFirst().enumerated() {
            let verified = try verifier.verify(bytes, now: Self.now).get()
            #expect(verified.signed)
            #expect(verified.message.answers.first?.data == .a(ARecord(address: IPv4Address(192, 0, 2, UInt8(index)))))
        }
        // A wrong key fails.
        let wrong = TSIGKey(name: key.name, algorithm: .hmacSHA384, secret: Array("other".utf8))
        #expect(throws: TSIGError.badSignature) { try TSIG.verify(lines[0], keys: [wrong], now: Self.now).get() }

        // Now ours, checked by dnspython: a sequence of three signed answers to its query.
        var signer = TSIGSequenceSigner(key: key, requestMAC: query.mac)
        var ours: [String] = []
        for index in 0..<3 {
            let message = Message(
                id: query.message.id, isResponse: true, questions: query.message.questions,
                answers: [
                    ResourceRecord(
                        name: try DomainName("example.com."), ttl: 300,
                        data: .a(ARecord(address: IPv4Address(192, 0, 2, UInt8(index + 10)))))
                ])
            ours.append(TextEncoding.hex(try signer.sign(try message.encode(), time: Self.now)))
        }
        let check = """
            import sys, dns.message, dns.tsigkeyring
            keyring = dns.tsigkeyring.from_text({'tsig-key.': ('hmac-sha384', '\(Self.secret)')})
            lines = sys.stdin.read().split()
            q = dns.message.from_wire(bytes.fromhex(lines[0]), keyring=keyring)
            ctx = None
            for line in lines[1:]:
                r = dns.message.from_wire(bytes.fromhex(line), keyring=keyring, request_mac=q.mac, xfr=True, tsig_ctx=ctx, multi=True)
                ctx = r.tsig_ctx
                print(r.answer[0][0])
            """
        let checked = try run(
            python, ["-c", check], stdin: Data(([TextEncoding.hex(lines[0])] + ours).joined(separator: "\n").utf8))
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout == "192.0.2.10\n192.0.2.11\n192.0.2.12\n")
    }
}

/// A UDP socket on 127.0.0.1 with a kernel-chosen port.
private final class LoopbackUDPSocket {
    let descriptor: Int32
    let port: UInt16

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.descriptor = descriptor
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw Failure(description: "bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    func receive(timeoutSeconds: Int) throws -> ([UInt8], sockaddr_in) {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(descriptor, &buffer, buffer.count, 0, $0, &length)
            }
        }
        guard count > 0 else { throw Failure(description: "no datagram within \(timeoutSeconds)s") }
        return (Array(buffer[..<count]), peer)
    }

    func send(_ bytes: [UInt8], to peer: sockaddr_in) throws {
        var peer = peer
        let sent = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == bytes.count else { throw Failure(description: "sendto() failed") }
    }

    func close() { _ = Glibc.close(descriptor) }
}
