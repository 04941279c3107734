import Wire

/// One extension as it appeared on the wire; the message that holds it decodes its body.
struct Extension: Sendable {
    var type: UInt16
    var body: [UInt8]
}

extension [Extension] {
    subscript(type: UInt16) -> [UInt8]? {
        first { $0.type == type }?.body
    }

    /// Reads an extension block (a 16-bit length, then type-length-value entries), rejecting
    /// repeated types as RFC 8446 section 4.2 requires.
    static func read(_ reader: inout WireReader) throws(TLSError) -> [Extension] {
        var block = try decoding { () throws(WireError) in try reader.readLengthPrefixed(.uint16) }
        var extensions: [Extension] = []
        while !block.isAtEnd {
            let (type, body) = try decoding { () throws(WireError) in
                (try block.readUInt16(), try block.readPrefixedBytes(.uint16))
            }
            guard !extensions.contains(where: { $0.type == type }) else {
                throw .fatal(.illegalParameter("extension \(type) appears twice"))
            }
            extensions.append(Extension(type: type, body: body))
        }
        return extensions
    }

    func write(to writer: inout WireWriter) throws(WireError) {
        let block = writer.beginLength(.uint16)
        for entry in self {
            writer.write(entry.type)
            let body = writer.beginLength(.uint16)
            writer.write(bytes: entry.body)
            try writer.endLength(body)
        }
        try writer.endLength(block)
    }
}

/// Small codecs for extension bodies. Each reads the whole body or fails.
enum ExtensionBody {
    static func parse<T>(_ body: [UInt8], _ name: String, _ read: (inout WireReader) throws(WireError) -> T)
        throws(TLSError) -> T
    {
        var reader = WireReader(body)
        do {
            let value = try read(&reader)
            try reader.expectEnd()
            return value
        } catch {
            throw .fatal(.decode("\(name): \(error)"))
        }
    }

    static func uint16List(_ reader: inout WireReader, width: LengthWidth = .uint16) throws(WireError) -> [UInt16] {
        var list = try reader.readLengthPrefixed(width)
        guard list.remaining % 2 == 0 else { throw list.invalid("odd length for a list of 16-bit values") }
        var values: [UInt16] = []
        while !list.isAtEnd { values.append(try list.readUInt16()) }
        return values
    }

    /// A list declared `<2..2^16-2>` (signature_algorithms, supported_groups): empty is a decode error.
    static func nonEmptyUInt16List(_ reader: inout WireReader) throws(WireError) -> [UInt16] {
        let values = try uint16List(&reader)
        guard !values.isEmpty else { throw reader.invalid("empty list") }
        return values
    }

    static func encodeUInt16List(_ values: [UInt16], width: LengthWidth = .uint16) -> [UInt8] {
        var writer = WireWriter()
        let mark = writer.beginLength(width)
        for value in values { writer.write(value) }
        try? writer.endLength(mark)
        return writer.bytes
    }

    static func protocolNames(_ reader: inout WireReader) throws(WireError) -> [String] {
        var list = try reader.readLengthPrefixed(.uint16)
        var names: [String] = []
        while !list.isAtEnd {
            let name = try list.readPrefixedBytes(.uint8)
            guard !name.isEmpty else { throw list.invalid("empty protocol name") }
            names.append(String(decoding: name, as: UTF8.self))
        }
        guard !names.isEmpty else { throw list.invalid("empty protocol list") }
        return names
    }

    static func encodeProtocolNames(_ names: [String]) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        let list = writer.beginLength(.uint16)
        for name in names {
            let entry = writer.beginLength(.uint8)
            writer.write(bytes: Array(name.utf8))
            try writer.endLength(entry)
        }
        try writer.endLength(list)
        return writer.bytes
    }

    /// server_name (RFC 6066 section 3): the bytes of each host_name entry (the caller checks that
    /// there is at most one and that it is a host name: a well-formed list that breaks either rule
    /// is illegal_parameter).
    static func serverNames(_ reader: inout WireReader) throws(WireError) -> [[UInt8]] {
        var list = try reader.readLengthPrefixed(.uint16)
        guard !list.isAtEnd else { throw list.invalid("empty server_name_list") }
        var hostNames: [[UInt8]] = []
        while !list.isAtEnd {
            let type = try list.readUInt8()
            let name = try list.readPrefixedBytes(.uint16)
            if type == 0 {
                guard !name.isEmpty else { throw list.invalid("empty host_name") }
                hostNames.append(name)
            }
        }
        return hostNames
    }

    static func encodeServerName(_ name: String) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        let list = writer.beginLength(.uint16)
        writer.write(UInt8(0))
        let entry = writer.beginLength(.uint16)
        writer.write(bytes: Array(name.utf8))
        try writer.endLength(entry)
        try writer.endLength(list)
        return writer.bytes
    }
}

extension WireReader {
    /// The body of a length-prefixed field, copied out.
    mutating func readPrefixedBytes(_ width: LengthWidth) throws(WireError) -> [UInt8] {
        var body = try readLengthPrefixed(width)
        return Array(body.readRemainingBytes())
    }
}
