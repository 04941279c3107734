import ICalendar

// What the core needs of HTTP: a request and a response as plain values, and the URL paths, hrefs
// and headers WebDAV reads. The shell (CalDAVHummingbird) converts to and from its own types.

public struct DAVRequest: Sendable {
    public var method: String
    /// The request target as sent: "/calendars/alice/x.ics", percent-encoded, maybe with a query.
    public var target: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

public struct DAVResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    public static func == (lhs: DAVResponse, rhs: DAVResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name):\($0.value)" } == rhs.headers.map { "\($0.name):\($0.value)" }
    }

    static func status(_ code: Int, _ text: String = "") -> DAVResponse {
        DAVResponse(
            status: code, headers: text.isEmpty ? [] : [("Content-Type", "text/plain; charset=utf-8")],
            body: Array(text.utf8))
    }
}

/// A path in the server's URL space: decoded segments, none empty, "." or "..".
public struct ResourcePath: Hashable, Sendable, CustomStringConvertible {
    public var segments: [String]

    public init(_ segments: [String]) { self.segments = segments }

    /// Parses a request target or an href: an absolute URL's path, or a path; the query and
    /// fragment are dropped. Nil for a path that tries to climb out ("..") or does not decode.
    public init?(target: String) {
        var path = Substring(target)
        if !path.hasPrefix("/"), let colon = path.firstIndex(of: ":") {
            // An absolute URL: skip "scheme://authority".
            let afterScheme = path[path.index(after: colon)...].drop(while: { $0 == "/" })
            path = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        // A fragment is never sent by a correct client; acting on the rest could hit the wrong resource.
        if path.contains("#") { return nil }
        if let end = path.firstIndex(of: "?") { path = path[..<end] }
        guard path.hasPrefix("/") else { return nil }
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = ResourcePath.percentDecode(raw), !segment.isEmpty, segment != ".", segment != "..",
                !segment.utf8.contains(where: { $0 == 0x2F || $0 == 0 })
            else { return nil }
            segments.append(segment)
        }
        self.segments = segments
    }

    public var parent: ResourcePath? { segments.isEmpty ? nil : ResourcePath(Array(segments.dropLast())) }
    public var name: String { segments.last ?? "" }
    public func appending(_ name: String) -> ResourcePath { ResourcePath(segments + [name]) }
    public func hasPrefix(_ other: ResourcePath) -> Bool { segments.starts(with: other.segments) }
    public var description: String { href(collection: false) }

    /// The percent-encoded path, with a trailing slash for collections.
    public func href(collection: Bool) -> String {
        var text = ""
        for segment in segments {
            text += "/"
            ResourcePath.percentEncode(segment, into: &text)
        }
        return collection || segments.isEmpty ? text + "/" : text
    }

    static func percentDecode(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 3986 pchar, less the sub-delims clients trip over.
    static func percentEncode(_ segment: String, into text: inout String) {
        let hex = Array("0123456789ABCDEF".utf8)
        var needsEncoding = false
        for byte in segment.utf8 where !isUnreserved(byte) {
            needsEncoding = true
            break
        }
        guard needsEncoding else {
            text += segment
            return
        }
        var bytes: [UInt8] = []
        for byte in segment.utf8 {
            if isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        text += String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "@"), UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "="),
            UInt8(ascii: ","):
            true
        default: false
        }
    }
}

/// WebDAV's Depth header (RFC 4918 §10.2).
enum Depth: Equatable {
    case zero, one, infinity

    init?(header: String?, default fallback: Depth) {
        switch header?.trimmed.lowercased() {
        case nil: self = fallback
        case "0": self = .zero
        case "1": self = .one
        case "infinity": self = .infinity
        default: return nil
        }
    }
}

/// HTTP-date (RFC 9110 §5.6.7) for Last-Modified and getlastmodified, from ICalendar's calendar
/// arithmetic.
enum HTTPDate {
    static func format(_ seconds: Int64) -> String {
        let time = LocalDateTime(secondsSinceEpoch: seconds)
        let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(weekdays[time.date.weekday]), \(pad(time.date.day)) \(months[time.date.month - 1]) \(time.date.year) "
            + "\(pad(time.hour)):\(pad(time.minute)):\(pad(time.second)) GMT"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension StringProtocol {
    var trimmed: String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
        )
    }
}

/// If-Match / If-None-Match (RFC 9110 §13.1): a list of entity tags or "*".
enum ETagCondition {
    static func matches(_ header: String, etag: String?) -> Bool {
        let items = header.split(separator: ",").map { $0.trimmed }
        if items.contains("*") { return etag != nil }
        guard let etag else { return false }
        let bare = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        return items.contains { ($0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0) == bare }
    }
}
