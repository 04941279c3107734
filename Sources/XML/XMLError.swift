/// Bounds on what the parser accepts, so a hostile body costs at most a known amount of work.
public struct XMLLimits: Sendable {
    /// The largest document, in bytes.
    public var maximumBytes: Int
    /// The deepest nesting of elements (the root is at depth 1).
    public var maximumDepth: Int
    /// The most elements and text nodes in the whole tree.
    public var maximumNodes: Int
    /// The most attributes (namespace declarations included) on one element.
    public var maximumAttributes: Int

    public init(
        maximumBytes: Int = 1 << 20, maximumDepth: Int = 64, maximumNodes: Int = 200_000, maximumAttributes: Int = 64
    ) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
        self.maximumAttributes = maximumAttributes
    }

    /// 1 MiB, depth 64, 200,000 nodes, 64 attributes per element.
    public static let standard = XMLLimits()
}

/// Why a document was refused, where: the byte offset (from the first byte given, BOM included)
/// and the 1-based line of the construct at fault.
public struct XMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// A `<!DOCTYPE …>` or another markup declaration (`<!ENTITY`, `<!ELEMENT` …): DTDs are refused.
        case doctypeRefused
        /// A reference to an entity other than the five predefined ones (`&lt;` `&gt;` `&amp;` `&quot;` `&apos;`).
        case entityRefused(String)
        /// The document ended inside a construct or before the root element closed.
        case unexpectedEnd
        /// Not well-formed XML; the text says what was wrong.
        case malformed(String)
        /// A prefix used without an `xmlns:` declaration in scope.
        case undeclaredPrefix(String)
        /// An end tag that does not close the element that is open.
        case mismatchedTag(expected: String, found: String)
        /// One of the `XMLLimits` was passed; the text names which.
        case limitExceeded(String)
        /// Bytes that are not UTF-8.
        case invalidUTF8
        /// A character XML 1.0 does not allow (a control character, U+FFFE, U+FFFF), written
        /// directly or as a character reference.
        case invalidCharacter(UInt32)
        /// A declared encoding (or a byte order mark) other than UTF-8 or US-ASCII.
        case unsupportedEncoding(String)

        public var description: String {
            switch self {
            case .doctypeRefused: "document type declarations are refused"
            case .entityRefused(let name):
                "entity reference &\(name); refused (only the predefined entities are allowed)"
            case .unexpectedEnd: "unexpected end of document"
            case .malformed(let what): what
            case .undeclaredPrefix(let prefix): "undeclared namespace prefix \(prefix)"
            case .mismatchedTag(let expected, let found): "end tag </\(found)> does not close <\(expected)>"
            case .limitExceeded(let what): "limit exceeded: \(what)"
            case .invalidUTF8: "invalid UTF-8"
            case .invalidCharacter(let value):
                "character U+\(String(value, radix: 16, uppercase: true)) is not allowed in XML"
            case .unsupportedEncoding(let name): "unsupported encoding \(name) (only UTF-8 is accepted)"
            }
        }
    }

    public var reason: Reason
    /// The byte offset of the construct at fault.
    public var offset: Int
    /// The 1-based line of `offset`.
    public var line: Int

    public init(_ reason: Reason, offset: Int, line: Int) {
        self.reason = reason
        self.offset = offset
        self.line = line
    }

    public var description: String { "XML line \(line) (byte \(offset)): \(reason)" }
}
