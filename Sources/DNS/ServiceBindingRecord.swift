import Wire

/// One SvcParam of SVCB and HTTPS (RFC 9460): a key and its wire value.
public struct ServiceParameter: Hashable, Sendable {
    public var key: UInt16
    public var value: [UInt8]
    public init(key: UInt16, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public static let mandatory: UInt16 = 0
    public static let alpn: UInt16 = 1
    public static let noDefaultALPN: UInt16 = 2
    public static let port: UInt16 = 3
    public static let ipv4Hint: UInt16 = 4
    public static let ech: UInt16 = 5
    public static let ipv6Hint: UInt16 = 6
    public static let dohPath: UInt16 = 7

    static let names: [UInt16: String] = [
        mandatory: "mandatory", alpn: "alpn", noDefaultALPN: "no-default-alpn", port: "port", ipv4Hint: "ipv4hint",
        ech: "ech", ipv6Hint: "ipv6hint", dohPath: "dohpath",
    ]

    static func keyName(_ key: UInt16) -> String { names[key] ?? "key\(key)" }

    static func key(named name: String) -> UInt16? {
        let lower = name.lowercased()
        if let known = names.first(where: { $0.value == lower }) { return known.key }
        guard lower.hasPrefix("key"), lower.count > 3 else { return nil }
        return UInt16(lower.dropFirst(3))
    }

    /// Whether the value has the shape its key requires (RFC 9460 §7).
    var isWellFormed: Bool {
        switch key {
        case Self.mandatory:
            // Keys in strictly increasing order, never "mandatory" itself (RFC 9460 §8).
            guard !value.isEmpty, value.count % 2 == 0 else { return false }
            let keys = stride(from: 0, to: value.count, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
            return keys.first != 0 && zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }
        case Self.alpn: return !value.isEmpty && Self.splitCharacterStrings(value) != nil
        case Self.noDefaultALPN: return value.isEmpty
        case Self.port: return value.count == 2
        case Self.ipv4Hint: return !value.isEmpty && value.count % 4 == 0
        case Self.ipv6Hint: return !value.isEmpty && value.count % 16 == 0
        default: return true
        }
    }

    static func splitCharacterStrings(_ bytes: [UInt8]) -> [[UInt8]]? {
        var result: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let length = Int(bytes[index])
            guard length > 0, index + 1 + length <= bytes.count else { return nil }
            result.append(Array(bytes[(index + 1)...(index + length)]))
            index += 1 + length
        }
        return result
    }

    var presentation: String {
        let name = Self.keyName(key)
        switch key {
        case Self.noDefaultALPN where value.isEmpty:
            return name
        case Self.mandatory where isWellFormed:
            let keys = stride(from: 0, to: value.count, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
            return "\(name)=" + keys.map(Self.keyName).joined(separator: ",")
        case Self.alpn where isWellFormed:
            let ids = Self.splitCharacterStrings(value) ?? []
            return "\(name)=\"" + ids.map(Self.escapeListItem).joined(separator: ",") + "\""
        case Self.port where isWellFormed:
            return "\(name)=\(UInt16(value[0]) << 8 | UInt16(value[1]))"
        case Self.ipv4Hint where isWellFormed:
            return "\(name)="
                + stride(from: 0, to: value.count, by: 4).map {
                    IPv4Address(value[$0], value[$0 + 1], value[$0 + 2], value[$0 + 3]).description
                }.joined(separator: ",")
        case Self.ipv6Hint where isWellFormed:
            return "\(name)="
                + stride(from: 0, to: value.count, by: 16).compactMap {
                    IPv6Address(bytes: value[$0..<($0 + 16)])?.description
                }.joined(separator: ",")
        case Self.ech:
            return "\(name)=\(TextEncoding.base64(value))"
        default:
            return value.isEmpty ? name : "\(name)=\(quotedCharacterString(value))"
        }
    }

    /// An ALPN id inside the comma list: commas and backslashes need a double escape (RFC 9460 Appendix A.1).
    private static func escapeListItem(_ id: [UInt8]) -> String {
        var text = ""
        for byte in id {
            switch byte {
            case UInt8(ascii: ","):
                text += "\\\\,"
            case UInt8(ascii: "\\"):
                text += "\\\\\\\\"
            case UInt8(ascii: "\""):
                text += "\\\""
            case 0x21...0x7E:
                text.append(Character(Unicode.Scalar(byte)))
            default:
                text += decimalEscape(byte)
            }
        }
        return text
    }
}

/// SVCB and HTTPS (RFC 9460): a service's alternative endpoint and its parameters.
public protocol ServiceBindingShape: RecordData {
    var priority: UInt16 { get }
    var target: DomainName { get }
    var parameters: [ServiceParameter] { get }
    init(priority: UInt16, target: DomainName, parameters: [ServiceParameter])
}

extension ServiceBindingShape {
    public init(wire reader: inout WireReader) throws(WireError) {
        let priority = try reader.readUInt16()
        let target = try DomainName.decodeUncompressed(from: &reader)
        var parameters: [ServiceParameter] = []
        while !reader.isAtEnd {
            let position = reader.offset
            let key = try reader.readUInt16()
            if let last = parameters.last, last.key >= key {
                throw WireError(offset: position, kind: .invalid("SvcParam keys not in increasing order"))
            }
            let value = try reader.readPrefixedBytes(.uint16)
            let parameter = ServiceParameter(key: key, value: value)
            guard parameter.isWellFormed else {
                throw WireError(offset: position, kind: .invalid("malformed \(ServiceParameter.keyName(key)) value"))
            }
            parameters.append(parameter)
        }
        self.init(priority: priority, target: target, parameters: parameters)
    }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(priority)
        writer.writeName(target, compressible: false, canonicalLowercase: false)
        for parameter in parameters {
            writer.write(parameter.key)
            let mark = writer.beginLength(.uint16)
            writer.write(bytes: parameter.value)
            try writer.endLength(mark)
        }
    }

    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        let priority = try scanner.integer("the priority", as: UInt16.self)
        let target = try scanner.name("the target name")
        var parameters: [ServiceParameter] = []
        while let token = scanner.peek() {
            _ = try scanner.next("a parameter")
            let parameter = try Self.parseParameter(token, scanner: scanner)
            guard !parameters.contains(where: { $0.key == parameter.key }) else {
                throw scanner.error("parameter \(ServiceParameter.keyName(parameter.key)) given twice", at: token)
            }
            parameters.append(parameter)
        }
        self.init(priority: priority, target: target, parameters: parameters.sorted { $0.key < $1.key })
    }

    private static func parseParameter(_ token: Token, scanner: RDataScanner) throws(PresentationError)
        -> ServiceParameter
    {
        let text = token.text
        let equals = text.firstIndex(of: UInt8(ascii: "="))
        let name = String(decoding: text[..<(equals ?? text.endIndex)], as: UTF8.self)
        guard let key = ServiceParameter.key(named: name) else {
            throw scanner.error("unknown service parameter \"\(name)\"", at: token)
        }
        let raw = equals.map { text[(text.index(after: $0))...] } ?? []
        guard let valueText = unescapeCharacters(raw) else { throw scanner.error("bad escape", at: token) }
        let value: [UInt8]?
        let items = { () -> [String] in
            String(decoding: valueText, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(
                String.init)
        }
        switch key {
        case ServiceParameter.mandatory:
            var keys: [UInt16] = []
            for item in items() {
                guard let listed = ServiceParameter.key(named: item) else {
                    keys = []
                    break
                }
                keys.append(listed)
            }
            value = keys.isEmpty ? nil : keys.sorted().flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case ServiceParameter.alpn:
            value = splitALPN(valueText).flatMap { ids in
                ids.contains { $0.isEmpty || $0.count > 255 } ? nil : ids.flatMap { [UInt8($0.count)] + $0 }
            }
        case ServiceParameter.noDefaultALPN:
            value = valueText.isEmpty ? [] : nil
        case ServiceParameter.port:
            value = UInt16(String(decoding: valueText, as: UTF8.self)).map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case ServiceParameter.ipv4Hint:
            let addresses = items().map { IPv4Address($0) }
            value = addresses.contains(nil) ? nil : addresses.compactMap { $0 }.flatMap(\.bytes)
        case ServiceParameter.ipv6Hint:
            let addresses = items().map { IPv6Address($0) }
            value = addresses.contains(nil) ? nil : addresses.compactMap { $0 }.flatMap(\.bytes)
        case ServiceParameter.ech:
            value = TextEncoding.decodeBase64(String(decoding: valueText, as: UTF8.self))
        default:
            value = valueText
        }
        guard let value, ServiceParameter(key: key, value: value).isWellFormed else {
            throw scanner.error("malformed value for \(ServiceParameter.keyName(key))", at: token)
        }
        return ServiceParameter(key: key, value: value)
    }

    /// Splits an unescaped ALPN list at commas, where `\,` is a literal comma.
    private static func splitALPN(_ text: [UInt8]) -> [[UInt8]]? {
        var ids: [[UInt8]] = [[]]
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                ids[ids.count - 1].append(text[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: ",") { ids.append([]) } else { ids[ids.count - 1].append(byte) }
            index += 1
        }
        return ids
    }

    public var presentation: String {
        ([String(priority), target.description] + parameters.map(\.presentation)).joined(separator: " ")
    }
}

public struct SVCBRecord: ServiceBindingShape {
    public static let type = RecordType.svcb
    public var priority: UInt16
    public var target: DomainName
    public var parameters: [ServiceParameter]
    public init(priority: UInt16, target: DomainName, parameters: [ServiceParameter]) {
        self.priority = priority
        self.target = target
        self.parameters = parameters
    }
    public var rdata: RData { .svcb(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .svcb(let value) = rdata { value } else { nil } }
}

public struct HTTPSRecord: ServiceBindingShape {
    public static let type = RecordType.https
    public var priority: UInt16
    public var target: DomainName
    public var parameters: [ServiceParameter]
    public init(priority: UInt16, target: DomainName, parameters: [ServiceParameter]) {
        self.priority = priority
        self.target = target
        self.parameters = parameters
    }
    public var rdata: RData { .https(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .https(let value) = rdata { value } else { nil } }
}
