import Wire

/// The last 8 bytes of ServerHello.random from a TLS 1.3 server that negotiates TLS 1.2
/// (RFC 8446 section 4.1.3): "DOWNGRD" and 01.
let downgradeSentinelTLS12: [UInt8] = [0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01]

/// Certificate in TLS 1.2 (RFC 5246 section 7.4.2): DER certificates, leaf first, nothing else.
struct Certificate12: Sendable {
    var chain: [[UInt8]]

    static func parse(_ body: [UInt8]) throws(TLSError) -> Certificate12 {
        try ExtensionBody.parse(body, "Certificate") { (reader) throws(WireError) in
            var list = try reader.readLengthPrefixed(.uint24)
            var chain: [[UInt8]] = []
            while !list.isAtEnd {
                let der = try list.readPrefixedBytes(.uint24)
                guard !der.isEmpty else { throw list.invalid("empty certificate") }
                chain.append(der)
            }
            return Certificate12(chain: chain)
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter(capacity: 4096)
            let list = writer.beginLength(.uint24)
            for der in chain {
                let entry = writer.beginLength(.uint24)
                writer.write(bytes: der)
                try writer.endLength(entry)
            }
            try writer.endLength(list)
            return writer.bytes
        }
    }
}

/// ServerKeyExchange for ECDHE (RFC 8422 section 5.4): a named curve, the server's point, and a
/// signature over both randoms and those parameters.
struct ServerKeyExchange12: Sendable {
    var group: NamedGroup
    var point: [UInt8]
    var scheme: SignatureScheme
    var signature: [UInt8]

    /// ECParameters and ECPoint as they are signed: curve_type named_curve (3), the group, the point.
    static func parameters(group: NamedGroup, point: [UInt8]) -> [UInt8] {
        [3, UInt8(group.rawValue >> 8), UInt8(group.rawValue & 0xFF), UInt8(truncatingIfNeeded: point.count)] + point
    }

    var parameters: [UInt8] { Self.parameters(group: group, point: point) }

    static func parse(_ body: [UInt8]) throws(TLSError) -> ServerKeyExchange12 {
        try ExtensionBody.parse(body, "ServerKeyExchange") { (reader) throws(WireError) in
            guard try reader.readUInt8() == 3 else { throw reader.invalid("curve type other than named_curve") }
            let group = NamedGroup(rawValue: try reader.readUInt16())
            let point = try reader.readPrefixedBytes(.uint8)
            guard !point.isEmpty else { throw reader.invalid("empty ECDH point") }
            let scheme = SignatureScheme(rawValue: try reader.readUInt16())
            let signature = try reader.readPrefixedBytes(.uint16)
            return ServerKeyExchange12(group: group, point: point, scheme: scheme, signature: signature)
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(bytes: parameters)
            writer.write(scheme.rawValue)
            let mark = writer.beginLength(.uint16)
            writer.write(bytes: signature)
            try writer.endLength(mark)
            return writer.bytes
        }
    }
}

/// CertificateRequest in TLS 1.2 (RFC 5246 section 7.4.4): certificate types, signature
/// algorithms and acceptable CA names (which this engine neither sends nor uses).
struct CertificateRequest12: Sendable {
    static let rsaSign: UInt8 = 1
    static let ecdsaSign: UInt8 = 64

    var certificateTypes: [UInt8]
    var schemes: [SignatureScheme]

    static func parse(_ body: [UInt8]) throws(TLSError) -> CertificateRequest12 {
        try ExtensionBody.parse(body, "CertificateRequest") { (reader) throws(WireError) in
            var types = try reader.readLengthPrefixed(.uint8)
            guard !types.isAtEnd else { throw types.invalid("no certificate types") }
            let certificateTypes = Array(types.readRemainingBytes())
            let schemes = try ExtensionBody.uint16List(&reader).map(SignatureScheme.init(rawValue:))
            guard !schemes.isEmpty else { throw reader.invalid("no signature algorithms") }
            var authorities = try reader.readLengthPrefixed(.uint16)
            while !authorities.isAtEnd { _ = try authorities.readLengthPrefixed(.uint16) }
            return CertificateRequest12(certificateTypes: certificateTypes, schemes: schemes)
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            let types = writer.beginLength(.uint8)
            writer.write(bytes: certificateTypes)
            try writer.endLength(types)
            writer.write(bytes: ExtensionBody.encodeUInt16List(schemes.map(\.rawValue)))
            writer.write(UInt16(0))
            return writer.bytes
        }
    }
}

/// NewSessionTicket in TLS 1.2 (RFC 5077 section 3.3).
struct NewSessionTicket12: Sendable {
    var lifetimeHint: UInt32
    var ticket: [UInt8]

    static func parse(_ body: [UInt8]) throws(TLSError) -> NewSessionTicket12 {
        try ExtensionBody.parse(body, "NewSessionTicket") { (reader) throws(WireError) in
            NewSessionTicket12(lifetimeHint: try reader.readUInt32(), ticket: try reader.readPrefixedBytes(.uint16))
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(lifetimeHint)
            let mark = writer.beginLength(.uint16)
            writer.write(bytes: ticket)
            try writer.endLength(mark)
            return writer.bytes
        }
    }
}

/// ClientKeyExchange for ECDHE: the client's point.
enum ClientKeyExchange12 {
    static func parse(_ body: [UInt8]) throws(TLSError) -> [UInt8] {
        let point = try ExtensionBody.parse(body, "ClientKeyExchange") { (reader) throws(WireError) in
            try reader.readPrefixedBytes(.uint8)
        }
        guard !point.isEmpty else { throw .fatal(.decode("ClientKeyExchange: empty ECDH point")) }
        return point
    }

    static func encode(_ point: [UInt8]) -> [UInt8] {
        [UInt8(truncatingIfNeeded: point.count)] + point
    }
}
