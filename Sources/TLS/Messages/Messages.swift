import Wire

/// A handshake message with its 4-byte header, as it enters the transcript.
func handshakeMessage(_ type: HandshakeType, _ body: [UInt8]) -> [UInt8] {
    let length = body.count
    return [
        type.rawValue, UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
        UInt8(truncatingIfNeeded: length),
    ] + body
}

/// The special random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 section 4.1.3).
let helloRetryRequestRandom: [UInt8] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
]

struct ClientHello: Sendable {
    var legacyVersion: UInt16 = 0x0303
    var random: [UInt8]
    var sessionID: [UInt8]
    var cipherSuites: [CipherSuite]
    var compressionMethods: [UInt8] = [0]
    var extensions: [Extension]

    static func parse(_ body: [UInt8]) throws(TLSError) -> ClientHello {
        var reader = WireReader(body)
        let (version, random, sessionID, suites, compression) = try decoding {
            () throws(WireError) -> (UInt16, [UInt8], [UInt8], [UInt16], [UInt8]) in
            let version = try reader.readUInt16()
            let random = Array(try reader.readBytes(32))
            let sessionID = try reader.readLengthPrefixed(.uint8)
            guard sessionID.remaining <= 32 else { throw sessionID.invalid("session id longer than 32 bytes") }
            let suites = try ExtensionBody.uint16List(&reader)
            var compression = try reader.readLengthPrefixed(.uint8)
            return (
                version, random, Array(sessionID.bytes[sessionID.offset..<sessionID.end]), suites,
                Array(compression.readRemainingBytes())
            )
        }
        let extensions: [Extension] = reader.isAtEnd ? [] : try .read(&reader)
        try decoding { () throws(WireError) in try reader.expectEnd() }
        return ClientHello(
            legacyVersion: version, random: random, sessionID: sessionID,
            cipherSuites: suites.map(CipherSuite.init(rawValue:)), compressionMethods: compression,
            extensions: extensions)
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(legacyVersion)
            writer.write(bytes: random)
            let session = writer.beginLength(.uint8)
            writer.write(bytes: sessionID)
            try writer.endLength(session)
            writer.write(bytes: ExtensionBody.encodeUInt16List(cipherSuites.map(\.rawValue)))
            let compression = writer.beginLength(.uint8)
            writer.write(bytes: compressionMethods)
            try writer.endLength(compression)
            try extensions.write(to: &writer)
            return writer.bytes
        }
    }
}

struct ServerHello: Sendable {
    var legacyVersion: UInt16 = 0x0303
    var random: [UInt8]
    var sessionID: [UInt8]
    var cipherSuite: CipherSuite
    var extensions: [Extension]

    var isHelloRetryRequest: Bool { random == helloRetryRequestRandom }

    static func parse(_ body: [UInt8]) throws(TLSError) -> ServerHello {
        var reader = WireReader(body)
        let (version, random, sessionID, suite) = try decoding {
            () throws(WireError) -> (UInt16, [UInt8], [UInt8], UInt16) in
            let version = try reader.readUInt16()
            let random = Array(try reader.readBytes(32))
            var sessionID = try reader.readLengthPrefixed(.uint8)
            guard sessionID.remaining <= 32 else { throw sessionID.invalid("session id longer than 32 bytes") }
            let suite = try reader.readUInt16()
            let compression = try reader.readUInt8()
            guard compression == 0 else { throw reader.invalid("compression method must be null") }
            return (version, random, Array(sessionID.readRemainingBytes()), suite)
        }
        // A TLS 1.2 ServerHello may end without an extension block (RFC 5246 section 7.4.1.3).
        let extensions: [Extension] = reader.isAtEnd ? [] : try .read(&reader)
        try decoding { () throws(WireError) in try reader.expectEnd() }
        return ServerHello(
            legacyVersion: version, random: random, sessionID: sessionID, cipherSuite: CipherSuite(rawValue: suite),
            extensions: extensions)
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(legacyVersion)
            writer.write(bytes: random)
            let session = writer.beginLength(.uint8)
            writer.write(bytes: sessionID)
            try writer.endLength(session)
            writer.write(cipherSuite.rawValue)
            writer.write(UInt8(0))
            try extensions.write(to: &writer)
            return writer.bytes
        }
    }
}

/// key_share in a ClientHello: a list of (group, key_exchange).
enum KeyShareExtension {
    static func parseClient(_ body: [UInt8]) throws(TLSError) -> [(group: NamedGroup, key: [UInt8])] {
        try ExtensionBody.parse(body, "key_share") { (reader) throws(WireError) in
            var list = try reader.readLengthPrefixed(.uint16)
            var shares: [(group: NamedGroup, key: [UInt8])] = []
            while !list.isAtEnd {
                let group = NamedGroup(rawValue: try list.readUInt16())
                let key = try list.readPrefixedBytes(.uint16)
                guard !key.isEmpty else { throw list.invalid("empty key share") }
                shares.append((group, key))
            }
            return shares
        }
    }

    static func encodeClient(_ shares: [(group: NamedGroup, key: [UInt8])]) throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            let list = writer.beginLength(.uint16)
            for share in shares {
                writer.write(share.group.rawValue)
                let key = writer.beginLength(.uint16)
                writer.write(bytes: share.key)
                try writer.endLength(key)
            }
            try writer.endLength(list)
            return writer.bytes
        }
    }

    static func parseServer(_ body: [UInt8]) throws(TLSError) -> (group: NamedGroup, key: [UInt8]) {
        try ExtensionBody.parse(body, "key_share") { (reader) throws(WireError) in
            let group = NamedGroup(rawValue: try reader.readUInt16())
            let key = try reader.readPrefixedBytes(.uint16)
            return (group, key)
        }
    }

    static func encodeServer(group: NamedGroup, key: [UInt8]) throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(group.rawValue)
            let mark = writer.beginLength(.uint16)
            writer.write(bytes: key)
            try writer.endLength(mark)
            return writer.bytes
        }
    }
}

/// Certificate (RFC 8446 section 4.4.2): a request context and DER certificates, leaf first.
struct CertificateMessage: Sendable {
    var context: [UInt8]
    var chain: [[UInt8]]

    static func parse(_ body: [UInt8]) throws(TLSError) -> CertificateMessage {
        try ExtensionBody.parse(body, "Certificate") { (reader) throws(WireError) in
            var contextReader = try reader.readLengthPrefixed(.uint8)
            let context = Array(contextReader.readRemainingBytes())
            var list = try reader.readLengthPrefixed(.uint24)
            var chain: [[UInt8]] = []
            while !list.isAtEnd {
                let der = try list.readPrefixedBytes(.uint24)
                guard !der.isEmpty else { throw list.invalid("empty certificate") }
                _ = try list.readLengthPrefixed(.uint16)  // per-certificate extensions (OCSP, SCT) are not used
                chain.append(der)
            }
            return CertificateMessage(context: context, chain: chain)
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter(capacity: 4096)
            let contextMark = writer.beginLength(.uint8)
            writer.write(bytes: context)
            try writer.endLength(contextMark)
            let list = writer.beginLength(.uint24)
            for der in chain {
                let entry = writer.beginLength(.uint24)
                writer.write(bytes: der)
                try writer.endLength(entry)
                writer.write(UInt16(0))
            }
            try writer.endLength(list)
            return writer.bytes
        }
    }
}

struct CertificateVerifyMessage: Sendable {
    var scheme: SignatureScheme
    var signature: [UInt8]

    static func parse(_ body: [UInt8]) throws(TLSError) -> CertificateVerifyMessage {
        try ExtensionBody.parse(body, "CertificateVerify") { (reader) throws(WireError) in
            let scheme = SignatureScheme(rawValue: try reader.readUInt16())
            return CertificateVerifyMessage(
                scheme: scheme, signature: try reader.readPrefixedBytes(.uint16))
        }
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(scheme.rawValue)
            let mark = writer.beginLength(.uint16)
            writer.write(bytes: signature)
            try writer.endLength(mark)
            return writer.bytes
        }
    }
}

/// CertificateRequest (RFC 8446 section 4.3.2).
struct CertificateRequestMessage: Sendable {
    var context: [UInt8]
    var extensions: [Extension]

    static func parse(_ body: [UInt8]) throws(TLSError) -> CertificateRequestMessage {
        var reader = WireReader(body)
        let context = try decoding { () throws(WireError) in try reader.readPrefixedBytes(.uint8) }
        let extensions: [Extension] = try .read(&reader)
        try decoding { () throws(WireError) in try reader.expectEnd() }
        return CertificateRequestMessage(context: context, extensions: extensions)
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            let mark = writer.beginLength(.uint8)
            writer.write(bytes: context)
            try writer.endLength(mark)
            try extensions.write(to: &writer)
            return writer.bytes
        }
    }
}

/// NewSessionTicket (RFC 8446 section 4.6.1).
struct NewSessionTicketMessage: Sendable {
    var lifetime: UInt32
    var ageAdd: UInt32
    var nonce: [UInt8]
    var ticket: [UInt8]
    var extensions: [Extension]

    static func parse(_ body: [UInt8]) throws(TLSError) -> NewSessionTicketMessage {
        var reader = WireReader(body)
        let (lifetime, ageAdd, nonce, ticket) = try decoding { () throws(WireError) in
            let lifetime = try reader.readUInt32()
            let ageAdd = try reader.readUInt32()
            let nonce = try reader.readPrefixedBytes(.uint8)
            let ticket = try reader.readPrefixedBytes(.uint16)
            guard !ticket.isEmpty else { throw reader.invalid("empty ticket") }
            return (lifetime, ageAdd, nonce, ticket)
        }
        let extensions: [Extension] = try .read(&reader)
        try decoding { () throws(WireError) in try reader.expectEnd() }
        guard lifetime <= 604_800 else { throw .fatal(.illegalParameter("ticket lifetime over seven days")) }
        return NewSessionTicketMessage(
            lifetime: lifetime, ageAdd: ageAdd, nonce: nonce, ticket: ticket, extensions: extensions)
    }

    func encode() throws(TLSError) -> [UInt8] {
        try decoding { () throws(WireError) in
            var writer = WireWriter()
            writer.write(lifetime)
            writer.write(ageAdd)
            let nonceMark = writer.beginLength(.uint8)
            writer.write(bytes: nonce)
            try writer.endLength(nonceMark)
            let ticketMark = writer.beginLength(.uint16)
            writer.write(bytes: ticket)
            try writer.endLength(ticketMark)
            try extensions.write(to: &writer)
            return writer.bytes
        }
    }
}
