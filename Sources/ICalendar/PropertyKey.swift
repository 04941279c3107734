/// A property name tied to the type of its value, so that `event[.dtstart]` is a
/// `DateTimeValue` and `event[.duration]` a `Duration`: a lookup cannot decode a value as the
/// wrong type. Values decode on demand from the raw text the component keeps.
public struct PropertyKey<Value>: Sendable {
    public let name: String
    let decode: @Sendable (Property) throws(ValueError) -> Value

    public init(_ name: String, decode: @escaping @Sendable (Property) throws(ValueError) -> Value) {
        self.name = name
        self.decode = decode
    }
}

extension PropertyKey where Value == DateTimeValue {
    public static var dtstart: Self { .init("DTSTART", decode: DateTimeValue.parse) }
    public static var dtend: Self { .init("DTEND", decode: DateTimeValue.parse) }
    public static var due: Self { .init("DUE", decode: DateTimeValue.parse) }
    public static var recurrenceID: Self { .init("RECURRENCE-ID", decode: DateTimeValue.parse) }
    public static var dtstamp: Self { .init("DTSTAMP", decode: DateTimeValue.parse) }
}

extension PropertyKey where Value == [DateTimeValue] {
    public static var exdate: Self { .init("EXDATE", decode: DateTimeValue.parseList) }
    public static var rdate: Self { .init("RDATE", decode: DateTimeValue.parseList) }
}

extension PropertyKey where Value == Duration {
    public static var duration: Self {
        .init("DURATION") { property throws(ValueError) in try Duration.parse(Substring(property.value.trimmedSpaces)) }
    }
}

extension PropertyKey where Value == RecurrenceRule {
    public static var rrule: Self {
        .init("RRULE") { property throws(ValueError) in try RecurrenceRule.parse(property.value) }
    }
}

extension PropertyKey where Value == UTCOffset {
    public static var tzOffsetFrom: Self {
        .init("TZOFFSETFROM") { property throws(ValueError) in
            try UTCOffset.parse(Substring(property.value.trimmedSpaces))
        }
    }
    public static var tzOffsetTo: Self {
        .init("TZOFFSETTO") { property throws(ValueError) in
            try UTCOffset.parse(Substring(property.value.trimmedSpaces))
        }
    }
}

extension PropertyKey where Value == Geo {
    public static var geo: Self {
        .init("GEO") { property throws(ValueError) in try Geo.parse(Substring(property.value.trimmedSpaces)) }
    }
}

extension PropertyKey where Value == String {
    /// TEXT properties, unescaped.
    public static var uid: Self {
        .init("UID") { property throws(ValueError) in Text.unescape(Substring(property.value)) }
    }
    public static var summary: Self {
        .init("SUMMARY") { property throws(ValueError) in Text.unescape(Substring(property.value)) }
    }
    public static var description: Self {
        .init("DESCRIPTION") { property throws(ValueError) in Text.unescape(Substring(property.value)) }
    }
    public static var location: Self {
        .init("LOCATION") { property throws(ValueError) in Text.unescape(Substring(property.value)) }
    }
    public static var formattedName: Self {
        .init("FN") { property throws(ValueError) in Text.unescape(Substring(property.value)) }
    }
}

extension PropertyKey where Value == Int {
    public static var sequence: Self {
        .init("SEQUENCE") { property throws(ValueError) in
            guard let number = Int(property.value.trimmedSpaces) else {
                throw ValueError("'\(property.value)' is not an INTEGER")
            }
            return number
        }
    }
}

extension Component {
    /// The first property of this key's name decoded as its type; nil when absent or malformed.
    public subscript<Value>(key: PropertyKey<Value>) -> Value? {
        guard let property = property(key.name) else { return nil }
        return try? key.decode(property)
    }

    /// Like the subscript, but a malformed value is an error naming the line.
    public func value<Value>(_ key: PropertyKey<Value>) throws(ParseError) -> Value? {
        guard let property = property(key.name) else { return nil }
        do throws(ValueError) {
            return try key.decode(property)
        } catch {
            throw ParseError(
                line: property.line, column: 1, reason: .badValue(property: key.name, reason: error.reason))
        }
    }
}
