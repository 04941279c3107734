/// A `BEGIN:NAME` … `END:NAME` block: VCALENDAR, VEVENT, VTIMEZONE, VCARD, or any other name.
///
/// Unknown components and properties are kept exactly as read, so printing returns what was
/// parsed.
public struct Component: Sendable, Hashable {
    /// The name as written after BEGIN:; compare with `is(_:)`.
    public var name: String
    public var properties: [Property]
    public var components: [Component]
    /// The line of the BEGIN line in its source, 0 for components built in code.
    public var line: Int
    /// For each subcomponent, how many properties preceded it when parsed, so that a component
    /// whose properties and subcomponents were interleaved prints back the same way.
    var layout: [Int]

    public init(_ name: String, properties: [Property] = [], components: [Component] = [], line: Int = 0) {
        self.name = name
        self.properties = properties
        self.components = components
        self.line = line
        self.layout = []
    }

    public func `is`(_ other: String) -> Bool { name.uppercasedEquals(other) }

    /// The first property with this name (upper case), if any.
    public func property(_ name: String) -> Property? {
        properties.first { $0.is(name) }
    }

    public func properties(_ name: String) -> [Property] {
        properties.filter { $0.is(name) }
    }

    public func components(_ name: String) -> [Component] {
        components.filter { $0.is(name) }
    }

    public static func == (lhs: Component, rhs: Component) -> Bool {
        lhs.name == rhs.name && lhs.properties == rhs.properties && lhs.components == rhs.components
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(properties)
    }
}

extension Component {
    /// Parses every top-level component (a .vcf file often holds many VCARDs).
    public static func parseAll(_ text: some Collection<UInt8>, mode: ParseMode = .strict) throws(ParseError)
        -> [Component]
    {
        var parser = ComponentParser(mode: mode)
        return try parser.parse(Array(text))
    }

    public static func parseAll(_ text: String, mode: ParseMode = .strict) throws(ParseError) -> [Component] {
        try parseAll(Array(text.utf8), mode: mode)
    }

    /// Parses text that must hold exactly one top-level component (extra ones are an error in
    /// strict mode and ignored in lenient mode).
    public static func parse(_ text: String, mode: ParseMode = .strict) throws(ParseError) -> Component {
        try parse(Array(text.utf8), mode: mode)
    }

    public static func parse(_ bytes: [UInt8], mode: ParseMode = .strict) throws(ParseError) -> Component {
        let all = try parseAll(bytes, mode: mode)
        guard let first = all.first else { throw ParseError(line: 1, column: 1, reason: .noComponent) }
        if mode == .strict, all.count > 1 {
            throw ParseError(
                line: all[1].line, column: 1,
                reason: .badValue(property: "BEGIN", reason: "a second top-level component"))
        }
        return first
    }

    /// The component as text: CRLF line ends, lines folded at 75 octets.
    public func printed() -> String {
        String(decoding: printedBytes(), as: UTF8.self)
    }

    public func printedBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        append(to: &output)
        return output
    }

    func append(to output: inout [UInt8]) {
        var start = output.count
        output.append(contentsOf: "BEGIN:".utf8)
        output.append(contentsOf: name.utf8)
        endLine(&output, from: start)
        let keepsLayout =
            layout.count == components.count && zip(layout, layout.dropFirst()).allSatisfy { $0 <= $1 }
            && (layout.last ?? 0) <= properties.count
        var nextProperty = 0
        for (index, component) in components.enumerated() {
            let until = keepsLayout ? layout[index] : properties.count
            while nextProperty < until {
                properties[nextProperty].append(to: &output)
                nextProperty += 1
            }
            component.append(to: &output)
        }
        while nextProperty < properties.count {
            properties[nextProperty].append(to: &output)
            nextProperty += 1
        }
        start = output.count
        output.append(contentsOf: "END:".utf8)
        output.append(contentsOf: name.utf8)
        endLine(&output, from: start)
    }
}

extension Property {
    /// Writes the line straight into `output` and folds it there when it is long: building each
    /// line in its own array byte by byte was most of the printing time.
    func append(to output: inout [UInt8]) {
        let start = output.count
        if let group {
            output.append(contentsOf: group.utf8)
            output.append(UInt8(ascii: "."))
        }
        output.append(contentsOf: name.utf8)
        for parameter in parameters {
            output.append(UInt8(ascii: ";"))
            if parameter.isBare, parameter.values.count == 1 {
                output.append(contentsOf: parameter.values[0].utf8)
                continue
            }
            output.append(contentsOf: parameter.name.utf8)
            output.append(UInt8(ascii: "="))
            for (index, value) in parameter.values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                let wasQuoted = index < parameter.quoted.count && parameter.quoted[index]
                let needsQuotes = value.containsByte {
                    $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ",")
                }
                let needsEscapes = value.containsByte { $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
                let quote = wasQuoted || needsQuotes
                if quote { output.append(UInt8(ascii: "\"")) }
                if needsEscapes {
                    for byte in value.utf8 {
                        // A double quote cannot appear in a parameter value; RFC 6868 spells it ^'.
                        if byte == UInt8(ascii: "\"") {
                            output.append(UInt8(ascii: "^"))
                            output.append(UInt8(ascii: "'"))
                        } else if byte == 0x0A || byte == 0x0D {
                            output.append(UInt8(ascii: "^"))
                            output.append(UInt8(ascii: "n"))
                        } else {
                            output.append(byte)
                        }
                    }
                } else {
                    output.append(contentsOf: value.utf8)
                }
                if quote { output.append(UInt8(ascii: "\"")) }
            }
        }
        output.append(UInt8(ascii: ":"))
        if value.containsByte(where: { $0 == 0x0A || $0 == 0x0D }) {
            for byte in value.utf8 {
                // A raw line break would end the line; in every value type it is written as \n.
                if byte == 0x0A {
                    output.append(UInt8(ascii: "\\"))
                    output.append(UInt8(ascii: "n"))
                } else if byte != 0x0D {
                    output.append(byte)
                }
            }
        } else {
            output.append(contentsOf: value.utf8)
        }
        endLine(&output, from: start)
    }

    /// The property as one unfolded line, without a line end.
    public var text: String {
        var output: [UInt8] = []
        append(to: &output)
        // Unfold what `append` folded.
        var unfolded: [UInt8] = []
        var index = 0
        while index < output.count {
            if output[index] == 0x0D, index + 2 < output.count, output[index + 2] == 0x20 {
                index += 3
                continue
            }
            if output[index] == 0x0D || output[index] == 0x0A {
                index += 1
                continue
            }
            unfolded.append(output[index])
            index += 1
        }
        return String(decoding: unfolded, as: UTF8.self)
    }
}

struct ComponentParser {
    let mode: ParseMode

    mutating func parse(_ input: [UInt8]) throws(ParseError) -> [Component] {
        var roots: [Component] = []
        var stack: [Component] = []
        var lines = UnfoldedLines(input, mode: mode)
        while lines.next() {
            let line = (bytes: lines.bytes, number: lines.number)
            if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if mode == .strict { throw ParseError(line: line.number, column: 1, reason: .missingColon) }
                continue
            }
            let property: Property
            do {
                property = try parseLine(line.bytes, number: line.number, isValidUTF8: lines.isValidUTF8)
            } catch {
                // Lenient: a malformed line is dropped, as the icalendar package does.
                guard mode == .lenient else { throw error }
                continue
            }
            if property.group == nil, property.is("BEGIN") {
                var component = Component(property.value, line: line.number)
                component.name = property.value
                stack.append(component)
            } else if property.group == nil, property.is("END") {
                let name = property.value
                guard let top = stack.last else {
                    if mode == .strict {
                        throw ParseError(line: line.number, column: 1, reason: .endWithoutBegin(property.value))
                    }
                    continue
                }
                if !top.name.uppercasedEquals(uppercasedOf: name) {
                    if mode == .strict {
                        throw ParseError(
                            line: line.number, column: 5,
                            reason: .unexpectedEnd(expected: top.name, found: property.value))
                    }
                    // Close the components opened inside the one this END names; an END naming
                    // no open component (a typo such as END:VTOOD) closes the innermost.
                    if stack.contains(where: { $0.name.uppercasedEquals(uppercasedOf: name) }) {
                        while let open = stack.last, !open.name.uppercasedEquals(uppercasedOf: name) {
                            close(&stack, into: &roots)
                        }
                    }
                }
                close(&stack, into: &roots)
            } else {
                guard !stack.isEmpty else {
                    if mode == .strict {
                        throw ParseError(line: line.number, column: 1, reason: .propertyOutsideComponent(property.name))
                    }
                    continue
                }
                stack[stack.count - 1].properties.append(property)
            }
        }
        if let open = stack.last {
            if mode == .strict { throw ParseError(line: open.line, column: 1, reason: .unclosed(open.name)) }
            while !stack.isEmpty { close(&stack, into: &roots) }
        }
        guard !roots.isEmpty else { throw ParseError(line: 1, column: 1, reason: .noComponent) }
        return roots
    }

    private func close(_ stack: inout [Component], into roots: inout [Component]) {
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            roots.append(finished)
        } else {
            stack[stack.count - 1].layout.append(stack[stack.count - 1].properties.count)
            stack[stack.count - 1].components.append(finished)
        }
    }

    /// A lenient unquoted parameter value made printable: a stray double quote becomes RFC 6868's
    /// ^', and with `unescape` the backslash escapes \; \, \: lose their backslash.
    private static func cleanedParameterValue(_ value: String, unescape: Bool) -> String {
        var bytes: [UInt8] = []
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "\"") {
                bytes += [UInt8(ascii: "^"), UInt8(ascii: "'")]
            } else if unescape, byte == UInt8(ascii: "\\") {
                guard let next = iterator.next() else {
                    bytes.append(byte)
                    break
                }
                if next != UInt8(ascii: ";") && next != UInt8(ascii: ",") && next != UInt8(ascii: ":") {
                    bytes.append(byte)
                }
                if next == UInt8(ascii: "\"") {
                    bytes += [UInt8(ascii: "^"), UInt8(ascii: "'")]
                } else {
                    bytes.append(next)
                }
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            || byte == UInt8(ascii: "-")
    }

    /// A part of a line as a String. `isValidUTF8` says the whole line was checked already (every
    /// part is cut at ASCII delimiters, so it is valid too): the check per part was a fifth of
    /// the parse.
    private func string(_ bytes: ArraySlice<UInt8>, line: Int, column: Int, isValidUTF8: Bool) throws(ParseError)
        -> String
    {
        if isValidUTF8 { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        if mode == .strict { throw ParseError(line: line, column: column, reason: .notUTF8) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func parseLine(_ bytes: [UInt8], number: Int, isValidUTF8: Bool = false) throws(ParseError) -> Property {
        func string(_ part: ArraySlice<UInt8>, line: Int, column: Int) throws(ParseError) -> String {
            try self.string(part, line: line, column: column, isValidUTF8: isValidUTF8)
        }
        let colon = UInt8(ascii: ":")
        let semicolon = UInt8(ascii: ";")
        var index = 0
        var group: String?
        var nameStart = 0
        while index < bytes.count, bytes[index] != colon, bytes[index] != semicolon {
            let byte = bytes[index]
            if byte == UInt8(ascii: "."), group == nil {
                group = try string(bytes[nameStart..<index], line: number, column: 1)
                nameStart = index + 1
            } else if !Self.isNameByte(byte), mode == .strict {
                throw ParseError(
                    line: number, column: index + 1,
                    reason: .badName(
                        String(decoding: bytes[..<index], as: UTF8.self) + String(decoding: [byte], as: UTF8.self)))
            }
            index += 1
        }
        guard index < bytes.count else { throw ParseError(line: number, column: index + 1, reason: .missingColon) }
        let name = try string(bytes[nameStart..<index], line: number, column: nameStart + 1)
        if name.isEmpty || group?.isEmpty == true {
            if mode == .strict || name.isEmpty {
                throw ParseError(line: number, column: nameStart + 1, reason: .badName(name))
            }
        }
        var parameters: [Parameter] = []
        while index < bytes.count, bytes[index] == semicolon {
            index += 1
            let parameterStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "="), bytes[index] != colon,
                bytes[index] != semicolon
            {
                if mode == .strict, !Self.isNameByte(bytes[index]) {
                    throw ParseError(
                        line: number, column: index + 1,
                        reason: .badParameter(String(decoding: bytes[parameterStart...index], as: UTF8.self)))
                }
                index += 1
            }
            let parameterName = try string(bytes[parameterStart..<index], line: number, column: parameterStart + 1)
            guard index < bytes.count else {
                // Lenient: a property whose parameters run to the end of the line has an empty value.
                if mode == .lenient, !parameterName.isEmpty { break }
                throw ParseError(line: number, column: index + 1, reason: .missingColon)
            }
            if bytes[index] != UInt8(ascii: "=") {
                // vCard 2.1 writes bare types: TEL;HOME;VOICE:…
                if mode == .strict || parameterName.isEmpty {
                    throw ParseError(line: number, column: parameterStart + 1, reason: .badParameter(parameterName))
                }
                parameters.append(Parameter(name: "TYPE", values: [parameterName], isBare: true))
                continue
            }
            if parameterName.isEmpty, mode == .strict {
                throw ParseError(line: number, column: parameterStart + 1, reason: .badParameter(""))
            }
            index += 1
            var values: [String] = []
            var quoted: [Bool] = []
            while true {
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                    let valueStart = index + 1
                    var end = valueStart
                    while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                    if end >= bytes.count {
                        if mode == .strict {
                            throw ParseError(line: number, column: index + 1, reason: .unterminatedQuote)
                        }
                        // Unclosed: take up to the next colon as the value.
                        end = valueStart
                        while end < bytes.count, bytes[end] != colon { end += 1 }
                        values.append(try string(bytes[valueStart..<end], line: number, column: valueStart + 1))
                        quoted.append(true)
                        index = end
                    } else {
                        values.append(try string(bytes[valueStart..<end], line: number, column: valueStart + 1))
                        quoted.append(true)
                        index = end + 1
                    }
                } else {
                    let valueStart = index
                    var escaped = false
                    while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != colon,
                        bytes[index] != semicolon
                    {
                        // Some writers backslash-escape ; , and : inside a parameter value.
                        if mode == .lenient, bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count,
                            [semicolon, colon, UInt8(ascii: ",")].contains(bytes[index + 1])
                        {
                            escaped = true
                            index += 2
                            continue
                        }
                        if mode == .strict,
                            bytes[index] == UInt8(ascii: "\"") || bytes[index] < 0x20 && bytes[index] != 0x09
                        {
                            throw ParseError(
                                line: number, column: index + 1, reason: .badParameter(parameterName))
                        }
                        index += 1
                    }
                    var value = try string(bytes[valueStart..<index], line: number, column: valueStart + 1)
                    // Byte-wise, not by Character: a combining mark after the quote or the
                    // backslash escape would hide it from a String search.
                    if mode == .lenient, value.utf8.contains(UInt8(ascii: "\"")) || escaped {
                        value = Self.cleanedParameterValue(value, unescape: escaped)
                    }
                    values.append(value)
                    // An unescaped ; , or : needs quotes from now on, and so does a backslash that
                    // ended the line: printed bare before the colon it would read as an escape.
                    quoted.append(escaped || (mode == .lenient && index >= bytes.count && value.hasSuffix("\\")))
                }
                guard index < bytes.count else {
                    if mode == .lenient { break }
                    throw ParseError(line: number, column: index + 1, reason: .missingColon)
                }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] != colon, bytes[index] != semicolon {
                    if mode == .strict {
                        throw ParseError(line: number, column: index + 1, reason: .badParameter(parameterName))
                    }
                    // Text glued to a closing quote: skip to the next delimiter.
                    while index < bytes.count, bytes[index] != colon, bytes[index] != semicolon { index += 1 }
                    guard index < bytes.count else {
                        throw ParseError(line: number, column: index + 1, reason: .missingColon)
                    }
                }
                break
            }
            parameters.append(Parameter(name: parameterName, values: values, quoted: quoted))
        }
        if mode == .lenient, index >= bytes.count, !parameters.isEmpty {
            return Property(name, "", parameters: parameters, group: group, line: number)
        }
        guard index < bytes.count, bytes[index] == colon else {
            throw ParseError(line: number, column: index + 1, reason: .missingColon)
        }
        let value = try string(bytes[(index + 1)...], line: number, column: index + 2)
        return Property(name, value, parameters: parameters, group: group, line: number)
    }
}
