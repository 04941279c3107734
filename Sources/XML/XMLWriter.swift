/// Writes XML into one byte buffer.
///
/// Namespaces are declared where first needed, with one `xmlns:` declaration each: `document(_:)`
/// declares every namespace of the tree on the root. Well-known namespaces get their usual
/// prefixes (`D` for `DAV:`, `C` CalDAV, `CS` Calendar Server, `ICAL` Apple iCal, `CR` CardDAV),
/// others `x0`, `x1`… in order of first use. Elements in no namespace are written unprefixed (the
/// writer never declares a default namespace). Text is written as it is, with no indentation.
///
/// For large responses, stream: `declaration()`, `open(_:)` the root, `write(_:)` each child,
/// `close()`, then take `bytes`.
public struct XMLWriter: Sendable {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []
    /// Namespaces declared on the open elements (and, inside `write`, on the element being written).
    private var scope: [(namespace: String, prefix: String)] = []
    private var openElements: [(name: XMLName, scopeCount: Int)] = []
    private var generatedPrefixes = 0

    /// The prefixes the writer gives well-known namespaces.
    public static let wellKnownPrefixes: [(namespace: String, prefix: String)] = [
        (XMLNamespace.dav, "D"), (XMLNamespace.caldav, "C"), (XMLNamespace.calendarServer, "CS"),
        (XMLNamespace.appleICal, "ICAL"), (XMLNamespace.carddav, "CR"),
    ]

    public init() {}

    /// A writer whose buffer starts with room for `capacity` bytes.
    public init(reservingCapacity capacity: Int) { bytes.reserveCapacity(capacity) }

    /// `<?xml version="1.0" encoding="utf-8"?>` and a line end, then `root` with every namespace
    /// used anywhere in it declared on the root.
    public static func document(_ root: XMLElement) -> [UInt8] {
        var writer = XMLWriter(reservingCapacity: 4096)
        writer.declaration()
        writer.write(root)
        return writer.bytes
    }

    /// The XML declaration, `<?xml version="1.0" encoding="utf-8"?>`, and a line end.
    public mutating func declaration() {
        bytes.append(contentsOf: #"<?xml version="1.0" encoding="utf-8"?>"#.utf8)
        bytes.append(0x0A)
    }

    /// Writes `element` and everything in it, declaring on it the namespaces it uses that the
    /// open elements have not declared.
    public mutating func write(_ element: XMLElement) {
        let mark = scope.count
        var fresh: [String] = []
        collectUndeclared(element, into: &fresh)
        declare(fresh)
        writeElement(element, declarations: mark)
        scope.removeSubrange(mark...)
    }

    /// Opens an element to stream children into: its start tag, declaring `namespaces` (and any
    /// the name and attributes need) so the children written later can use them.
    public mutating func open(
        _ name: XMLName, attributes: [(name: XMLName, value: String)] = [], declaring namespaces: [String] = []
    ) {
        let mark = scope.count
        var fresh: [String] = []
        for namespace in namespaces + [name.namespace] + attributes.map(\.name.namespace) {
            if needsDeclaration(namespace, fresh) { fresh.append(namespace) }
        }
        declare(fresh)
        bytes.append(0x3C)
        writeName(name)
        writeDeclarations(from: mark)
        writeAttributes(attributes)
        bytes.append(0x3E)
        openElements.append((name, mark))
    }

    /// Closes the element `open(_:)` opened last (nothing when none is open).
    public mutating func close() {
        guard let (name, mark) = openElements.popLast() else { return }
        bytes.append(contentsOf: [0x3C, 0x2F])
        writeName(name)
        bytes.append(0x3E)
        scope.removeSubrange(mark...)
    }

    /// Closes every element still open.
    public mutating func closeAll() {
        while !openElements.isEmpty { close() }
    }

    /// Writes character data, escaped.
    public mutating func text(_ text: String) { Self.escapeText(text, into: &bytes) }

    /// The prefix a namespace has where the writer is now, if it is declared (`xml` always is).
    public func prefix(for namespace: String) -> String? {
        if namespace == XMLNamespace.xml { return "xml" }
        for entry in scope.reversed() where entry.namespace == namespace { return entry.prefix }
        return nil
    }

    // MARK: Escaping

    /// Appends `text` as character data: `&` `<` `>` become `&amp;` `&lt;` `&gt;`, a carriage return
    /// `&#13;` (so it survives line-end normalisation), and characters XML cannot carry (control
    /// characters, U+FFFE, U+FFFF) U+FFFD.
    public static func escapeText(_ text: String, into buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { escape($0, attribute: false, into: &buffer) }
    }

    /// Appends `value` for a double-quoted attribute: as `escapeText`, and `"` becomes `&quot;`,
    /// tab and line feed `&#9;` and `&#10;` (so attribute normalisation keeps them).
    public static func escapeAttribute(_ value: String, into buffer: inout [UInt8]) {
        var value = value
        value.withUTF8 { escape($0, attribute: true, into: &buffer) }
    }

    /// `text` escaped as character data.
    public static func escapedText(_ text: String) -> String {
        var buffer: [UInt8] = []
        escapeText(text, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// `value` escaped for a double-quoted attribute.
    public static func escapedAttribute(_ value: String) -> String {
        var buffer: [UInt8] = []
        escapeAttribute(value, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private static func escape(_ utf8: UnsafeBufferPointer<UInt8>, attribute: Bool, into buffer: inout [UInt8]) {
        var runStart = 0
        var index = 0
        let count = utf8.count
        while index < count {
            let byte = utf8[index]
            let replacement: StaticString
            var length = 1
            switch byte {
            case 0x3C: replacement = "&lt;"
            case 0x3E: replacement = "&gt;"
            case 0x26: replacement = "&amp;"
            case 0x22 where attribute: replacement = "&quot;"
            case 0x0D: replacement = "&#13;"
            case 0x0A where attribute: replacement = "&#10;"
            case 0x09 where attribute: replacement = "&#9;"
            case 0x09, 0x0A:
                index += 1
                continue
            case 0x00..<0x20: replacement = "\u{FFFD}"
            case 0xEF where index + 2 < count && utf8[index + 1] == 0xBF && utf8[index + 2] >= 0xBE:
                replacement = "\u{FFFD}"
                length = 3
            default:
                index += 1
                continue
            }
            if index > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            replacement.withUTF8Buffer { buffer.append(contentsOf: $0) }
            index += length
            runStart = index
        }
        if count > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count])) }
    }

    // MARK: Elements

    private func needsDeclaration(_ namespace: String, _ fresh: [String]) -> Bool {
        !namespace.isEmpty && namespace != XMLNamespace.xml && prefix(for: namespace) == nil
            && !fresh.contains(namespace)
    }

    private func collectUndeclared(_ element: XMLElement, into fresh: inout [String]) {
        if needsDeclaration(element.name.namespace, fresh) { fresh.append(element.name.namespace) }
        for attribute in element.attributes where needsDeclaration(attribute.name.namespace, fresh) {
            fresh.append(attribute.name.namespace)
        }
        for case .element(let child) in element.children { collectUndeclared(child, into: &fresh) }
    }

    private mutating func declare(_ namespaces: [String]) {
        for namespace in namespaces {
            var prefix = Self.wellKnownPrefixes.first { $0.namespace == namespace }?.prefix
            if prefix == nil || scope.contains(where: { $0.prefix == prefix }) {
                prefix = "x\(generatedPrefixes)"
                generatedPrefixes += 1
            }
            scope.append((namespace, prefix ?? ""))
        }
    }

    private mutating func writeDeclarations(from mark: Int) {
        for entry in scope[mark...] {
            bytes.append(contentsOf: " xmlns:".utf8)
            bytes.append(contentsOf: entry.prefix.utf8)
            bytes.append(contentsOf: [0x3D, 0x22])
            Self.escapeAttribute(entry.namespace, into: &bytes)
            bytes.append(0x22)
        }
    }

    private mutating func writeName(_ name: XMLName) {
        if !name.namespace.isEmpty, let prefix = prefix(for: name.namespace) {
            bytes.append(contentsOf: prefix.utf8)
            bytes.append(0x3A)
        }
        bytes.append(contentsOf: name.local.utf8)
    }

    private mutating func writeAttributes(_ attributes: [(name: XMLName, value: String)]) {
        for attribute in attributes {
            bytes.append(0x20)
            writeName(attribute.name)
            bytes.append(contentsOf: [0x3D, 0x22])
            Self.escapeAttribute(attribute.value, into: &bytes)
            bytes.append(0x22)
        }
    }

    /// Writes an element whose namespaces are all in scope; those from `declarations` on are
    /// declared on it (none for `scope.count`).
    private mutating func writeElement(_ element: XMLElement, declarations: Int) {
        bytes.append(0x3C)
        writeName(element.name)
        if declarations < scope.count { writeDeclarations(from: declarations) }
        writeAttributes(element.attributes)
        if element.children.isEmpty {
            bytes.append(contentsOf: [0x2F, 0x3E])
            return
        }
        bytes.append(0x3E)
        for child in element.children {
            switch child {
            case .text(let text): Self.escapeText(text, into: &bytes)
            case .element(let child): writeElement(child, declarations: scope.count)
            }
        }
        bytes.append(contentsOf: [0x3C, 0x2F])
        writeName(element.name)
        bytes.append(0x3E)
    }
}
