import Wire

/// The TLS 1.2 server: ECDHE with AEAD suites, the extended master secret required, renegotiation
/// indicated but refused, RFC 5077 tickets for resumption.
extension TLSConnection {
    mutating func server12ReceiveClientHello(_ hello: ClientHello, raw: [UInt8]) throws(TLSError) {
        guard hello.compressionMethods.contains(0) else {
            throw .fatal(.illegalParameter("compression methods without null"))
        }
        // RFC 5746: an initial handshake carries an empty renegotiation_info or the SCSV.
        let renegotiationInfo = hello.extensions[ExtensionType.renegotiationInfo]
        if let info = renegotiationInfo, info != [0] {
            throw .negotiation(.noCommonParameter("secure renegotiation (renegotiation_info is not empty)"))
        }
        let secureRenegotiation =
            renegotiationInfo != nil || hello.cipherSuites.contains(.emptyRenegotiationInfoSCSV)
        guard let ems = hello.extensions[ExtensionType.extendedMasterSecret] else {
            throw .negotiation(.noCommonParameter("extended master secret (RFC 7627)"))
        }
        guard ems.isEmpty else { throw .fatal(.decode("extended_master_secret with a body")) }
        let pointFormats = hello.extensions[ExtensionType.ecPointFormats]
        if let pointFormats { try requireUncompressedPoints(pointFormats) }

        var summary = HandshakeSummary(
            version: .tls12, cipherSuite: .ecdheECDSAWithAES128GCMSHA256, group: nil, signatureScheme: nil,
            applicationProtocol: nil, serverName: nil, peerCertificates: [], resumed: false)
        (summary.serverName, summary.applicationProtocol) = try serverNameAndApplicationProtocol(hello)
        let ticketBody = hello.extensions[ExtensionType.sessionTicket]
        let sendsTicket = ticketBody != nil && configuration.ticketKey != nil && configuration.ticketsToSend > 0

        var serverRandom = environment.random(32)
        if configuration.enables(.tls13) {
            serverRandom.replaceSubrange(24..<32, with: downgradeSentinelTLS12)
        }
        func serverHello(suite: CipherSuite, sessionID: [UInt8]) throws(TLSError) -> [UInt8] {
            var extensions: [Extension] = []
            if secureRenegotiation { extensions.append(Extension(type: ExtensionType.renegotiationInfo, body: [0])) }
            extensions.append(Extension(type: ExtensionType.extendedMasterSecret, body: []))
            if pointFormats != nil { extensions.append(Extension(type: ExtensionType.ecPointFormats, body: [1, 0])) }
            if let chosen = summary.applicationProtocol {
                extensions.append(
                    Extension(
                        type: ExtensionType.applicationLayerProtocolNegotiation,
                        body: try decoding { () throws(WireError) in try ExtensionBody.encodeProtocolNames([chosen]) }))
            }
            if sendsTicket { extensions.append(Extension(type: ExtensionType.sessionTicket, body: [])) }
            let message = ServerHello(
                random: serverRandom, sessionID: sessionID, cipherSuite: suite, extensions: extensions)
            return try sendHandshake(.serverHello, try message.encode())
        }

        if let resumed = resumableSession12(hello, ticket: ticketBody) {
            // Abbreviated handshake (RFC 5077 section 3.1): ServerHello, [NewSessionTicket],
            // ChangeCipherSpec, Finished; then the client's.
            summary.cipherSuite = resumed.suite
            summary.resumed = true
            var handshake = Server12Handshake(
                clientRandom: hello.random, serverRandom: serverRandom, transcript: raw, suite: resumed.suite,
                summary: summary, keyShare: nil, sendsTicket: sendsTicket)
            handshake.transcript += try serverHello(suite: resumed.suite, sessionID: hello.sessionID)
            handshake.masterSecret = resumed.psk
            let keys = handshake.schedule.keys(
                masterSecret: resumed.psk, clientRandom: hello.random, serverRandom: serverRandom,
                suite: resumed.suite)
            handshake.keys = keys
            try server12SendFinished(&handshake)
            state = .server12ExpectChangeCipherSpec(handshake)
            return
        }

        // Full handshake: choose the certificate (by SNI), then a suite its key can authenticate.
        guard let groupsBody = hello.extensions[ExtensionType.supportedGroups] else {
            throw .negotiation(.noCommonParameter("key exchange group"))
        }
        let clientGroups = try ExtensionBody.parse(groupsBody, "supported_groups") { (reader) throws(WireError) in
            try ExtensionBody.nonEmptyUInt16List(&reader)
        }.map(NamedGroup.init(rawValue:))
        guard
            let group = configuration.groups.first(where: {
                NamedGroup.supportedTLS12.contains($0) && clientGroups.contains($0)
            })
        else {
            throw .negotiation(.noCommonParameter("key exchange group"))
        }
        guard let schemesBody = hello.extensions[ExtensionType.signatureAlgorithms] else {
            throw .negotiation(.noCommonParameter("signature scheme (no signature_algorithms)"))
        }
        let offered = try ExtensionBody.parse(schemesBody, "signature_algorithms") { (reader) throws(WireError) in
            try ExtensionBody.nonEmptyUInt16List(&reader)
        }.map(SignatureScheme.init(rawValue:))
        guard !configuration.identities.isEmpty else { throw .internalError("no server certificate configured") }
        func suite(for identity: CertifiedKey) -> CipherSuite? {
            configuration.cipherSuites.first {
                $0.version == .tls12 && hello.cipherSuites.contains($0)
                    && $0.authenticatesWithRSA == identity.key.isRSA
            }
        }
        let candidates = configuration.identities.filter { identity in
            suite(for: identity) != nil && identity.key.tls12Schemes.contains(where: offered.contains)
        }
        let named = summary.serverName.flatMap { name in candidates.first { $0.matches(host: name) } }
        guard let identity = named ?? candidates.first, let suite = suite(for: identity),
            let scheme = identity.key.tls12Schemes.first(where: offered.contains)
        else {
            throw .negotiation(.noCommonParameter("cipher suite and signature scheme for our certificate"))
        }
        summary.cipherSuite = suite
        summary.group = group
        summary.signatureScheme = scheme

        var handshake = Server12Handshake(
            clientRandom: hello.random, serverRandom: serverRandom, transcript: raw, suite: suite, summary: summary,
            keyShare: try KeyShare.generate(group, random: environment.random), sendsTicket: sendsTicket)
        handshake.transcript += try serverHello(suite: suite, sessionID: [])
        handshake.transcript += try sendHandshake(.certificate, try Certificate12(chain: identity.chain).encode())
        let point = handshake.keyShare?.publicKey ?? []
        let parameters = ServerKeyExchange12.parameters(group: group, point: point)
        let signature = try identity.key.sign(scheme, hello.random + serverRandom + parameters)
        handshake.transcript += try sendHandshake(
            .serverKeyExchange,
            try ServerKeyExchange12(group: group, point: point, scheme: scheme, signature: signature).encode())
        if configuration.authenticator != nil {
            let request = CertificateRequest12(
                certificateTypes: [CertificateRequest12.rsaSign, CertificateRequest12.ecdsaSign],
                schemes: configuration.signatureSchemes)
            handshake.transcript += try sendHandshake(.certificateRequest, try request.encode())
        }
        handshake.transcript += try sendHandshake(.serverHelloDone, [])
        state =
            configuration.authenticator != nil
            ? .server12ExpectCertificate(handshake) : .server12ExpectClientKeyExchange(handshake)
    }

    /// The session in the client's ticket, when it opens, is fresh, is TLS 1.2 and its suite is
    /// still offered and enabled; otherwise nil and a full handshake.
    private func resumableSession12(_ hello: ClientHello, ticket: [UInt8]?) -> TicketState? {
        guard let ticket, !ticket.isEmpty, !hello.sessionID.isEmpty, let key = configuration.ticketKey,
            let session = TicketState.open(ticket, key: key), session.suite.version == .tls12,
            hello.cipherSuites.contains(session.suite), configuration.cipherSuites.contains(session.suite),
            environment.now() - session.issuedAt <= Int64(configuration.ticketLifetime)
        else { return nil }
        return session
    }

    mutating func server12HandleHandshake(_ type: HandshakeType, body: [UInt8], raw: [UInt8]) throws(TLSError) {
        switch state {
        case .server12ExpectCertificate(var handshake):
            guard type == .certificate else { throw unexpected(type) }
            let chain = try Certificate12.parse(body).chain
            guard !chain.isEmpty else { throw .negotiation(.certificateRequired) }
            let key = try PeerPublicKey(certificate: chain[0], minimumRSABits: configuration.minimumRSABits)
            try configuration.authenticator?.authenticate(
                chain: chain, spki: key.subjectPublicKeyInfo, purpose: .client, now: environment.now())
            handshake.peerKey = key
            handshake.summary.peerCertificates = chain
            handshake.transcript += raw
            state = .server12ExpectClientKeyExchange(handshake)
        case .server12ExpectClientKeyExchange(var handshake):
            guard type == .clientKeyExchange, let share = handshake.keyShare else { throw unexpected(type) }
            let preMasterSecret = try share.sharedSecret(peerShare: try ClientKeyExchange12.parse(body))
            handshake.keyShare = nil
            handshake.transcript += raw
            let schedule = handshake.schedule
            handshake.masterSecret = schedule.extendedMasterSecret(
                preMasterSecret: preMasterSecret, sessionHash: handshake.suite.hash.hash(handshake.transcript))
            handshake.keys = schedule.keys(
                masterSecret: handshake.masterSecret, clientRandom: handshake.clientRandom,
                serverRandom: handshake.serverRandom, suite: handshake.suite)
            state =
                handshake.peerKey != nil
                ? .server12ExpectCertificateVerify(handshake) : .server12ExpectChangeCipherSpec(handshake)
        case .server12ExpectCertificateVerify(var handshake):
            guard type == .certificateVerify, let key = handshake.peerKey else { throw unexpected(type) }
            let verify = try CertificateVerifyMessage.parse(body)
            guard configuration.signatureSchemes.contains(verify.scheme) else {
                throw .fatal(.illegalParameter("signature scheme \(verify.scheme) was not offered"))
            }
            guard key.isValidTLS12(signature: verify.signature, scheme: verify.scheme, message: handshake.transcript)
            else {
                throw .fatal(.decryptError("the client's CertificateVerify signature"))
            }
            handshake.transcript += raw
            state = .server12ExpectChangeCipherSpec(handshake)
        case .server12ExpectFinished(var handshake):
            guard type == .finished else { throw unexpected(type) }
            let expected = handshake.schedule.finishedVerifyData(
                masterSecret: handshake.masterSecret, client: true,
                handshakeHash: handshake.suite.hash.hash(handshake.transcript))
            guard body.count == expected.count else { throw .fatal(.decode("Finished of \(body.count) bytes")) }
            guard constantTimeEqual(expected, body) else { throw .fatal(.decryptError("the client's Finished")) }
            handshake.transcript += raw
            if !handshake.summary.resumed { try server12SendFinished(&handshake) }
            state = .connected12(TLS12Session(suite: handshake.suite))
            events.append(.handshakeComplete(handshake.summary))
        default:
            throw unexpected(type)
        }
    }

    /// [NewSessionTicket], ChangeCipherSpec and our Finished.
    private mutating func server12SendFinished(_ handshake: inout Server12Handshake) throws(TLSError) {
        guard let keys = handshake.keys else { throw .internalError("no keys") }
        if handshake.sendsTicket, let ticketKey = configuration.ticketKey {
            let session = TicketState(
                suite: handshake.suite, issuedAt: environment.now(), psk: handshake.masterSecret)
            let message = NewSessionTicket12(
                lifetimeHint: configuration.ticketLifetime,
                ticket: try session.seal(key: ticketKey, nonce: environment.random(12)))
            handshake.transcript += try sendHandshake(.newSessionTicket, try message.encode())
        }
        sendChangeCipherSpec()
        writeProtection = keys.protection(client: false)
        let finished = handshake.schedule.finishedVerifyData(
            masterSecret: handshake.masterSecret, client: false,
            handshakeHash: handshake.suite.hash.hash(handshake.transcript))
        handshake.transcript += try sendHandshake(.finished, finished)
    }
}
