import Foundation
import TLS

/// Server CPU per TLS 1.3 handshake (X25519 with ECDSA P-256, and with RSA-2048), per resumed
/// handshake, per full TLS 1.2 ECDHE-ECDSA handshake (X25519, P-256, AES-128-GCM, extended master
/// secret, no ticket), and AES-256-GCM bulk throughput, all in memory: our engine in a loop against
/// OpenSSL driven through Python's `ssl` with `MemoryBIO` (BENCHMARKS.md). Only the server's
/// calls are timed for handshakes; bulk times one side's encryption plus the other's decryption.
/// The Python figures include the interpreter's per-call overhead, a few µs per handshake.
func benchmarkTLS(smoke: Bool) -> String {
    do {
        return try TLSBenchmark(smoke: smoke).run()
    } catch {
        return "tls: FAILED, \(error)"
    }
}

private struct TLSBenchmark {
    let smoke: Bool
    let directory: URL
    let ecdsa: CertifiedKey
    let rsa: CertifiedKey
    let authority: CertificateAuthority
    let now = Int64(Date().timeIntervalSince1970)

    init(smoke: Bool) throws {
        self.smoke = smoke
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("quercus-tls-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try CertificateAuthority(name: "Bench CA", notBefore: now - 3600, lifetime: 86400)
        ecdsa = try authority.issue(names: ["bench.test"], notBefore: now - 3600, lifetime: 86400)
        rsa = try authority.issue(
            names: ["bench.test"], key: try .generateRSA(bits: 2048), notBefore: now - 3600,
            lifetime: 86400)
        for (name, identity) in [("ecdsa", ecdsa), ("rsa", rsa)] {
            try identity.chainPEM.write(
                to: directory.appendingPathComponent("\(name).pem"), atomically: true, encoding: .utf8)
            try identity.key.pemRepresentation.write(
                to: directory.appendingPathComponent("\(name).key"), atomically: true, encoding: .utf8)
        }
        try authority.certificatePEM.write(
            to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        try pythonScript.write(to: directory.appendingPathComponent("bench.py"), atomically: true, encoding: .utf8)
    }

    func run() throws -> String {
        defer { try? FileManager.default.removeItem(at: directory) }
        let handshakes = smoke ? 5 : 200
        let records = smoke ? 10 : 2000
        let rounds = smoke ? 1 : 5
        var ecdsaResult = SideBySide(
            name: "tls 1.3 server handshake X25519+ECDSA-P256", unit: "µs CPU", baseline: "OpenSSL", ours: "Quercus")
        var rsaResult = SideBySide(
            name: "tls 1.3 server handshake X25519+RSA-2048", unit: "µs CPU", baseline: "OpenSSL", ours: "Quercus")
        var tls12Result = SideBySide(
            name: "tls 1.2 server handshake ECDHE-ECDSA X25519+P256", unit: "µs CPU", baseline: "OpenSSL",
            ours: "Quercus")
        var resumedResult = SideBySide(
            name: "tls 1.3 server resumed handshake", unit: "µs CPU", baseline: "OpenSSL", ours: "Quercus")
        var bulkResult = SideBySide(
            name: "tls 1.3 AES-256-GCM bulk, 16 KiB records", unit: "MB/s CPU", baseline: "OpenSSL", ours: "Quercus")
        var version = ""
        for _ in 0..<rounds {
            let peer = try runPython(handshakes: handshakes, records: records)
            version = peer["version"] ?? ""
            func figure(_ key: String) throws -> Double {
                guard let text = peer[key], let value = Double(text) else {
                    throw BenchFailure(description: "python gave no \(key)")
                }
                return value
            }
            ecdsaResult.record(baseline: try figure("ecdsa"), ours: try fullHandshake(ecdsa, count: handshakes))
            rsaResult.record(baseline: try figure("rsa"), ours: try fullHandshake(rsa, count: handshakes))
            resumedResult.record(baseline: try figure("resumed"), ours: try resumedHandshake(count: handshakes))
            tls12Result.record(
                baseline: try figure("tls12"), ours: try fullHandshake(ecdsa, count: handshakes, tls12: true))
            bulkResult.record(baseline: try figure("bulk"), ours: try bulk(records: records))
        }
        // Bulk is a throughput: the ratio of interest is ours / OpenSSL, higher is better.
        return [
            ecdsaResult.report(), rsaResult.report(), resumedResult.report(), tls12Result.report(),
            bulkResult.report() + " (higher is better)", "tls baseline: \(version)",
        ]
        .joined(separator: "\n")
    }

    private var environment: TLSEnvironment { .system(now: { Int64(Date().timeIntervalSince1970) }) }

    private func serverConfiguration(_ identity: CertifiedKey, tickets: Bool = false) -> TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.identities = [identity]
        if tickets {
            configuration.ticketsToSend = 1
            configuration.ticketKey = Array(repeating: 1, count: 32)
        }
        return configuration
    }

    private var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.authenticator = .certificateAuthorities([authority.certificate])
        configuration.cipherSuites = [.aes256GCMSHA384]
        return configuration
    }

    /// TLS 1.2 only, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (what OpenSSL picks for the same offer).
    private var tls12ClientConfiguration: TLSConfiguration {
        var configuration = clientConfiguration
        configuration.versions = [.tls12]
        configuration.cipherSuites = [.ecdheECDSAWithAES128GCMSHA256]
        return configuration
    }

    /// Runs one handshake; returns the server's CPU seconds and the client's events.
    private func handshake(server configuration: TLSConfiguration, ticket: SessionTicket?, tls12: Bool = false) throws
        -> (Double, [TLSEvent])
    {
        var client = TLSConnection(
            client: tls12 ? tls12ClientConfiguration : clientConfiguration, serverName: "bench.test", resuming: ticket,
            environment: environment)
        var server = TLSConnection(server: configuration, environment: environment)
        var serverSeconds = 0.0
        var events: [TLSEvent] = []
        var toServer = client.start().bytesToSend
        while !toServer.isEmpty {
            let start = processCPUSeconds()
            let answer = server.receive(toServer)
            serverSeconds += processCPUSeconds() - start
            if let error = answer.error { throw BenchFailure(description: "server: \(error)") }
            let output = client.receive(answer.bytesToSend)
            if let error = output.error { throw BenchFailure(description: "client: \(error)") }
            events += output.events
            toServer = output.bytesToSend
        }
        guard server.isHandshakeComplete else { throw BenchFailure(description: "the handshake did not complete") }
        return (serverSeconds, events)
    }

    private func fullHandshake(_ identity: CertifiedKey, count: Int, tls12: Bool = false) throws -> Double {
        let configuration = serverConfiguration(identity)
        var total = 0.0
        for _ in 0..<count { total += try handshake(server: configuration, ticket: nil, tls12: tls12).0 }
        return total / Double(count) * 1e6
    }

    private func resumedHandshake(count: Int) throws -> Double {
        let configuration = serverConfiguration(ecdsa, tickets: true)
        let (_, events) = try handshake(server: configuration, ticket: nil)
        guard
            let ticket = events.lazy.compactMap({ event -> SessionTicket? in
                if case .sessionTicket(let ticket) = event { return ticket }
                return nil
            }).first
        else { throw BenchFailure(description: "no ticket") }
        var total = 0.0
        for _ in 0..<count { total += try handshake(server: configuration, ticket: ticket).0 }
        return total / Double(count) * 1e6
    }

    private func bulk(records: Int) throws -> Double {
        var client = TLSConnection(client: clientConfiguration, serverName: "bench.test", environment: environment)
        var server = TLSConnection(server: serverConfiguration(ecdsa), environment: environment)
        var toServer = client.start().bytesToSend
        while !toServer.isEmpty { toServer = client.receive(server.receive(toServer).bytesToSend).bytesToSend }
        let payload = [UInt8](repeating: 0x5A, count: 16384)
        var received = 0
        let start = processCPUSeconds()
        for _ in 0..<records {
            let output = server.receive(try client.send(payload))
            for case .applicationData(let data) in output.events { received += data.count }
        }
        let seconds = processCPUSeconds() - start
        guard received == records * payload.count else { throw BenchFailure(description: "bulk lost data") }
        return Double(received) / seconds / 1e6
    }

    private func runPython(handshakes: Int, records: Int) throws -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", directory.appendingPathComponent("bench.py").path, directory.path, "\(handshakes)", "\(records)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure(description: "the Python/OpenSSL baseline failed")
        }
        var figures: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { figures[parts[0]] = parts[1] }
        }
        return figures
    }
}

private struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}

/// OpenSSL through Python's ssl module and MemoryBIO: the same work as ours, timed the same way.
private let pythonScript = #"""
    import ssl, sys, time
    folder, handshakes, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    def server_context(name, tickets):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.load_cert_chain(f"{folder}/{name}.pem", f"{folder}/{name}.key")
        context.num_tickets = 1 if tickets else 0
        return context

    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.minimum_version = ssl.TLSVersion.TLSv1_3
    client_context.load_verify_locations(f"{folder}/ca.pem")

    def pump(source, target):
        data = source.read()
        if data:
            target.write(data)
        return len(data)

    # TLS 1.2 only: ECDHE-ECDSA with AES-128-GCM, extended master secret (OpenSSL's default), no ticket.
    tls12_client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls12_client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    tls12_client_context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    tls12_client_context.load_verify_locations(f"{folder}/ca.pem")
    tls12_server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls12_server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    tls12_server_context.options |= ssl.OP_NO_TICKET
    tls12_server_context.load_cert_chain(f"{folder}/ecdsa.pem", f"{folder}/ecdsa.key")

    def handshake(server_ctx, session=None, client_ctx=None):
        c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
        client = (client_ctx or client_context).wrap_bio(c_in, c_out, server_hostname="bench.test", session=session)
        server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
        server_cpu = 0.0
        client_done = server_done = False
        while not (client_done and server_done):
            if not client_done:
                try:
                    client.do_handshake(); client_done = True
                except ssl.SSLWantReadError:
                    pass
            pump(c_out, s_in)
            if not server_done:
                start = time.process_time()
                try:
                    server.do_handshake(); server_done = True
                except ssl.SSLWantReadError:
                    pass
                server_cpu += time.process_time() - start
            pump(s_out, c_in)
        # The client reads the tickets sent after the handshake.
        try:
            client.read(1)
        except ssl.SSLWantReadError:
            pass
        return server_cpu, client, server, (c_in, c_out, s_in, s_out)

    ecdsa, rsa = server_context("ecdsa", False), server_context("rsa", False)
    for name, context in (("ecdsa", ecdsa), ("rsa", rsa)):
        total = sum(handshake(context)[0] for _ in range(handshakes))
        print(f"{name}={total / handshakes * 1e6:.1f}")

    resumable = server_context("ecdsa", True)
    _, first, _, _ = handshake(resumable)
    session = first.session
    total = 0.0
    for _ in range(handshakes):
        cpu, client, _, _ = handshake(resumable, session)
        assert client.session_reused
        total += cpu
    print(f"resumed={total / handshakes * 1e6:.1f}")

    total = 0.0
    for _ in range(handshakes):
        cpu, client, _, _ = handshake(tls12_server_context, client_ctx=tls12_client_context)
        assert client.version() == "TLSv1.2" and client.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
        total += cpu
    print(f"tls12={total / handshakes * 1e6:.1f}")

    bulk_client_context = client_context
    _, client, server, (c_in, c_out, s_in, s_out) = handshake(ecdsa)
    payload = b"\x5a" * 16384
    received = 0
    start = time.process_time()
    for _ in range(records):
        client.write(payload)
        pump(c_out, s_in)
        received += len(server.read(16384))
    seconds = time.process_time() - start
    assert received == records * len(payload)
    print(f"bulk={received / seconds / 1e6:.1f}")
    print(f"version={ssl.OPENSSL_VERSION}")
    """#
