/// A child of an element: another element or a run of character data.
public enum XMLNode: Sendable, Equatable {
    case element(XMLElement)
    case text(String)
}

/// An element with its resolved name, its attributes in document order and its children.
///
/// Namespace declarations (`xmlns`, `xmlns:p`) are not attributes: the parser resolves them into
/// the names, and the writer declares what the names need.
public struct XMLElement: Sendable, Equatable, CustomStringConvertible {
    public var name: XMLName
    public var attributes: [(name: XMLName, value: String)]
    public var children: [XMLNode]

    public init(_ name: XMLName, attributes: [(name: XMLName, value: String)] = [], children: [XMLNode] = []) {
        self.name = name
        self.attributes = attributes
        self.children = children
    }

    /// An element whose only child is `text` (no child at all when `text` is empty, as a parsed
    /// `<a></a>` has none).
    public init(_ name: XMLName, text: String) {
        self.init(name, children: text.isEmpty ? [] : [.text(text)])
    }

    /// An element whose children are `elements`.
    public init(_ name: XMLName, attributes: [(name: XMLName, value: String)] = [], elements: [XMLElement]) {
        self.init(name, attributes: attributes, children: elements.map { .element($0) })
    }

    /// The element children, in document order.
    public var elements: [XMLElement] {
        var result: [XMLElement] = []
        for case .element(let element) in children { result.append(element) }
        return result
    }

    /// The first element child called `name`.
    public func first(_ name: XMLName) -> XMLElement? {
        for case .element(let element) in children where element.name == name { return element }
        return nil
    }

    /// Every element child called `name`, in document order.
    public func all(_ name: XMLName) -> [XMLElement] {
        var result: [XMLElement] = []
        for case .element(let element) in children where element.name == name { result.append(element) }
        return result
    }

    /// The value of the attribute called `name`; unprefixed attributes are in namespace `""`.
    public func attribute(_ name: XMLName) -> String? {
        for attribute in attributes where attribute.name == name { return attribute.value }
        return nil
    }

    /// The direct text children, concatenated (text inside child elements is not included).
    public var text: String {
        var result = ""
        for case .text(let text) in children { result += text }
        return result
    }

    /// Appends an element child.
    public mutating func append(_ element: XMLElement) { children.append(.element(element)) }

    /// Appends a text child.
    public mutating func append(text: String) { children.append(.text(text)) }

    /// The element as XML (no declaration), for messages and debugging.
    public var description: String {
        var writer = XMLWriter()
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func == (lhs: XMLElement, rhs: XMLElement) -> Bool {
        guard lhs.name == rhs.name, lhs.attributes.count == rhs.attributes.count, lhs.children == rhs.children else {
            return false
        }
        for (left, right) in zip(lhs.attributes, rhs.attributes)
        where left.name != right.name || left.value != right.value {
            return false
        }
        return true
    }
}
