import Wire

/// A response code, 12 bits when EDNS extends the header's 4 (RFC 6891 §6.1.3).
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = ResponseCode(rawValue: 0)
    public static let formatError = ResponseCode(rawValue: 1)
    public static let serverFailure = ResponseCode(rawValue: 2)
    public static let nameError = ResponseCode(rawValue: 3)
    public static let notImplemented = ResponseCode(rawValue: 4)
    public static let refused = ResponseCode(rawValue: 5)
    /// RFC 2136 prerequisite failures: a name that should not exist does, an RRset that should
    /// not exist does, an RRset that should exist does not.
    public static let yxDomain = ResponseCode(rawValue: 6)
    public static let yxRRSet = ResponseCode(rawValue: 7)
    public static let nxRRSet = ResponseCode(rawValue: 8)
    public static let notAuthoritative = ResponseCode(rawValue: 9)
    public static let notZone = ResponseCode(rawValue: 10)
    /// BADVERS in EDNS, BADSIG in TSIG: both are 16.
    public static let badVersionOrSignature = ResponseCode(rawValue: 16)
    public static let badKey = ResponseCode(rawValue: 17)
    public static let badTime = ResponseCode(rawValue: 18)
    public static let badTruncation = ResponseCode(rawValue: 22)
    public static let badCookie = ResponseCode(rawValue: 23)

    private static let names: [UInt16: String] = [
        0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
        7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME",
        19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
    ]

    public var description: String { Self.names[rawValue] ?? "RCODE\(rawValue)" }

    /// A mnemonic, or the `RCODE123` form `description` gives codes without one.
    public init?(_ text: String) {
        let upper = text.uppercased()
        if let known = Self.names.first(where: { $0.value == upper }) {
            rawValue = known.key
        } else if upper.hasPrefix("RCODE"), let value = UInt16(upper.dropFirst(5)) {
            rawValue = value
        } else {
            return nil
        }
    }
}

/// An EDNS(0) option (RFC 6891 §6.1.2) with the well-known ones decoded and every other kept as bytes.
public enum EDNSOption: Hashable, Sendable {
    /// RFC 5001: the server's identifier (empty in a query, which asks for it).
    case nsid([UInt8])
    /// RFC 7871: the client's network, truncated to `sourcePrefix` bits.
    case clientSubnet(family: UInt16, sourcePrefix: UInt8, scopePrefix: UInt8, address: [UInt8])
    /// RFC 7873: an 8-byte client cookie and an 8 to 32 byte server cookie (empty in a first query).
    case cookie(client: [UInt8], server: [UInt8])
    /// RFC 7828: idle timeout in units of 100 ms (absent in queries).
    case tcpKeepalive(timeout: UInt16?)
    /// RFC 7830: padding bytes (zeros when we write them).
    case padding([UInt8])
    /// RFC 8914: an extended DNS error code and optional UTF-8 text.
    case extendedError(code: UInt16, text: [UInt8])
    case unknown(code: UInt16, data: [UInt8])

    public static let nsidCode: UInt16 = 3
    public static let clientSubnetCode: UInt16 = 8
    public static let cookieCode: UInt16 = 10
    public static let tcpKeepaliveCode: UInt16 = 11
    public static let paddingCode: UInt16 = 12
    public static let extendedErrorCode: UInt16 = 15

    public var code: UInt16 {
        switch self {
        case .nsid: return Self.nsidCode
        case .clientSubnet: return Self.clientSubnetCode
        case .cookie: return Self.cookieCode
        case .tcpKeepalive: return Self.tcpKeepaliveCode
        case .padding: return Self.paddingCode
        case .extendedError: return Self.extendedErrorCode
        case .unknown(let code, _): return code
        }
    }

    /// Decodes one option's body (the reader covers exactly the body).
    public init(code: UInt16, body: inout WireReader) throws(WireError) {
        switch code {
        case Self.nsidCode:
            self = .nsid(Array(body.readRemainingBytes()))
        case Self.clientSubnetCode:
            let family = try body.readUInt16()
            let source = try body.readUInt8()
            let scope = try body.readUInt8()
            let limit: UInt8 = family == 1 ? 32 : family == 2 ? 128 : 255
            guard source <= limit, scope <= limit else { throw body.invalid("client subnet prefix too long") }
            let address = Array(body.readRemainingBytes())
            guard address.count == (Int(source) + 7) / 8 else {
                throw body.invalid("client subnet address is \(address.count) bytes for a /\(source) prefix")
            }
            self = .clientSubnet(family: family, sourcePrefix: source, scopePrefix: scope, address: address)
        case Self.cookieCode:
            let client = Array(try body.readBytes(8))
            let server = Array(body.readRemainingBytes())
            guard server.isEmpty || (8...32).contains(server.count) else {
                throw body.invalid("server cookie of \(server.count) bytes")
            }
            self = .cookie(client: client, server: server)
        case Self.tcpKeepaliveCode:
            self = .tcpKeepalive(timeout: body.isAtEnd ? nil : try body.readUInt16())
        case Self.paddingCode:
            self = .padding(Array(body.readRemainingBytes()))
        case Self.extendedErrorCode:
            self = .extendedError(code: try body.readUInt16(), text: Array(body.readRemainingBytes()))
        default:
            self = .unknown(code: code, data: Array(body.readRemainingBytes()))
        }
        try body.expectEnd()
    }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(code)
        let mark = writer.beginLength(.uint16)
        switch self {
        case .nsid(let data), .padding(let data), .unknown(_, let data):
            writer.write(bytes: data)
        case .clientSubnet(let family, let source, let scope, let address):
            writer.write(family)
            writer.write(source)
            writer.write(scope)
            writer.write(bytes: address)
        case .cookie(let client, let server):
            writer.write(bytes: client)
            writer.write(bytes: server)
        case .tcpKeepalive(let timeout):
            if let timeout { writer.write(timeout) }
        case .extendedError(let code, let text):
            writer.write(code)
            writer.write(bytes: text)
        }
        try writer.endLength(mark)
    }
}

/// The EDNS(0) pseudo-section a message's OPT record carries (RFC 6891).
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can receive.
    public var udpPayloadSize: UInt16
    public var version: UInt8
    /// The DO bit: the sender wants DNSSEC records.
    public var dnssecOK: Bool
    /// The other 15 flag bits, kept so unknown ones survive a round trip.
    public var otherFlags: UInt16
    public var options: [EDNSOption]

    public init(
        udpPayloadSize: UInt16 = 1232, version: UInt8 = 0, dnssecOK: Bool = false, otherFlags: UInt16 = 0,
        options: [EDNSOption] = []
    ) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags & 0x7FFF
        self.options = options
    }

    /// Bytes the OPT record takes on the wire.
    var encodedSize: Int {
        var writer = MessageWriter(mode: .uncompressed, capacity: 64)
        do { try encode(into: &writer, extendedRcode: 0) } catch { return 0 }
        return writer.count
    }

    func encode(into writer: inout MessageWriter, extendedRcode: UInt8) throws(WireError) {
        writer.write(UInt8(0))
        writer.write(RecordType.opt.rawValue)
        writer.write(udpPayloadSize)
        writer.write(extendedRcode)
        writer.write(version)
        writer.write((dnssecOK ? 0x8000 : 0) | otherFlags)
        let mark = writer.beginLength(.uint16)
        for option in options { try option.encode(into: &writer) }
        try writer.endLength(mark)
    }
}
