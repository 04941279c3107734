import Wire

/// Why a connection failed. Split, as ocaml-tls does, by who can fix it: `Fatal` is the peer
/// sending something a correct peer never sends; `Negotiation` is two correct peers that cannot
/// agree (a configuration change fixes it); `Authentication` is an identity we do not accept.
/// Every case maps to exactly one alert, which the engine sends before it closes.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Fatal: Equatable, Sendable {
        /// Bytes that do not parse as the structure they claim to be.
        case decode(String)
        /// A message or record that is not allowed at this point of the protocol.
        case unexpectedMessage(String)
        /// A field that parses but has a value the protocol forbids here.
        case illegalParameter(String)
        /// A protected record failed authentication.
        case badRecordMAC
        /// A record longer than the protocol allows.
        case recordOverflow(length: Int)
        /// A Finished or signature that does not verify.
        case decryptError(String)
        /// A mandatory extension is absent.
        case missingExtension(String)
        /// An extension the peer may not send here.
        case unsupportedExtension(UInt16)
    }

    public enum Negotiation: Equatable, Sendable {
        /// No TLS version both sides speak.
        case noCommonVersion
        /// No cipher suite, group or signature scheme in common; the string says which.
        case noCommonParameter(String)
        /// ALPN was offered on both sides without a common protocol.
        case noApplicationProtocol
        /// The server asked for a client certificate and none was given.
        case certificateRequired
        /// A client retrying with a lower version than both sides speak signalled it with
        /// TLS_FALLBACK_SCSV (RFC 7507): something made its first attempt fail.
        case inappropriateFallback
    }

    public enum Authentication: Equatable, Sendable {
        /// The certificate could not be parsed or uses an unsupported key.
        case badCertificate(String)
        /// The chain does not lead to a trusted root or pin.
        case unknownIssuer(String)
        /// The certificate is outside its validity period.
        case expired(String)
        /// The certificate is valid but not for this name or this use.
        case notAuthorized(String)
    }

    case fatal(Fatal)
    case negotiation(Negotiation)
    case authentication(Authentication)
    /// The peer sent a fatal alert; nothing is sent back.
    case peerAlert(AlertDescription)
    /// The connection was already closed or failed.
    case closed
    /// A local failure (a key that cannot sign, a crypto library error).
    case internalError(String)

    /// The alert this error is reported to the peer with, or nil when nothing should be sent.
    public var alert: AlertDescription? {
        switch self {
        case .fatal(let fatal):
            switch fatal {
            case .decode: return .decodeError
            case .unexpectedMessage: return .unexpectedMessage
            case .illegalParameter: return .illegalParameter
            case .badRecordMAC: return .badRecordMAC
            case .recordOverflow: return .recordOverflow
            case .decryptError: return .decryptError
            case .missingExtension: return .missingExtension
            case .unsupportedExtension: return .unsupportedExtension
            }
        case .negotiation(let negotiation):
            switch negotiation {
            case .noCommonVersion: return .protocolVersion
            case .noCommonParameter: return .handshakeFailure
            case .noApplicationProtocol: return .noApplicationProtocol
            case .certificateRequired: return .certificateRequired
            case .inappropriateFallback: return .inappropriateFallback
            }
        case .authentication(let authentication):
            switch authentication {
            case .badCertificate: return .badCertificate
            case .unknownIssuer: return .unknownCA
            case .expired: return .certificateExpired
            case .notAuthorized: return .certificateUnknown
            }
        case .peerAlert, .closed: return nil
        case .internalError: return .internalError
        }
    }

    public var description: String {
        switch self {
        case .fatal(let fatal):
            switch fatal {
            case .decode(let reason): return "malformed message: \(reason)"
            case .unexpectedMessage(let reason): return "unexpected message: \(reason)"
            case .illegalParameter(let reason): return "illegal parameter: \(reason)"
            case .badRecordMAC: return "a protected record failed authentication"
            case .recordOverflow(let length): return "record of \(length) bytes exceeds the limit"
            case .decryptError(let reason): return "verification failed: \(reason)"
            case .missingExtension(let name): return "missing extension: \(name)"
            case .unsupportedExtension(let code): return "extension \(code) not allowed here"
            }
        case .negotiation(let negotiation):
            switch negotiation {
            case .noCommonVersion: return "no TLS version in common with the peer"
            case .noCommonParameter(let what): return "no \(what) in common with the peer"
            case .noApplicationProtocol: return "no application protocol (ALPN) in common"
            case .certificateRequired: return "the peer did not send the required certificate"
            case .inappropriateFallback: return "the client fell back to an older version than both sides speak"
            }
        case .authentication(let authentication):
            switch authentication {
            case .badCertificate(let reason): return "bad certificate: \(reason)"
            case .unknownIssuer(let reason): return "untrusted certificate: \(reason)"
            case .expired(let reason): return "certificate expired: \(reason)"
            case .notAuthorized(let reason): return "certificate not acceptable: \(reason)"
            }
        case .peerAlert(let alert): return "the peer sent the alert \(alert)"
        case .closed: return "the connection is closed"
        case .internalError(let reason): return "internal error: \(reason)"
        }
    }
}

extension TLSError {
    /// A decoding failure from `Wire`, which names the offset within the message.
    init(_ wire: WireError) {
        self = .fatal(.decode(wire.description))
    }
}

/// Runs a `Wire` decoding step and reports its failure as a TLS decode error.
@inline(__always)
func decoding<T>(_ body: () throws(WireError) -> T) throws(TLSError) -> T {
    do {
        return try body()
    } catch {
        throw TLSError(error)
    }
}
