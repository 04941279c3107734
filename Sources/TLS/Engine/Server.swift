import Crypto
import Wire

extension TLSConnection {
    mutating func serverHandleHandshake(_ type: HandshakeType, body: [UInt8], raw: [UInt8]) throws(TLSError) {
        switch state {
        case .serverExpectClientHello(let retried):
            guard type == .clientHello else { throw unexpected(type) }
            try serverReceiveClientHello(try ClientHello.parse(body), raw: raw, retried: retried)
        case .serverExpectCertificate(var handshake):
            guard type == .certificate else { throw unexpected(type) }
            let certificate = try CertificateMessage.parse(body)
            guard certificate.context.isEmpty else { throw .fatal(.illegalParameter("certificate_request_context")) }
            guard !certificate.chain.isEmpty else { throw .negotiation(.certificateRequired) }
            let key = try PeerPublicKey(certificate: certificate.chain[0], minimumRSABits: configuration.minimumRSABits)
            try configuration.authenticator?.authenticate(
                chain: certificate.chain, spki: key.subjectPublicKeyInfo, purpose: .client, now: environment.now())
            handshake.peerKey = key
            handshake.summary.peerCertificates = certificate.chain
            handshake.transcript.append(raw)
            state = .serverExpectCertificateVerify(handshake)
        case .serverExpectCertificateVerify(var handshake):
            guard type == .certificateVerify, let key = handshake.peerKey else { throw unexpected(type) }
            let verify = try CertificateVerifyMessage.parse(body)
            guard configuration.signatureSchemes.contains(verify.scheme), verify.scheme.allowedInTLS13 else {
                throw .fatal(.illegalParameter("signature scheme \(verify.scheme) was not offered"))
            }
            let content = certificateVerifyContent(server: false, transcriptHash: handshake.transcript.currentHash)
            guard key.isValid(signature: verify.signature, scheme: verify.scheme, message: content) else {
                throw .fatal(.decryptError("the client's CertificateVerify signature"))
            }
            handshake.transcript.append(raw)
            state = .serverExpectFinished(handshake)
        case .serverExpectFinished(var handshake):
            guard type == .finished else { throw unexpected(type) }
            let expected = handshake.schedule.finishedVerifyData(
                trafficSecret: handshake.clientHandshakeSecret, transcriptHash: handshake.transcript.currentHash)
            guard body.count == expected.count else { throw .fatal(.decode("Finished of \(body.count) bytes")) }
            guard constantTimeEqual(expected, body) else { throw .fatal(.decryptError("the client's Finished")) }
            handshake.transcript.append(raw)
            let resumptionMaster = handshake.schedule.deriveSecret(
                handshake.masterSecret, label: "res master", transcriptHash: handshake.transcript.currentHash)
            readProtection = RecordProtection(suite: handshake.suite, trafficSecret: handshake.clientApplicationSecret)
            readKeyChanged = true
            var traffic = TrafficSecrets(
                suite: handshake.suite, readSecret: handshake.clientApplicationSecret,
                writeSecret: handshake.serverApplicationSecret, resumptionMasterSecret: resumptionMaster)
            try sendTickets(&traffic, applicationProtocol: handshake.summary.applicationProtocol)
            state = .connected(traffic)
            events.append(.handshakeComplete(handshake.summary))
        default:
            throw unexpected(type)
        }
    }

    // MARK: - ClientHello

    private mutating func serverReceiveClientHello(_ hello: ClientHello, raw: [UInt8], retried: ServerRetry?)
        throws(TLSError)
    {
        // Early data refused by a HelloRetryRequest ends with the second ClientHello.
        if retried != nil { earlyDataToSkip = 0 }
        // Version negotiation: TLS 1.3 when both speak it, else TLS 1.2 (RFC 8446 section 4.2.1).
        var versions: [UInt16]?
        if let versionsBody = hello.extensions[ExtensionType.supportedVersions] {
            versions = try ExtensionBody.parse(versionsBody, "supported_versions") { (reader) throws(WireError) in
                try ExtensionBody.uint16List(&reader, width: .uint8)
            }
        }
        let offers13 = versions?.contains(ProtocolVersion.tls13.rawValue) ?? false
        let offers12 =
            versions?.contains(ProtocolVersion.tls12.rawValue)
            ?? (hello.legacyVersion >= ProtocolVersion.tls12.rawValue)
        // RFC 7507: a fallback to TLS 1.2 signalled by a client, when we speak 1.3. (A client below
        // 1.2 gets protocol_version: its version is unsupported, which RFC 7507 lets us say instead.)
        if hello.cipherSuites.contains(.fallbackSCSV) && !offers13 && offers12 && configuration.enables(.tls13)
            && configuration.enables(.tls12)
        {
            throw .negotiation(.inappropriateFallback)
        }
        guard offers13 && configuration.enables(.tls13) else {
            guard retried == nil, offers12, configuration.enables(.tls12) else { throw .negotiation(.noCommonVersion) }
            try server12ReceiveClientHello(hello, raw: raw)
            return
        }
        // A TLS 1.3 ClientHello says 0x0303 here; anything older is a client we do not speak to.
        guard hello.legacyVersion >= ProtocolVersion.tls12.rawValue else { throw .negotiation(.noCommonVersion) }
        guard hello.compressionMethods == [0] else { throw .fatal(.illegalParameter("compression methods")) }
        if let last = hello.extensions.last,
            hello.extensions.contains(where: { $0.type == ExtensionType.preSharedKey }),
            last.type != ExtensionType.preSharedKey
        {
            throw .fatal(.illegalParameter("pre_shared_key is not the last extension"))
        }

        let suite: CipherSuite
        if let retried {
            guard hello.cipherSuites.contains(retried.suite), hello.sessionID == retried.sessionID,
                Self.retainedExtensionTypes(hello) == retried.extensionTypes
            else {
                throw .fatal(.illegalParameter("the second ClientHello changed"))
            }
            suite = retried.suite
        } else {
            guard
                let chosen = configuration.cipherSuites.first(where: {
                    $0.version == .tls13 && hello.cipherSuites.contains($0)
                })
            else {
                throw .negotiation(.noCommonParameter("cipher suite"))
            }
            suite = chosen
        }

        // Key exchange: a share for our most preferred group the client sent one for, else a retry.
        guard let groupsBody = hello.extensions[ExtensionType.supportedGroups],
            let sharesBody = hello.extensions[ExtensionType.keyShare]
        else {
            throw .fatal(.missingExtension("supported_groups and key_share"))
        }
        let clientGroups = try ExtensionBody.parse(groupsBody, "supported_groups") { (reader) throws(WireError) in
            try ExtensionBody.nonEmptyUInt16List(&reader)
        }.map(NamedGroup.init(rawValue:))
        let shares = try KeyShareExtension.parseClient(sharesBody)
        var seen: Set<NamedGroup> = []
        for share in shares {
            guard clientGroups.contains(share.group), seen.insert(share.group).inserted else {
                throw .fatal(.illegalParameter("key share for \(share.group) not in supported_groups or repeated"))
            }
        }
        let mutualGroups = configuration.groups.filter { clientGroups.contains($0) && KeyShare.canGenerate($0) }
        guard let preferred = mutualGroups.first else { throw .negotiation(.noCommonParameter("key exchange group")) }
        let share: (group: NamedGroup, key: [UInt8])
        if let retried {
            guard shares.count == 1, let only = shares.first, only.group == retried.group else {
                throw .fatal(.illegalParameter("the second ClientHello lacks the requested key share"))
            }
            share = only
        } else if let match = mutualGroups.lazy.compactMap({ group in shares.first { $0.group == group } }).first {
            share = match
        } else {
            try sendHelloRetryRequest(hello, raw: raw, suite: suite, group: preferred)
            return
        }

        var transcript = retried?.transcript ?? Transcript()
        transcript.select(suite.hash)
        let schedule = KeySchedule(hash: suite.hash)

        var summary = HandshakeSummary(
            version: .tls13, cipherSuite: suite, group: share.group, signatureScheme: nil, applicationProtocol: nil,
            serverName: nil, peerCertificates: [], resumed: false)
        (summary.serverName, summary.applicationProtocol) = try serverNameAndApplicationProtocol(hello)

        let resumedPSK = try acceptedPSK(hello, raw: raw, suite: suite, transcript: transcript)
        transcript.append(raw)
        summary.resumed = resumedPSK != nil

        var identity: CertifiedKey?
        var scheme: SignatureScheme?
        if resumedPSK == nil {
            guard let schemesBody = hello.extensions[ExtensionType.signatureAlgorithms] else {
                throw .fatal(.missingExtension("signature_algorithms"))
            }
            let offered = try ExtensionBody.parse(schemesBody, "signature_algorithms") { (reader) throws(WireError) in
                try ExtensionBody.nonEmptyUInt16List(&reader)
            }
            let candidates = configuration.identities.filter { identity in
                identity.key.schemes.contains { offered.contains($0.rawValue) }
            }
            guard !configuration.identities.isEmpty else { throw .internalError("no server certificate configured") }
            let named = summary.serverName.flatMap { name in candidates.first { $0.matches(host: name) } }
            guard let chosen = named ?? candidates.first,
                let chosenScheme = chosen.key.schemes.first(where: { offered.contains($0.rawValue) })
            else {
                throw .negotiation(.noCommonParameter("signature scheme"))
            }
            identity = chosen
            scheme = chosenScheme
            summary.signatureScheme = chosenScheme
        }

        // ServerHello, in clear.
        let (serverShare, sharedSecret) = try KeyShare.respond(
            to: share.key, group: share.group, random: environment.random)
        var extensions = [
            Extension(
                type: ExtensionType.keyShare,
                body: try KeyShareExtension.encodeServer(group: share.group, key: serverShare)),
            Extension(type: ExtensionType.supportedVersions, body: [0x03, 0x04]),
        ]
        if resumedPSK != nil { extensions.append(Extension(type: ExtensionType.preSharedKey, body: [0, 0])) }
        let serverHello = ServerHello(
            random: environment.random(32), sessionID: hello.sessionID, cipherSuite: suite, extensions: extensions)
        transcript.append(try sendHandshake(.serverHello, try serverHello.encode()))
        if !hello.sessionID.isEmpty && retried == nil { sendChangeCipherSpec() }

        let handshakeSecret = schedule.handshakeSecret(
            earlySecret: schedule.earlySecret(psk: resumedPSK), sharedSecret: sharedSecret)
        let helloHash = transcript.currentHash
        let clientHandshake = schedule.deriveSecret(handshakeSecret, label: "c hs traffic", transcriptHash: helloHash)
        let serverHandshake = schedule.deriveSecret(handshakeSecret, label: "s hs traffic", transcriptHash: helloHash)
        writeProtection = RecordProtection(suite: suite, trafficSecret: serverHandshake)
        readProtection = RecordProtection(suite: suite, trafficSecret: clientHandshake)
        readKeyChanged = true
        // 0-RTT is refused (EncryptedExtensions never accepts it), so the early records are skipped.
        if hello.extensions[ExtensionType.earlyData] != nil && retried == nil {
            earlyDataToSkip = Self.maximumSkippedEarlyData
        }

        // The encrypted flight.
        var encrypted: [Extension] = []
        if let chosen = summary.applicationProtocol {
            encrypted.append(
                Extension(
                    type: ExtensionType.applicationLayerProtocolNegotiation,
                    body: try decoding { () throws(WireError) in try ExtensionBody.encodeProtocolNames([chosen]) }))
        }
        var writer = WireWriter()
        try decoding { () throws(WireError) in try encrypted.write(to: &writer) }
        transcript.append(try sendHandshake(.encryptedExtensions, writer.bytes))
        let requestsCertificate = configuration.authenticator != nil && resumedPSK == nil
        if requestsCertificate {
            let request = CertificateRequestMessage(
                context: [],
                extensions: [
                    Extension(
                        type: ExtensionType.signatureAlgorithms,
                        body: ExtensionBody.encodeUInt16List(configuration.signatureSchemes.map(\.rawValue)))
                ])
            transcript.append(try sendHandshake(.certificateRequest, try request.encode()))
        }
        if let identity, let scheme {
            transcript.append(
                try sendHandshake(.certificate, try CertificateMessage(context: [], chain: identity.chain).encode()))
            let signature = try identity.key.sign(
                scheme, certificateVerifyContent(server: true, transcriptHash: transcript.currentHash))
            transcript.append(
                try sendHandshake(
                    .certificateVerify, try CertificateVerifyMessage(scheme: scheme, signature: signature).encode()))
        }
        let finished = schedule.finishedVerifyData(
            trafficSecret: serverHandshake, transcriptHash: transcript.currentHash)
        transcript.append(try sendHandshake(.finished, finished))

        let master = schedule.masterSecret(handshakeSecret: handshakeSecret)
        let finishedHash = transcript.currentHash
        let clientApplication = schedule.deriveSecret(master, label: "c ap traffic", transcriptHash: finishedHash)
        let serverApplication = schedule.deriveSecret(master, label: "s ap traffic", transcriptHash: finishedHash)
        writeProtection = RecordProtection(suite: suite, trafficSecret: serverApplication)
        let handshake = ServerHandshake(
            transcript: transcript, suite: suite, group: share.group, clientHandshakeSecret: clientHandshake,
            clientApplicationSecret: clientApplication, serverApplicationSecret: serverApplication,
            masterSecret: master,
            summary: summary, peerKey: nil)
        state = requestsCertificate ? .serverExpectCertificate(handshake) : .serverExpectFinished(handshake)
    }

    /// SNI's host name and the protocol chosen by ALPN (the server's first that the client offers).
    func serverNameAndApplicationProtocol(_ hello: ClientHello) throws(TLSError) -> (String?, String?) {
        var serverName: String?
        var applicationProtocol: String?
        if let nameBody = hello.extensions[ExtensionType.serverName] {
            let names = try ExtensionBody.parse(nameBody, "server_name", ExtensionBody.serverNames)
            guard names.count <= 1 else { throw .fatal(.illegalParameter("server_name: several host names")) }
            if let name = names.first {
                guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw .fatal(.illegalParameter("server_name: not an ASCII host name"))
                }
                serverName = String(decoding: name, as: UTF8.self)
            }
        }
        if let alpnBody = hello.extensions[ExtensionType.applicationLayerProtocolNegotiation],
            !configuration.applicationProtocols.isEmpty
        {
            let offered = try ExtensionBody.parse(
                alpnBody, "application_layer_protocol_negotiation", ExtensionBody.protocolNames)
            guard let chosen = configuration.applicationProtocols.first(where: offered.contains) else {
                throw .negotiation(.noApplicationProtocol)
            }
            applicationProtocol = chosen
        }
        return (serverName, applicationProtocol)
    }

    private mutating func sendHelloRetryRequest(
        _ hello: ClientHello, raw: [UInt8], suite: CipherSuite, group: NamedGroup
    )
        throws(TLSError)
    {
        var transcript = Transcript()
        transcript.select(suite.hash)
        transcript.append(raw)
        transcript.replaceWithMessageHash()
        let retry = ServerHello(
            random: helloRetryRequestRandom, sessionID: hello.sessionID, cipherSuite: suite,
            extensions: [
                Extension(
                    type: ExtensionType.keyShare, body: [UInt8(group.rawValue >> 8), UInt8(group.rawValue & 0xFF)]),
                Extension(type: ExtensionType.supportedVersions, body: [0x03, 0x04]),
            ])
        transcript.append(try sendHandshake(.serverHello, try retry.encode()))
        if !hello.sessionID.isEmpty { sendChangeCipherSpec() }
        // RFC 8446 section 4.2.10: after a HelloRetryRequest the client's 0-RTT records (protected,
        // so of outer type application_data) are skipped until its second ClientHello.
        if hello.extensions[ExtensionType.earlyData] != nil { earlyDataToSkip = Self.maximumSkippedEarlyData }
        state = .serverExpectClientHello(
            retried: ServerRetry(
                transcript: transcript, suite: suite, group: group, sessionID: hello.sessionID,
                extensionTypes: Self.retainedExtensionTypes(hello)))
    }

    /// The extensions a second ClientHello must repeat in the same order (RFC 8446 section 4.1.2):
    /// all but padding, early_data, cookie and pre_shared_key, which it may add, drop or change.
    /// (key_share stays: it must be there again, with new content.)
    private static func retainedExtensionTypes(_ hello: ClientHello) -> [UInt16] {
        let mayChange: Set<UInt16> = [
            ExtensionType.padding, ExtensionType.earlyData, ExtensionType.cookie, ExtensionType.preSharedKey,
        ]
        return hello.extensions.map(\.type).filter { !mayChange.contains($0) }
    }

    // MARK: - Resumption

    /// The PSK of the first offered ticket if it decrypts, is fresh, matches the suite's hash and
    /// its binder verifies; nil means a full handshake (an unusable ticket is not an error).
    private func acceptedPSK(_ hello: ClientHello, raw: [UInt8], suite: CipherSuite, transcript: Transcript)
        throws(TLSError)
        -> [UInt8]?
    {
        guard let body = hello.extensions[ExtensionType.preSharedKey], let ticketKey = configuration.ticketKey else {
            return nil
        }
        guard let modes = hello.extensions[ExtensionType.pskKeyExchangeModes] else {
            throw .fatal(.missingExtension("psk_key_exchange_modes"))
        }
        guard modes.dropFirst().contains(1) else { return nil }
        let (identities, binders) = try ExtensionBody.parse(body, "pre_shared_key") {
            (reader) throws(WireError) -> ([(ticket: [UInt8], age: UInt32)], [[UInt8]]) in
            var identityList = try reader.readLengthPrefixed(.uint16)
            var identities: [(ticket: [UInt8], age: UInt32)] = []
            while !identityList.isAtEnd {
                identities.append((try identityList.readPrefixedBytes(.uint16), try identityList.readUInt32()))
            }
            var binderList = try reader.readLengthPrefixed(.uint16)
            var binders: [[UInt8]] = []
            while !binderList.isAtEnd { binders.append(try binderList.readPrefixedBytes(.uint8)) }
            return (identities, binders)
        }
        guard !identities.isEmpty, identities.count == binders.count else {
            throw .fatal(.illegalParameter("pre_shared_key identities and binders differ in number"))
        }
        guard let first = identities.first, let binder = binders.first,
            let state = TicketState.open(first.ticket, key: ticketKey),
            state.suite.version == .tls13, state.suite.hash == suite.hash,
            environment.now() - state.issuedAt <= Int64(configuration.ticketLifetime)
        else { return nil }
        let schedule = KeySchedule(hash: suite.hash)
        let bindersLength = 2 + binders.reduce(0) { $0 + 1 + $1.count }
        let truncated = Array(raw.dropLast(bindersLength))
        let binderKey = schedule.deriveSecret(
            schedule.earlySecret(psk: state.psk), label: "res binder", transcriptHash: schedule.emptyHash)
        let expected = schedule.finishedVerifyData(
            trafficSecret: binderKey, transcriptHash: transcript.hash(appending: truncated))
        guard constantTimeEqual(expected, binder) else { throw .fatal(.decryptError("PSK binder")) }
        return state.psk
    }

    private mutating func sendTickets(_ traffic: inout TrafficSecrets, applicationProtocol: String?) throws(TLSError) {
        guard let ticketKey = configuration.ticketKey, configuration.ticketsToSend > 0 else { return }
        let schedule = KeySchedule(hash: traffic.suite.hash)
        for index in 0..<configuration.ticketsToSend {
            let nonce = [UInt8(truncatingIfNeeded: index)]
            let psk = schedule.resumptionPSK(resumptionMasterSecret: traffic.resumptionMasterSecret, nonce: nonce)
            let ageAddBytes = environment.random(4)
            let ageAdd = ageAddBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let state = TicketState(suite: traffic.suite, issuedAt: environment.now(), psk: psk)
            let message = NewSessionTicketMessage(
                lifetime: configuration.ticketLifetime, ageAdd: ageAdd, nonce: nonce,
                ticket: try state.seal(key: ticketKey, nonce: environment.random(12)), extensions: [])
            try sendHandshake(.newSessionTicket, try message.encode())
            traffic.ticketsIssued += 1
        }
    }
}

/// What a server needs to resume a session, sealed into the ticket so that it keeps no state.
struct TicketState {
    var suite: CipherSuite
    var issuedAt: Int64
    var psk: [UInt8]

    func seal(key: [UInt8], nonce: [UInt8]) throws(TLSError) -> [UInt8] {
        var writer = WireWriter()
        writer.write(suite.rawValue)
        writer.write(UInt64(bitPattern: issuedAt))
        writer.write(UInt8(psk.count))
        writer.write(bytes: psk)
        do {
            let box = try AES.GCM.seal(writer.bytes, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce))
            return nonce + Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw .internalError("sealing a ticket failed")
        }
    }

    static func open(_ ticket: [UInt8], key: [UInt8]) -> TicketState? {
        guard ticket.count > 12 + 16,
            let nonce = try? AES.GCM.Nonce(data: ticket.prefix(12)),
            let box = try? AES.GCM.SealedBox(
                nonce: nonce, ciphertext: ticket.dropFirst(12).dropLast(16), tag: ticket.suffix(16)),
            let plain = try? AES.GCM.open(box, using: SymmetricKey(data: key))
        else { return nil }
        var reader = WireReader(Array(plain))
        do throws(WireError) {
            let suite = CipherSuite(rawValue: try reader.readUInt16())
            let issued = Int64(bitPattern: try reader.readUInt64())
            let psk = try reader.readPrefixedBytes(.uint8)
            try reader.expectEnd()
            return TicketState(suite: suite, issuedAt: issued, psk: psk)
        } catch {
            return nil
        }
    }
}
