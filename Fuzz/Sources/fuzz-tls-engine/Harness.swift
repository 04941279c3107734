import FuzzSupport
import TLS

// The TLS engine on arbitrary bytes. The first byte picks who reads the rest:
//   0: a fresh server (ClientHello parsing, record framing, alerts),
//   1: a client that has sent its ClientHello (ServerHello and everything after),
//   2: a server in the middle of an established connection (protected records, post-handshake messages),
//   3: application data sent by an established client, which the server must return unchanged,
//   4-7: the same for TLS 1.2 only, with client certificates and tickets. These use fixed keys and
//        fixed randomness, so a seed's server flight (Fuzz/Seeds/fuzz-tls-engine/tls12-*) verifies
//        and the fuzzer gets past ServerKeyExchange into the client's own flight.
// Properties: the engine never traps; a failure always closes the connection and comes with the
// alert its error maps to; after a failure every further input is refused.
// (The globals are read-only after setup and libFuzzer runs one input at a time.)
@_cdecl("fuzz_tls_engine_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzTLSEngine)
}

nonisolated(unsafe) private let environment = TLSEnvironment.system(now: { 1_800_000_000 })

nonisolated(unsafe) private let fixtures:
    (server: TLSConfiguration, client: TLSConfiguration, connected: (TLSConnection, TLSConnection)) =
        {
            do {
                let authority = try CertificateAuthority(name: "Fuzz CA", notBefore: 0, lifetime: 1 << 32)
                var server = TLSConfiguration()
                server.identities = [try authority.issue(names: ["fuzz.test"], notBefore: 0, lifetime: 1 << 32)]
                var client = TLSConfiguration()
                client.authenticator = .certificateAuthorities([authority.certificate])
                var clientConnection = TLSConnection(client: client, serverName: "fuzz.test", environment: environment)
                var serverConnection = TLSConnection(server: server, environment: environment)
                var toServer = clientConnection.start().bytesToSend
                while !toServer.isEmpty {
                    let answer = serverConnection.receive(toServer)
                    toServer = clientConnection.receive(answer.bytesToSend).bytesToSend
                }
                guard clientConnection.isHandshakeComplete, serverConnection.isHandshakeComplete else {
                    fatalError("the fixture handshake did not complete")
                }
                return (server, client, (clientConnection, serverConnection))
            } catch {
                fatalError("fixture setup failed: \(error)")
            }
        }()

nonisolated(unsafe) private let fixedEnvironment = TLSEnvironment(
    random: { [UInt8](repeating: 0x5A, count: $0) }, now: { 1_800_000_000 })

nonisolated(unsafe) private let fixtures12:
    (server: TLSConfiguration, client: TLSConfiguration, connected: (TLSConnection, TLSConnection)) =
        {
            do {
                let authority = try CertificateAuthority(
                    name: "Fuzz CA", key: try SigningKey(pem: caKey), notBefore: 0, lifetime: 1 << 32)
                var server = TLSConfiguration()
                server.versions = [.tls12]
                server.identities = [
                    try authority.issue(
                        names: ["fuzz.test"], key: try SigningKey(pem: serverKey), notBefore: 0, lifetime: 1 << 32)
                ]
                server.authenticator = .certificateAuthorities([authority.certificate])
                server.ticketsToSend = 1
                server.ticketKey = [UInt8](repeating: 7, count: 32)
                var client = TLSConfiguration()
                client.versions = [.tls12]
                client.authenticator = .certificateAuthorities([authority.certificate])
                client.identities = [
                    try authority.issue(
                        names: ["client.test"], key: try SigningKey(pem: clientKey), usage: .client, notBefore: 0,
                        lifetime: 1 << 32)
                ]
                var clientConnection = TLSConnection(
                    client: client, serverName: "fuzz.test", environment: fixedEnvironment)
                var serverConnection = TLSConnection(server: server, environment: fixedEnvironment)
                var toServer = clientConnection.start().bytesToSend
                while !toServer.isEmpty {
                    let answer = serverConnection.receive(toServer)
                    toServer = clientConnection.receive(answer.bytesToSend).bytesToSend
                }
                guard clientConnection.isHandshakeComplete, serverConnection.isHandshakeComplete else {
                    fatalError("the TLS 1.2 fixture handshake did not complete")
                }
                return (server, client, (clientConnection, serverConnection))
            } catch {
                fatalError("TLS 1.2 fixture setup failed: \(error)")
            }
        }()

private let caKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeYefygwGZIz8C7i3
    xYw4InYdQ1GPxgvQYUU8huilNL+hRANCAATHSdJRPd4h8bsP2IQODiSGnuhZqox7
    ygcyp9+RfrKqLYttMQw8D8vTexvA1wborz2KOC5fZ1H9Xz3pjJQYdNlY
    -----END PRIVATE KEY-----
    """
private let serverKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYZr7JVE3G5ybA8Ju
    RqBTBMeGLycnyf3Wgwa1q5Tn+wGhRANCAAQVIZix96YIZNoW/xN9/8z2lEc8EdB9
    c9gKZvyCjrW69CanOnkQ3L6xXTh1JxCn1pBtLVMlG8PSvlUt9PVqLobb
    -----END PRIVATE KEY-----
    """
private let clientKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXizszPJ+NPxaQO18
    fgjQkHQUOSYiaUJLtTq533XV4GqhRANCAASm3lwMRF2baYJQrvqvI7KiEpEgj3+j
    q38+20uF8bjgcIj6Huz+TBzs5EBtA8EmelaOjz52GrwrZOd+01lzY4ZP
    -----END PRIVATE KEY-----
    """

private func fuzzTLSEngine(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let mode = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    switch mode % 8 {
    case 4:
        var server = TLSConnection(server: fixtures12.server, environment: fixedEnvironment)
        check(&server, feeding: rest)
    case 5:
        var client = TLSConnection(client: fixtures12.client, serverName: "fuzz.test", environment: fixedEnvironment)
        _ = client.start()
        check(&client, feeding: rest)
    case 6:
        var server = fixtures12.connected.1
        check(&server, feeding: rest)
    case 7:
        roundTrip(fixtures12.connected, rest)
    case 0:
        var server = TLSConnection(server: fixtures.server, environment: environment)
        check(&server, feeding: rest)
    case 1:
        var client = TLSConnection(client: fixtures.client, serverName: "fuzz.test", environment: environment)
        _ = client.start()
        check(&client, feeding: rest)
    case 2:
        var server = fixtures.connected.1
        check(&server, feeding: rest)
    default:
        roundTrip(fixtures.connected, rest)
    }
    return 0
}

/// Application data sent by an established client must reach the server unchanged.
private func roundTrip(_ pair: (TLSConnection, TLSConnection), _ rest: [UInt8]) {
    var (client, server) = pair
    guard let records = try? client.send(rest) else { fatalError("an established client could not send") }
    let output = server.receive(records)
    let received = output.events.flatMap { event -> [UInt8] in
        if case .applicationData(let data) = event { return data }
        return []
    }
    guard output.error == nil, received == rest else { fatalError("application data did not round-trip") }
}

/// Feeds `bytes` in two pieces (so record reassembly is exercised) and checks the failure rules.
private func check(_ connection: inout TLSConnection, feeding bytes: [UInt8]) {
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for piece in [Array(bytes[..<split]), Array(bytes[split...])] {
        let output = connection.receive(piece)
        guard let error = output.error else { continue }
        guard connection.isClosed else { fatalError("a failed connection stayed open") }
        if error.alert != nil && error != .closed && output.bytesToSend.count < 7 {
            fatalError("the error \(error) was not reported with an alert")
        }
        if !connection.receive([0x17, 0x03, 0x03, 0x00, 0x00]).bytesToSend.isEmpty {
            fatalError("a closed connection produced output")
        }
        return
    }
}
