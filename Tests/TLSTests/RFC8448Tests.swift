import Crypto
import Testing

@testable import TLS

/// Randomness that hands out prepared blocks in order, then falls back to system randomness.
final class ScriptedRandom: @unchecked Sendable {
    private var blocks: [[UInt8]]
    init(_ blocks: [[UInt8]]) { self.blocks = blocks }

    func next(_ count: Int) -> [UInt8] {
        if let block = blocks.first, block.count == count {
            blocks.removeFirst()
            return block
        }
        return TLSEnvironment.system(now: { 0 }).random(count)
    }
}

func scriptedEnvironment(_ blocks: [[UInt8]], now: Int64 = 1_500_000_000) -> TLSEnvironment {
    let random = ScriptedRandom(blocks)
    return TLSEnvironment(random: random.next, now: { now })
}

@Suite("RFC 8448 simple 1-RTT handshake")
struct RFC8448Tests {
    @Test("key schedule reproduces every secret of the trace")
    func keySchedule() throws {
        let schedule = KeySchedule(hash: .sha256)
        let early = schedule.earlySecret(psk: nil)
        #expect(early == RFC8448.earlySecret)
        let handshake = schedule.handshakeSecret(earlySecret: early, sharedSecret: RFC8448.sharedSecret)
        #expect(handshake == RFC8448.handshakeSecret)
        #expect(
            schedule.deriveSecret(handshake, label: "c hs traffic", transcriptHash: RFC8448.helloHash)
                == RFC8448.clientHandshakeTraffic)
        #expect(
            schedule.deriveSecret(handshake, label: "s hs traffic", transcriptHash: RFC8448.helloHash)
                == RFC8448.serverHandshakeTraffic)
        #expect(schedule.finishedKey(RFC8448.serverHandshakeTraffic) == RFC8448.serverFinishedKey)
        let master = schedule.masterSecret(handshakeSecret: handshake)
        #expect(master == RFC8448.masterSecret)
        #expect(
            schedule.deriveSecret(master, label: "c ap traffic", transcriptHash: RFC8448.serverFinishedHash)
                == RFC8448.clientApplicationTraffic)
        #expect(
            schedule.deriveSecret(master, label: "s ap traffic", transcriptHash: RFC8448.serverFinishedHash)
                == RFC8448.serverApplicationTraffic)
    }

    @Test("transcript hash and X25519 shared secret")
    func transcriptAndKeyExchange() throws {
        var transcript = Transcript()
        transcript.append(RFC8448.clientHello)
        transcript.select(.sha256)
        transcript.append(RFC8448.serverHello)
        #expect(transcript.currentHash == RFC8448.helloHash)
        let client = try KeyShare.generate(.x25519, random: { _ in RFC8448.clientPrivateKey })
        let serverPublic = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: RFC8448.serverPrivateKey).publicKey
        #expect(try client.sharedSecret(peerShare: Array(serverPublic.rawRepresentation)) == RFC8448.sharedSecret)
    }

    private var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.cipherSuites = [.aes128GCMSHA256, .chacha20Poly1305SHA256, .aes256GCMSHA384]
        configuration.groups = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104].map(
            NamedGroup.init(rawValue:))
        configuration.keyShareGroups = [.x25519]
        configuration.signatureSchemes = [
            0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502,
            0x0602, 0x0202,
        ].map(SignatureScheme.init(rawValue:))
        configuration.middleboxCompatibility = false
        configuration.recordSizeLimit = 0x4001
        configuration.offerLegacySessionTicket = true
        configuration.minimumRSABits = 1024
        configuration.authenticator = .fingerprints([Array(SHA256.hash(data: RFC8448.certificate))])
        return configuration
    }

    @Test("the client reproduces the trace byte for byte")
    func clientTrace() throws {
        var client = TLSConnection(
            client: clientConfiguration, serverName: "server",
            environment: scriptedEnvironment([RFC8448.clientRandom, RFC8448.clientPrivateKey]))
        let hello = client.start()
        #expect(hello.bytesToSend == RFC8448.clientHelloRecord)

        let flight = client.receive(RFC8448.serverHelloRecord + RFC8448.serverFlightRecord)
        #expect(flight.error == nil)
        #expect(flight.bytesToSend == RFC8448.clientFinishedRecord)
        let summary = try #require(
            flight.events.compactMap { event -> HandshakeSummary? in
                if case .handshakeComplete(let summary) = event { return summary }
                return nil
            }.first)
        #expect(summary.cipherSuite == .aes128GCMSHA256)
        #expect(summary.group == .x25519)
        #expect(summary.signatureScheme == .rsaPSSRSAESHA256)
        #expect(summary.peerCertificates == [RFC8448.certificate])

        let ticket = client.receive(RFC8448.newSessionTicketRecord)
        #expect(ticket.error == nil)
        #expect(ticket.events.contains { if case .sessionTicket = $0 { return true } else { return false } })

        #expect(try client.send(RFC8448.applicationPayload) == RFC8448.clientApplicationRecord)
        let data = client.receive(RFC8448.serverApplicationRecord)
        #expect(data.events == [.applicationData(RFC8448.applicationPayload)])
        #expect(client.close() == RFC8448.clientCloseNotifyRecord)
    }

    @Test("the server answers the trace's ClientHello with the trace's ServerHello and keys")
    func serverTrace() throws {
        var configuration = TLSConfiguration()
        configuration.identities = [try testAuthority.issue(names: ["server"], notBefore: 0, lifetime: 1 << 31)]
        var server = TLSConnection(
            server: configuration,
            environment: scriptedEnvironment([RFC8448.serverPrivateKey, RFC8448.serverRandom]))
        let output = server.receive(RFC8448.clientHelloRecord)
        #expect(output.error == nil)
        let records = output.bytesToSend
        #expect(Array(records.prefix(RFC8448.serverHelloRecord.count)) == RFC8448.serverHelloRecord)

        // The next record is protected with the trace's server handshake key: open it independently.
        let rest = Array(records.dropFirst(RFC8448.serverHelloRecord.count))
        try #require(rest.count > 5 + 16)
        let length = Int(rest[3]) << 8 | Int(rest[4])
        let body = rest[5..<(5 + length)]
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: RFC8448.serverHandshakeIV), ciphertext: body.dropLast(16), tag: body.suffix(16))
        let inner = Array(
            try AES.GCM.open(box, using: SymmetricKey(data: RFC8448.serverHandshakeKey), authenticating: rest[0..<5]))
        #expect(inner.first == 8, "EncryptedExtensions comes first")
        #expect(inner.last == 22, "the inner content type is handshake")
    }
}

/// One CA for every test in this target.
let testAuthority: CertificateAuthority = {
    do {
        return try CertificateAuthority(name: "Quercus Test CA", notBefore: 0, lifetime: 1 << 32)
    } catch {
        fatalError("cannot create the test CA: \(error)")
    }
}()
