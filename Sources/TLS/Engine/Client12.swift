import Wire

/// The TLS 1.2 client (RFC 5246 with RFC 7627's extended master secret, RFC 5746's renegotiation
/// indication and RFC 5077's tickets). It starts from a TLS 1.3-style ClientHello that also offered
/// TLS 1.2, once the ServerHello says 1.2.
extension TLSConnection {
    mutating func client12ReceiveServerHello(_ start: ClientHandshake, hello: ServerHello, raw: [UInt8])
        throws(TLSError)
    {
        guard start.offers12, hello.legacyVersion == ProtocolVersion.tls12.rawValue else {
            throw .negotiation(.noCommonVersion)
        }
        guard !start.retried else { throw .fatal(.illegalParameter("TLS 1.2 after a HelloRetryRequest")) }
        // RFC 8446 section 4.1.3: a TLS 1.3 server that answers 1.2 marks its random; an attacker
        // who stripped 1.3 from our ClientHello cannot remove the mark without breaking Finished.
        let tail = Array(hello.random.suffix(8))
        if start.offers13 && (tail == downgradeSentinelTLS12 || tail == Array(downgradeSentinelTLS12.prefix(7)) + [0]) {
            throw .fatal(.illegalParameter("downgrade to TLS 1.2 detected (ServerHello.random sentinel)"))
        }
        guard hello.cipherSuite.version == .tls12, configuration.cipherSuites.contains(hello.cipherSuite) else {
            throw .fatal(.illegalParameter("cipher suite \(hello.cipherSuite) was not offered"))
        }
        var allowed: Set<UInt16> = [
            ExtensionType.renegotiationInfo, ExtensionType.extendedMasterSecret, ExtensionType.ecPointFormats,
            ExtensionType.sessionTicket, ExtensionType.serverName,
        ]
        if !configuration.applicationProtocols.isEmpty {
            allowed.insert(ExtensionType.applicationLayerProtocolNegotiation)
        }
        if let stray = hello.extensions.first(where: { !allowed.contains($0.type) }) {
            throw .fatal(.unsupportedExtension(stray.type))
        }
        guard let ems = hello.extensions[ExtensionType.extendedMasterSecret] else {
            throw .negotiation(.noCommonParameter("extended master secret (RFC 7627)"))
        }
        guard ems.isEmpty, hello.extensions[ExtensionType.sessionTicket]?.isEmpty ?? true,
            hello.extensions[ExtensionType.serverName]?.isEmpty ?? true
        else {
            throw .fatal(.decode("extension body in a TLS 1.2 ServerHello"))
        }
        if let info = hello.extensions[ExtensionType.renegotiationInfo], info != [0] {
            throw .negotiation(.noCommonParameter("secure renegotiation (renegotiation_info is not empty)"))
        }
        if let formats = hello.extensions[ExtensionType.ecPointFormats] {
            try requireUncompressedPoints(formats)
        }
        var summary = HandshakeSummary(
            version: .tls12, cipherSuite: hello.cipherSuite, group: nil, signatureScheme: nil,
            applicationProtocol: nil, serverName: start.serverName, peerCertificates: [], resumed: false)
        if let alpn = hello.extensions[ExtensionType.applicationLayerProtocolNegotiation] {
            summary.applicationProtocol = try chosenApplicationProtocol(alpn)
        }
        var handshake = Client12Handshake(
            serverName: start.serverName, clientRandom: start.clientHello.random, serverRandom: hello.random,
            transcript: start.clientHelloMessage + raw, suite: hello.cipherSuite, summary: summary,
            expectsTicket: hello.extensions[ExtensionType.sessionTicket] != nil)
        let echoed = !hello.sessionID.isEmpty && hello.sessionID == start.clientHello.sessionID
        guard echoed else {
            state = .client12ExpectCertificate(handshake)
            return
        }
        // The server echoed our session id: it accepted the ticket (RFC 5077 section 3.4).
        guard let ticket = start.ticket12, ticket.cipherSuite == hello.cipherSuite else {
            throw .fatal(.illegalParameter("the server resumed a session that was not offered"))
        }
        handshake.masterSecret = ticket.psk
        handshake.keys = handshake.schedule.keys(
            masterSecret: ticket.psk, clientRandom: handshake.clientRandom, serverRandom: handshake.serverRandom,
            suite: handshake.suite)
        handshake.summary.resumed = true
        state =
            handshake.expectsTicket
            ? .client12ExpectNewSessionTicket(handshake) : .client12ExpectChangeCipherSpec(handshake)
    }

    /// The one protocol a server chose by ALPN, which must be one we offered.
    func chosenApplicationProtocol(_ body: [UInt8]) throws(TLSError) -> String {
        let names = try ExtensionBody.parse(body, "application_layer_protocol_negotiation", ExtensionBody.protocolNames)
        guard names.count == 1, let name = names.first, configuration.applicationProtocols.contains(name) else {
            throw .fatal(.illegalParameter("the server chose an application protocol that was not offered"))
        }
        return name
    }

    /// ec_point_formats (RFC 8422 section 5.1.2) must list the uncompressed form.
    func requireUncompressedPoints(_ body: [UInt8]) throws(TLSError) {
        let formats = try ExtensionBody.parse(body, "ec_point_formats") { (reader) throws(WireError) in
            var list = try reader.readLengthPrefixed(.uint8)
            return Array(list.readRemainingBytes())
        }
        guard formats.contains(0) else { throw .fatal(.illegalParameter("uncompressed points are not supported")) }
    }

    mutating func client12HandleHandshake(_ type: HandshakeType, body: [UInt8], raw: [UInt8]) throws(TLSError) {
        switch state {
        case .client12ExpectCertificate(var handshake):
            guard type == .certificate else { throw unexpected(type) }
            let chain = try Certificate12.parse(body).chain
            guard !chain.isEmpty else { throw .fatal(.decode("the server sent no certificate")) }
            let key = try PeerPublicKey(certificate: chain[0], minimumRSABits: configuration.minimumRSABits)
            guard key.isRSA == handshake.suite.authenticatesWithRSA else {
                throw .authentication(.badCertificate("the certificate's key does not fit \(handshake.suite)"))
            }
            guard let authenticator = configuration.authenticator else {
                throw .authentication(.unknownIssuer("no way to verify the server is configured"))
            }
            try authenticator.authenticate(
                chain: chain, spki: key.subjectPublicKeyInfo, purpose: .server(hostName: handshake.serverName),
                now: environment.now())
            handshake.peerKey = key
            handshake.summary.peerCertificates = chain
            handshake.transcript += raw
            state = .client12ExpectServerKeyExchange(handshake)
        case .client12ExpectServerKeyExchange(var handshake):
            guard type == .serverKeyExchange, let key = handshake.peerKey else { throw unexpected(type) }
            let exchange = try ServerKeyExchange12.parse(body)
            guard configuration.groups.contains(exchange.group), NamedGroup.supportedTLS12.contains(exchange.group)
            else {
                throw .fatal(.illegalParameter("ServerKeyExchange for group \(exchange.group), which was not offered"))
            }
            guard configuration.signatureSchemes.contains(exchange.scheme) else {
                throw .fatal(.illegalParameter("signature scheme \(exchange.scheme) was not offered"))
            }
            let signed = handshake.clientRandom + handshake.serverRandom + exchange.parameters
            guard key.isValidTLS12(signature: exchange.signature, scheme: exchange.scheme, message: signed) else {
                throw .fatal(.decryptError("the server's ServerKeyExchange signature"))
            }
            handshake.serverKeyExchange = exchange
            handshake.summary.group = exchange.group
            handshake.summary.signatureScheme = exchange.scheme
            handshake.transcript += raw
            state = .client12ExpectCertificateRequestOrDone(handshake)
        case .client12ExpectCertificateRequestOrDone(var handshake):
            if type == .certificateRequest {
                handshake.certificateRequest = try CertificateRequest12.parse(body)
                handshake.transcript += raw
                state = .client12ExpectServerHelloDone(handshake)
            } else {
                guard type == .serverHelloDone else { throw unexpected(type) }
                try client12SendFlight(handshake, body: body, raw: raw)
            }
        case .client12ExpectServerHelloDone(let handshake):
            guard type == .serverHelloDone else { throw unexpected(type) }
            try client12SendFlight(handshake, body: body, raw: raw)
        case .client12ExpectNewSessionTicket(var handshake):
            guard type == .newSessionTicket else { throw unexpected(type) }
            let message = try NewSessionTicket12.parse(body)
            handshake.transcript += raw
            if !message.ticket.isEmpty {
                handshake.ticket = SessionTicket(
                    ticket: message.ticket, psk: handshake.masterSecret, cipherSuite: handshake.suite, ageAdd: 0,
                    receivedAt: environment.now(),
                    lifetime: message.lifetimeHint == 0 ? 7200 : min(message.lifetimeHint, 604_800),
                    serverName: handshake.serverName)
            }
            state = .client12ExpectChangeCipherSpec(handshake)
        case .client12ExpectFinished(var handshake):
            guard type == .finished else { throw unexpected(type) }
            let schedule = handshake.schedule
            let expected = schedule.finishedVerifyData(
                masterSecret: handshake.masterSecret, client: false,
                handshakeHash: handshake.suite.hash.hash(handshake.transcript))
            guard body.count == expected.count else { throw .fatal(.decode("Finished of \(body.count) bytes")) }
            guard constantTimeEqual(expected, body) else { throw .fatal(.decryptError("the server's Finished")) }
            handshake.transcript += raw
            if handshake.summary.resumed {
                guard let keys = handshake.keys else { throw .internalError("no keys") }
                sendChangeCipherSpec()
                writeProtection = keys.protection(client: true)
                try sendHandshake(
                    .finished,
                    schedule.finishedVerifyData(
                        masterSecret: handshake.masterSecret, client: true,
                        handshakeHash: handshake.suite.hash.hash(handshake.transcript)))
            }
            state = .connected12(TLS12Session(suite: handshake.suite))
            events.append(.handshakeComplete(handshake.summary))
            if let ticket = handshake.ticket { events.append(.sessionTicket(ticket)) }
        default:
            throw unexpected(type)
        }
    }

    /// After ServerHelloDone: [Certificate], ClientKeyExchange, [CertificateVerify],
    /// ChangeCipherSpec, Finished.
    private mutating func client12SendFlight(_ start: Client12Handshake, body: [UInt8], raw: [UInt8])
        throws(TLSError)
    {
        var handshake = start
        guard body.isEmpty else { throw .fatal(.decode("ServerHelloDone with a body")) }
        guard let exchange = handshake.serverKeyExchange else { throw unexpected(.serverHelloDone) }
        handshake.transcript += raw
        var signer: (CertifiedKey, SignatureScheme)?
        if let request = handshake.certificateRequest {
            if let identity = configuration.identities.first,
                request.certificateTypes.contains(
                    identity.key.isRSA ? CertificateRequest12.rsaSign : CertificateRequest12.ecdsaSign),
                let scheme = identity.key.tls12Schemes.first(where: request.schemes.contains)
            {
                signer = (identity, scheme)
            }
            handshake.transcript += try sendHandshake(
                .certificate, try Certificate12(chain: signer?.0.chain ?? []).encode())
        }
        let (point, preMasterSecret) = try KeyShare.respond(
            to: exchange.point, group: exchange.group, random: environment.random)
        handshake.transcript += try sendHandshake(.clientKeyExchange, ClientKeyExchange12.encode(point))
        let schedule = handshake.schedule
        handshake.masterSecret = schedule.extendedMasterSecret(
            preMasterSecret: preMasterSecret, sessionHash: handshake.suite.hash.hash(handshake.transcript))
        let keys = schedule.keys(
            masterSecret: handshake.masterSecret, clientRandom: handshake.clientRandom,
            serverRandom: handshake.serverRandom, suite: handshake.suite)
        handshake.keys = keys
        if let (identity, scheme) = signer {
            let signature = try identity.key.sign(scheme, handshake.transcript)
            handshake.transcript += try sendHandshake(
                .certificateVerify, try CertificateVerifyMessage(scheme: scheme, signature: signature).encode())
        }
        sendChangeCipherSpec()
        writeProtection = keys.protection(client: true)
        let finished = schedule.finishedVerifyData(
            masterSecret: handshake.masterSecret, client: true,
            handshakeHash: handshake.suite.hash.hash(handshake.transcript))
        handshake.transcript += try sendHandshake(.finished, finished)
        state =
            handshake.expectsTicket
            ? .client12ExpectNewSessionTicket(handshake) : .client12ExpectChangeCipherSpec(handshake)
    }

    /// The peer's ChangeCipherSpec: its next records are protected with the new keys.
    mutating func receiveChangeCipherSpec12() throws(TLSError) {
        switch state {
        case .client12ExpectChangeCipherSpec(let handshake):
            guard let keys = handshake.keys else { throw .internalError("no keys") }
            readProtection = keys.protection(client: false)
            state = .client12ExpectFinished(handshake)
        case .server12ExpectChangeCipherSpec(let handshake):
            guard let keys = handshake.keys else { throw .internalError("no keys") }
            readProtection = keys.protection(client: true)
            state = .server12ExpectFinished(handshake)
        default:
            throw .fatal(.unexpectedMessage("ChangeCipherSpec at this point"))
        }
        readKeyChanged = true
    }

    /// After a TLS 1.2 handshake: renegotiation is refused with a no_renegotiation warning
    /// (RFC 5746 makes it safe, but we never need it); anything else is unexpected.
    mutating func handlePostHandshake12(_ type: HandshakeType, body: [UInt8]) throws(TLSError) {
        switch type {
        case .helloRequest where isClient:
            guard body.isEmpty else { throw .fatal(.decode("HelloRequest with a body")) }
            pending += try alertRecord(.noRenegotiation, fatal: false)
        case .clientHello where !isClient:
            pending += try alertRecord(.noRenegotiation, fatal: false)
        default:
            throw unexpected(type)
        }
    }
}
