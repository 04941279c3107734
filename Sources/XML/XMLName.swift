/// An expanded XML name: a namespace name (a URI, `""` for none) and a local name.
///
/// Names compare by namespace and local name, never by the prefix a document happened to use.
public struct XMLName: Hashable, Sendable, CustomStringConvertible {
    /// The namespace name, `""` for an element or attribute in no namespace.
    public var namespace: String
    /// The local part of the name, without any prefix.
    public var local: String

    public init(_ namespace: String, _ local: String) {
        self.namespace = namespace
        self.local = local
    }

    /// A name in the WebDAV namespace `DAV:` (RFC 4918).
    public static func dav(_ local: String) -> XMLName { XMLName(XMLNamespace.dav, local) }
    /// A name in the CalDAV namespace (RFC 4791).
    public static func caldav(_ local: String) -> XMLName { XMLName(XMLNamespace.caldav, local) }
    /// A name in the CardDAV namespace (RFC 6352).
    public static func carddav(_ local: String) -> XMLName { XMLName(XMLNamespace.carddav, local) }
    /// A name in the Calendar Server extensions' namespace (`getctag` and friends).
    public static func calendarServer(_ local: String) -> XMLName { XMLName(XMLNamespace.calendarServer, local) }
    /// A name in Apple's iCal namespace (`calendar-color`, `calendar-order`).
    public static func appleICal(_ local: String) -> XMLName { XMLName(XMLNamespace.appleICal, local) }

    /// Clark notation: `{DAV:}href`, or only the local name when there is no namespace.
    public var description: String { namespace.isEmpty ? local : "{\(namespace)}\(local)" }
}

/// The namespace names WebDAV and CalDAV bodies use.
public enum XMLNamespace {
    public static let dav = "DAV:"
    public static let caldav = "urn:ietf:params:xml:ns:caldav"
    public static let carddav = "urn:ietf:params:xml:ns:carddav"
    public static let calendarServer = "http://calendarserver.org/ns/"
    public static let appleICal = "http://apple.com/ns/ical/"
    /// The namespace of the predeclared `xml:` prefix (`xml:lang`, `xml:space`).
    public static let xml = "http://www.w3.org/XML/1998/namespace"
    /// The namespace of `xmlns` declarations themselves; no element or attribute may use it.
    public static let xmlns = "http://www.w3.org/2000/xmlns/"
}
