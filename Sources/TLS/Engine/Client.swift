import Wire

extension TLSConnection {
    mutating func handleHandshake(_ type: HandshakeType, body: [UInt8], raw: [UInt8]) throws(TLSError) {
        switch state {
        case .clientExpectServerHello(let handshake):
            guard type == .serverHello else { throw unexpected(type) }
            try clientReceiveServerHello(handshake, body: body, raw: raw)
        case .clientExpectEncryptedExtensions(let handshake):
            guard type == .encryptedExtensions else { throw unexpected(type) }
            try clientReceiveEncryptedExtensions(handshake, body: body, raw: raw)
        case .clientExpectCertificateOrRequest(var handshake):
            if type == .certificateRequest {
                let request = try CertificateRequestMessage.parse(body)
                guard request.extensions[ExtensionType.signatureAlgorithms] != nil else {
                    throw .fatal(.missingExtension("signature_algorithms in CertificateRequest"))
                }
                handshake.certificateRequest = request
                handshake.transcript.append(raw)
                state = .clientExpectCertificate(handshake)
            } else {
                guard type == .certificate else { throw unexpected(type) }
                try clientReceiveCertificate(handshake, body: body, raw: raw)
            }
        case .clientExpectCertificate(let handshake):
            guard type == .certificate else { throw unexpected(type) }
            try clientReceiveCertificate(handshake, body: body, raw: raw)
        case .clientExpectCertificateVerify(var handshake):
            guard type == .certificateVerify, let key = handshake.peerKey else { throw unexpected(type) }
            let verify = try CertificateVerifyMessage.parse(body)
            guard configuration.signatureSchemes.contains(verify.scheme), verify.scheme.allowedInTLS13 else {
                throw .fatal(.illegalParameter("signature scheme \(verify.scheme) was not offered"))
            }
            let content = certificateVerifyContent(server: true, transcriptHash: handshake.transcript.currentHash)
            guard key.isValid(signature: verify.signature, scheme: verify.scheme, message: content) else {
                throw .fatal(.decryptError("the server's CertificateVerify signature"))
            }
            handshake.signatureScheme = verify.scheme
            handshake.transcript.append(raw)
            state = .clientExpectFinished(handshake)
        case .clientExpectFinished(let handshake):
            guard type == .finished else { throw unexpected(type) }
            try clientReceiveFinished(handshake, body: body, raw: raw)
        case .serverExpectClientHello, .serverExpectCertificate, .serverExpectCertificateVerify,
            .serverExpectFinished:
            try serverHandleHandshake(type, body: body, raw: raw)
        case .connected(let traffic):
            try handlePostHandshake(type, body: body, traffic: traffic)
        case .client12ExpectCertificate, .client12ExpectServerKeyExchange, .client12ExpectCertificateRequestOrDone,
            .client12ExpectServerHelloDone, .client12ExpectNewSessionTicket, .client12ExpectChangeCipherSpec,
            .client12ExpectFinished:
            try client12HandleHandshake(type, body: body, raw: raw)
        case .server12ExpectCertificate, .server12ExpectClientKeyExchange, .server12ExpectCertificateVerify,
            .server12ExpectChangeCipherSpec, .server12ExpectFinished:
            try server12HandleHandshake(type, body: body, raw: raw)
        case .connected12:
            try handlePostHandshake12(type, body: body)
        case .clientStart, .closed:
            throw unexpected(type)
        }
    }

    func unexpected(_ type: HandshakeType) -> TLSError {
        .fatal(.unexpectedMessage("\(type) in this state"))
    }

    // MARK: - ClientHello

    mutating func sendClientHello(serverName: String?, ticket: SessionTicket?) throws(TLSError) {
        let offers13 = configuration.enables(.tls13)
        let offers12 = configuration.enables(.tls12)
        guard offers13 || offers12 else { throw .negotiation(.noCommonVersion) }
        let random = environment.random(32)
        var keyShares: [KeyShare] = []
        if offers13 {
            for group in configuration.keyShareGroups where KeyShare.canGenerate(group) {
                keyShares.append(try KeyShare.generate(group, random: environment.random))
            }
            guard !keyShares.isEmpty else { throw .negotiation(.noCommonParameter("key share group")) }
        }
        func usable(_ version: ProtocolVersion) -> SessionTicket? {
            ticket.flatMap {
                $0.cipherSuite.version == version && configuration.cipherSuites.contains($0.cipherSuite) ? $0 : nil
            }
        }
        let ticket13 = offers13 ? usable(.tls13) : nil
        let ticket12 = offers12 ? usable(.tls12) : nil
        // A TLS 1.2 ticket goes with a session id, which the server echoes when it resumes.
        let sessionID = configuration.middleboxCompatibility || ticket12 != nil ? environment.random(32) : []
        let suites = configuration.cipherSuites.filter {
            ($0.version == .tls13 && offers13) || ($0.version == .tls12 && offers12)
        }
        var handshake = ClientHandshake(
            serverName: serverName,
            clientHello: ClientHello(random: random, sessionID: sessionID, cipherSuites: suites, extensions: []),
            keyShares: keyShares, ticket: ticket13)
        handshake.offers13 = offers13
        handshake.offers12 = offers12
        handshake.ticket12 = ticket12
        handshake.clientHello.extensions = try clientExtensions(handshake, cookie: nil)
        try sendClientHello(&handshake)
        state = .clientExpectServerHello(handshake)
    }

    /// Encodes, binds (when resuming) and sends `handshake.clientHello`, adding it to the transcript.
    private mutating func sendClientHello(_ handshake: inout ClientHandshake) throws(TLSError) {
        var hello = handshake.clientHello
        guard let ticket = handshake.ticket else {
            handshake.clientHelloMessage = try sendHandshake(.clientHello, try hello.encode())
            handshake.transcript.append(handshake.clientHelloMessage)
            return
        }
        // pre_shared_key goes last, with a binder over everything before the binder list.
        let schedule = KeySchedule(hash: ticket.cipherSuite.hash)
        let age = UInt32(truncatingIfNeeded: max(0, environment.now() - ticket.receivedAt) * 1000) &+ ticket.ageAdd
        let binderLength = schedule.hash.length
        hello.extensions.append(
            Extension(
                type: ExtensionType.preSharedKey,
                body: try pskExtension(
                    identity: ticket.ticket, age: age, binder: [UInt8](repeating: 0, count: binderLength))
            ))
        var message = handshakeMessage(.clientHello, try hello.encode())
        let truncated = Array(message.dropLast(binderLength + 3))
        var transcript = handshake.transcript
        if transcript.hashAlgorithm == nil { transcript.select(schedule.hash) }
        let binderKey = schedule.deriveSecret(
            schedule.earlySecret(psk: ticket.psk), label: "res binder", transcriptHash: schedule.emptyHash)
        let binder = schedule.finishedVerifyData(
            trafficSecret: binderKey, transcriptHash: transcript.hash(appending: truncated))
        message.replaceSubrange((message.count - binderLength)..., with: binder)
        handshake.clientHello = hello
        handshake.clientHelloMessage = try sendHandshake(.clientHello, Array(message.dropFirst(4)))
        handshake.transcript.append(handshake.clientHelloMessage)
    }

    private func pskExtension(identity: [UInt8], age: UInt32, binder: [UInt8]) throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            let identities = writer.beginLength(.uint16)
            let identityMark = writer.beginLength(.uint16)
            writer.write(bytes: identity)
            try writer.endLength(identityMark)
            writer.write(age)
            try writer.endLength(identities)
            let binders = writer.beginLength(.uint16)
            let binderMark = writer.beginLength(.uint8)
            writer.write(bytes: binder)
            try writer.endLength(binderMark)
            try writer.endLength(binders)
            return writer.bytes
        }
    }

    private func clientExtensions(_ handshake: ClientHandshake, cookie: [UInt8]?) throws(TLSError) -> [Extension] {
        let serverName = handshake.serverName
        let keyShares = handshake.keyShares
        var extensions: [Extension] = []
        if let serverName, !isIPAddress(serverName) {
            extensions.append(
                Extension(
                    type: ExtensionType.serverName,
                    body: try decoding { () throws(WireError) in try ExtensionBody.encodeServerName(serverName) }))
        }
        extensions.append(Extension(type: ExtensionType.renegotiationInfo, body: [0]))
        let groups =
            handshake.offers13 ? configuration.groups : configuration.groups.filter(NamedGroup.supportedTLS12.contains)
        extensions.append(
            Extension(type: ExtensionType.supportedGroups, body: ExtensionBody.encodeUInt16List(groups.map(\.rawValue)))
        )
        if handshake.offers12 {
            // Uncompressed points only (RFC 8422), and the extended master secret (RFC 7627).
            extensions.append(Extension(type: ExtensionType.ecPointFormats, body: [1, 0]))
            extensions.append(Extension(type: ExtensionType.extendedMasterSecret, body: []))
        }
        if configuration.offerLegacySessionTicket || handshake.offers12 {
            extensions.append(Extension(type: ExtensionType.sessionTicket, body: handshake.ticket12?.ticket ?? []))
        }
        if handshake.offers13 {
            extensions.append(
                Extension(
                    type: ExtensionType.keyShare,
                    body: try KeyShareExtension.encodeClient(keyShares.map { ($0.group, $0.publicKey) })))
        }
        let versions =
            (handshake.offers13 ? [ProtocolVersion.tls13.rawValue] : [])
            + (handshake.offers12 ? [ProtocolVersion.tls12.rawValue] : [])
        extensions.append(
            Extension(
                type: ExtensionType.supportedVersions, body: ExtensionBody.encodeUInt16List(versions, width: .uint8)))
        extensions.append(
            Extension(
                type: ExtensionType.signatureAlgorithms,
                body: ExtensionBody.encodeUInt16List(configuration.signatureSchemes.map(\.rawValue))))
        if let cookie {
            extensions.append(Extension(type: ExtensionType.cookie, body: cookie))
        }
        if handshake.offers13 {
            extensions.append(Extension(type: ExtensionType.pskKeyExchangeModes, body: [1, 1]))
        }
        if let limit = configuration.recordSizeLimit {
            extensions.append(
                Extension(type: ExtensionType.recordSizeLimit, body: [UInt8(limit >> 8), UInt8(limit & 0xFF)]))
        }
        if !configuration.applicationProtocols.isEmpty {
            extensions.append(
                Extension(
                    type: ExtensionType.applicationLayerProtocolNegotiation,
                    body: try decoding { () throws(WireError) in
                        try ExtensionBody.encodeProtocolNames(configuration.applicationProtocols)
                    }))
        }
        return extensions
    }

    // MARK: - ServerHello

    private mutating func clientReceiveServerHello(_ start: ClientHandshake, body: [UInt8], raw: [UInt8])
        throws(TLSError)
    {
        var handshake = start
        let hello = try ServerHello.parse(body)
        guard let versions = hello.extensions[ExtensionType.supportedVersions] else {
            // No supported_versions: the server speaks TLS 1.2 or older.
            try client12ReceiveServerHello(handshake, hello: hello, raw: raw)
            return
        }
        let version = try ExtensionBody.parse(versions, "supported_versions") { (reader) throws(WireError) in
            try reader.readUInt16()
        }
        guard version == ProtocolVersion.tls13.rawValue, handshake.offers13 else {
            throw .fatal(.illegalParameter("selected version \(version)"))
        }
        guard hello.sessionID == handshake.clientHello.sessionID else {
            throw .fatal(.illegalParameter("legacy_session_id_echo differs"))
        }
        guard hello.cipherSuite.version == .tls13, configuration.cipherSuites.contains(hello.cipherSuite) else {
            throw .fatal(.illegalParameter("cipher suite \(hello.cipherSuite) was not offered"))
        }
        if hello.isHelloRetryRequest {
            try clientReceiveHelloRetryRequest(handshake, hello: hello, raw: raw)
            return
        }
        if handshake.retried && hello.cipherSuite != handshake.suite {
            throw .fatal(.illegalParameter("cipher suite changed after HelloRetryRequest"))
        }
        let allowed: Set<UInt16> = [
            ExtensionType.keyShare, ExtensionType.supportedVersions, ExtensionType.preSharedKey,
        ]
        if let stray = hello.extensions.first(where: { !allowed.contains($0.type) }) {
            throw .fatal(.unsupportedExtension(stray.type))
        }
        handshake.suite = hello.cipherSuite
        handshake.transcript.select(hello.cipherSuite.hash)
        handshake.transcript.append(raw)
        let schedule = handshake.schedule

        var psk: [UInt8]?
        if let selected = hello.extensions[ExtensionType.preSharedKey] {
            let index = try ExtensionBody.parse(selected, "pre_shared_key") { (reader) throws(WireError) in
                try reader.readUInt16()
            }
            guard index == 0, let ticket = handshake.ticket, ticket.cipherSuite.hash == hello.cipherSuite.hash else {
                throw .fatal(.illegalParameter("the server selected a PSK that was not offered"))
            }
            psk = ticket.psk
            handshake.pskAccepted = true
        }
        guard let shareBody = hello.extensions[ExtensionType.keyShare] else {
            throw .fatal(.missingExtension("key_share in ServerHello"))
        }
        let serverShare = try KeyShareExtension.parseServer(shareBody)
        guard let ours = handshake.keyShares.first(where: { $0.group == serverShare.group }) else {
            throw .fatal(.illegalParameter("key share for \(serverShare.group), which was not offered"))
        }
        let sharedSecret = try ours.sharedSecret(peerShare: serverShare.key)
        handshake.group = serverShare.group
        handshake.handshakeSecret = schedule.handshakeSecret(
            earlySecret: schedule.earlySecret(psk: psk), sharedSecret: sharedSecret)
        let transcriptHash = handshake.transcript.currentHash
        handshake.clientHandshakeSecret = schedule.deriveSecret(
            handshake.handshakeSecret, label: "c hs traffic", transcriptHash: transcriptHash)
        handshake.serverHandshakeSecret = schedule.deriveSecret(
            handshake.handshakeSecret, label: "s hs traffic", transcriptHash: transcriptHash)
        handshake.keyShares = []
        readProtection = RecordProtection(suite: handshake.suite, trafficSecret: handshake.serverHandshakeSecret)
        // From here on even an alert from us must be protected, with the client handshake key.
        writeProtection = RecordProtection(suite: handshake.suite, trafficSecret: handshake.clientHandshakeSecret)
        readKeyChanged = true
        state = .clientExpectEncryptedExtensions(handshake)
    }

    private mutating func clientReceiveHelloRetryRequest(_ start: ClientHandshake, hello: ServerHello, raw: [UInt8])
        throws(TLSError)
    {
        var handshake = start
        guard !handshake.retried else { throw .fatal(.unexpectedMessage("a second HelloRetryRequest")) }
        let allowed: Set<UInt16> = [ExtensionType.keyShare, ExtensionType.supportedVersions, ExtensionType.cookie]
        if let stray = hello.extensions.first(where: { !allowed.contains($0.type) }) {
            throw .fatal(.unsupportedExtension(stray.type))
        }
        var keyShares = handshake.keyShares
        if let groupBody = hello.extensions[ExtensionType.keyShare] {
            let group = NamedGroup(
                rawValue: try ExtensionBody.parse(groupBody, "key_share") { (reader) throws(WireError) in
                    try reader.readUInt16()
                })
            guard configuration.groups.contains(group), KeyShare.canGenerate(group),
                !handshake.keyShares.contains(where: { $0.group == group })
            else {
                throw .fatal(.illegalParameter("HelloRetryRequest asks for group \(group)"))
            }
            keyShares = [try KeyShare.generate(group, random: environment.random)]
        }
        let cookie = hello.extensions[ExtensionType.cookie]
        guard cookie != nil || keyShares.first?.group != handshake.keyShares.first?.group else {
            throw .fatal(.illegalParameter("HelloRetryRequest that would not change the ClientHello"))
        }
        handshake.retried = true
        handshake.suite = hello.cipherSuite
        handshake.keyShares = keyShares
        if handshake.ticket?.cipherSuite.hash != hello.cipherSuite.hash { handshake.ticket = nil }
        handshake.transcript.select(hello.cipherSuite.hash)
        handshake.transcript.replaceWithMessageHash()
        handshake.transcript.append(raw)
        handshake.clientHello.extensions = try clientExtensions(handshake, cookie: cookie)
        if configuration.middleboxCompatibility {
            sendChangeCipherSpec()
            handshake.sentChangeCipherSpec = true
        }
        try sendClientHello(&handshake)
        state = .clientExpectServerHello(handshake)
    }

    // MARK: - Server's encrypted flight

    private mutating func clientReceiveEncryptedExtensions(_ start: ClientHandshake, body: [UInt8], raw: [UInt8])
        throws(TLSError)
    {
        var handshake = start
        var reader = WireReader(body)
        let extensions: [Extension] = try .read(&reader)
        try decoding { () throws(WireError) in try reader.expectEnd() }
        let allowed: Set<UInt16> = [
            ExtensionType.serverName, ExtensionType.supportedGroups, ExtensionType.recordSizeLimit,
            ExtensionType.applicationLayerProtocolNegotiation,
        ]
        if let stray = extensions.first(where: { !allowed.contains($0.type) }) {
            throw .fatal(.unsupportedExtension(stray.type))
        }
        if let alpn = extensions[ExtensionType.applicationLayerProtocolNegotiation] {
            handshake.applicationProtocol = try chosenApplicationProtocol(alpn)
        }
        handshake.transcript.append(raw)
        state = handshake.pskAccepted ? .clientExpectFinished(handshake) : .clientExpectCertificateOrRequest(handshake)
    }

    private mutating func clientReceiveCertificate(_ start: ClientHandshake, body: [UInt8], raw: [UInt8])
        throws(TLSError)
    {
        var handshake = start
        let certificate = try CertificateMessage.parse(body)
        guard certificate.context.isEmpty else {
            throw .fatal(.illegalParameter("certificate_request_context from a server"))
        }
        guard !certificate.chain.isEmpty else { throw .fatal(.decode("the server sent no certificate")) }
        let key = try PeerPublicKey(certificate: certificate.chain[0], minimumRSABits: configuration.minimumRSABits)
        guard let authenticator = configuration.authenticator else {
            throw .authentication(.unknownIssuer("no way to verify the server is configured"))
        }
        try authenticator.authenticate(
            chain: certificate.chain, spki: key.subjectPublicKeyInfo, purpose: .server(hostName: handshake.serverName),
            now: environment.now())
        handshake.peerChain = certificate.chain
        handshake.peerKey = key
        handshake.transcript.append(raw)
        state = .clientExpectCertificateVerify(handshake)
    }

    private mutating func clientReceiveFinished(_ start: ClientHandshake, body: [UInt8], raw: [UInt8]) throws(TLSError)
    {
        var handshake = start
        let schedule = handshake.schedule
        let expected = schedule.finishedVerifyData(
            trafficSecret: handshake.serverHandshakeSecret, transcriptHash: handshake.transcript.currentHash)
        guard body.count == expected.count else { throw .fatal(.decode("Finished of \(body.count) bytes")) }
        guard constantTimeEqual(expected, body) else { throw .fatal(.decryptError("the server's Finished")) }
        handshake.transcript.append(raw)
        let master = schedule.masterSecret(handshakeSecret: handshake.handshakeSecret)
        let serverFinishedHash = handshake.transcript.currentHash
        let clientApplication = schedule.deriveSecret(master, label: "c ap traffic", transcriptHash: serverFinishedHash)
        let serverApplication = schedule.deriveSecret(master, label: "s ap traffic", transcriptHash: serverFinishedHash)
        readProtection = RecordProtection(suite: handshake.suite, trafficSecret: serverApplication)
        readKeyChanged = true

        if configuration.middleboxCompatibility && !handshake.sentChangeCipherSpec { sendChangeCipherSpec() }
        if let request = handshake.certificateRequest {
            try sendClientCertificate(request, transcript: &handshake.transcript)
        }
        let finished = schedule.finishedVerifyData(
            trafficSecret: handshake.clientHandshakeSecret, transcriptHash: handshake.transcript.currentHash)
        handshake.transcript.append(try sendHandshake(.finished, finished))
        let resumptionMaster = schedule.deriveSecret(
            master, label: "res master", transcriptHash: handshake.transcript.currentHash)
        writeProtection = RecordProtection(suite: handshake.suite, trafficSecret: clientApplication)
        state = .connected(
            TrafficSecrets(
                suite: handshake.suite, readSecret: serverApplication, writeSecret: clientApplication,
                resumptionMasterSecret: resumptionMaster))
        events.append(
            .handshakeComplete(
                HandshakeSummary(
                    version: .tls13, cipherSuite: handshake.suite, group: handshake.group,
                    signatureScheme: handshake.signatureScheme, applicationProtocol: handshake.applicationProtocol,
                    serverName: handshake.serverName, peerCertificates: handshake.peerChain,
                    resumed: handshake.pskAccepted)))
    }

    private mutating func sendClientCertificate(_ request: CertificateRequestMessage, transcript: inout Transcript)
        throws(TLSError)
    {
        guard let identity = configuration.identities.first,
            let body = request.extensions[ExtensionType.signatureAlgorithms]
        else {
            transcript.append(
                try sendHandshake(.certificate, try CertificateMessage(context: request.context, chain: []).encode()))
            return
        }
        let offered = try ExtensionBody.parse(body, "signature_algorithms") { (reader) throws(WireError) in
            try ExtensionBody.uint16List(&reader)
        }
        guard let scheme = identity.key.schemes.first(where: { offered.contains($0.rawValue) }) else {
            throw .negotiation(.noCommonParameter("signature scheme for the client certificate"))
        }
        transcript.append(
            try sendHandshake(
                .certificate, try CertificateMessage(context: request.context, chain: identity.chain).encode()))
        let signature = try identity.key.sign(
            scheme, certificateVerifyContent(server: false, transcriptHash: transcript.currentHash))
        transcript.append(
            try sendHandshake(
                .certificateVerify, try CertificateVerifyMessage(scheme: scheme, signature: signature).encode()))
    }

    // MARK: - After the handshake

    private mutating func handlePostHandshake(_ type: HandshakeType, body: [UInt8], traffic start: TrafficSecrets)
        throws(TLSError)
    {
        var traffic = start
        switch type {
        case .newSessionTicket where isClient:
            let message = try NewSessionTicketMessage.parse(body)
            let psk = KeySchedule(hash: traffic.suite.hash).resumptionPSK(
                resumptionMasterSecret: traffic.resumptionMasterSecret, nonce: message.nonce)
            guard message.lifetime > 0 else { return }
            events.append(
                .sessionTicket(
                    SessionTicket(
                        ticket: message.ticket, psk: psk, cipherSuite: traffic.suite, ageAdd: message.ageAdd,
                        receivedAt: environment.now(), lifetime: message.lifetime, serverName: nil)))
        case .keyUpdate:
            let request = try ExtensionBody.parse(body, "KeyUpdate") { (reader) throws(WireError) in
                try reader.readUInt8()
            }
            guard request <= 1 else { throw .fatal(.illegalParameter("KeyUpdate request \(request)")) }
            traffic.rotateReadSecret()
            readProtection = RecordProtection(suite: traffic.suite, trafficSecret: traffic.readSecret)
            readKeyChanged = true
            state = .connected(traffic)
            if request == 1 {
                try sendHandshake(.keyUpdate, [0])
                traffic.rotateWriteSecret()
                writeProtection = RecordProtection(suite: traffic.suite, trafficSecret: traffic.writeSecret)
                state = .connected(traffic)
            }
        default:
            throw unexpected(type)
        }
    }
}

/// Literal IP addresses are not sent as SNI (RFC 6066 section 3).
func isIPAddress(_ name: String) -> Bool {
    name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
}
