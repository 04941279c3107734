import DNS
import Wire

/// How a query arrived, which fixes how large the response may be.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// Bytes in, bytes out: decodes a query, answers it from an `Authority`, and encodes the response
/// within the transport's size limit. Malformed input never traps: a query whose header can be
/// read gets FORMERR, anything shorter (or anything that is itself a response) gets no answer.
public struct Responder: Sendable {
    /// The UDP payload size this server advertises and accepts at most (the DNS flag day 2020
    /// value, which avoids IP fragmentation).
    public static let advertisedPayloadSize: UInt16 = 1232

    public var authority: Authority
    /// With a secret, queries carrying a client cookie get a server cookie back (RFC 7873/9018).
    public var cookieSecret: CookieSecret?

    /// Who may ask for AXFR and IXFR (over TCP only); nobody by default.
    public var transferPolicy: AddressPolicy

    public init(
        authority: Authority, cookieSecret: CookieSecret? = nil, transferPolicy: AddressPolicy = AddressPolicy()
    ) {
        self.authority = authority
        self.cookieSecret = cookieSecret
        self.transferPolicy = transferPolicy
    }

    /// Every message to send for `query`: several for a zone transfer, otherwise what
    /// `respond(to:over:from:at:)` gives.
    public func responses(
        to query: [UInt8], over transport: Transport, from clientAddress: [UInt8] = [], at now: UInt32 = 0
    ) -> [[UInt8]] {
        if transport == .tcp, let message = try? Message.decode(query), !message.isResponse,
            message.edns.map({ $0.version == 0 }) ?? true,
            let messages = authority.transfer(message)
        {
            guard transferPolicy.allows(clientAddress) else {
                var refused = Message.response(to: message)
                refused.rcode = .refused
                return [refused].compactMap { try? $0.encode() }
            }
            return messages.compactMap { try? $0.encode() }
        }
        return respond(to: query, over: transport, from: clientAddress, at: now).map { [$0] } ?? []
    }

    /// The response to send for `query`, or nil when nothing should be sent. `clientAddress` is
    /// the sender's IP address (4 or 16 bytes) and `now` the time in seconds since 1970; both only
    /// matter for cookies.
    public func respond(
        to query: [UInt8], over transport: Transport, from clientAddress: [UInt8] = [], at now: UInt32 = 0
    ) -> [UInt8]? {
        let message: Message
        do {
            message = try Message.decode(query)
        } catch {
            return formatError(for: query)
        }
        guard !message.isResponse else { return nil }
        var response: Message
        if let edns = message.edns, edns.version != 0 {
            // RFC 6891 §6.1.3: only version 0 exists.
            response = Message.response(to: message)
            response.rcode = .badVersionOrSignature
            response.questions = message.questions
        } else {
            response = authority.answer(message)
        }
        if let cookieSecret, response.edns != nil {
            for case .cookie(let client, let server) in message.edns?.options ?? [] {
                let cookie = cookieSecret.responseOption(
                    client: client, server: server, clientAddress: clientAddress, now: now)
                response.edns?.options.append(.cookie(client: cookie.client, server: cookie.server))
                break
            }
        }
        return encode(response, for: message, over: transport)
    }

    private func encode(_ response: Message, for query: Message, over transport: Transport) -> [UInt8]? {
        let limit: Int
        switch transport {
        case .tcp: limit = 65535
        case .udp: limit = min(query.maximumResponseSize, Int(Self.advertisedPayloadSize))
        }
        return try? response.encode(maximumSize: limit)
    }

    /// FORMERR echoing the header fields a client needs to match it (RFC 1035 §4.1.1); no answer
    /// to garbage shorter than a header or to a packet that claims to be a response.
    private func formatError(for query: [UInt8]) -> [UInt8]? {
        var reader = WireReader(query)
        guard let id = try? reader.readUInt16(), let flags = try? reader.readUInt16(), flags & 0x8000 == 0 else {
            return nil
        }
        var response = Message()
        response.id = id
        response.isResponse = true
        response.opcode = Opcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11))
        response.recursionDesired = flags & 0x0100 != 0
        response.rcode = .formatError
        return try? response.encode(maximumSize: 512)
    }
}
