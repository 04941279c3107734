/// Parses XML 1.0 documents with namespaces into `XMLElement` trees.
///
/// Refused: any document type declaration (so no entity expansion and no external entities),
/// references to entities other than the five predefined ones, encodings other than UTF-8,
/// undeclared prefixes, and anything not well-formed. Comments and processing instructions are
/// skipped, CDATA sections become text, line ends become `\n`.
public enum XMLDocument {
    /// The root element. Whitespace-only text between elements is dropped (WebDAV bodies never
    /// need it): a whitespace-only run of text is kept only in an element with no element children.
    /// Adjacent character data (text, references, CDATA, text around comments) is one text node.
    public static func parse(_ bytes: some Collection<UInt8>, limits: XMLLimits = .standard) throws(XMLError)
        -> XMLElement
    {
        guard bytes.count <= limits.maximumBytes else {
            var line = 1
            for byte in bytes.prefix(limits.maximumBytes) where byte == UInt8(ascii: "\n") { line += 1 }
            throw XMLError(
                .limitExceeded("document larger than \(limits.maximumBytes) bytes"), offset: limits.maximumBytes,
                line: line)
        }
        var parser = XMLParser(Array(bytes), limits: limits)
        return try parser.parseDocument()
    }
}

@inline(__always) private func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
}

/// XML 1.0's Char production.
@inline(__always) func isXMLCharacter(_ value: UInt32) -> Bool {
    switch value {
    case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x1_0000...0x10_FFFF: true
    default: false
    }
}

/// XML 1.0 (fifth edition) NameStartChar, without the colon (namespaces make names NCNames).
private func isNameStart(_ value: UInt32) -> Bool {
    switch value {
    case 0x41...0x5A, 0x61...0x7A, 0x5F: true
    case 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D, 0x37F...0x1FFF, 0x200C...0x200D: true
    case 0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x1_0000...0xE_FFFF:
        true
    default: false
    }
}

/// XML 1.0 (fifth edition) NameChar, without the colon.
private func isNameCharacter(_ value: UInt32) -> Bool {
    switch value {
    case 0x2D, 0x2E, 0x30...0x39, 0xB7, 0x300...0x36F, 0x203F...0x2040: true
    default: isNameStart(value)
    }
}

private struct XMLParser {
    struct Frame {
        var name: XMLName
        var qualifiedName: Range<Int>
        var attributes: [(name: XMLName, value: String)]
        var children: [XMLNode] = []
        var declaredPrefixes: [String]
        var hasElementChild = false
    }

    struct RawAttribute {
        var prefix: Range<Int>?
        var local: Range<Int>
        var qualifiedName: Range<Int>
        var value: String
        var offset: Int
    }

    let bytes: [UInt8]
    let limits: XMLLimits
    var position = 0
    var nodes = 0
    /// Namespace bindings in scope: prefix (`""` for the default namespace) to a stack of names.
    var scopes: [String: [String]] = ["xml": [XMLNamespace.xml]]
    var stack: [Frame] = []
    /// Character data of the innermost open element not yet made a text node.
    var pendingText: [UInt8] = []
    var rawAttributes: [RawAttribute] = []
    var scratch: [UInt8] = []

    init(_ bytes: [UInt8], limits: XMLLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    // MARK: Errors

    func error(_ reason: XMLError.Reason, at offset: Int) -> XMLError {
        var line = 1
        var index = 0
        let end = min(max(offset, 0), bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A {
                line += 1
            } else if byte == 0x0D, index + 1 >= bytes.count || bytes[index + 1] != 0x0A {
                line += 1
            }
            index += 1
        }
        return XMLError(reason, offset: offset, line: line)
    }

    func malformed(_ what: String, at offset: Int) -> XMLError { error(.malformed(what), at: offset) }

    // MARK: Bytes

    func byte(at index: Int) -> UInt8? { index >= 0 && index < bytes.count ? bytes[index] : nil }

    func matches(_ literal: String, at index: Int, ignoringCase: Bool = false) -> Bool {
        var at = index
        for expected in literal.utf8 {
            guard var actual = byte(at: at) else { return false }
            if ignoringCase, actual >= 0x61, actual <= 0x7A { actual -= 0x20 }
            guard actual == expected else { return false }
            at += 1
        }
        return true
    }

    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// Skips XML whitespace; true when there was any.
    mutating func skipWhitespace() -> Bool {
        let start = position
        while position < bytes.count, isWhitespace(bytes[position]) { position += 1 }
        return position > start
    }

    /// The scalar at `index` and its length in bytes (the input is validated UTF-8 by then).
    func scalar(at index: Int) -> (value: UInt32, length: Int)? {
        guard let lead = byte(at: index) else { return nil }
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length {
            guard let next = byte(at: index + offset) else { return nil }
            value = value << 6 | UInt32(next & 0x3F)
        }
        return (value, length)
    }

    // MARK: Encoding

    /// Checks the whole input is UTF-8 made of XML characters before anything else looks at it.
    func validateCharacters() throws(XMLError) {
        if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) {
            throw error(.unsupportedEncoding("UTF-16"), at: 0)
        }
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead < 0x20, lead != 0x09, lead != 0x0A, lead != 0x0D {
                    throw error(.invalidCharacter(UInt32(lead)), at: index)
                }
                index += 1
                continue
            }
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: throw error(.invalidUTF8, at: index)
            }
            guard index + length <= count else { throw error(.invalidUTF8, at: index) }
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                let next = bytes[index + offset]
                let (minimum, maximum) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard next >= minimum, next <= maximum else { throw error(.invalidUTF8, at: index) }
                value = value << 6 | UInt32(next & 0x3F)
            }
            guard isXMLCharacter(value) else { throw error(.invalidCharacter(value), at: index) }
            index += length
        }
    }

    // MARK: Document

    mutating func parseDocument() throws(XMLError) -> XMLElement {
        try validateCharacters()
        if matches("\u{FEFF}", at: 0) { position = 3 }
        if matches("<?xml", at: position), let next = byte(at: position + 5), isWhitespace(next) || next == 0x3F {
            try xmlDeclaration()
        }
        try skipMisc()
        guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
        guard bytes[position] == 0x3C else { throw malformed("text outside the root element", at: position) }
        let root = try content()
        try skipMisc()
        guard position >= bytes.count else {
            throw malformed("content after the root element", at: position)
        }
        return root
    }

    /// `<?xml version="1.0" encoding="…" standalone="…"?>`.
    mutating func xmlDeclaration() throws(XMLError) {
        let start = position
        position += 5
        var seen: [String] = []
        while true {
            let hadSpace = skipWhitespace()
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            if matches("?>", at: position) {
                position += 2
                break
            }
            let nameStart = position
            guard hadSpace else { throw malformed("expected whitespace in the XML declaration", at: position) }
            while let byte = byte(at: position), byte >= 0x61, byte <= 0x7A { position += 1 }
            let name = text(nameStart..<position)
            _ = skipWhitespace()
            guard byte(at: position) == 0x3D else {
                throw malformed("expected = in the XML declaration", at: position)
            }
            position += 1
            _ = skipWhitespace()
            guard let quote = byte(at: position), quote == 0x22 || quote == 0x27 else {
                throw malformed("expected a quoted value in the XML declaration", at: position)
            }
            position += 1
            let valueStart = position
            while let byte = byte(at: position), byte != quote {
                guard byte != 0x3C, byte != 0x3F else {
                    throw malformed("unterminated value in the XML declaration", at: position)
                }
                position += 1
            }
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            let value = text(valueStart..<position)
            position += 1
            let order = ["version", "encoding", "standalone"]
            guard let rank = order.firstIndex(of: name), seen.allSatisfy({ order.firstIndex(of: $0) ?? 3 < rank }),
                rank == 0 || seen.first == "version"
            else { throw malformed("unexpected \(name) in the XML declaration", at: nameStart) }
            seen.append(name)
            switch name {
            case "version":
                guard value.hasPrefix("1."), value.count > 2,
                    value.utf8.dropFirst(2).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                else { throw malformed("unsupported XML version \(value)", at: valueStart) }
            case "encoding":
                guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(value.lowercased()) else {
                    throw error(.unsupportedEncoding(value), at: valueStart)
                }
            default:
                guard value == "yes" || value == "no" else {
                    throw malformed("standalone must be yes or no", at: valueStart)
                }
            }
        }
        guard seen.first == "version" else { throw malformed("the XML declaration has no version", at: start) }
    }

    /// Whitespace, comments and processing instructions around the root element.
    mutating func skipMisc() throws(XMLError) {
        while true {
            _ = skipWhitespace()
            guard position < bytes.count, bytes[position] == 0x3C else { return }
            if matches("<!--", at: position) {
                try comment()
            } else if matches("<?", at: position) {
                try processingInstruction()
            } else if matches("<!", at: position) {
                throw refusedDeclaration()
            } else {
                return
            }
        }
    }

    /// `<!` that is neither a comment nor CDATA: a DTD or markup declaration is refused, the rest is malformed.
    func refusedDeclaration() -> XMLError {
        if let next = byte(at: position + 2), (next >= 0x41 && next <= 0x5A) || (next >= 0x61 && next <= 0x7A) {
            return error(.doctypeRefused, at: position)
        }
        return malformed("unexpected <!", at: position)
    }

    mutating func comment() throws(XMLError) {
        let start = position
        position += 4
        while position + 1 < bytes.count {
            if bytes[position] == 0x2D, bytes[position + 1] == 0x2D {
                guard position + 2 < bytes.count else { break }
                guard bytes[position + 2] == 0x3E else { throw malformed("-- inside a comment", at: position) }
                position += 3
                return
            }
            position += 1
        }
        throw error(.unexpectedEnd, at: start)
    }

    mutating func processingInstruction() throws(XMLError) {
        let start = position
        position += 2
        let targetStart = position
        try skipName(allowingColon: true)
        if position - targetStart == 3, matches("XML", at: targetStart, ignoringCase: true) {
            throw malformed("XML declaration not at the start of the document", at: start)
        }
        if matches("?>", at: position) {
            position += 2
            return
        }
        guard skipWhitespace() else { throw malformed("malformed processing instruction", at: position) }
        while position + 1 < bytes.count {
            if bytes[position] == 0x3F, bytes[position + 1] == 0x3E {
                position += 2
                return
            }
            position += 1
        }
        throw error(.unexpectedEnd, at: start)
    }

    // MARK: Names

    /// Moves past an NCName (or a Name when `allowingColon`), which must be there.
    mutating func skipName(allowingColon: Bool = false) throws(XMLError) {
        let start = position
        while let (value, length) = scalar(at: position) {
            if value == 0x3A, allowingColon {
                position += length
                continue
            }
            guard position == start ? isNameStart(value) : isNameCharacter(value) else { break }
            position += length
        }
        guard position > start else {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            throw malformed("expected a name", at: position)
        }
    }

    /// A QName: `local` or `prefix:local`.
    mutating func qualifiedName() throws(XMLError) -> (prefix: Range<Int>?, local: Range<Int>) {
        let start = position
        try skipName()
        guard byte(at: position) == 0x3A else { return (nil, start..<position) }
        let prefix = start..<position
        position += 1
        let localStart = position
        try skipName()
        guard byte(at: position) != 0x3A else { throw malformed("a name with more than one colon", at: start) }
        return (prefix, localStart..<position)
    }

    func namespace(forPrefix prefix: Range<Int>?) throws(XMLError) -> String {
        guard let prefix else { return scopes[""]?.last ?? "" }
        let name = text(prefix)
        guard let namespace = scopes[name]?.last else { throw error(.undeclaredPrefix(name), at: prefix.lowerBound) }
        return namespace
    }

    // MARK: Content

    /// The root element and everything in it, without recursion.
    mutating func content() throws(XMLError) -> XMLElement {
        if let element = try startTag() { return element }
        while true {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            switch bytes[position] {
            case 0x3C:
                switch byte(at: position + 1) {
                case 0x2F:
                    let element = try endTag()
                    guard !stack.isEmpty else { return element }
                    stack[stack.count - 1].children.append(.element(element))
                    stack[stack.count - 1].hasElementChild = true
                case 0x21:
                    if matches("<!--", at: position) {
                        try comment()
                    } else if matches("<![CDATA[", at: position) {
                        try cdata()
                    } else {
                        throw refusedDeclaration()
                    }
                case 0x3F:
                    try processingInstruction()
                case nil:
                    throw error(.unexpectedEnd, at: position)
                default:
                    try flushText(elementFollows: true)
                    if let element = try startTag() {
                        stack[stack.count - 1].children.append(.element(element))
                        stack[stack.count - 1].hasElementChild = true
                    }
                }
            case 0x26:
                append(try reference(), to: &pendingText)
            default:
                try characterData()
            }
        }
    }

    /// Makes the pending character data a text node, unless it is whitespace between elements.
    mutating func flushText(elementFollows: Bool) throws(XMLError) {
        guard !pendingText.isEmpty, !stack.isEmpty else { return }
        defer { pendingText.removeAll(keepingCapacity: true) }
        if elementFollows || stack[stack.count - 1].hasElementChild, pendingText.allSatisfy(isWhitespace) { return }
        nodes += 1
        guard nodes <= limits.maximumNodes else {
            throw error(.limitExceeded("more than \(limits.maximumNodes) nodes"), at: position)
        }
        stack[stack.count - 1].children.append(.text(String(decoding: pendingText, as: UTF8.self)))
    }

    /// A run of text up to the next markup or reference, with line ends normalised.
    mutating func characterData() throws(XMLError) {
        var runStart = position
        let count = bytes.count
        while position < count {
            let byte = bytes[position]
            if byte == 0x3C || byte == 0x26 { break }
            if byte == 0x0D {
                pendingText.append(contentsOf: bytes[runStart..<position])
                pendingText.append(0x0A)
                position += 1
                if position < count, bytes[position] == 0x0A { position += 1 }
                runStart = position
                continue
            }
            if byte == 0x3E, position >= 2, bytes[position - 1] == 0x5D, bytes[position - 2] == 0x5D {
                throw malformed("]]> in text", at: position - 2)
            }
            position += 1
        }
        pendingText.append(contentsOf: bytes[runStart..<position])
    }

    mutating func cdata() throws(XMLError) {
        let start = position
        position += 9
        var runStart = position
        while position + 2 < bytes.count {
            let byte = bytes[position]
            if byte == 0x5D, bytes[position + 1] == 0x5D, bytes[position + 2] == 0x3E {
                pendingText.append(contentsOf: bytes[runStart..<position])
                position += 3
                return
            }
            if byte == 0x0D {
                pendingText.append(contentsOf: bytes[runStart..<position])
                pendingText.append(0x0A)
                position += 1
                if bytes[position] == 0x0A { position += 1 }
                runStart = position
                continue
            }
            position += 1
        }
        throw error(.unexpectedEnd, at: start)
    }

    func append(_ scalar: Unicode.Scalar, to output: inout [UInt8]) {
        if let encoded = UTF8.encode(scalar) { output.append(contentsOf: encoded) }
    }

    /// `&name;`, `&#N;` or `&#xH;`, decoded.
    mutating func reference() throws(XMLError) -> Unicode.Scalar {
        let start = position
        position += 1
        guard position < bytes.count else { throw error(.unexpectedEnd, at: start) }
        if bytes[position] == 0x23 {
            position += 1
            var radix: UInt32 = 10
            if byte(at: position) == 0x78 {
                radix = 16
                position += 1
            }
            var value: UInt32 = 0
            var digits = 0
            while let byte = byte(at: position) {
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x61...0x66 where radix == 16: digit = UInt32(byte - 0x61 + 10)
                case 0x41...0x46 where radix == 16: digit = UInt32(byte - 0x41 + 10)
                default: digit = 99
                }
                guard digit < radix else { break }
                value = min(value * radix + digit, 0x11_0000)
                digits += 1
                position += 1
            }
            guard position < bytes.count else { throw error(.unexpectedEnd, at: start) }
            guard digits > 0, bytes[position] == 0x3B else {
                throw malformed("malformed character reference", at: start)
            }
            position += 1
            guard isXMLCharacter(value), let scalar = Unicode.Scalar(value) else {
                throw error(.invalidCharacter(value), at: start)
            }
            return scalar
        }
        let nameStart = position
        try skipName()
        let name = nameStart..<position
        guard position < bytes.count else { throw error(.unexpectedEnd, at: start) }
        guard bytes[position] == 0x3B else { throw malformed("& not followed by a reference", at: start) }
        position += 1
        switch bytes[name] {
        case [0x6C, 0x74]: return "<"
        case [0x67, 0x74]: return ">"
        case [0x61, 0x6D, 0x70]: return "&"
        case [0x71, 0x75, 0x6F, 0x74]: return "\""
        case [0x61, 0x70, 0x6F, 0x73]: return "'"
        default: throw error(.entityRefused(text(name)), at: start)
        }
    }

    // MARK: Tags

    /// A start tag; the finished element if it was empty (`<a/>`), else nil with its frame pushed.
    mutating func startTag() throws(XMLError) -> XMLElement? {
        let tagStart = position
        position += 1
        let name = try qualifiedName()
        let qualifiedName = tagStart + 1..<position
        rawAttributes.removeAll(keepingCapacity: true)
        let selfClosing: Bool
        while true {
            let hadSpace = skipWhitespace()
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            let byte = bytes[position]
            if byte == 0x3E {
                position += 1
                selfClosing = false
                break
            }
            if byte == 0x2F {
                guard self.byte(at: position + 1) == 0x3E else { throw malformed("expected /> ", at: position) }
                position += 2
                selfClosing = true
                break
            }
            guard hadSpace else { throw malformed("expected whitespace before an attribute", at: position) }
            try attribute()
            guard rawAttributes.count <= limits.maximumAttributes else {
                throw error(.limitExceeded("more than \(limits.maximumAttributes) attributes"), at: tagStart)
            }
        }
        guard stack.count < limits.maximumDepth else {
            throw error(.limitExceeded("elements nested deeper than \(limits.maximumDepth)"), at: tagStart)
        }
        nodes += 1
        guard nodes <= limits.maximumNodes else {
            throw error(.limitExceeded("more than \(limits.maximumNodes) nodes"), at: tagStart)
        }

        // Namespace declarations first: they apply to this element's own name and attributes.
        var declared: [String] = []
        for (index, attribute) in rawAttributes.enumerated() {
            for earlier in rawAttributes[..<index] where bytes[earlier.qualifiedName] == bytes[attribute.qualifiedName]
            {
                throw malformed("duplicate attribute \(text(attribute.qualifiedName))", at: attribute.offset)
            }
            let prefix: String
            if attribute.prefix == nil, bytes[attribute.local].elementsEqual("xmlns".utf8) {
                prefix = ""
            } else if let attributePrefix = attribute.prefix, bytes[attributePrefix].elementsEqual("xmlns".utf8) {
                prefix = text(attribute.local)
                guard !attribute.value.isEmpty else {
                    throw malformed("xmlns:\(prefix) cannot be empty", at: attribute.offset)
                }
            } else {
                continue
            }
            let value = attribute.value
            let reserved =
                (prefix == "xml") != (value == XMLNamespace.xml) || prefix == "xmlns" || value == XMLNamespace.xmlns
            guard !reserved else {
                throw malformed(
                    "reserved namespace binding for \(prefix.isEmpty ? "xmlns" : prefix)", at: attribute.offset)
            }
            scopes[prefix, default: []].append(value)
            declared.append(prefix)
        }
        if let prefix = name.prefix, bytes[prefix].elementsEqual("xmlns".utf8) {
            throw malformed("an element cannot use the xmlns prefix", at: tagStart + 1)
        }
        let elementName = XMLName(try namespace(forPrefix: name.prefix), text(name.local))
        var attributes: [(name: XMLName, value: String)] = []
        for attribute in rawAttributes {
            if let prefix = attribute.prefix {
                if bytes[prefix].elementsEqual("xmlns".utf8) { continue }
            } else if bytes[attribute.local].elementsEqual("xmlns".utf8) {
                continue
            }
            let attributeName = XMLName(
                attribute.prefix == nil ? "" : try namespace(forPrefix: attribute.prefix), text(attribute.local))
            guard !attributes.contains(where: { $0.name == attributeName }) else {
                throw malformed("duplicate attribute \(attributeName)", at: attribute.offset)
            }
            attributes.append((attributeName, attribute.value))
        }
        if selfClosing {
            unbind(declared)
            return XMLElement(elementName, attributes: attributes)
        }
        stack.append(
            Frame(name: elementName, qualifiedName: qualifiedName, attributes: attributes, declaredPrefixes: declared))
        return nil
    }

    mutating func unbind(_ prefixes: [String]) {
        for prefix in prefixes { scopes[prefix]?.removeLast() }
    }

    /// `name="value"` or `name='value'`, with references decoded and whitespace normalised.
    mutating func attribute() throws(XMLError) {
        let start = position
        let name = try qualifiedName()
        let qualifiedName = start..<position
        _ = skipWhitespace()
        guard byte(at: position) == 0x3D else {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            throw malformed("expected = after an attribute name", at: position)
        }
        position += 1
        _ = skipWhitespace()
        guard let quote = byte(at: position), quote == 0x22 || quote == 0x27 else {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            throw malformed("expected a quoted attribute value", at: position)
        }
        position += 1
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            let byte = bytes[position]
            switch byte {
            case quote:
                position += 1
                rawAttributes.append(
                    RawAttribute(
                        prefix: name.prefix, local: name.local, qualifiedName: qualifiedName,
                        value: String(decoding: scratch, as: UTF8.self), offset: start))
                return
            case 0x3C:
                throw malformed("< in an attribute value", at: position)
            case 0x26:
                append(try reference(), to: &scratch)
            case 0x09, 0x0A:
                scratch.append(0x20)
                position += 1
            case 0x0D:
                scratch.append(0x20)
                position += 1
                if self.byte(at: position) == 0x0A { position += 1 }
            default:
                scratch.append(byte)
                position += 1
            }
        }
    }

    /// An end tag, which must close the innermost open element; returns that element.
    mutating func endTag() throws(XMLError) -> XMLElement {
        let tagStart = position
        position += 2
        _ = try qualifiedName()
        let found = tagStart + 2..<position
        _ = skipWhitespace()
        guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
        guard bytes[position] == 0x3E else { throw malformed("expected > to end the end tag", at: position) }
        position += 1
        guard let open = stack.last else { throw malformed("end tag with no open element", at: tagStart) }
        guard bytes[open.qualifiedName] == bytes[found] else {
            throw error(.mismatchedTag(expected: text(open.qualifiedName), found: text(found)), at: tagStart)
        }
        try flushText(elementFollows: false)
        guard let frame = stack.popLast() else { throw malformed("end tag with no open element", at: tagStart) }
        unbind(frame.declaredPrefixes)
        return XMLElement(frame.name, attributes: frame.attributes, children: frame.children)
    }
}
