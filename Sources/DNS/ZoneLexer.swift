/// Splits master-file text into words and logical line ends: comments dropped, line breaks inside
/// parentheses ignored, quoted strings kept whole.
struct ZoneLexer {
    enum Item: Equatable {
        case word(Token)
        /// The end of a logical line (a line break outside parentheses, or the end of the text).
        case lineEnd
    }

    private let bytes: [UInt8]
    let file: String?
    private var position = 0
    private(set) var line = 1
    private var lineStart = 0
    private var parenthesisDepth = 0
    private var parenthesisLine = 0
    private var parenthesisColumn = 0
    private var finished = false

    init(text: String, file: String?) {
        bytes = Array(text.utf8)
        self.file = file
    }

    private var column: Int { position - lineStart + 1 }

    private func error(_ reason: String, line: Int? = nil, column: Int? = nil) -> PresentationError {
        PresentationError(file: file, line: line ?? self.line, column: column ?? self.column, reason: reason)
    }

    /// The next word or line end; nil after the final line end.
    mutating func nextToken() throws(PresentationError) -> Item? {
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                position += 1
            case UInt8(ascii: ";"):
                while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
            case UInt8(ascii: "\n"):
                position += 1
                line += 1
                lineStart = position
                if parenthesisDepth == 0 { return .lineEnd }
            case UInt8(ascii: "("):
                if parenthesisDepth == 0 {
                    parenthesisLine = line
                    parenthesisColumn = column
                }
                parenthesisDepth += 1
                position += 1
            case UInt8(ascii: ")"):
                guard parenthesisDepth > 0 else { throw error("\")\" without a matching \"(\"") }
                parenthesisDepth -= 1
                position += 1
            default:
                return .word(try readWord())
            }
        }
        if parenthesisDepth > 0 {
            throw error("\"(\" is never closed", line: parenthesisLine, column: parenthesisColumn)
        }
        if finished { return nil }
        finished = true
        return .lineEnd
    }

    private mutating func readWord() throws(PresentationError) -> Token {
        var token = Token(text: [], quoted: false, line: line, column: column)
        if bytes[position] == UInt8(ascii: "\"") {
            token.quoted = true
            try readQuoted(into: &token)
            return token
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"),
                UInt8(ascii: "("), UInt8(ascii: ")"):
                return token
            case UInt8(ascii: "\""):
                // `key="value"` (SVCB parameters) is one word.
                try readQuoted(into: &token)
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { throw error("backslash at the end of the text") }
                token.text.append(byte)
                token.text.append(bytes[position + 1])
                position += 2
            default:
                token.text.append(byte)
                position += 1
            }
        }
        return token
    }

    private mutating func readQuoted(into token: inout Token) throws(PresentationError) {
        let startLine = line
        let startColumn = column
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "\n") else {
                    throw error("quoted string is not closed on its line", line: startLine, column: startColumn)
                }
                token.text.append(byte)
                token.text.append(bytes[position + 1])
                position += 2
            case UInt8(ascii: "\n"):
                throw error("quoted string is not closed on its line", line: startLine, column: startColumn)
            default:
                token.text.append(byte)
                position += 1
            }
        }
        throw error("quoted string is never closed", line: startLine, column: startColumn)
    }
}
