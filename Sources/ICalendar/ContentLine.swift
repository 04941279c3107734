/// A parameter of a content line, `NAME=value,value`.
///
/// Values are kept as written (RFC 6868 caret escapes included) together with whether each was
/// quoted, so that printing a parsed line gives back the same text.
public struct Parameter: Sendable, Hashable {
    public var name: String
    public var values: [String]
    /// Per value: whether it was written in double quotes. Printing quotes a value also when it
    /// needs quotes (it holds `;`, `:` or `,`), whatever this says.
    public var quoted: [Bool]
    /// A vCard 2.1 parameter written as a bare value (`TEL;HOME:`), read as TYPE=HOME and
    /// printed bare again so that a 2.1 card stays 2.1.
    public var isBare: Bool

    public init(name: String, values: [String], quoted: [Bool]? = nil, isBare: Bool = false) {
        self.name = name
        self.values = values
        self.quoted = quoted ?? values.map { _ in false }
        self.isBare = isBare
    }

    public init(name: String, value: String) {
        self.init(name: name, values: [value])
    }

    /// Quoting is presentation: `CN="Jane"` and `CN=Jane` are the same parameter.
    public static func == (lhs: Parameter, rhs: Parameter) -> Bool {
        lhs.name == rhs.name && lhs.values == rhs.values && lhs.isBare == rhs.isBare
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(values)
    }

    /// The first value with RFC 6868 escapes decoded (`^n` newline, `^'` double quote, `^^` caret).
    public var value: String { values.first.map(Parameter.decodeCaret) ?? "" }

    static func decodeCaret(_ text: String) -> String {
        // The caret is one byte and always its own character: a byte search is the same test.
        guard text.containsByte(UInt8(ascii: "^")) else { return text }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "^" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "n": result.append("\n")
            case "'": result.append("\"")
            case "^": result.append("^")
            case let other?: result.append("^\(other)")
            case nil: result.append("^")
            }
        }
        return result
    }
}

/// One content line after unfolding: `[group.]NAME *(;param) : value`.
///
/// The value is the raw text after the colon, escapes and all; typed views decode it on demand
/// (see `PropertyKey`), so an unknown or malformed value survives a round trip untouched.
public struct Property: Sendable, Hashable {
    /// The vCard group (`item1` in `item1.TEL`), nil when there is none.
    public var group: String?
    /// The name as written; compare with `is(_:)`, which ignores case as RFC 5545 says.
    public var name: String
    public var parameters: [Parameter]
    public var value: String
    /// The line on which the property started in its source, 0 for properties built in code.
    public var line: Int

    public init(_ name: String, _ value: String, parameters: [Parameter] = [], group: String? = nil, line: Int = 0) {
        self.name = name
        self.value = value
        self.parameters = parameters
        self.group = group
        self.line = line
    }

    public func `is`(_ other: String) -> Bool { name.uppercasedEquals(other) }

    /// The decoded first value of the named parameter, ignoring case.
    public func parameter(_ name: String) -> String? {
        for parameter in parameters where parameter.name.uppercasedEquals(name) { return parameter.value }
        return nil
    }

    public static func == (lhs: Property, rhs: Property) -> Bool {
        lhs.group == rhs.group && lhs.name == rhs.name && lhs.parameters == rhs.parameters && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(value)
    }
}

/// Where and why text could not be read as iCalendar or vCard.
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case missingColon
        case badName(String)
        case badParameter(String)
        case unterminatedQuote
        case unexpectedEnd(expected: String, found: String)
        case endWithoutBegin(String)
        case unclosed(String)
        case propertyOutsideComponent(String)
        case noComponent
        case notUTF8
        case badValue(property: String, reason: String)
    }

    public var line: Int
    public var column: Int
    public var reason: Reason

    public init(line: Int, column: Int, reason: Reason) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .missingColon: what = "no ':' between the property name and its value"
        case .badName(let name): what = "'\(name)' is not a valid property name"
        case .badParameter(let text): what = "malformed parameter '\(text)'"
        case .unterminatedQuote: what = "a quoted parameter value is not closed"
        case .unexpectedEnd(let expected, let found): what = "END:\(found) where END:\(expected) was expected"
        case .endWithoutBegin(let name): what = "END:\(name) without a matching BEGIN"
        case .unclosed(let name): what = "BEGIN:\(name) is never closed by END:\(name)"
        case .propertyOutsideComponent(let name): what = "property \(name) outside any BEGIN/END component"
        case .noComponent: what = "no BEGIN line: not iCalendar or vCard data"
        case .notUTF8: what = "the text is not valid UTF-8"
        case .badValue(let property, let reason): what = "\(property): \(reason)"
        }
        return "line \(line), column \(column): \(what)"
    }
}

/// How forgiving the parser is.
public enum ParseMode: Sendable {
    /// RFC 5545 / RFC 6350 syntax only; the first deviation is an error.
    case strict
    /// Accepts what real clients send: bare LF or CR line ends, blank lines, parameters without
    /// `=` (vCard 2.1 `TEL;HOME:`), stray characters in names, an unclosed quote, unterminated
    /// components at the end of input. Printing the result gives valid syntax.
    case lenient
}

/// Splits text into logical content lines: unfolding joins a line break followed by one space or
/// tab to the previous line. Each line carries the physical line number where it starts.
///
/// One line at a time into one reused buffer, copied in runs between line breaks: a calendar of
/// thousands of lines costs one allocation, not one per line.
struct UnfoldedLines {
    private let input: [UInt8]
    private let mode: ParseMode
    private var index: Int
    private var physical = 1
    /// The current logical line, valid after `next()` returned true.
    private(set) var bytes: [UInt8] = []
    /// The physical line on which the current logical line starts.
    private(set) var number = 0
    /// Whether the current line is valid UTF-8, so that any part of it cut at ASCII delimiters is
    /// too and can become a String without validating again.
    private(set) var isValidUTF8 = true

    init(_ input: [UInt8], mode: ParseMode) {
        self.input = input
        self.mode = mode
        // A UTF-8 byte order mark at the very start is not content.
        index = input.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        bytes.reserveCapacity(256)
    }

    /// Moves to the next logical line; false at the end of the input.
    mutating func next() -> Bool {
        bytes.removeAll(keepingCapacity: true)
        var started = false
        var nonASCII = false
        while index < input.endIndex {
            let byte = input[index]
            if byte == 0x0D || byte == 0x0A {
                // Lenient: a blank line does not end the logical line, so a folded line
                // continues across it as the icalendar package reads it.
                if mode == .lenient {
                    skipLineEnd()
                    continue
                }
                // Strict: a blank line is a logical line of its own (which the parser refuses),
                // and lines folded onto it belong to it.
                if started { break }
                started = true
                number = physical
                skipLineEnd()
                continue
            }
            if started {
                // At the start of a physical line after some content: a space or tab folds.
                guard byte == 0x20 || byte == 0x09 else { break }
                index += 1
            } else {
                started = true
                number = physical
            }
            // The run up to the next line break, copied at once.
            var end = index
            while end < input.endIndex, input[end] != 0x0D, input[end] != 0x0A {
                if input[end] >= 0x80 { nonASCII = true }
                end += 1
            }
            bytes.append(contentsOf: input[index..<end])
            index = end
            if index < input.endIndex { skipLineEnd() }
        }
        guard started else { return false }
        isValidUTF8 = !nonASCII || String(validating: bytes, as: UTF8.self) != nil
        return true
    }

    private mutating func skipLineEnd() {
        if input[index] == 0x0D, index + 1 < input.endIndex, input[index + 1] == 0x0A { index += 1 }
        index += 1
        physical += 1
    }
}

/// Ends the logical line written into `output` from `start` on: folds it when it is longer than
/// 75 octets, then appends CRLF.
func endLine(_ output: inout [UInt8], from start: Int) {
    if output.count - start > 75 {
        let line = Array(output[start...])
        output.removeSubrange(start...)
        appendFolded(line, to: &output)
    } else {
        output.append(0x0D)
        output.append(0x0A)
    }
}

/// Folds one logical line into physical lines of at most 75 octets, never inside a UTF-8 sequence.
func appendFolded(_ line: [UInt8], to output: inout [UInt8]) {
    var start = 0
    var limit = 75
    while line.count - start > limit {
        var end = start + limit
        // Back up to a character boundary: continuation bytes look like 10xxxxxx.
        while end > start + 1 && line[end] & 0xC0 == 0x80 { end -= 1 }
        output.append(contentsOf: line[start..<end])
        output.append(0x0D)
        output.append(0x0A)
        output.append(0x20)
        start = end
        limit = 74
    }
    output.append(contentsOf: line[start...])
    output.append(0x0D)
    output.append(0x0A)
}
