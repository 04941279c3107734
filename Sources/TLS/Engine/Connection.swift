import Wire

/// A TLS connection as a value: feed it the bytes the peer sent, it hands back the bytes to send,
/// application data and events. It never touches a socket or a clock it was not given.
///
/// ```swift
/// var client = TLSConnection(client: configuration, serverName: "example.com", environment: .system(now: clock))
/// socket.write(client.start())
/// let output = client.receive(socket.read())   // .bytesToSend, .events, .error
/// ```
public struct TLSConnection {
    let configuration: TLSConfiguration
    let environment: TLSEnvironment
    let isClient: Bool
    var state: State

    private var incoming: [UInt8] = []
    private var handshakeBuffer: [UInt8] = []
    var readProtection: RecordProtection?
    var writeProtection: RecordProtection?
    /// Bytes produced while handling input, flushed into the next `TLSOutput`.
    var pending: [UInt8] = []
    var events: [TLSEvent] = []
    private var sentCloseNotify = false
    /// After the peer's close_notify nothing more is read, but we may still send (a half-close).
    private var receivedCloseNotify = false
    /// Set by a state transition that changes the read key: no handshake data may straddle it.
    var readKeyChanged = false
    /// Server: bytes of refused 0-RTT data still allowed to be skipped (RFC 8446 section 4.2.10);
    /// nonzero only between a ClientHello that offered early data and the first record that opens.
    var earlyDataToSkip = 0
    static let maximumSkippedEarlyData = 1 << 16

    /// A client connection; call `start()` for the ClientHello.
    public init(
        client configuration: TLSConfiguration, serverName: String?, resuming ticket: SessionTicket? = nil,
        environment: TLSEnvironment
    ) {
        self.configuration = configuration
        self.environment = environment
        self.isClient = true
        self.state = .clientStart(serverName: serverName, ticket: ticket)
    }

    /// A server connection; it waits for a ClientHello.
    public init(server configuration: TLSConfiguration, environment: TLSEnvironment) {
        self.configuration = configuration
        self.environment = environment
        self.isClient = false
        self.state = .serverExpectClientHello(retried: nil)
    }

    public var isHandshakeComplete: Bool {
        switch state {
        case .connected, .connected12: return true
        default: return false
        }
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The client's first flight (the ClientHello record). A server returns nothing.
    public mutating func start() -> TLSOutput {
        guard case .clientStart(let serverName, let ticket) = state else { return flush(error: nil) }
        do {
            try sendClientHello(serverName: serverName, ticket: ticket)
            return flush(error: nil)
        } catch {
            return fail(error)
        }
    }

    /// Processes bytes received from the peer.
    public mutating func receive(_ bytes: [UInt8]) -> TLSOutput {
        if case .closed = state { return flush(error: bytes.isEmpty ? nil : .closed) }
        // RFC 8446 section 6.1: data after a closure alert is ignored.
        if receivedCloseNotify { return flush(error: nil) }
        incoming += bytes
        do {
            while !receivedCloseNotify, let record = try nextRecord() {
                try handleRecord(record)
                if case .closed = state { break }
            }
            return flush(error: nil)
        } catch {
            return fail(error)
        }
    }

    /// Protects application data for sending. Fails before the handshake completes.
    public mutating func send(_ data: [UInt8]) throws(TLSError) -> [UInt8] {
        guard isHandshakeComplete, writeProtection != nil, !sentCloseNotify else { throw .closed }
        var records: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(offset + RecordProtection.maximumPlaintext, data.count)
            records += try protect(.applicationData, data[offset..<end])
            offset = end
        } while offset < data.count
        return records
    }

    /// Sends close_notify; the connection accepts no more application data from us.
    public mutating func close() -> [UInt8] {
        guard !sentCloseNotify else { return [] }
        sentCloseNotify = true
        let alert = (try? alertRecord(.closeNotify, fatal: false)) ?? []
        if receivedCloseNotify || !isHandshakeComplete { state = .closed }
        return alert
    }

    /// Rotates our sending key, and asks the peer to rotate too when `requestPeerUpdate`.
    public mutating func updateKeys(requestPeerUpdate: Bool) throws(TLSError) -> [UInt8] {
        if case .connected12 = state { throw .internalError("KeyUpdate is a TLS 1.3 message") }
        guard case .connected(var traffic) = state else { throw .closed }
        let before = pending
        pending = []
        try sendHandshake(.keyUpdate, [requestPeerUpdate ? 1 : 0])
        traffic.rotateWriteSecret()
        writeProtection = RecordProtection(suite: traffic.suite, trafficSecret: traffic.writeSecret)
        state = .connected(traffic)
        let bytes = pending
        pending = before
        return bytes
    }

    // MARK: - Records

    private struct Record {
        var type: UInt8
        var header: ArraySlice<UInt8>
        var body: ArraySlice<UInt8>
    }

    private mutating func nextRecord() throws(TLSError) -> Record? {
        guard incoming.count >= 5 else { return nil }
        var reader = WireReader(incoming)
        let (type, major, length) = try decoding { () throws(WireError) in
            let type = try reader.readUInt8()
            let major = try reader.readUInt8()
            _ = try reader.readUInt8()
            return (type, major, Int(try reader.readUInt16()))
        }
        guard major == 3 else { throw .fatal(.decode("record version \(major) is not TLS")) }
        let limit = readProtection?.maximumRecordBody ?? RecordProtection.maximumPlaintext
        guard length <= limit else { throw .fatal(.recordOverflow(length: length)) }
        guard incoming.count >= 5 + length else { return nil }
        let record = Record(type: type, header: incoming[0..<5], body: incoming[5..<(5 + length)])
        incoming.removeFirst(5 + length)
        return record
    }

    private mutating func handleRecord(_ record: Record) throws(TLSError) {
        guard let outerType = ContentType(rawValue: record.type) else {
            throw .fatal(.unexpectedMessage("record of unknown content type \(record.type)"))
        }
        if outerType == .changeCipherSpec {
            guard Array(record.body) == [1] else { throw .fatal(.unexpectedMessage("malformed ChangeCipherSpec")) }
            switch state {
            case .client12ExpectChangeCipherSpec, .server12ExpectChangeCipherSpec:
                // TLS 1.2: the peer's next record is protected; no handshake message may straddle it.
                guard handshakeBuffer.isEmpty else {
                    throw .fatal(.unexpectedMessage("ChangeCipherSpec inside a handshake message"))
                }
                try receiveChangeCipherSpec12()
                return
            default:
                // TLS 1.3 middlebox compatibility: an unprotected CCS may arrive during the handshake.
                guard !isHandshakeComplete, !state.isTLS12 else {
                    throw .fatal(.unexpectedMessage("ChangeCipherSpec at this point"))
                }
                return
            }
        }
        let type: ContentType
        let content: [UInt8]
        if var protection = readProtection {
            guard outerType == .applicationData || protection.isTLS12 else {
                throw .fatal(.unexpectedMessage("unprotected \(outerType) record after keys were set"))
            }
            do {
                (type, content) = try protection.open(header: record.header, body: record.body)
            } catch .fatal(.badRecordMAC) where earlyDataToSkip > 0 && earlyDataToSkip >= record.body.count {
                // Early data we refused is protected with keys we never derived: drop it.
                earlyDataToSkip -= record.body.count
                return
            }
            earlyDataToSkip = 0
            readProtection = protection
        } else {
            guard outerType != .applicationData else {
                // Refused early data after a HelloRetryRequest, before the second ClientHello.
                if earlyDataToSkip > 0 && earlyDataToSkip >= record.body.count {
                    earlyDataToSkip -= record.body.count
                    return
                }
                throw .fatal(.unexpectedMessage("application data before the handshake"))
            }
            type = outerType
            content = Array(record.body)
        }
        switch type {
        case .handshake:
            guard !content.isEmpty else { throw .fatal(.unexpectedMessage("empty handshake record")) }
            handshakeBuffer += content
            try drainHandshakeMessages()
        case .alert:
            guard !content.isEmpty else { throw .fatal(.unexpectedMessage("empty alert record")) }
            try handleAlert(content)
        case .applicationData:
            guard isHandshakeComplete, handshakeBuffer.isEmpty else {
                throw .fatal(.unexpectedMessage("application data before the handshake completed"))
            }
            if !content.isEmpty { events.append(.applicationData(content)) }
        case .changeCipherSpec:
            throw .fatal(.unexpectedMessage("protected ChangeCipherSpec"))
        }
    }

    static let maximumHandshakeMessage = 1 << 17

    private mutating func drainHandshakeMessages() throws(TLSError) {
        while handshakeBuffer.count >= 4 {
            let length = Int(handshakeBuffer[1]) << 16 | Int(handshakeBuffer[2]) << 8 | Int(handshakeBuffer[3])
            guard length <= Self.maximumHandshakeMessage else {
                throw .fatal(.decode("handshake message of \(length) bytes"))
            }
            guard handshakeBuffer.count >= 4 + length else { return }
            let message = Array(handshakeBuffer[0..<(4 + length)])
            handshakeBuffer.removeFirst(4 + length)
            guard let type = HandshakeType(rawValue: message[0]) else {
                throw .fatal(.unexpectedMessage("unknown handshake message type \(message[0])"))
            }
            readKeyChanged = false
            try handleHandshake(type, body: Array(message[4...]), raw: message)
            if readKeyChanged && !handshakeBuffer.isEmpty {
                throw .fatal(.unexpectedMessage("handshake data across a key change"))
            }
            if case .closed = state { return }
        }
    }

    private mutating func handleAlert(_ content: [UInt8]) throws(TLSError) {
        guard content.count == 2 else { throw .fatal(.decode("alert of \(content.count) bytes")) }
        guard let description = AlertDescription(rawValue: content[1]) else {
            throw .peerAlert(.internalError)
        }
        if description == .closeNotify {
            events.append(.closed)
            receivedCloseNotify = true
            if sentCloseNotify || !isHandshakeComplete { state = .closed }
            return
        }
        // user_canceled precedes a close_notify; a no_renegotiation warning answers a HelloRequest.
        if description == .userCanceled || (description == .noRenegotiation && content[0] == 1) { return }
        throw .peerAlert(description)
    }

    // MARK: - Sending

    func paddingLength(for contentLength: Int) -> Int {
        let block = configuration.paddingBlock
        guard block > 1 else { return 0 }
        let inner = contentLength + 1
        let padded = (inner + block - 1) / block * block
        return min(padded, RecordProtection.maximumPlaintext + 1) - inner
    }

    mutating func protect(_ type: ContentType, _ content: ArraySlice<UInt8>) throws(TLSError) -> [UInt8] {
        guard var protection = writeProtection else { throw .internalError("no write key") }
        let record = try protection.seal(type, content, padding: paddingLength(for: content.count))
        writeProtection = protection
        return record
    }

    /// Queues a handshake message, protected when a write key is set; returns the raw message.
    @discardableResult
    mutating func sendHandshake(_ type: HandshakeType, _ body: [UInt8]) throws(TLSError) -> [UInt8] {
        let message = handshakeMessage(type, body)
        var offset = 0
        while offset < message.count {
            let end = min(offset + RecordProtection.maximumPlaintext, message.count)
            if writeProtection != nil {
                pending += try protect(.handshake, message[offset..<end])
            } else {
                let length = end - offset
                // The first ClientHello says TLS 1.0 in its record header for old middleboxes.
                let minor: UInt8 = type == .clientHello ? 1 : 3
                pending += [ContentType.handshake.rawValue, 3, minor, UInt8(length >> 8), UInt8(length & 0xFF)]
                pending += message[offset..<end]
            }
            offset = end
        }
        return message
    }

    mutating func sendChangeCipherSpec() {
        pending += [ContentType.changeCipherSpec.rawValue, 3, 3, 0, 1, 1]
    }

    mutating func alertRecord(_ alert: AlertDescription, fatal: Bool) throws(TLSError) -> [UInt8] {
        let body: [UInt8] = [fatal ? 2 : 1, alert.rawValue]
        if writeProtection != nil { return try protect(.alert, body[...]) }
        return [ContentType.alert.rawValue, 3, 3, 0, 2] + body
    }

    private mutating func flush(error: TLSError?) -> TLSOutput {
        defer {
            pending = []
            events = []
        }
        return TLSOutput(bytesToSend: pending, events: events, error: error)
    }

    private mutating func fail(_ error: TLSError) -> TLSOutput {
        if let alert = error.alert, !sentCloseNotify {
            sentCloseNotify = true
            pending += (try? alertRecord(alert, fatal: true)) ?? []
        }
        state = .closed
        return flush(error: error)
    }
}

/// Secrets of an established connection, kept for KeyUpdate and resumption.
struct TrafficSecrets {
    let suite: CipherSuite
    var readSecret: [UInt8]
    var writeSecret: [UInt8]
    let resumptionMasterSecret: [UInt8]
    var ticketsIssued = 0

    mutating func rotateWriteSecret() {
        writeSecret = KeySchedule(hash: suite.hash).nextTrafficSecret(writeSecret)
    }

    mutating func rotateReadSecret() {
        readSecret = KeySchedule(hash: suite.hash).nextTrafficSecret(readSecret)
    }
}

/// Constant-time comparison for Finished and binders.
func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices { difference |= left[index] ^ right[index] }
    return difference == 0
}
