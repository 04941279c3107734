import Testing

@testable import TLS

/// Malformed, truncated, reordered and oversized input: each must end the connection with the
/// alert RFC 8446 names for it, never a trap.
@Suite("Bad input ends the connection with the right alert")
struct BadInputTests {
    private func freshServer() throws -> TLSConnection {
        TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
    }

    /// The alert record (unprotected) a failed connection sent: level and description.
    private func alert(in bytes: [UInt8]) -> (level: UInt8, description: UInt8)? {
        guard bytes.count == 7, bytes[0] == 21 else { return nil }
        return (bytes[5], bytes[6])
    }

    @Test("a record longer than 2^14 bytes is record_overflow")
    func oversizedRecord() throws {
        var server = try freshServer()
        let output = server.receive([22, 3, 1, 0x40, 0x01])
        #expect(output.error?.alert == .recordOverflow)
        #expect(alert(in: output.bytesToSend)?.description == AlertDescription.recordOverflow.rawValue)
        #expect(alert(in: output.bytesToSend)?.level == 2)
        #expect(server.isClosed)
    }

    @Test("a truncated record waits for more bytes instead of failing")
    func truncatedRecord() throws {
        var server = try freshServer()
        let output = server.receive([22, 3, 1, 0, 10, 1, 0])
        #expect(output.error == nil)
        #expect(output.bytesToSend.isEmpty)
        #expect(!server.isClosed)
    }

    @Test("a ClientHello whose lengths disagree is decode_error")
    func malformedClientHello() throws {
        var server = try freshServer()
        // Handshake header says 6 bytes of ClientHello, which is too short for the version and random.
        let output = server.receive([22, 3, 1, 0, 10, 1, 0, 0, 6, 3, 3, 0, 0, 0, 0])
        #expect(output.error?.alert == .decodeError)
        #expect(alert(in: output.bytesToSend)?.description == AlertDescription.decodeError.rawValue)
    }

    @Test("a Finished before any ClientHello is unexpected_message")
    func reorderedMessage() throws {
        var server = try freshServer()
        let output = server.receive([22, 3, 3, 0, 8, 20, 0, 0, 4, 1, 2, 3, 4])
        #expect(output.error?.alert == .unexpectedMessage)
    }

    @Test("application data before the handshake is unexpected_message")
    func earlyApplicationData() throws {
        var server = try freshServer()
        #expect(server.receive([23, 3, 3, 0, 1, 0]).error?.alert == .unexpectedMessage)
    }

    @Test("an unknown content type is unexpected_message")
    func unknownContentType() throws {
        var server = try freshServer()
        #expect(server.receive([99, 3, 3, 0, 1, 0]).error?.alert == .unexpectedMessage)
    }

    @Test("a ClientHello with neither TLS 1.3 nor TLS 1.2 in supported_versions is protocol_version")
    func noCommonVersion() throws {
        var configuration = clientConfiguration()
        configuration.versions = [.tls13]
        var client = TLSConnection(
            client: configuration, serverName: "server.test", environment: .system(now: { testNow }))
        var hello = client.start().bytesToSend
        // Rewrite the supported_versions body 02 03 04 to 02 03 02 (TLS 1.1 only).
        let pattern: [UInt8] = [0x00, 0x2B, 0x00, 0x03, 0x02, 0x03, 0x04]
        let index = try #require(hello.firstRange(of: pattern))
        hello[index.upperBound - 1] = 0x02
        var server = try freshServer()
        #expect(server.receive(hello).error?.alert == .protocolVersion)
    }

    @Test("a tampered protected record is bad_record_mac, and the alert is protected")
    func tamperedRecord() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration())
        pair.handshake()
        var record = try pair.client.send([1, 2, 3])
        record[record.count - 1] ^= 1
        let output = pair.server.receive(record)
        #expect(output.error == .fatal(.badRecordMAC))
        #expect(output.bytesToSend.first == 23, "after the handshake the alert is a protected record")
        #expect(pair.client.receive(output.bytesToSend).error == .peerAlert(.badRecordMAC))
    }

    @Test("a protected record whose padding takes it past 2^14 + 1 bytes is record_overflow")
    func paddedOverflow() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration())
        pair.handshake()
        // Our sender never pads that far, so seal by hand with the client's own write key.
        var protection = try #require(pair.client.writeProtection)
        let record = try protection.seal(.applicationData, [1][...], padding: RecordProtection.maximumPlaintext + 1)
        #expect(pair.server.receive(record).error?.alert == .recordOverflow)
    }

    @Test("a second ClientHello after the handshake is unexpected_message")
    func renegotiationAttempt() throws {
        var pair = Pair(client: clientConfiguration(), server: try serverConfiguration())
        pair.handshake()
        var other = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        let hello = other.start().bytesToSend
        // Send the ClientHello message again, but inside a protected record of the live connection.
        var connection = pair.client
        let message = Array(hello.dropFirst(5))
        let protected = try connection.protect(.handshake, message[...])
        #expect(pair.server.receive(protected).error?.alert == .unexpectedMessage)
    }

    @Test("an empty alert record is unexpected_message")
    func emptyAlert() throws {
        var server = try freshServer()
        #expect(server.receive([21, 3, 3, 0, 0]).error?.alert == .unexpectedMessage)
    }

    @Test("a ClientHello with a legacy_version below TLS 1.2 is protocol_version")
    func oldLegacyVersion() throws {
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        var hello = client.start().bytesToSend
        #expect(Array(hello[9..<11]) == [3, 3])
        hello[10] = 1
        var server = try freshServer()
        #expect(server.receive(hello).error?.alert == .protocolVersion)
    }

    @Test("after a failure every input is refused")
    func closedAfterFailure() throws {
        var server = try freshServer()
        _ = server.receive([99, 3, 3, 0, 1, 0])
        let output = server.receive([22, 3, 1, 0, 1, 1])
        #expect(output.error == .closed)
        #expect(output.bytesToSend.isEmpty)
    }
}

@Suite("0-RTT is refused safely")
struct EarlyDataTests {
    @Test("records of refused early data are skipped, up to a limit, and the handshake goes on")
    func earlyDataSkipped() throws {
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        let record = client.start().bytesToSend
        var hello = try ClientHello.parse(Array(record.dropFirst(9)))
        hello.extensions.insert(Extension(type: 42, body: []), at: 0)
        let message = handshakeMessage(.clientHello, try hello.encode())
        let helloRecord = [22, 3, 1, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
        let earlyRecord: [UInt8] = [23, 3, 3, 0, 100] + Array(repeating: 0xAB, count: 100)

        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        let output = server.receive(helloRecord + earlyRecord + earlyRecord)
        #expect(output.error == nil)
        #expect(!output.bytesToSend.isEmpty, "the server flight is sent")
        #expect(!server.isClosed)

        // Without early_data in the ClientHello, the same record is an attack: bad_record_mac.
        var strict = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        #expect(strict.receive(record + earlyRecord).error == .fatal(.badRecordMAC))
    }

    @Test("after a HelloRetryRequest, refused early data is skipped until the second ClientHello")
    func earlyDataSkippedAfterHelloRetryRequest() throws {
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        let record = client.start().bytesToSend
        var hello = try ClientHello.parse(Array(record.dropFirst(9)))
        hello.extensions.insert(Extension(type: 42, body: []), at: 0)
        let message = handshakeMessage(.clientHello, try hello.encode())
        let helloRecord = [22, 3, 1, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
        let earlyRecord: [UInt8] = [23, 3, 3, 0, 100] + Array(repeating: 0xAB, count: 100)

        // The client's key share is X25519; a server that takes only P-256 asks again.
        var configuration = try serverConfiguration()
        configuration.groups = [.secp256r1]
        var server = TLSConnection(server: configuration, environment: .system(now: { testNow }))
        let retry = server.receive(helloRecord + earlyRecord)
        #expect(retry.error == nil)
        #expect(!server.isClosed)
        // The client answers the HelloRetryRequest (its transcript lacks our early_data, so only the
        // server's acceptance of the second ClientHello is checked here).
        let second = client.receive(retry.bytesToSend)
        #expect(second.error == nil)
        let flight = server.receive(earlyRecord + second.bytesToSend)
        #expect(flight.error == nil)
        #expect(!flight.bytesToSend.isEmpty, "the ServerHello flight is sent")
        // After the second ClientHello, application data in the clear is unexpected again.
        #expect(server.receive(earlyRecord).error == .fatal(.badRecordMAC))
    }

    @Test("an empty application data record is never taken for skipped early data")
    func emptyApplicationDataIsNotSkipped() throws {
        // Before the ClientHello: in the clear, unexpected.
        var fresh = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        #expect(fresh.receive([23, 3, 3, 0, 0]).error?.alert == .unexpectedMessage)
        #expect(fresh.isClosed)
        // After a ClientHello without early_data: under handshake keys, too short to open.
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
        #expect(server.receive(client.start().bytesToSend + [23, 3, 3, 0, 0]).error == .fatal(.badRecordMAC))
        #expect(server.isClosed)
    }
}

@Suite("ClientHello values that parse but are not allowed")
struct IllegalClientHelloTests {
    private func record(_ hello: ClientHello) throws -> [UInt8] {
        let message = handshakeMessage(.clientHello, try hello.encode())
        return [22, 3, 1, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    @Test("a server_name that is not an ASCII host name, or names two, is illegal_parameter")
    func nonASCIIServerName() throws {
        let twice = Array("server.test".utf8)
        let lists: [[[UInt8]]] = [
            [Array("bad\u{7}name".utf8)], [Array("caf\u{e9}.test".utf8)], [[0x61, 0x00, 0x62]], [twice, twice],
        ]
        for names in lists {
            var client = TLSConnection(
                client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
            var hello = try ClientHello.parse(Array(client.start().bytesToSend.dropFirst(9)))
            let index = try #require(hello.extensions.firstIndex { $0.type == ExtensionType.serverName })
            let entries: [UInt8] = names.flatMap { name -> [UInt8] in
                [0, UInt8(name.count >> 8), UInt8(name.count & 0xFF)] + name
            }
            hello.extensions[index].body = [UInt8(entries.count >> 8), UInt8(entries.count & 0xFF)] + entries
            var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
            #expect(server.receive(try record(hello)).error?.alert == .illegalParameter, "\(names)")
        }
    }

    @Test("a second ClientHello whose extensions are reordered is illegal_parameter")
    func reorderedSecondClientHello() throws {
        var client = TLSConnection(
            client: clientConfiguration(), serverName: "server.test", environment: .system(now: { testNow }))
        var configuration = try serverConfiguration()
        configuration.groups = [.secp256r1]
        var server = TLSConnection(server: configuration, environment: .system(now: { testNow }))
        let retry = server.receive(client.start().bytesToSend)
        #expect(retry.error == nil)
        let second = client.receive(retry.bytesToSend).bytesToSend
        // The second ClientHello follows the client's ChangeCipherSpec record (middlebox compatibility).
        let offset = second.starts(with: [20, 3, 3, 0, 1, 1]) ? 6 : 0
        var hello = try ClientHello.parse(Array(second.dropFirst(offset + 9)))
        hello.extensions.reverse()
        #expect(server.receive(try record(hello)).error?.alert == .illegalParameter)
    }
}

@Suite("Empty lists the protocol declares non-empty")
struct EmptyListTests {
    /// Our client's ClientHello with the extension `type` replaced by an empty 16-bit list.
    private func helloWithEmptyList(_ type: UInt16, versions: [ProtocolVersion]) throws -> [UInt8] {
        var configuration = clientConfiguration()
        configuration.versions = versions
        if versions == [.tls12] { configuration.cipherSuites = CipherSuite.supportedTLS12 }
        var client = TLSConnection(
            client: configuration, serverName: "server.test", environment: .system(now: { testNow }))
        var hello = try ClientHello.parse(Array(client.start().bytesToSend.dropFirst(9)))
        let index = try #require(hello.extensions.firstIndex { $0.type == type })
        hello.extensions[index].body = [0, 0]
        let message = handshakeMessage(.clientHello, try hello.encode())
        return [22, 3, 1, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    @Test(
        "an empty signature_algorithms, supported_groups or server_name list is decode_error, in TLS 1.3 and 1.2",
        arguments: [ExtensionType.signatureAlgorithms, ExtensionType.supportedGroups, ExtensionType.serverName])
    func emptyList(_ type: UInt16) throws {
        for versions: [ProtocolVersion] in [[.tls13, .tls12], [.tls12]] {
            var server = TLSConnection(server: try serverConfiguration(), environment: .system(now: { testNow }))
            let output = server.receive(try helloWithEmptyList(type, versions: versions))
            #expect(output.error?.alert == .decodeError, "\(versions): \(String(describing: output.error))")
        }
    }
}
