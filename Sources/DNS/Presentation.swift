/// Why presentation-format text (a zone file, or one record's data) could not be read, and where.
public struct PresentationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file the text came from, when it came from one.
    public var file: String?
    public var line: Int
    public var column: Int
    public var reason: String

    public init(file: String? = nil, line: Int, column: Int, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(file ?? "<text>"):\(line):\(column): \(reason)" }
}

/// One whitespace-separated word of presentation text. `text` keeps its backslash escapes (the
/// consumer knows whether it is a name or a character string) and loses its quotes.
public struct Token: Sendable, Equatable {
    public var text: [UInt8]
    public var quoted: Bool
    public var line: Int
    public var column: Int

    public var string: String { String(decoding: text, as: UTF8.self) }
}

/// Reads the fields of one record's data from its tokens, reporting errors at the token's position.
public struct RDataScanner: Sendable {
    let tokens: [Token]
    var index = 0
    public let origin: DomainName?
    /// Where an error about a missing field points: just after the last token.
    let endLine: Int
    let endColumn: Int

    public init(tokens: [Token], origin: DomainName?, endLine: Int, endColumn: Int) {
        self.tokens = tokens
        self.origin = origin
        self.endLine = endLine
        self.endColumn = endColumn
    }

    /// Splits one line of text (no parentheses or comments) into tokens, for parsing RDATA given as a string.
    public init(text: String, origin: DomainName? = nil) throws(PresentationError) {
        var lexer = ZoneLexer(text: text, file: nil)
        var tokens: [Token] = []
        while let token = try lexer.nextToken() {
            if case .word(let word) = token { tokens.append(word) }
        }
        self.init(tokens: tokens, origin: origin, endLine: 1, endColumn: text.utf8.count + 1)
    }

    public var isAtEnd: Bool { index >= tokens.count }

    public func error(_ reason: String, at token: Token? = nil) -> PresentationError {
        if let token { return PresentationError(line: token.line, column: token.column, reason: reason) }
        return PresentationError(line: endLine, column: endColumn, reason: reason)
    }

    public mutating func next(_ what: String) throws(PresentationError) -> Token {
        guard index < tokens.count else { throw error("expected \(what)") }
        defer { index += 1 }
        return tokens[index]
    }

    public func peek() -> Token? { index < tokens.count ? tokens[index] : nil }

    public func expectEnd() throws(PresentationError) {
        if index < tokens.count { throw error("unexpected \"\(tokens[index].string)\"", at: tokens[index]) }
    }

    public mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_ what: String, as: T.Type = T.self)
        throws(PresentationError) -> T
    {
        let token = try next(what)
        guard !token.quoted, let value = T(token.string) else {
            throw error("expected \(what) (0 to \(T.max)), found \"\(token.string)\"", at: token)
        }
        return value
    }

    public mutating func name(_ what: String) throws(PresentationError) -> DomainName {
        let token = try next(what)
        do {
            return try DomainName(token.string, origin: origin)
        } catch {
            throw self.error("expected \(what): \(error)", at: token)
        }
    }

    public mutating func recordType(_ what: String) throws(PresentationError) -> RecordType {
        let token = try next(what)
        guard let type = RecordType(token.string) else {
            throw error("unknown record type \"\(token.string)\"", at: token)
        }
        return type
    }

    /// A character string (RFC 1035 §5.1): quoted or not, escapes resolved, at most 255 bytes.
    public mutating func characterString(_ what: String) throws(PresentationError) -> [UInt8] {
        let token = try next(what)
        let bytes = try unescape(token)
        guard bytes.count <= 255 else { throw error("\(what) is \(bytes.count) bytes (at most 255)", at: token) }
        return bytes
    }

    public func unescape(_ token: Token) throws(PresentationError) -> [UInt8] {
        guard let bytes = unescapeCharacters(token.text[...]) else {
            throw error("bad escape in \"\(token.string)\"", at: token)
        }
        return bytes
    }

    /// The remaining tokens joined without spaces (base64 and hex fields may be split across words).
    public mutating func joinedRest(_ what: String, allowEmpty: Bool = false) throws(PresentationError) -> (
        String, Token?
    ) {
        let first = peek()
        var text = ""
        while index < tokens.count {
            text += tokens[index].string
            index += 1
        }
        if text.isEmpty && !allowEmpty { throw error("expected \(what)") }
        return (text, first)
    }

    public mutating func base64Rest(_ what: String, allowEmpty: Bool = false) throws(PresentationError) -> [UInt8] {
        let (text, first) = try joinedRest(what, allowEmpty: allowEmpty)
        guard let bytes = TextEncoding.decodeBase64(text) else { throw error("\(what) is not base64", at: first) }
        return bytes
    }

    /// Hex in the remaining tokens; `-` alone means empty where `dashIsEmpty`.
    public mutating func hexRest(_ what: String, allowEmpty: Bool = false) throws(PresentationError) -> [UInt8] {
        let (text, first) = try joinedRest(what, allowEmpty: allowEmpty)
        guard let bytes = TextEncoding.decodeHex(text) else { throw error("\(what) is not hex", at: first) }
        return bytes
    }

    public mutating func hexField(_ what: String, dashIsEmpty: Bool = false) throws(PresentationError) -> [UInt8] {
        let token = try next(what)
        if dashIsEmpty && token.text == [UInt8(ascii: "-")] { return [] }
        guard let bytes = TextEncoding.decodeHex(token.string) else { throw error("\(what) is not hex", at: token) }
        return bytes
    }

    public mutating func typeList() throws(PresentationError) -> [RecordType] {
        var types: Set<RecordType> = []
        while !isAtEnd { types.insert(try recordType("a record type")) }
        return types.sorted()
    }
}

/// Resolves `\X` and `\DDD` escapes; nil when an escape is malformed.
func unescapeCharacters(_ text: ArraySlice<UInt8>) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var index = text.startIndex
    while index < text.endIndex {
        let byte = text[index]
        guard byte == UInt8(ascii: "\\") else {
            out.append(byte)
            index += 1
            continue
        }
        guard index + 1 < text.endIndex else { return nil }
        let next = text[index + 1]
        if next >= 0x30 && next <= 0x39 {
            guard index + 3 < text.endIndex else { return nil }
            let digits = text[(index + 1)...(index + 3)]
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let value = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            out.append(UInt8(value))
            index += 4
        } else {
            out.append(next)
            index += 2
        }
    }
    return out
}

/// A character string in quotes, escaping `"` and `\` and writing other unprintables as `\DDD`.
func quotedCharacterString(_ bytes: some Sequence<UInt8>) -> String {
    var text = "\""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            text.append("\\")
            text.append(Character(Unicode.Scalar(byte)))
        case 0x20...0x7E:
            text.append(Character(Unicode.Scalar(byte)))
        default:
            text.append(decimalEscape(byte))
        }
    }
    return text + "\""
}

/// Fixed fields, then a trailing binary field that may be empty (and then is left out).
func presentationFields(_ head: String, _ tail: String) -> String {
    tail.isEmpty ? head : head + " " + tail
}
