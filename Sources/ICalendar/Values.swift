/// Why a property value could not be read as its type.
public struct ValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// How a DATE-TIME is anchored: floating (local wherever it is read), UTC, or a named zone.
public enum TimeReference: Sendable, Hashable {
    case floating
    case utc
    case zone(String)
}

/// A DATE or DATE-TIME value (RFC 5545 §3.3.4, §3.3.5).
public enum DateTimeValue: Sendable, Hashable, CustomStringConvertible {
    case date(CivilDate)
    case dateTime(LocalDateTime, TimeReference)

    public var isDate: Bool {
        if case .date = self { return true }
        return false
    }

    /// The wall-clock value, midnight for a DATE.
    public var local: LocalDateTime {
        switch self {
        case .date(let date): return LocalDateTime(date)
        case .dateTime(let local, _): return local
        }
    }

    public var reference: TimeReference {
        switch self {
        case .date: return .floating
        case .dateTime(_, let reference): return reference
        }
    }

    /// The value as written (without the TZID parameter).
    public var description: String {
        switch self {
        case .date(let date): return date.description
        case .dateTime(let local, .utc): return local.description + "Z"
        case .dateTime(let local, _): return local.description
        }
    }

    /// Reads `20260105` or `20260105T090000[Z]`; `tzid` comes from the TZID parameter.
    public static func parse(_ text: Substring, tzid: String? = nil) throws(ValueError) -> DateTimeValue {
        // Read in place from the text's storage (a bounds-checked span): expansion parses several
        // values per event, and copying each into an array was a good part of that.
        switch parse(bytes: text.utf8.span, tzid: tzid) {
        case .success(let value): return value
        case .failure(let problem): throw ValueError("'\(text)' \(problem.rawValue)")
        }
    }

    /// The decimal number the bytes in `range` spell, nil when one is not a digit.
    @inline(__always)
    private static func digits(_ bytes: Span<UInt8>, _ range: Range<Int>) -> Int? {
        var value = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private enum Problem: String, Error {
        case notDateOrDateTime = "is not a DATE or DATE-TIME"
        case invalidDate = "is not a valid date"
        case notDateTime = "is not a DATE-TIME"
        case invalidTime = "is not a valid time"
    }

    private static func parse(bytes: Span<UInt8>, tzid: String?) -> Result<DateTimeValue, Problem> {
        let count = bytes.count
        guard count == 8 || count == 15 || count == 16 else { return .failure(.notDateOrDateTime) }
        func number(_ range: Range<Int>) -> Int? { digits(bytes, range) }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8) else {
            return .failure(.notDateOrDateTime)
        }
        let date = CivilDate(year: year, month: month, day: day)
        guard date.isValid else { return .failure(.invalidDate) }
        if count == 8 { return .success(.date(date)) }
        guard bytes[8] == UInt8(ascii: "T") || bytes[8] == UInt8(ascii: "t") else { return .failure(.notDateTime) }
        guard let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else {
            return .failure(.notDateOrDateTime)
        }
        let time = LocalDateTime(date, hour: hour, minute: minute, second: second)
        // Second 60 is a leap second (RFC 5545 §3.3.12); it is kept as written.
        guard time.hour < 24, time.minute < 60, time.second <= 60 else { return .failure(.invalidTime) }
        if count == 16 {
            guard bytes[15] == UInt8(ascii: "Z") || bytes[15] == UInt8(ascii: "z") else {
                return .failure(.notDateTime)
            }
            return .success(.dateTime(time, .utc))
        }
        if let tzid, !tzid.isEmpty { return .success(.dateTime(time, .zone(tzid))) }
        return .success(.dateTime(time, .floating))
    }

    /// Reads a property's value, honouring its TZID and VALUE=DATE parameters.
    public static func parse(_ property: Property) throws(ValueError) -> DateTimeValue {
        try parse(Substring(property.value.trimmedSpaces), tzid: property.parameter("TZID"))
    }

    /// Every value of a multi-valued property (RDATE, EXDATE); PERIOD values give their starts.
    public static func parseList(_ property: Property) throws(ValueError) -> [DateTimeValue] {
        let tzid = property.parameter("TZID")
        var values: [DateTimeValue] = []
        for item in property.value.split(separator: ",") {
            let trimmed = Substring(String(item).trimmedSpaces)
            let start = trimmed.split(separator: "/", maxSplits: 1).first ?? trimmed
            values.append(try parse(start, tzid: tzid))
        }
        return values
    }
}

/// A DURATION value (RFC 5545 §3.3.6): weeks and days are nominal (a day may be 23 or 25
/// hours across a DST change), hours, minutes and seconds are exact.
public struct Duration: Sendable, Hashable, CustomStringConvertible {
    public var days: Int
    public var seconds: Int

    public init(days: Int = 0, seconds: Int = 0) {
        self.days = days
        self.seconds = seconds
    }

    public static func parse(_ text: Substring) throws(ValueError) -> Duration {
        var bytes = Array(text.utf8)[...]
        var sign = 1
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? -1 : 1
            bytes = bytes.dropFirst()
        }
        guard bytes.first == UInt8(ascii: "P") else { throw ValueError("'\(text)' is not a DURATION") }
        bytes = bytes.dropFirst()
        var days = 0
        var seconds = 0
        var inTime = false
        var number: Int?
        var sawPart = false
        for byte in bytes {
            switch byte {
            case 0x30...0x39:
                let (product, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, product < 1_000_000_000 else { throw ValueError("'\(text)' is too long a DURATION") }
                number = product + Int(byte - 0x30)
            case UInt8(ascii: "T") where !inTime && number == nil:
                inTime = true
            case UInt8(ascii: "W") where !inTime:
                guard let value = number else { throw ValueError("'\(text)' is not a DURATION") }
                days += value * 7
                number = nil
                sawPart = true
            case UInt8(ascii: "D") where !inTime:
                guard let value = number else { throw ValueError("'\(text)' is not a DURATION") }
                days += value
                number = nil
                sawPart = true
            case UInt8(ascii: "H") where inTime, UInt8(ascii: "M") where inTime, UInt8(ascii: "S") where inTime:
                guard let value = number else { throw ValueError("'\(text)' is not a DURATION") }
                seconds += value * (byte == UInt8(ascii: "H") ? 3600 : byte == UInt8(ascii: "M") ? 60 : 1)
                number = nil
                sawPart = true
            default:
                throw ValueError("'\(text)' is not a DURATION")
            }
        }
        guard sawPart, number == nil else { throw ValueError("'\(text)' is not a DURATION") }
        return Duration(days: sign * days, seconds: sign * seconds)
    }

    public var description: String {
        let negative = days < 0 || seconds < 0
        let days = abs(self.days)
        let seconds = abs(self.seconds)
        var text = negative ? "-P" : "P"
        if days > 0, seconds == 0, days % 7 == 0 { return text + "\(days / 7)W" }
        if days > 0 { text += "\(days)D" }
        if seconds > 0 || days == 0 {
            text += "T"
            if seconds >= 3600 { text += "\(seconds / 3600)H" }
            if seconds % 3600 >= 60 { text += "\(seconds % 3600 / 60)M" }
            if seconds % 60 > 0 || seconds == 0 { text += "\(seconds % 60)S" }
        }
        return text
    }
}

/// A PERIOD value (RFC 5545 §3.3.9): a start and either an end or a duration.
public struct Period: Sendable, Hashable {
    public enum End: Sendable, Hashable {
        case end(DateTimeValue)
        case duration(Duration)
    }

    public var start: DateTimeValue
    public var end: End

    public static func parse(_ text: Substring, tzid: String? = nil) throws(ValueError) -> Period {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw ValueError("'\(text)' is not a PERIOD") }
        let start = try DateTimeValue.parse(parts[0], tzid: tzid)
        if parts[1].hasPrefix("P") || parts[1].hasPrefix("+") || parts[1].hasPrefix("-") {
            return Period(start: start, end: .duration(try Duration.parse(parts[1])))
        }
        return Period(start: start, end: .end(try DateTimeValue.parse(parts[1], tzid: tzid)))
    }
}

/// A UTC-OFFSET value (RFC 5545 §3.3.14), in seconds east of UTC.
public struct UTCOffset: Sendable, Hashable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static func parse(_ text: Substring) throws(ValueError) -> UTCOffset {
        let bytes = Array(text.utf8)
        guard bytes.count == 5 || bytes.count == 7, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            bytes[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { throw ValueError("'\(text)' is not a UTC-OFFSET") }
        let digits = bytes[1...].map { Int($0 - 0x30) }
        let hours = digits[0] * 10 + digits[1]
        let minutes = digits[2] * 10 + digits[3]
        let seconds = digits.count == 6 ? digits[4] * 10 + digits[5] : 0
        guard minutes < 60, seconds < 60 else { throw ValueError("'\(text)' is not a UTC-OFFSET") }
        let total = hours * 3600 + minutes * 60 + seconds
        return UTCOffset(seconds: bytes[0] == UInt8(ascii: "-") ? -total : total)
    }

    public var description: String {
        let magnitude = abs(seconds)
        let text = (seconds < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + pad(magnitude % 3600 / 60, 2)
        return magnitude % 60 == 0 ? text : text + pad(magnitude % 60, 2)
    }
}

/// A GEO value: latitude and longitude in degrees.
public struct Geo: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double

    public static func parse(_ text: Substring) throws(ValueError) -> Geo {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        guard parts.count == 2, let latitude = Double(parts[0]), let longitude = Double(parts[1]),
            abs(latitude) <= 90, abs(longitude) <= 180
        else { throw ValueError("'\(text)' is not a GEO value (latitude;longitude)") }
        return Geo(latitude: latitude, longitude: longitude)
    }
}

/// TEXT values (RFC 5545 §3.3.11, RFC 6350 §3.4): backslash escapes and comma-separated lists.
public enum Text {
    public static func unescape(_ text: Substring) -> String {
        // Byte-wise checks first: a backslash byte is always the backslash character, and in
        // ASCII text bytes and characters coincide (CR LF, the one two-byte character, is copied
        // whole either way), so only non-ASCII text with escapes walks characters.
        guard text.containsByte(UInt8(ascii: "\\")) else { return String(text) }
        if text.isASCII {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            var iterator = text.utf8.makeIterator()
            while let byte = iterator.next() {
                guard byte == UInt8(ascii: "\\") else {
                    bytes.append(byte)
                    continue
                }
                switch iterator.next() {
                case UInt8(ascii: "n"), UInt8(ascii: "N"): bytes.append(0x0A)
                case let other?: bytes.append(other)
                case nil: bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "n", "N": result.append("\n")
            case let other?: result.append(other)
            case nil: result.append("\\")
            }
        }
        return result
    }

    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case ";": result += "\\;"
            case ",": result += "\\,"
            case "\n", "\r\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    /// Splits at unescaped `separator` (`,` for lists, `;` for structured vCard values) and unescapes.
    public static func split(_ text: String, separator: Character = ",") -> [String] {
        var parts: [String] = []
        var current = Substring()
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if text[index] == separator {
                current = text[start..<index]
                parts.append(unescape(current))
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        parts.append(unescape(text[start...]))
        return parts
    }
}

/// BINARY values are base64 (RFC 4648) when ENCODING=BASE64 (vCard 3.0 writes ENCODING=b).
public enum Base64 {
    public static func decode(_ text: String) throws(ValueError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            case 0x20, 0x09, 0x0A, 0x0D: continue
            default: throw ValueError("'\(String(decoding: [byte], as: UTF8.self))' is not a base64 character")
            }
            guard padding == 0 else { throw ValueError("base64 data after '=' padding") }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << UInt32(16 - offset * 8) }
            for position in 0..<4 {
                if position <= chunk.count {
                    output.append(alphabet[Int(value >> UInt32(18 - position * 6) & 63)])
                } else {
                    output.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
