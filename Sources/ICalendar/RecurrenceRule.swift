/// An RRULE value (RFC 5545 §3.3.10).
public struct RecurrenceRule: Sendable, Hashable, CustomStringConvertible {
    /// Ordered from coarsest to finest, so `frequency < .hourly` means "a day or longer".
    public enum Frequency: Int, Sendable, Comparable, CaseIterable {
        case yearly, monthly, weekly, daily, hourly, minutely, secondly

        public static func < (lhs: Frequency, rhs: Frequency) -> Bool { lhs.rawValue < rhs.rawValue }

        var name: String {
            ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"][rawValue]
        }
    }

    /// A BYDAY entry: a weekday (Monday 0 … Sunday 6), optionally its nth occurrence (`-1SU`).
    public struct WeekdayNumber: Sendable, Hashable {
        public var occurrence: Int
        public var weekday: Int

        public init(_ weekday: Int, occurrence: Int = 0) {
            self.weekday = weekday
            self.occurrence = occurrence
        }
    }

    static let weekdayNames = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    public var frequency: Frequency
    public var interval: Int = 1
    public var count: Int?
    public var until: DateTimeValue?
    public var bySecond: [Int] = []
    public var byMinute: [Int] = []
    public var byHour: [Int] = []
    public var byDay: [WeekdayNumber] = []
    public var byMonthDay: [Int] = []
    public var byYearDay: [Int] = []
    public var byWeekNumber: [Int] = []
    public var byMonth: [Int] = []
    public var bySetPosition: [Int] = []
    /// The first day of the week (Monday 0); it matters for WEEKLY with INTERVAL > 1 and BYWEEKNO.
    public var weekStart: Int = 0

    public init(frequency: Frequency) { self.frequency = frequency }

    /// - Parameter lenient: skip malformed parts (`COUNT=-1`, a misspelt `UNTL`) instead of
    ///   failing; a rule without a valid FREQ still fails.
    public static func parse(_ text: String, lenient: Bool = false) throws(ValueError) -> RecurrenceRule {
        var rule = RecurrenceRule(frequency: .yearly)
        var sawFrequency = false
        for part in text.splitASCII(separator: ";") {
            do throws(ValueError) {
                try rule.apply(part, sawFrequency: &sawFrequency)
            } catch {
                if !lenient || part.uppercased().hasPrefix("FREQ=") { throw error }
            }
        }
        guard sawFrequency else { throw ValueError("RRULE has no FREQ") }
        return rule
    }

    private mutating func apply(_ part: Substring, sawFrequency: inout Bool) throws(ValueError) {
        do {
            let pair = part.splitASCII(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw ValueError("RRULE part '\(part)' has no '='") }
            let key = pair[0].uppercased()
            let value = pair[1].uppercased()
            func numbers(_ range: ClosedRange<Int>, allowNegative: Bool) throws(ValueError) -> [Int] {
                var result: [Int] = []
                for item in value.split(separator: ",") {
                    guard let number = Int(item.hasPrefix("+") ? item.dropFirst() : item),
                        range.contains(abs(number)), allowNegative || number >= 0, number != 0 || range.lowerBound == 0
                    else { throw ValueError("RRULE \(key) value '\(item)' is out of range") }
                    result.append(number)
                }
                guard !result.isEmpty else { throw ValueError("RRULE \(key) is empty") }
                return result
            }
            switch key {
            case "FREQ":
                guard let frequency = Frequency.allCases.first(where: { $0.name == value }) else {
                    throw ValueError("RRULE FREQ '\(value)' is unknown")
                }
                self.frequency = frequency
                sawFrequency = true
            case "INTERVAL":
                guard let interval = Int(value), interval >= 1, interval <= 1_000_000_000 else {
                    throw ValueError("RRULE INTERVAL '\(value)' must be a positive number")
                }
                self.interval = interval
            case "COUNT":
                guard let count = Int(value), count >= 0 else {
                    throw ValueError("RRULE COUNT '\(value)' must be a number")
                }
                self.count = count
            case "UNTIL":
                self.until = try DateTimeValue.parse(Substring(value))
            case "BYSECOND": self.bySecond = try numbers(0...60, allowNegative: false)
            case "BYMINUTE": self.byMinute = try numbers(0...59, allowNegative: false)
            case "BYHOUR": self.byHour = try numbers(0...23, allowNegative: false)
            case "BYMONTHDAY": self.byMonthDay = try numbers(1...31, allowNegative: true)
            case "BYYEARDAY": self.byYearDay = try numbers(1...366, allowNegative: true)
            case "BYWEEKNO": self.byWeekNumber = try numbers(1...53, allowNegative: true)
            case "BYMONTH": self.byMonth = try numbers(1...12, allowNegative: false)
            case "BYSETPOS": self.bySetPosition = try numbers(1...366, allowNegative: true)
            case "WKST":
                guard let day = Self.weekdayNames.firstIndex(of: value) else {
                    throw ValueError("RRULE WKST '\(value)' is not a weekday")
                }
                self.weekStart = day
            case "BYDAY":
                self.byDay = []
                for item in value.split(separator: ",") {
                    let trimmed = item.trimmingPrefix(" ")
                    guard trimmed.count >= 2, let day = Self.weekdayNames.firstIndex(of: String(trimmed.suffix(2)))
                    else {
                        throw ValueError("RRULE BYDAY '\(item)' is not a weekday")
                    }
                    let prefix = trimmed.dropLast(2)
                    var occurrence = 0
                    if !prefix.isEmpty {
                        guard let number = Int(prefix.hasPrefix("+") ? prefix.dropFirst() : prefix), number != 0,
                            abs(number) <= 53
                        else { throw ValueError("RRULE BYDAY '\(item)' has a bad ordinal") }
                        occurrence = number
                    }
                    self.byDay.append(WeekdayNumber(day, occurrence: occurrence))
                }
            default:
                // X-NAME parts and parts from later RFCs (RSCALE, SKIP) are not interpreted.
                guard key.hasPrefix("X-") || key == "RSCALE" || key == "SKIP" else {
                    throw ValueError("RRULE part '\(key)' is unknown")
                }
            }
        }
    }

    public var description: String {
        var parts = ["FREQ=\(frequency.name)"]
        if let until { parts.append("UNTIL=\(until)") }
        if let count { parts.append("COUNT=\(count)") }
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        func list(_ name: String, _ values: [Int]) {
            if !values.isEmpty { parts.append("\(name)=" + values.map(String.init).joined(separator: ",")) }
        }
        list("BYSECOND", bySecond)
        list("BYMINUTE", byMinute)
        list("BYHOUR", byHour)
        if !byDay.isEmpty {
            parts.append(
                "BYDAY="
                    + byDay.map { ($0.occurrence == 0 ? "" : String($0.occurrence)) + Self.weekdayNames[$0.weekday] }
                    .joined(separator: ","))
        }
        list("BYMONTHDAY", byMonthDay)
        list("BYYEARDAY", byYearDay)
        list("BYWEEKNO", byWeekNumber)
        list("BYMONTH", byMonth)
        list("BYSETPOS", bySetPosition)
        if weekStart != 0 { parts.append("WKST=\(Self.weekdayNames[weekStart])") }
        return parts.joined(separator: ";")
    }
}
