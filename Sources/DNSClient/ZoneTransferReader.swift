import DNS
import DNSSecurity

/// Reads the messages of an AXFR (RFC 5936) one at a time: checks each belongs to the request,
/// verifies the TSIG sequence when the request was signed, and says when the closing SOA came.
public struct ZoneTransferReader: Sendable {
    public private(set) var records = 0
    public private(set) var messages = 0
    public private(set) var bytes = 0
    private let query: ClientQuery
    private var verifier: TSIGSequenceVerifier?
    private var openingSOA: SOARecord?

    public init(query: ClientQuery) {
        self.query = query
        verifier = query.options.key.map { TSIGSequenceVerifier(keys: [$0], requestMAC: query.requestMAC ?? []) }
    }

    public enum Step: Sendable {
        /// Another message of the zone; more follow.
        case message(Message)
        /// The last message (it holds the closing SOA).
        case finished(Message)
        /// The transfer cannot go on.
        case failed(TransferFailure)
    }

    public mutating func receive(_ frame: [UInt8], now: UInt64) -> Step {
        let message: Message
        if var verifier {
            switch verifier.verify(frame, now: now) {
            case .success(let verified): message = verified.message
            case .failure(let error): return .failed(.signature(error))
            }
            self.verifier = verifier
        } else {
            do {
                message = try Message.decode(frame)
            } catch {
                return .failed(.malformed("\(error)"))
            }
        }
        guard message.isResponse, message.id == query.id else { return .failed(.malformed("a reply to another query")) }
        guard message.rcode == .noError else { return .failed(.refused(message.rcode)) }
        if messages == 0 || !message.questions.isEmpty {
            guard message.questions.count == 1, message.questions.first == query.question else {
                return .failed(.malformed("a reply to another question"))
            }
        }
        messages += 1
        bytes += frame.count
        for record in message.answers {
            records += 1
            guard case .soa(let soa) = record.data else {
                if openingSOA == nil { return .failed(.malformed("the transfer does not start with an SOA")) }
                continue
            }
            if openingSOA == nil {
                openingSOA = soa
            } else if soa.serial == openingSOA?.serial {
                return .finished(message)
            }
        }
        if openingSOA == nil { return .failed(.malformed("the transfer does not start with an SOA")) }
        return .message(message)
    }
}

public enum TransferFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case refused(ResponseCode)
    case signature(TSIGError)
    case malformed(String)
    case closedEarly

    public var description: String {
        switch self {
        case .refused(let code): return "the server answered \(code)"
        case .signature(let error): return "Couldn't verify signature: \(error)"
        case .malformed(let reason): return reason
        case .closedEarly: return "the connection closed before the closing SOA"
        }
    }
}
