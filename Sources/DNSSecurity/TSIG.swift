import DNS
import Wire

/// A shared secret for transaction signatures.
public struct TSIGKey: Hashable, Sendable {
    public var name: DomainName
    public var algorithm: TSIGAlgorithm
    public var secret: [UInt8]

    public init(name: DomainName, algorithm: TSIGAlgorithm, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// `[algorithm:]name:base64secret`, the form `dig -y` and `nsupdate -y` take. Without an
    /// algorithm, HMAC-SHA256 (BIND's default since 9.13).
    public init(dashY text: String) throws(TSIGKeyError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw TSIGKeyError("expected [algorithm:]name:secret, found \(parts.count) fields")
        }
        let algorithmText = parts.count == 3 ? parts[0] : "hmac-sha256"
        guard let algorithm = TSIGAlgorithm(name: algorithmText) else {
            throw TSIGKeyError("unknown TSIG algorithm \"\(algorithmText)\"")
        }
        try self.init(nameText: parts[parts.count - 2], algorithm: algorithm, secretText: parts[parts.count - 1])
    }

    init(nameText: String, algorithm: TSIGAlgorithm, secretText: String) throws(TSIGKeyError) {
        do {
            name = try DomainName(nameText.hasSuffix(".") ? nameText : nameText + ".")
        } catch {
            throw TSIGKeyError("bad key name \"\(nameText)\": \(error)")
        }
        guard let secret = TextEncoding.decodeBase64(secretText), !secret.isEmpty else {
            throw TSIGKeyError("the secret of \(nameText) is not base64")
        }
        self.algorithm = algorithm
        self.secret = secret
    }

    /// Every `key "name" { algorithm …; secret "…"; };` clause of a BIND configuration or key file.
    public static func parseBIND(_ text: String) throws(TSIGKeyError) -> [TSIGKey] {
        var tokens = BINDTokens(text)
        var keys: [TSIGKey] = []
        while let word = tokens.next() {
            guard word == "key" else { throw TSIGKeyError("expected \"key\", found \"\(word)\"") }
            guard let name = tokens.next(), tokens.next() == "{" else { throw TSIGKeyError("expected key \"name\" {") }
            var algorithm: TSIGAlgorithm? = nil
            var secret: String? = nil
            while let field = tokens.next(), field != "}" {
                guard let value = tokens.next(), tokens.next() == ";" else {
                    throw TSIGKeyError("expected \(field) value; in key \(name)")
                }
                switch field {
                case "algorithm":
                    guard let parsed = TSIGAlgorithm(name: value) else {
                        throw TSIGKeyError("unknown TSIG algorithm \"\(value)\" in key \(name)")
                    }
                    algorithm = parsed
                case "secret": secret = value
                default: throw TSIGKeyError("unknown field \"\(field)\" in key \(name)")
                }
            }
            guard tokens.next() == ";" else { throw TSIGKeyError("expected \"};\" after key \(name)") }
            guard let algorithm, let secret else { throw TSIGKeyError("key \(name) needs an algorithm and a secret") }
            keys.append(try TSIGKey(nameText: name, algorithm: algorithm, secretText: secret))
        }
        return keys
    }
}

public struct TSIGKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Words of BIND's configuration syntax: quoted strings, braces and semicolons, comments dropped.
private struct BINDTokens {
    let bytes: [UInt8]
    var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    mutating func next() -> String? {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
            {
                position += 1
            } else if byte == UInt8(ascii: "#") || startsWith("//") {
                while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
            } else if startsWith("/*") {
                position += 2
                while position < bytes.count, !startsWith("*/") { position += 1 }
                position += 2
            } else {
                break
            }
        }
        guard position < bytes.count else { return nil }
        let byte = bytes[position]
        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: ";") {
            position += 1
            return String(UnicodeScalar(byte))
        }
        if byte == UInt8(ascii: "\"") {
            let start = position + 1
            position = start
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") { position += 1 }
            defer { position += 1 }
            return String(decoding: bytes[start..<min(position, bytes.count)], as: UTF8.self)
        }
        let start = position
        while position < bytes.count, !" \t\r\n{};\"".utf8.contains(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private func startsWith(_ text: String) -> Bool {
        let pattern = Array(text.utf8)
        return position + pattern.count <= bytes.count && Array(bytes[position..<(position + pattern.count)]) == pattern
    }
}

/// Why a signed message was not accepted (RFC 8945 §5.2).
public enum TSIGError: Error, Equatable, Sendable {
    case unsigned
    case malformed(String)
    /// No key of that name and algorithm (BADKEY).
    case badKey
    /// The MAC does not match (BADSIG).
    case badSignature
    /// Signed outside the fudge window (BADTIME).
    case badTime(signed: UInt64, now: UInt64)
    /// The MAC was cut shorter than the rules allow (BADTRUNC).
    case badTruncation

    /// The response code a server answers with.
    public var responseCode: ResponseCode {
        switch self {
        case .unsigned, .malformed: return .formatError
        case .badKey: return .badKey
        case .badSignature: return .badVersionOrSignature
        case .badTime: return .badTime
        case .badTruncation: return .badTruncation
        }
    }
}

/// Transaction signatures (RFC 8945): signing and verifying single messages and sequences.
public enum TSIG {
    public static let defaultFudge: UInt16 = 300

    /// What is hashed after the message: the full variables, or only the timers for the later
    /// messages of a sequence (RFC 8945 §4.3.1).
    enum Variables {
        case full(error: UInt16, otherData: [UInt8])
        case timersOnly
    }

    static func digestInput(
        priorMAC: [UInt8]?, message: ArraySlice<UInt8>, key: TSIGKey, time: UInt64, fudge: UInt16,
        variables: Variables
    ) -> [UInt8] {
        var writer = MessageWriter(mode: .canonical, capacity: message.count + 128)
        if let priorMAC {
            writer.write(UInt16(truncatingIfNeeded: priorMAC.count))
            writer.write(bytes: priorMAC)
        }
        writer.write(bytes: message)
        switch variables {
        case .full(let error, let otherData):
            writer.writeName(key.name)
            writer.write(RecordClass.any.rawValue)
            writer.write(UInt32(0))
            writer.writeName(algorithmName(key.algorithm))
            writer.writeUInt48(time)
            writer.write(fudge)
            writer.write(error)
            writer.write(UInt16(truncatingIfNeeded: otherData.count))
            writer.write(bytes: otherData)
        case .timersOnly:
            writer.writeUInt48(time)
            writer.write(fudge)
        }
        return writer.bytes
    }

    static func algorithmName(_ algorithm: TSIGAlgorithm) -> DomainName {
        (try? DomainName(algorithm.rawValue)) ?? .root
    }

    /// Appends a TSIG record to an encoded message. For a response, `requestMAC` is the MAC of the
    /// request it answers. Returns the signed bytes and the MAC, which the next message of a
    /// sequence or the response's verifier needs.
    public static func sign(
        _ message: [UInt8], key: TSIGKey, time: UInt64, fudge: UInt16 = defaultFudge, requestMAC: [UInt8]? = nil,
        error: ResponseCode = .noError, otherData: [UInt8] = []
    ) throws(WireError) -> (bytes: [UInt8], mac: [UInt8]) {
        let variables = Variables.full(error: error.rawValue, otherData: otherData)
        return try sign(message, key: key, time: time, fudge: fudge, priorMAC: requestMAC, variables: variables)
    }

    static func sign(
        _ message: [UInt8], key: TSIGKey, time: UInt64, fudge: UInt16, priorMAC: [UInt8]?, variables: Variables
    ) throws(WireError) -> (bytes: [UInt8], mac: [UInt8]) {
        var header = WireReader(message)
        let id = try header.readUInt16()
        try header.skip(8)
        let additionalCount = try header.readUInt16()
        guard additionalCount < 0xFFFF else { throw header.invalid("no room for another additional record") }
        let input = digestInput(
            priorMAC: priorMAC, message: message[...], key: key, time: time, fudge: fudge, variables: variables)
        let mac = key.algorithm.mac(key: key.secret, message: input)
        var error: UInt16 = 0
        var otherData: [UInt8] = []
        if case .full(let code, let other) = variables {
            error = code
            otherData = other
        }
        let record = ResourceRecord(
            name: key.name, recordClass: .any, ttl: 0,
            data: .tsig(
                TSIGRecord(
                    algorithm: algorithmName(key.algorithm), timeSigned: time, fudge: fudge, mac: mac, originalID: id,
                    error: error, otherData: otherData)))
        var writer = MessageWriter(mode: .uncompressed, capacity: message.count + 128)
        writer.write(bytes: message)
        try record.encode(into: &writer)
        try writer.setUInt16(additionalCount + 1, at: 10)
        return (writer.bytes, mac)
    }

    /// A message that verified: what it says, and the MAC a reply or the next message chains on.
    public struct Verified: Sendable {
        public var message: Message
        public var key: TSIGKey
        public var mac: [UInt8]
        public var record: TSIGRecord
    }

    /// Checks a signed message against the keys, at time `now` (seconds since 1970). A response
    /// passes the `requestMAC` of the request it answers.
    public static func verify(_ bytes: [UInt8], keys: [TSIGKey], now: UInt64, requestMAC: [UInt8]? = nil)
        -> Result<Verified, TSIGError>
    {
        verify(bytes, keys: keys, now: now, priorMAC: requestMAC, unsignedBefore: [], timersOnly: false)
    }

    static func verify(
        _ bytes: [UInt8], keys: [TSIGKey], now: UInt64, priorMAC: [UInt8]?, unsignedBefore: [UInt8], timersOnly: Bool
    ) -> Result<Verified, TSIGError> {
        let decoded: (message: Message, tsigStart: Int?)
        do {
            decoded = try Message.decodeLocatingTSIG(bytes)
        } catch {
            return .failure(.malformed("\(error)"))
        }
        guard let tsigStart = decoded.tsigStart, let owner = decoded.message.tsig,
            case .tsig(let record) = owner.data
        else { return .failure(.unsigned) }
        guard owner.recordClass == .any, owner.ttl == 0 else { return .failure(.malformed("TSIG class or TTL")) }
        guard let algorithm = TSIGAlgorithm(name: record.algorithm.description),
            let key = keys.first(where: { $0.name == owner.name && $0.algorithm == algorithm })
        else { return .failure(.badKey) }
        let full = algorithm.macLength
        // RFC 8945 §5.2.2.1: longer than the hash, or shorter than 10 bytes or half the hash, is malformed.
        guard record.mac.count <= full, record.mac.count >= max(10, (full + 1) / 2) else {
            return record.mac.count > full || record.mac.isEmpty
                ? .failure(.malformed("MAC of \(record.mac.count) bytes")) : .failure(.badTruncation)
        }
        // The MAC covers the message as it was before the TSIG record was added.
        var unsigned = Array(bytes[..<tsigStart])
        unsigned[0] = UInt8(truncatingIfNeeded: record.originalID >> 8)
        unsigned[1] = UInt8(truncatingIfNeeded: record.originalID)
        let additional = UInt16(unsigned[10]) << 8 | UInt16(unsigned[11])
        unsigned[10] = UInt8(truncatingIfNeeded: (additional &- 1) >> 8)
        unsigned[11] = UInt8(truncatingIfNeeded: additional &- 1)
        let variables: Variables =
            timersOnly ? .timersOnly : .full(error: record.error, otherData: record.otherData)
        let input = digestInput(
            priorMAC: priorMAC, message: (unsignedBefore + unsigned)[...], key: key, time: record.timeSigned,
            fudge: record.fudge, variables: variables)
        let expected = key.algorithm.mac(key: key.secret, message: input)
        guard constantTimeEqual(Array(expected.prefix(record.mac.count)), record.mac) else {
            return .failure(.badSignature)
        }
        let skew = now > record.timeSigned ? now - record.timeSigned : record.timeSigned - now
        guard skew <= UInt64(record.fudge) else { return .failure(.badTime(signed: record.timeSigned, now: now)) }
        return .success(Verified(message: decoded.message, key: key, mac: record.mac, record: record))
    }
}

/// Signs the messages of a sequence (a zone transfer's responses): the first chains on the
/// request's MAC with the full variables, each later one on the previous MAC with timers only.
public struct TSIGSequenceSigner: Sendable {
    public let key: TSIGKey
    public let fudge: UInt16
    private var priorMAC: [UInt8]
    private var signedOne = false

    public init(key: TSIGKey, requestMAC: [UInt8], fudge: UInt16 = TSIG.defaultFudge) {
        self.key = key
        self.fudge = fudge
        priorMAC = requestMAC
    }

    public mutating func sign(_ message: [UInt8], time: UInt64) throws(WireError) -> [UInt8] {
        let variables: TSIG.Variables = signedOne ? .timersOnly : .full(error: 0, otherData: [])
        let signed = try TSIG.sign(
            message, key: key, time: time, fudge: fudge, priorMAC: priorMAC, variables: variables)
        priorMAC = signed.mac
        signedOne = true
        return signed.bytes
    }
}

/// Verifies a sequence: every message must be signed except runs of at most 99 unsigned ones,
/// whose bytes the next signature covers (RFC 8945 §5.3.1).
public struct TSIGSequenceVerifier: Sendable {
    public let keys: [TSIGKey]
    private var priorMAC: [UInt8]
    private var verifiedOne = false
    private var unsigned: [UInt8] = []
    private var unsignedCount = 0

    public init(keys: [TSIGKey], requestMAC: [UInt8]) {
        self.keys = keys
        priorMAC = requestMAC
    }

    /// The decoded message; `signed` says whether it carried its own signature.
    public mutating func verify(_ bytes: [UInt8], now: UInt64) -> Result<(message: Message, signed: Bool), TSIGError> {
        let result = TSIG.verify(
            bytes, keys: keys, now: now, priorMAC: priorMAC, unsignedBefore: unsigned, timersOnly: verifiedOne)
        switch result {
        case .success(let verified):
            priorMAC = verified.mac
            verifiedOne = true
            unsigned = []
            unsignedCount = 0
            return .success((verified.message, true))
        case .failure(.unsigned) where verifiedOne && unsignedCount < 99:
            guard let message = try? Message.decode(bytes) else { return .failure(.malformed("undecodable message")) }
            unsigned += bytes
            unsignedCount += 1
            return .success((message, false))
        case .failure(let error):
            return .failure(error)
        }
    }
}
