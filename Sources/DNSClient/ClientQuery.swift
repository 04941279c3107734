import DNS
import DNSSecurity
import Wire

/// Where a query goes: an address as text and a port. `description` is dig's `127.0.0.1#53`.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host)#\(port)" }
}

/// The transport a message travelled over.
public enum Transport: String, Sendable {
    case udp = "UDP"
    case tcp = "TCP"
}

/// How a query is built: the header flags and EDNS a stub or dig sends.
public struct QueryOptions: Hashable, Sendable {
    public var recursionDesired: Bool
    public var checkingDisabled: Bool
    public var authenticData: Bool
    /// Send an OPT record (dig's default; `+noedns` turns it off).
    public var edns: Bool
    public var udpPayloadSize: UInt16
    /// The DO bit: ask for DNSSEC records.
    public var dnssecOK: Bool
    /// A client cookie (8 bytes) to send, as dig does by default; empty sends none.
    public var clientCookie: [UInt8]
    /// Whether a resolver should make up a fresh client cookie for each query (dig's `+cookie`).
    public var sendsCookie: Bool
    /// The server cookie this server gave last time (8 to 32 bytes), sent back with the client
    /// cookie (RFC 7873 §5.2.2); empty when none is known.
    public var serverCookie: [UInt8] = []
    /// Sign the query with this key, and require the response to be signed with it.
    public var key: TSIGKey?

    public init(
        recursionDesired: Bool = true, checkingDisabled: Bool = false, authenticData: Bool = true, edns: Bool = true,
        udpPayloadSize: UInt16 = 1232, dnssecOK: Bool = false, clientCookie: [UInt8] = [], sendsCookie: Bool = true,
        key: TSIGKey? = nil
    ) {
        self.recursionDesired = recursionDesired
        self.checkingDisabled = checkingDisabled
        self.authenticData = authenticData
        self.edns = edns
        self.udpPayloadSize = udpPayloadSize
        self.dnssecOK = dnssecOK
        self.clientCookie = clientCookie
        self.sendsCookie = sendsCookie
        self.key = key
    }
}

/// A query ready to send, and everything needed to recognise its response: the ID, the question,
/// the server it went to and, when signed, the MAC the response must chain on.
public struct ClientQuery: Sendable {
    public let message: Message
    public let bytes: [UInt8]
    public let server: ServerAddress
    public let requestMAC: [UInt8]?
    public let options: QueryOptions

    public var id: UInt16 { message.id }
    public var question: Question? { message.questions.first }

    /// Builds and (with a key) signs a query. `id` should be random; `now` is seconds since 1970.
    public init(question: Question, options: QueryOptions, id: UInt16, server: ServerAddress, now: UInt64)
        throws(WireError)
    {
        var message = Message(
            id: id, recursionDesired: options.recursionDesired, authenticData: options.authenticData,
            checkingDisabled: options.checkingDisabled, questions: [question])
        if options.edns {
            let cookie: [EDNSOption] =
                options.clientCookie.count == 8
                ? [.cookie(client: options.clientCookie, server: options.serverCookie)] : []
            message.edns = EDNS(
                udpPayloadSize: options.udpPayloadSize, dnssecOK: options.dnssecOK, options: cookie)
        }
        try self.init(message: message, options: options, server: server, now: now)
    }

    /// Wraps an already built message (an UPDATE, a transfer request), signing it when `options.key` is set.
    public init(message: Message, options: QueryOptions, server: ServerAddress, now: UInt64) throws(WireError) {
        self.message = message
        self.server = server
        self.options = options
        let encoded = try message.encode()
        if let key = options.key {
            let signed = try TSIG.sign(encoded, key: key, time: now)
            bytes = signed.bytes
            requestMAC = signed.mac
        } else {
            bytes = encoded
            requestMAC = nil
        }
    }

    /// Decides what to do with bytes that arrived from `source` (RFC 5452 §9.1: a response counts
    /// only if its ID, its question and its source match the query; anything else is ignored and
    /// the client keeps waiting).
    public func accept(_ bytes: [UInt8], from source: ServerAddress, now: UInt64) -> ResponseVerdict {
        guard source == server else { return .ignored(.wrongSource(source)) }
        let message: Message
        do {
            message = try Message.decode(bytes)
        } catch {
            return .ignored(.malformed(error))
        }
        guard message.isResponse else { return .ignored(.notAResponse) }
        guard message.id == id else { return .ignored(.wrongID(message.id)) }
        // A FORMERR or NOTIMP may come back without the question (RFC 1035 leaves it optional).
        let questionMatches =
            message.questions.count == 1
            && message.questions.first.map { sameQuestion($0, question) } == true
        let mayOmitQuestion = message.questions.isEmpty && message.rcode != .noError
        guard questionMatches || mayOmitQuestion || self.message.questions.isEmpty else {
            return .ignored(.wrongQuestion(message.questions))
        }
        // RFC 7873 §5.3: a reply whose COOKIE option carries another client cookie is a forgery.
        if options.clientCookie.count == 8, options.edns,
            case .cookie(let client, _)? = message.edns?.options.first(where: {
                if case .cookie = $0 { return true } else { return false }
            }),
            client != options.clientCookie
        {
            return .ignored(.wrongCookie)
        }
        var signature = SignatureCheck.notRequested
        if let key = options.key {
            switch TSIG.verify(bytes, keys: [key], now: now, requestMAC: requestMAC) {
            case .success: signature = .verified
            case .failure(let error): signature = .failed(error)
            }
        }
        let response = ClientResponse(message: message, size: bytes.count, signature: signature)
        return message.truncated ? .truncated(response) : .accepted(response)
    }

    private func sameQuestion(_ received: Question, _ sent: Question?) -> Bool {
        guard let sent else { return false }
        return received.name == sent.name && received.type == sent.type && received.recordClass == sent.recordClass
    }
}

/// What a verified TSIG check said about a response.
public enum SignatureCheck: Equatable, Sendable {
    case notRequested
    case verified
    case failed(TSIGError)
}

/// A response the client accepted: the message, its size on the wire, and its signature check.
public struct ClientResponse: Sendable {
    public var message: Message
    public var size: Int
    public var signature: SignatureCheck

    public init(message: Message, size: Int, signature: SignatureCheck = .notRequested) {
        self.message = message
        self.size = size
        self.signature = signature
    }
}

/// What to do with bytes that arrived for a query.
public enum ResponseVerdict: Sendable {
    /// The answer: stop waiting.
    case accepted(ClientResponse)
    /// A truncated answer over UDP: ask again over TCP.
    case truncated(ClientResponse)
    /// Not the answer (spoofed, stray or broken): keep waiting until the timeout.
    case ignored(IgnoredReason)
}

public enum IgnoredReason: Sendable, CustomStringConvertible {
    case wrongSource(ServerAddress)
    case malformed(WireError)
    case notAResponse
    case wrongID(UInt16)
    case wrongQuestion([Question])
    case wrongCookie

    public var description: String {
        switch self {
        case .wrongSource(let source): return "reply from unexpected source: \(source)"
        case .malformed(let error): return "malformed reply: \(error)"
        case .notAResponse: return "a query, not a reply"
        case .wrongID(let id): return "reply with the wrong ID \(id)"
        case .wrongQuestion(let questions): return "reply to another question: \(questions)"
        case .wrongCookie: return "reply with another client cookie"
        }
    }
}
