import DNS
import DNSSecurity
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

    /// Who may ask for AXFR and IXFR (over TCP only): these addresses, or requests signed with
    /// one of `transferKeys`. Nobody by default.
    public var transferPolicy: AddressPolicy
    /// TSIG keys this server verifies requests with (RFC 8945); signed requests get signed answers.
    public var keys: [TSIGKey]
    /// Names of the keys whose signed requests may transfer zones.
    public var transferKeys: Set<DomainName>
    /// Zones this server copies from a primary, each with who may NOTIFY it of a change (the
    /// primary's address); a NOTIFY signed with one of `keys` is accepted too.
    public var secondaries: [DomainName: AddressPolicy] = [:]
    /// Who may NOTIFY this server about a zone it is primary for (asking it to reload, as a git
    /// hook does); a NOTIFY signed with one of `keys` is accepted too. Nobody by default.
    public var primaryNotifiers = AddressPolicy()
    /// Which TSIG key may change which zones, names and types by dynamic update; nobody by default.
    public var updatePolicy = UpdatePolicy()

    public init(
        authority: Authority, cookieSecret: CookieSecret? = nil, transferPolicy: AddressPolicy = AddressPolicy(),
        keys: [TSIGKey] = [], transferKeys: Set<DomainName> = []
    ) {
        self.authority = authority
        self.cookieSecret = cookieSecret
        self.transferPolicy = transferPolicy
        self.keys = keys
        self.transferKeys = transferKeys
    }

    /// The response to send for `query`, or nil when nothing should be sent. `clientAddress` is
    /// the sender's IP address (4 or 16 bytes) and `now` the time in seconds since 1970, which
    /// cookies, TSIG and transfer policies need.
    public func respond(
        to query: [UInt8], over transport: Transport, from clientAddress: [UInt8] = [], at now: UInt32 = 0
    ) -> [UInt8]? {
        responses(to: query, over: transport, from: clientAddress, at: now).first
    }

    /// Every message to send for `query`: several for a zone transfer, at most one otherwise.
    public func responses(
        to query: [UInt8], over transport: Transport, from clientAddress: [UInt8] = [], at now: UInt32 = 0
    ) -> [[UInt8]] {
        let message: Message
        do {
            message = try Message.decode(query)
        } catch {
            return formatError(for: query).map { [$0] } ?? []
        }
        guard !message.isResponse else { return [] }

        let signature: (signer: TSIGSequenceSigner?, key: TSIGKey?)
        switch verifySignature(of: query, message, at: now) {
        case .success(let verified): signature = verified
        case .failure(let refusal): return encode(refusal.message, for: message, over: transport).map { [$0] } ?? []
        }
        var signer = signature.signer
        let signedBy = signature.key

        var replies: [Message]
        if let edns = message.edns, edns.version != 0 {
            // RFC 6891 §6.1.3: only version 0 exists.
            var badVersion = Message.response(to: message)
            badVersion.rcode = .badVersionOrSignature
            replies = [badVersion]
        } else if message.opcode == .update {
            // A caller that stores zones uses `planUpdate`; without storage nothing is acknowledged.
            switch planUpdate(message, signedBy: signedBy?.name) {
            case .answer(let answer): replies = [answer]
            case .commit(_, _, _, let failure): replies = [failure]
            }
        } else if message.opcode == .notify {
            replies = [notifyAnswer(message, from: clientAddress, signed: signedBy != nil)]
        } else if transport == .tcp, let transfer = authority.transfer(message) {
            let keyAllowed = signedBy.map { transferKeys.contains($0.name) } ?? false
            if transferPolicy.allows(clientAddress) || keyAllowed {
                replies = transfer
            } else {
                var refused = Message.response(to: message)
                refused.rcode = .refused
                replies = [refused]
            }
        } else {
            replies = [authority.answer(message)]
            if replies[0].rcode == .refused, let name = message.questions.first?.name,
                secondaries.keys.contains(where: { name.isSubdomain(of: $0) })
            {
                // A zone we copy but have no copy of (not transferred yet, or expired): SERVFAIL.
                replies[0].rcode = .serverFailure
                replies[0].extendedError = (
                    code: ExtendedError.noReachableAuthority, text: "no current copy of the zone from its primary"
                )
            }
        }
        if let cookieSecret, replies.count == 1, replies[0].edns != nil {
            for case .cookie(let client, let server) in message.edns?.options ?? [] {
                let cookie = cookieSecret.responseOption(
                    client: client, server: server, clientAddress: clientAddress, now: now)
                replies[0].edns?.options.append(.cookie(client: cookie.client, server: cookie.server))
                break
            }
        }
        return finish(replies, for: message, over: transport, signer: &signer, at: now)
    }

    /// Encodes each reply within the transport's limit and signs it when the query was signed.
    private func finish(
        _ replies: [Message], for message: Message, over transport: Transport, signer: inout TSIGSequenceSigner?,
        at now: UInt32
    ) -> [[UInt8]] {
        replies.compactMap { reply in
            guard var bytes = encode(reply, for: message, over: transport, reserving: signer == nil ? 0 : 256)
            else { return nil }
            if var active = signer {
                guard let signed = try? active.sign(bytes, time: UInt64(now)) else { return nil }
                bytes = signed
                signer = active
            }
            return bytes
        }
    }

    /// The signer for the answer and the key that signed `query`, or the refusal to send.
    private func verifySignature(of query: [UInt8], _ message: Message, at now: UInt32) -> Result<
        (signer: TSIGSequenceSigner?, key: TSIGKey?), SignatureRefusal
    > {
        guard message.tsig != nil else { return .success((nil, nil)) }
        switch TSIG.verify(query, keys: keys, now: UInt64(now)) {
        case .success(let verified):
            return .success((TSIGSequenceSigner(key: verified.key, requestMAC: verified.mac), verified.key))
        case .failure(let error):
            return .failure(SignatureRefusal(message: tsigFailure(error, for: message)))
        }
    }

    /// What to do with a dynamic update (RFC 2136): answer now, or store a new zone and answer
    /// after it is durable. The shell serialises updates: plan, store, install, answer.
    public enum UpdatePlan: Sendable {
        case answer(Message)
        /// `success` once `zone` is stored and installed; `failure` (SERVFAIL) if storing fails.
        case commit(zone: Zone, summary: String, success: Message, failure: Message)
    }

    /// The same plan with its answers encoded and signed, as the shell sends them.
    public enum EncodedUpdatePlan: Sendable {
        case answer([UInt8]?)
        case commit(zone: Zone, summary: String, success: [UInt8]?, failure: [UInt8]?)
    }

    /// Decodes and verifies an UPDATE and plans it; see `UpdatePlan`.
    public func planUpdate(_ query: [UInt8], over transport: Transport, from clientAddress: [UInt8], at now: UInt32)
        -> EncodedUpdatePlan
    {
        guard let message = try? Message.decode(query), !message.isResponse, message.opcode == .update else {
            return .answer(responses(to: query, over: transport, from: clientAddress, at: now).first)
        }
        let signature: (signer: TSIGSequenceSigner?, key: TSIGKey?)
        switch verifySignature(of: query, message, at: now) {
        case .success(let verified): signature = verified
        case .failure(let refusal): return .answer(encode(refusal.message, for: message, over: transport))
        }
        // Each answer is signed on its own: only one of them is sent.
        func encoded(_ reply: Message) -> [UInt8]? {
            var signer = signature.signer
            return finish([reply], for: message, over: transport, signer: &signer, at: now).first
        }
        switch planUpdate(message, signedBy: signature.key?.name) {
        case .answer(let reply):
            return .answer(encoded(reply))
        case .commit(let zone, let summary, let success, let failure):
            return .commit(zone: zone, summary: summary, success: encoded(success), failure: encoded(failure))
        }
    }

    func planUpdate(_ message: Message, signedBy key: DomainName?) -> UpdatePlan {
        var response = Message.response(to: message)
        if let origin = message.questions.first?.name, secondaries[origin] != nil {
            // A copy is changed at its primary (RFC 2136 §6 forwarding is not offered).
            response.rcode = .notAuthoritative
            return .answer(response)
        }
        switch authority.update(message, signedBy: key, policy: updatePolicy) {
        case .rejected(let code, let reason):
            response.rcode = code
            if message.edns != nil, code != .formatError { response.extendedError = (code: 0, text: reason) }
            return .answer(response)
        case .unchanged:
            return .answer(response)
        case .changed(let zone, let summary):
            var failure = response
            failure.rcode = .serverFailure
            return .commit(zone: zone, summary: summary, success: response, failure: failure)
        }
    }

    /// RFC 1996 §4.7: a NOTIFY for a zone we copy, from its primary, or for a zone we are primary
    /// for, from `primaryNotifiers`, is acknowledged; the shell sees the acknowledgement
    /// (`notifiedZone(inResponse:)`) and refreshes or reloads the zone.
    private func notifyAnswer(_ notify: Message, from clientAddress: [UInt8], signed: Bool) -> Message {
        var response = Message.response(to: notify)
        guard notify.questions.count == 1, let question = notify.questions.first, question.type == .soa else {
            response.rcode = .formatError
            return response
        }
        let isPrimary = authority.zone(named: question.name) != nil
        guard let allowed = secondaries[question.name] ?? (isPrimary ? primaryNotifiers : nil) else {
            response.rcode = .notAuthoritative
            return response
        }
        guard signed || allowed.allows(clientAddress) else {
            response.rcode = .refused
            return response
        }
        response.authoritative = true
        return response
    }

    /// The zone an outgoing response acknowledges a NOTIFY for, or nil: how the shell learns
    /// that a secondary zone should be refreshed now.
    public static func notifiedZone(inResponse bytes: [UInt8]) -> DomainName? {
        guard bytes.count > 3, (bytes[2] >> 3) & 0x0F == Opcode.notify.rawValue, bytes[3] & 0x0F == 0,
            let response = try? Message.decode(bytes), response.isResponse, response.authoritative
        else { return nil }
        return response.questions.first?.name
    }

    /// RFC 8945 §5.2: NOTAUTH with the TSIG error in an unsigned TSIG record.
    private func tsigFailure(_ error: TSIGError, for query: Message) -> Message {
        var response = Message.response(to: query)
        guard case .tsig(let record)? = query.tsig?.data, let owner = query.tsig?.name else {
            response.rcode = .formatError
            return response
        }
        response.rcode = error.responseCode == .formatError ? .formatError : .notAuthoritative
        response.tsig = ResourceRecord(
            name: owner, recordClass: .any, ttl: 0,
            data: .tsig(
                TSIGRecord(
                    algorithm: record.algorithm, timeSigned: record.timeSigned, fudge: record.fudge, mac: [],
                    originalID: query.id, error: error.responseCode.rawValue, otherData: [])))
        return response
    }

    /// Encodes within the transport's limit, less `reserving` bytes for a signature to come.
    private func encode(_ response: Message, for query: Message, over transport: Transport, reserving: Int = 0)
        -> [UInt8]?
    {
        let limit: Int
        switch transport {
        case .tcp: limit = 65535
        case .udp: limit = min(query.maximumResponseSize, Int(Self.advertisedPayloadSize))
        }
        return try? response.encode(maximumSize: limit - reserving)
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

/// An answer that refuses a request whose signature did not verify.
struct SignatureRefusal: Error {
    let message: Message
}
