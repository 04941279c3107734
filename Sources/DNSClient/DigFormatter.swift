import DNS
import DNSSecurity

/// How one query went, as the formatter needs it: the response, where it came from and how,
/// how long it took, and when.
public struct DigExchange: Sendable {
    public var response: ClientResponse
    public var server: ServerAddress
    public var transport: Transport
    public var milliseconds: Int
    /// Seconds since 1970 when the answer came.
    public var when: Int64
    /// The client cookie sent, to say whether the server's echo is good.
    public var clientCookie: [UInt8]

    public init(
        response: ClientResponse, server: ServerAddress, transport: Transport, milliseconds: Int, when: Int64,
        clientCookie: [UInt8] = []
    ) {
        self.response = response
        self.server = server
        self.transport = transport
        self.milliseconds = milliseconds
        self.when = when
        self.clientCookie = clientCookie
    }
}

/// Prints messages the way dig does, line for line, so that people (and scripts written for dig)
/// can read them: the header and flags lines, the OPT pseudosection, the four sections with
/// BIND's tab stops, the TSIG pseudosection and the statistics lines.
public enum DigFormatter {
    /// `; <<>> quercus-dig VERSION <<>> ARGS`, the server count and the global options line.
    public static func banner(version: String, arguments: [String], servers: Int = 1) -> String {
        "\n; <<>> quercus-dig \(version) <<>> \(arguments.joined(separator: " "))\n"
            + "; (\(servers) server\(servers == 1 ? "" : "s") found)\n;; global options: +cmd\n"
    }

    /// Everything dig prints after the banner for an answered query.
    public static func answer(_ exchange: DigExchange) -> String {
        var text = ""
        if case .failed(let error) = exchange.response.signature {
            text += ";; Couldn't verify signature: \(signatureText(error))\n"
        }
        text += ";; Got answer:\n" + message(exchange.response.message, clientCookie: exchange.clientCookie)
        text += statistics(exchange) + ";; MSG SIZE  rcvd: \(exchange.response.size)\n\n"
        return text
    }

    /// The header, pseudosections and sections of a message.
    public static func message(_ message: Message, clientCookie: [UInt8] = []) -> String {
        var text =
            ";; ->>HEADER<<- opcode: \(opcodeName(message.opcode)), status: \(message.rcode), id: \(message.id)\n"
        let counts = [
            (message.opcode == .update ? "ZONE" : "QUERY", message.questions.count),
            (message.opcode == .update ? "PREREQ" : "ANSWER", message.answers.count),
            (message.opcode == .update ? "UPDATE" : "AUTHORITY", message.authority.count),
            ("ADDITIONAL", message.additional.count + (message.edns == nil ? 0 : 1) + (message.tsig == nil ? 0 : 1)),
        ]
        text += ";; flags:" + flagNames(message).map { " " + $0 }.joined() + "; "
        text += counts.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "\n"
        if message.isResponse && message.recursionDesired && !message.recursionAvailable {
            text += ";; WARNING: recursion requested but not available\n"
        }
        text += "\n"
        if let edns = message.edns { text += optPseudosection(edns, clientCookie: clientCookie) }
        let isUpdate = message.opcode == .update
        if !message.questions.isEmpty {
            text += ";; \(isUpdate ? "ZONE" : "QUESTION") SECTION:\n"
            text += message.questions.map { questionLine($0) + "\n" }.joined() + "\n"
        }
        let sections = [
            (isUpdate ? "PREREQUISITE" : "ANSWER", message.answers),
            (isUpdate ? "UPDATE" : "AUTHORITY", message.authority), ("ADDITIONAL", message.additional),
        ]
        for (title, records) in sections where !records.isEmpty {
            text += ";; \(title) SECTION:\n" + records.map { recordLine($0) + "\n" }.joined() + "\n"
        }
        if let tsig = message.tsig {
            text += ";; TSIG PSEUDOSECTION:\n" + recordLine(tsig) + "\n\n"
        }
        return text
    }

    /// `;; Query time`, `;; SERVER` and `;; WHEN`.
    public static func statistics(_ exchange: DigExchange) -> String {
        ";; Query time: \(exchange.milliseconds) msec\n"
            + ";; SERVER: \(exchange.server)(\(exchange.server.host)) (\(exchange.transport.rawValue))\n"
            + ";; WHEN: \(dateText(exchange.when))\n"
    }

    /// `+short`: the data of each answer record, one per line.
    public static func short(_ message: Message) -> String {
        message.answers.map { shortData($0) + "\n" }.joined()
    }

    /// One message of a zone transfer: its answer records, then its TSIG record as dig shows it.
    public static func transferMessage(_ message: Message) -> String {
        var text = message.answers.map { recordLine($0) + "\n" }.joined()
        if let tsig = message.tsig { text += recordLine(tsig) + "\n" }
        return text
    }

    /// The closing lines of a transfer.
    public static func transferSummary(_ exchange: DigExchange, records: Int, messages: Int, bytes: Int) -> String {
        statistics(exchange) + ";; XFR size: \(records) records (messages \(messages), bytes \(bytes))\n\n"
    }

    // MARK: Lines

    /// BIND's columns: the owner to 24, TTL to 32, class to 40, type to 48; a field already past
    /// its column is followed by one space instead of tabs.
    public static func recordLine(_ record: ResourceRecord) -> String {
        var line = ColumnLine()
        line.append(record.name.description)
        line.pad(to: 24)
        line.append(String(record.ttl))
        line.pad(to: 32)
        line.append(record.recordClass.description)
        line.pad(to: 40)
        line.append(record.type.description)
        line.pad(to: 48)
        line.append(recordData(record))
        return line.text
    }

    /// `;name` then class and type; a question has no TTL, so the class goes to column 32.
    public static func questionLine(_ question: Question) -> String {
        var line = ColumnLine()
        line.append(";" + question.name.description)
        line.pad(to: 32)
        line.append(question.recordClass.description)
        line.pad(to: 40)
        line.append(question.type.description)
        return line.text
    }

    static func recordData(_ record: ResourceRecord) -> String {
        // dig writes an empty TSIG other-data field with a trailing space; copy it so lines compare.
        if case .tsig(let tsig) = record.data, tsig.otherData.isEmpty { return tsig.presentation + " " }
        if case .unknown(let unknown) = record.data, unknown.bytes.isEmpty { return "" }
        guard chunkedTypes.contains(record.type) else { return record.data.presentation }
        // BIND writes a long trailing base64 or hex field (keys, signatures, digests) in chunks of 56.
        var fields = record.data.presentation.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard let last = fields.popLast() else { return "" }
        var chunks: [String] = []
        var rest = Substring(last)
        while rest.count > 56 {
            chunks.append(String(rest.prefix(56)))
            rest = rest.dropFirst(56)
        }
        chunks.append(String(rest))
        return (fields + chunks).joined(separator: " ")
    }

    /// Types whose data ends in one long base64 or hex field.
    static let chunkedTypes: Set<RecordType> = [
        .ds, .cds, .sshfp, .tlsa, .dnskey, .cdnskey, .rrsig, .zonemd,
    ]

    static func shortData(_ record: ResourceRecord) -> String { recordData(record) }

    static func opcodeName(_ opcode: Opcode) -> String {
        switch opcode.rawValue {
        case 0: return "QUERY"
        case 1: return "IQUERY"
        case 2: return "STATUS"
        case 4: return "NOTIFY"
        case 5: return "UPDATE"
        default: return "RESERVED\(opcode.rawValue)"
        }
    }

    static func flagNames(_ message: Message) -> [String] {
        [
            (message.isResponse, "qr"), (message.authoritative, "aa"), (message.truncated, "tc"),
            (message.recursionDesired, "rd"), (message.recursionAvailable, "ra"), (message.authenticData, "ad"),
            (message.checkingDisabled, "cd"),
        ].filter(\.0).map(\.1)
    }

    static func optPseudosection(_ edns: EDNS, clientCookie: [UInt8]) -> String {
        var text = ";; OPT PSEUDOSECTION:\n"
        text += "; EDNS: version: \(edns.version), flags:\(edns.dnssecOK ? " do" : "");"
        if edns.otherFlags != 0 { text += " MBZ: 0x\(hex4(edns.otherFlags));" }
        text += " udp: \(edns.udpPayloadSize)\n"
        for option in edns.options {
            switch option {
            case .cookie(let client, let server):
                let verdict = server.isEmpty ? "" : client == clientCookie ? " (good)" : " (bad)"
                text += "; COOKIE: \(hex(client + server))\(verdict)\n"
            case .nsid(let bytes):
                text += "; NSID: \(bytes.map(hex2).joined(separator: " ")) (\"\(printable(bytes))\")\n"
            case .extendedError(let code, let bytes):
                text += "; EDE: \(code)\(bytes.isEmpty ? "" : ": (\(printable(bytes)))")\n"
            case .clientSubnet(_, let source, let scope, let address):
                text += "; CLIENT-SUBNET: \(hex(address))/\(source)/\(scope)\n"
            case .tcpKeepalive(let timeout):
                text += "; TCP-KEEPALIVE: \(timeout.map { "\(Double($0) / 10) secs" } ?? "")\n"
            case .padding(let bytes):
                text += "; PADDING: \(bytes.count) bytes\n"
            case .unknown(let code, let bytes):
                text += "; OPT=\(code): \(bytes.map(hex2).joined(separator: " "))\n"
            }
        }
        return text
    }

    public static func signatureText(_ error: TSIGError) -> String {
        switch error {
        case .unsigned: return "expected a TSIG or SIG(0)"
        case .malformed(let reason): return "malformed TSIG: \(reason)"
        case .badKey: return "tsig indicates error (BADKEY)"
        case .badSignature: return "tsig verify failure"
        case .badTime: return "tsig indicates error (BADTIME)"
        case .badTruncation: return "tsig indicates error (BADTRUNC)"
        }
    }

    // MARK: Text helpers

    static func hex(_ bytes: [UInt8]) -> String { bytes.map(hex2).joined() }

    static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    static func hex4(_ value: UInt16) -> String {
        hex2(UInt8(truncatingIfNeeded: value >> 8)) + hex2(UInt8(truncatingIfNeeded: value))
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(bytes.map { (0x20...0x7E).contains($0) ? Character(Unicode.Scalar($0)) : "." })
    }

    /// `Sun Nov 29 07:14:52 UTC 2026`, dig's `%a %b %d %H:%M:%S %Z %Y`, in UTC.
    public static func dateText(_ secondsSince1970: Int64) -> String {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86400 : (secondsSince1970 - 86399) / 86400
        let secondOfDay = secondsSince1970 - days * 86400
        let (year, month, day) = DNSSECTime.civil(fromDays: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        let monthName = months[Int(max(0, min(11, month - 1)))]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let clock = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(weekday) \(monthName) \(two(day)) \(clock) UTC \(year)"
    }
}

/// A line built field by field, tracking its column so fields can be padded to tab stops.
struct ColumnLine {
    var text = ""
    var column = 0

    mutating func append(_ field: String) {
        text += field
        column += field.count
    }

    mutating func pad(to target: Int) {
        guard column < target else {
            append(" ")
            return
        }
        while column < target {
            text += "\t"
            column = (column / 8 + 1) * 8
        }
    }
}
