import DNS
import DNSSecurity

/// An RFC 2136 UPDATE to send: what `send` in an nsupdate script produces.
public struct UpdateBatch: Equatable, Sendable {
    /// The `server` command's address; nil means the resolver's name servers.
    public var server: ServerAddress?
    /// The `zone` command's zone; nil means "find it with an SOA query", as nsupdate does.
    public var zone: DomainName?
    public var key: TSIGKey?
    public var prerequisites: [ResourceRecord] = []
    public var updates: [ResourceRecord] = []
    /// The `answer` command: print the server's response.
    public var showAnswer = false
    /// The line of the `send` (or blank line, or end of input) that closed the batch.
    public var line: Int

    public init(server: ServerAddress? = nil, zone: DomainName? = nil, key: TSIGKey? = nil, line: Int) {
        self.server = server
        self.zone = zone
        self.key = key
        self.line = line
    }

    /// The name whose SOA query finds the zone when none was given: the first name updated.
    public var firstName: DomainName? { updates.first?.name ?? prerequisites.first?.name }

    /// The UPDATE message: zone section, prerequisites, updates (RFC 2136 §2).
    public func message(id: UInt16, zone: DomainName) -> Message {
        Message(
            id: id, opcode: .update, questions: [Question(name: zone, type: .soa)], answers: prerequisites,
            authority: updates)
    }

    /// The zone an SOA query's response names: the owner of the SOA in the answer, or else in the
    /// authority section (a negative answer), or nil.
    public static func zone(fromSOAResponse message: Message) -> DomainName? {
        (message.answers + message.authority).first { $0.type == .soa }?.name
    }
}

/// Why an nsupdate script could not be read, and where (1-based line and column).
public struct UpdateScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line):\(column): \(reason)" }
}

/// nsupdate's command language (the part that makes TSIG-signed RFC 2136 updates): `server`,
/// `zone`, `key`, `ttl`, `class`, `prereq`, `update add|delete` (and `add`, `del`), `send` (or a
/// blank line), `answer`, `show`, `debug`, `quit`, and `;` comments. Names are absolute whether
/// or not they end in a dot, as in nsupdate.
public struct UpdateScriptParser: Sendable {
    public var defaultPort: Int
    /// The key from `-y`, used until a `key` command replaces it.
    public var defaultKey: TSIGKey?

    public init(defaultPort: Int = 53, defaultKey: TSIGKey? = nil) {
        self.defaultPort = defaultPort
        self.defaultKey = defaultKey
    }

    /// Every batch in the script, in order. A script that ends with pending changes sends them,
    /// as nsupdate does at end of input.
    public func parse(_ text: String) throws(UpdateScriptError) -> [UpdateBatch] {
        var batches: [UpdateBatch] = []
        var server: ServerAddress? = nil
        var zone: DomainName? = nil
        var key = defaultKey
        var defaultTTL: UInt32? = nil
        var current = UpdateBatch(key: key, line: 0)
        var showAnswer = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func close(at line: Int) {
            var batch = current
            batch.server = server
            batch.zone = zone
            batch.key = key
            batch.line = line
            batch.showAnswer = showAnswer
            if !batch.updates.isEmpty || !batch.prerequisites.isEmpty { batches.append(batch) }
            current = UpdateBatch(line: line)
        }
        lineLoop: for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var words = CommandWords(rawLine, line: lineNumber)
            guard let command = words.next() else {
                // A blank line sends, but the text's final line break is not a blank line.
                let isTrailing = index == lines.count - 1
                let isComment = rawLine.drop { $0 == " " || $0 == "\t" }.hasPrefix(";")
                if !isTrailing && !isComment { close(at: lineNumber) }
                continue
            }
            switch command.text.lowercased() {
            case "server":
                let address = try words.required("a server address")
                guard IPv4Address(address.text) != nil || IPv6Address(address.text) != nil else {
                    throw words.error("\"\(address.text)\" is not an IP address", at: address)
                }
                var port = defaultPort
                if let portWord = words.next() {
                    guard let parsed = Int(portWord.text), (1...65535).contains(parsed) else {
                        throw words.error("\"\(portWord.text)\" is not a port", at: portWord)
                    }
                    port = parsed
                }
                server = ServerAddress(host: address.text, port: port)
            case "zone":
                zone = try words.name("a zone name")
            case "key":
                let nameWord = try words.required("[algorithm:]name")
                let secret = try words.required("the secret in base64")
                do {
                    key = try TSIGKey(dashY: "\(nameWord.text):\(secret.text)")
                } catch {
                    throw words.error("\(error)", at: nameWord)
                }
            case "ttl":
                let word = try words.required("a TTL")
                guard let ttl = UInt32(word.text) else { throw words.error("\"\(word.text)\" is not a TTL", at: word) }
                defaultTTL = ttl
            case "class":
                let word = try words.required("a class")
                guard RecordClass(word.text) == .internet else {
                    throw words.error("only class IN is supported, not \"\(word.text)\"", at: word)
                }
            case "prereq":
                current.prerequisites.append(try prerequisite(&words))
            case "update":
                let operation = try words.required("add or delete")
                current.updates.append(try update(operation, &words, defaultTTL: defaultTTL))
            case "add", "del", "delete":
                current.updates.append(try update(command, &words, defaultTTL: defaultTTL))
            case "send":
                try words.expectEnd()
                close(at: lineNumber)
                continue lineLoop
            case "answer":
                showAnswer = true
            case "show", "debug", "check-names", "check-svcb":
                continue lineLoop
            case "quit":
                break lineLoop
            default:
                throw words.error("unknown command \"\(command.text)\"", at: command)
            }
            try words.expectEnd()
        }
        close(at: lines.count)
        return batches
    }

    private func prerequisite(_ words: inout CommandWords) throws(UpdateScriptError) -> ResourceRecord {
        let kind = try words.required("nxdomain, yxdomain, nxrrset or yxrrset")
        let name = try words.name("a domain name")
        switch kind.text.lowercased() {
        case "nxdomain": return empty(name, .none, .any)
        case "yxdomain": return empty(name, .any, .any)
        case "nxrrset", "yxrrset":
            let type = try words.typeSkippingClass()
            if kind.text.lowercased() == "nxrrset" { return empty(name, .none, type) }
            guard !words.isAtEnd else { return empty(name, .any, type) }
            return ResourceRecord(name: name, ttl: 0, data: try words.recordData(type))
        default:
            throw words.error("expected nxdomain, yxdomain, nxrrset or yxrrset, found \"\(kind.text)\"", at: kind)
        }
    }

    private func update(_ operation: CommandWords.Word, _ words: inout CommandWords, defaultTTL: UInt32?)
        throws(UpdateScriptError) -> ResourceRecord
    {
        switch operation.text.lowercased() {
        case "add":
            let name = try words.name("a domain name")
            var ttl = defaultTTL
            if let word = words.peek(), let explicit = UInt32(word.text) {
                ttl = explicit
                _ = words.next()
            }
            guard let ttl else {
                throw words.error("expected a TTL (or set one with the ttl command)", at: words.peek())
            }
            let type = try words.typeSkippingClass()
            guard !words.isAtEnd else { throw words.error("expected the \(type) record data") }
            return ResourceRecord(name: name, ttl: ttl, data: try words.recordData(type))
        case "del", "delete":
            let name = try words.name("a domain name")
            if let word = words.peek(), UInt32(word.text) != nil { _ = words.next() }
            if let word = words.peek(), RecordClass(word.text) != nil, RecordType(word.text) == nil { _ = words.next() }
            guard !words.isAtEnd else { return empty(name, .any, .any) }
            let type = try words.typeSkippingClass()
            guard !words.isAtEnd else { return empty(name, .any, type) }
            return ResourceRecord(name: name, recordClass: .none, ttl: 0, data: try words.recordData(type))
        default:
            throw words.error("expected add or delete, found \"\(operation.text)\"", at: operation)
        }
    }

    /// A record with no data: how RFC 2136 spells "this name" or "this RRset" in prerequisites and deletions.
    private func empty(_ name: DomainName, _ recordClass: RecordClass, _ type: RecordType) -> ResourceRecord {
        ResourceRecord(
            name: name, recordClass: recordClass, ttl: 0, data: .unknown(UnknownRecord(type: type, bytes: [])))
    }
}

/// The whitespace-separated words of one command line, with their columns, and the rest of the
/// line as record data.
struct CommandWords {
    struct Word {
        var text: String
        var column: Int
        /// Where the word starts in the line, so the rest of the line can be taken from it.
        var start: Substring.Index
    }

    let line: Substring
    let lineNumber: Int
    private var words: [Word] = []
    private var position = 0

    init(_ line: Substring, line lineNumber: Int) {
        self.line = line
        self.lineNumber = lineNumber
        var current = ""
        var start = line.startIndex
        var startColumn = 0
        var column = 0
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            column += 1
            if current.isEmpty && character == ";" { break }
            if character == " " || character == "\t" || character == "\r" {
                if !current.isEmpty { words.append(Word(text: current, column: startColumn, start: start)) }
                current = ""
            } else {
                if current.isEmpty {
                    start = index
                    startColumn = column
                }
                current.append(character)
            }
            index = line.index(after: index)
        }
        if !current.isEmpty { words.append(Word(text: current, column: startColumn, start: start)) }
    }

    var isAtEnd: Bool { position >= words.count }

    func peek() -> Word? { position < words.count ? words[position] : nil }

    mutating func next() -> Word? {
        guard position < words.count else { return nil }
        defer { position += 1 }
        return words[position]
    }

    func error(_ reason: String, at word: Word? = nil) -> UpdateScriptError {
        UpdateScriptError(line: lineNumber, column: word?.column ?? line.count + 1, reason: reason)
    }

    mutating func required(_ what: String) throws(UpdateScriptError) -> Word {
        guard let word = next() else { throw error("expected \(what)") }
        return word
    }

    mutating func expectEnd() throws(UpdateScriptError) {
        if let extra = peek() { throw error("unexpected \"\(extra.text)\"", at: extra) }
    }

    mutating func name(_ what: String) throws(UpdateScriptError) -> DomainName {
        let word = try required(what)
        do {
            return try DomainName(word.text.hasSuffix(".") ? word.text : word.text + ".")
        } catch {
            throw self.error("\"\(word.text)\" is not a domain name: \(error)", at: word)
        }
    }

    /// A record type, after an optional class (which must be IN).
    mutating func typeSkippingClass() throws(UpdateScriptError) -> RecordType {
        var word = try required("a record type")
        if RecordType(word.text) == nil, let recordClass = RecordClass(word.text) {
            guard recordClass == .internet else { throw error("only class IN is supported", at: word) }
            word = try required("a record type")
        }
        guard let type = RecordType(word.text) else { throw error("unknown record type \"\(word.text)\"", at: word) }
        return type
    }

    /// The rest of the line as `type`'s data in presentation format (names absolute).
    mutating func recordData(_ type: RecordType) throws(UpdateScriptError) -> RData {
        guard let first = peek() else { throw error("expected the \(type) record data") }
        let text = String(line[first.start...])
        position = words.count
        do {
            var scanner = try RDataScanner(text: text, origin: .root)
            return try RData.parse(type: type, from: &scanner)
        } catch {
            // The presentation parser counts columns in UTF-8 bytes; this parser counts characters.
            let bytesBefore = Array(text.utf8.prefix(max(0, error.column - 1)))
            let charactersBefore = min(String(decoding: bytesBefore, as: UTF8.self).count, text.count)
            throw UpdateScriptError(line: lineNumber, column: first.column + charactersBefore, reason: error.reason)
        }
    }
}
