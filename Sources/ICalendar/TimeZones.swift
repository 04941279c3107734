import Synchronization
import Wire

/// The UTC offsets of one zone over time: an offset before the first transition, then the
/// offset in effect from each transition on.
public struct ZoneTable: Sendable, Hashable {
    public var initialOffset: Int
    /// Sorted UTC instants (seconds) at which `offsets[i]` starts.
    public var transitions: [Int64]
    public var offsets: [Int]

    public init(initialOffset: Int, transitions: [(at: Int64, offset: Int)]) {
        self.initialOffset = initialOffset
        let sorted = transitions.sorted { $0.at < $1.at }
        self.transitions = sorted.map(\.at)
        self.offsets = sorted.map(\.offset)
    }

    public static let utc = ZoneTable(initialOffset: 0, transitions: [])

    public func offset(at instant: Int64) -> Int { offsetAndIndex(at: instant).offset }

    /// The offset at `instant` and the number of transitions at or before it.
    private func offsetAndIndex(at instant: Int64) -> (offset: Int, index: Int) {
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= instant { low = middle + 1 } else { high = middle }
        }
        return (low == 0 ? initialOffset : offsets[low - 1], low)
    }

    /// `offset(at:)` for an instant at or after `windowStart`, given that `index` transitions lie
    /// at or before `windowStart`: a step or two forward instead of a binary search. Instants
    /// before the window (an offset of more than a day and a half) or a crowded window search.
    private func offset(at instant: Int64, from index: Int, windowStart: Int64) -> Int {
        guard instant >= windowStart else { return offset(at: instant) }
        var index = index
        var steps = 0
        while index < transitions.count, transitions[index] <= instant {
            index += 1
            steps += 1
            if steps > 8 { return offset(at: instant) }
        }
        return index == 0 ? initialOffset : offsets[index - 1]
    }

    public func local(at instant: Int64) -> LocalDateTime {
        LocalDateTime(secondsSinceEpoch: instant + Int64(offset(at: instant)))
    }

    /// The instant a wall-clock time names. In a gap (spring forward) the time is read with the
    /// offset before the gap, so 02:30 becomes 03:30; in an overlap (fall back) the first of the
    /// two is taken (RFC 5545 §3.3.5).
    public func instant(for local: LocalDateTime) -> Int64 {
        let wall = local.secondsSinceEpoch
        // One binary search for the window around the wall-clock time; the other offsets are
        // read by stepping forward from there (see `offset(at:from:)`).
        let windowStart = wall - 86400 - 3600 * 14
        let (before, index) = offsetAndIndex(at: windowStart)
        func offset(at instant: Int64) -> Int { self.offset(at: instant, from: index, windowStart: windowStart) }
        let after = offset(at: wall + 86400 + 3600 * 14)
        if before == after, transitions.isEmpty || offset(at: wall - Int64(before)) == before {
            return wall - Int64(before)
        }
        let early = wall - Int64(before)
        let late = wall - Int64(after)
        let earlyValid = offset(at: early) == before
        let lateValid = offset(at: late) == after
        switch (earlyValid, lateValid) {
        case (true, true): return min(early, late)
        case (true, false): return early
        case (false, true): return late
        case (false, false): return early
        }
    }
}

extension ZoneTable {
    /// Transitions are worked out to this year; later instants keep the last offset.
    static let lastYear = 2200

    /// Builds the table a VTIMEZONE describes: each STANDARD or DAYLIGHT observance starts at
    /// its DTSTART and at every RRULE and RDATE instance, all in local time of TZOFFSETFROM.
    public init(vtimezone: Component) throws(ValueError) {
        var onsets: [(at: Int64, offset: Int, from: Int)] = []
        for observance in vtimezone.components where observance.is("STANDARD") || observance.is("DAYLIGHT") {
            guard let startProperty = observance.property("DTSTART"),
                let fromProperty = observance.property("TZOFFSETFROM"),
                let toProperty = observance.property("TZOFFSETTO")
            else { throw ValueError("\(observance.name) needs DTSTART, TZOFFSETFROM and TZOFFSETTO") }
            let start = try DateTimeValue.parse(startProperty).local
            let from = try UTCOffset.parse(Substring(fromProperty.value.trimmedSpaces)).seconds
            let to = try UTCOffset.parse(Substring(toProperty.value.trimmedSpaces)).seconds
            var locals: [LocalDateTime] = [start]
            for property in observance.properties("RRULE") {
                let rule = try RecurrenceRule.parse(property.value)
                var until: ((LocalDateTime) -> Bool)?
                if let limit = rule.until {
                    switch limit {
                    case .dateTime(let value, .utc):
                        let utcLimit = value.secondsSinceEpoch
                        until = { $0.secondsSinceEpoch - Int64(from) > utcLimit }
                    default:
                        let localLimit = limit.local
                        until = { $0 > localLimit }
                    }
                }
                let iterator = RecurrenceIterator(
                    rule: rule, start: start, isAfterUntil: until,
                    horizon: CivilDate(year: Self.lastYear, month: 12, day: 31))
                for (index, onset) in iterator.enumerated() {
                    if index > 2 * (Self.lastYear - 1600) * 12 { break }
                    locals.append(onset)
                }
            }
            for property in observance.properties("RDATE") {
                locals += try DateTimeValue.parseList(property).map(\.local)
            }
            for local in Set(locals) { onsets.append((local.secondsSinceEpoch - Int64(from), to, from)) }
        }
        onsets.sort { $0.at < $1.at }
        guard let first = onsets.first else {
            throw ValueError("VTIMEZONE has no STANDARD or DAYLIGHT observance")
        }
        self.init(initialOffset: first.from, transitions: onsets.map { ($0.at, $0.offset) })
    }

    /// Reads a TZif file (RFC 8536) as found under /usr/share/zoneinfo, including the POSIX TZ
    /// string in its footer, which gives the transitions after the last one listed.
    public init(tzif bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        let header = try Self.readHeader(&reader)
        var transitions: [(at: Int64, offset: Int)] = []
        var types: [Int] = []
        var initialOffset = 0
        var footer: PosixZoneRule?
        if header.version == 0 {
            (transitions, types) = try Self.readData(&reader, header: header, timeSize: 4)
        } else {
            try reader.skip(header.v1DataLength)
            let header2 = try Self.readHeader(&reader)
            (transitions, types) = try Self.readData(&reader, header: header2, timeSize: 8)
            if !reader.isAtEnd {
                let text = reader.readRemainingBytes()
                let line = text.split(separator: 0x0A, omittingEmptySubsequences: true).first ?? []
                footer = PosixZoneRule(String(decoding: line, as: UTF8.self))
            }
        }
        initialOffset = types.first ?? 0
        if let footer {
            let lastYear =
                transitions.last.map { LocalDateTime(secondsSinceEpoch: $0.at).date.year }
                ?? CivilDate(year: 1970, month: 1, day: 1).year
            let lastInstant = transitions.last?.at ?? Int64.min
            if footer.daylight == nil, transitions.isEmpty {
                initialOffset = footer.standardOffset
            }
            for year in lastYear...Self.lastYear {
                for transition in footer.transitions(in: year) where transition.at > lastInstant {
                    transitions.append(transition)
                }
            }
        }
        self.init(initialOffset: initialOffset, transitions: transitions)
    }

    private struct TZifHeader {
        var version: Int
        var utcIndicators, standardIndicators, leapCount, transitionCount, typeCount, characterCount: Int
        var v1DataLength: Int {
            transitionCount * 5 + typeCount * 6 + characterCount + leapCount * 8 + standardIndicators
                + utcIndicators
        }
    }

    private static func readHeader(_ reader: inout WireReader) throws(WireError) -> TZifHeader {
        guard Array(try reader.readBytes(4)) == Array("TZif".utf8) else { throw reader.invalid("not a TZif file") }
        let versionByte = try reader.readUInt8()
        try reader.skip(15)
        var counts: [Int] = []
        for _ in 0..<6 {
            let count = Int(try reader.readUInt32())
            guard count <= 1 << 20 else { throw reader.invalid("TZif count \(count) is implausible") }
            counts.append(count)
        }
        return TZifHeader(
            version: versionByte == 0 ? 0 : Int(versionByte) - 0x30, utcIndicators: counts[0],
            standardIndicators: counts[1], leapCount: counts[2], transitionCount: counts[3], typeCount: counts[4],
            characterCount: counts[5])
    }

    private static func readData(_ reader: inout WireReader, header: TZifHeader, timeSize: Int) throws(WireError)
        -> ([(at: Int64, offset: Int)], [Int])
    {
        var times: [Int64] = []
        for _ in 0..<header.transitionCount {
            times.append(
                timeSize == 8
                    ? Int64(bitPattern: try reader.readUInt64()) : Int64(Int32(bitPattern: try reader.readUInt32())))
        }
        var indices: [Int] = []
        for _ in 0..<header.transitionCount { indices.append(Int(try reader.readUInt8())) }
        var offsets: [Int] = []
        for _ in 0..<header.typeCount {
            offsets.append(Int(Int32(bitPattern: try reader.readUInt32())))
            try reader.skip(2)
        }
        try reader.skip(
            header.characterCount + header.leapCount * (timeSize + 4) + header.standardIndicators + header.utcIndicators
        )
        var transitions: [(at: Int64, offset: Int)] = []
        for (time, index) in zip(times, indices) {
            guard index < offsets.count else { throw reader.invalid("TZif transition names type \(index)") }
            transitions.append((time, offsets[index]))
        }
        // RFC 8536: local time type 0 is the one in effect before the first transition.
        return (transitions, offsets)
    }
}

/// A POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3` (the TZif footer).
struct PosixZoneRule {
    enum Day {
        case monthWeekDay(month: Int, week: Int, weekday: Int)
        case julianNoLeap(Int)
        case zeroBased(Int)
    }

    var standardOffset: Int
    var daylight: (offset: Int, start: Day, startTime: Int, end: Day, endTime: Int)?

    init?(_ text: String) {
        var scanner = Substring(text)
        guard Self.skipName(&scanner), let standard = Self.readTime(&scanner) else { return nil }
        standardOffset = -standard
        guard !scanner.isEmpty else { return }
        guard Self.skipName(&scanner) else { return nil }
        var daylightOffset = standardOffset + 3600
        if let first = scanner.first, first != "," {
            guard let value = Self.readTime(&scanner) else { return nil }
            daylightOffset = -value
        }
        guard scanner.first == "," else { return nil }
        scanner = scanner.dropFirst()
        guard let start = Self.readDay(&scanner) else { return nil }
        var startTime = 7200
        if scanner.first == "/" {
            scanner = scanner.dropFirst()
            guard let value = Self.readTime(&scanner) else { return nil }
            startTime = value
        }
        guard scanner.first == "," else { return nil }
        scanner = scanner.dropFirst()
        guard let end = Self.readDay(&scanner) else { return nil }
        var endTime = 7200
        if scanner.first == "/" {
            scanner = scanner.dropFirst()
            guard let value = Self.readTime(&scanner) else { return nil }
            endTime = value
        }
        daylight = (daylightOffset, start, startTime, end, endTime)
    }

    /// The year's two transitions, as UTC instants with the offset that starts at each.
    func transitions(in year: Int) -> [(at: Int64, offset: Int)] {
        guard let daylight else { return [] }
        let start = Self.date(daylight.start, year: year).secondsSinceEpoch + Int64(daylight.startTime)
        let end = Self.date(daylight.end, year: year).secondsSinceEpoch + Int64(daylight.endTime)
        return [
            (start - Int64(standardOffset), daylight.offset),
            (end - Int64(daylight.offset), standardOffset),
        ].sorted { $0.at < $1.at }
    }

    private static func date(_ day: Day, year: Int) -> LocalDateTime {
        switch day {
        case .julianNoLeap(let number):
            var date = CivilDate(year: year, month: 1, day: 1).adding(days: number - 1)
            if CivilDate.isLeap(year), number >= 60 { date = date.adding(days: 1) }
            return LocalDateTime(date)
        case .zeroBased(let number):
            return LocalDateTime(CivilDate(year: year, month: 1, day: 1).adding(days: number))
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilDate(year: year, month: month, day: 1)
            // POSIX weekdays count from Sunday 0; CivilDate from Monday 0.
            let target = (weekday + 6) % 7
            var day = 1 + (target - first.weekday + 7) % 7 + (week - 1) * 7
            let length = CivilDate.daysIn(month: month, year: year)
            while day > length { day -= 7 }
            return LocalDateTime(CivilDate(year: year, month: month, day: day))
        }
    }

    private static func skipName(_ scanner: inout Substring) -> Bool {
        if scanner.first == "<" {
            guard let close = scanner.firstIndex(of: ">") else { return false }
            scanner = scanner[scanner.index(after: close)...]
            return true
        }
        let name = scanner.prefix { $0.isLetter }
        guard name.count >= 3 else { return false }
        scanner = scanner.dropFirst(name.count)
        return true
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    private static func readTime(_ scanner: inout Substring) -> Int? {
        var sign = 1
        if let first = scanner.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            scanner = scanner.dropFirst()
        }
        var parts: [Int] = []
        while parts.count < 3 {
            let digits = scanner.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 3, let value = Int(digits) else { return nil }
            parts.append(value)
            scanner = scanner.dropFirst(digits.count)
            guard scanner.first == ":" else { break }
            scanner = scanner.dropFirst()
        }
        let seconds = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
        return sign * seconds
    }

    private static func readDay(_ scanner: inout Substring) -> Day? {
        func number() -> Int? {
            let digits = scanner.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 3 else { return nil }
            scanner = scanner.dropFirst(digits.count)
            return Int(digits)
        }
        switch scanner.first {
        case "M":
            scanner = scanner.dropFirst()
            guard let month = number(), scanner.first == "." else { return nil }
            scanner = scanner.dropFirst()
            guard let week = number(), scanner.first == "." else { return nil }
            scanner = scanner.dropFirst()
            guard let weekday = number(), (1...12).contains(month), (1...5).contains(week), weekday <= 6 else {
                return nil
            }
            return .monthWeekDay(month: month, week: week, weekday: weekday)
        case "J":
            scanner = scanner.dropFirst()
            guard let day = number(), (1...365).contains(day) else { return nil }
            return .julianNoLeap(day)
        default:
            guard let day = number(), day <= 365 else { return nil }
            return .zeroBased(day)
        }
    }
}

/// Finds the zone a TZID names: the system's tz database through `systemZone` for IANA names
/// (the caller supplies the bytes; the pure core reads no files), else the calendar's own
/// VTIMEZONE.
public final class ZoneResolver {
    private var tables: [String: ZoneTable] = [:]
    private var missing: Set<String> = []
    private var definitions: [String: Component] = [:]
    private var lastTable: (tzid: String, table: ZoneTable?)?
    private let systemZone: ((String) -> [UInt8]?)?
    /// The zone floating date-times are read in: the calendar's X-WR-TIMEZONE (a Google and
    /// Apple extension), else none (UTC).
    public let floatingZone: String?

    /// - Parameter systemZone: returns the TZif bytes for an IANA name such as `Europe/Berlin`.
    public init(calendar: Component? = nil, systemZone: ((String) -> [UInt8]?)? = nil) {
        self.systemZone = systemZone
        floatingZone = calendar?.property("X-WR-TIMEZONE").map { Text.unescape(Substring($0.value.trimmedSpaces)) }
        for zone in calendar?.components("VTIMEZONE") ?? [] {
            if let tzid = zone.property("TZID").map({ Self.normalized($0.value) }), definitions[tzid] == nil {
                definitions[tzid] = zone
            }
        }
    }

    /// The table for a TZID, or nil when neither the calendar nor the system knows it.
    public func table(for tzid: String) -> ZoneTable? {
        // An expansion asks for the same zone for every instance; comparing with the last one
        // asked for is cheaper than hashing the name for the dictionary each time.
        if let last = lastTable, last.tzid == tzid { return last.table }
        let table = lookUpTable(for: tzid)
        lastTable = (tzid, table)
        return table
    }

    private func lookUpTable(for tzid: String) -> ZoneTable? {
        if let table = tables[tzid] { return table }
        if missing.contains(tzid) { return nil }
        var table: ZoneTable?
        // A well-known IANA name is read from the system's tz database, as Apple, Google and the
        // icalendar package do: exported VTIMEZONEs often describe only recent years.
        if let systemZone {
            for name in Self.candidateNames(tzid) {
                if let bytes = systemZone(name), let parsed = Self.table(tzif: bytes, name: name) {
                    table = parsed
                    break
                }
            }
        }
        if table == nil, let definition = definitions[Self.normalized(tzid)] {
            table = try? ZoneTable(vtimezone: definition)
        }
        if let table { tables[tzid] = table } else { missing.insert(tzid) }
        return table
    }

    /// Tables read from TZif bytes, shared by every resolver in the process. The CalDAV server
    /// makes a resolver per calendar object, and reading a zone (its transitions to 2200 from the
    /// POSIX rule) cost more than expanding a whole object. Entries are found by name and used
    /// only when the bytes are the same, so the result is what reading the bytes would give.
    private static let tzifTables = Mutex<[String: (bytes: [UInt8], table: ZoneTable)]>([:])

    private static func table(tzif bytes: [UInt8], name: String) -> ZoneTable? {
        if let cached = tzifTables.withLock({ $0[name] }), cached.bytes == bytes { return cached.table }
        guard let table = try? ZoneTable(tzif: bytes) else { return nil }
        tzifTables.withLock { cache in
            // A bound for adversarial TZIDs; the tz database has about 600 names.
            if cache.count >= 1024 { cache.removeAll() }
            cache[name] = (bytes, table)
        }
        return table
    }

    /// TZIDs as compared with VTIMEZONE definitions: without surrounding spaces and a stray
    /// trailing colon (Outlook writes `TZID:Pacific Standard Time:`).
    static func normalized(_ tzid: String) -> String {
        var text = tzid.trimmedSpaces
        while text.hasSuffix(":") { text.removeLast() }
        return text
    }

    /// IANA names a TZID may stand for: itself, without a leading `/` (RFC 5545's globally
    /// unique form), or the last two path components of a vendor prefix like
    /// `/mozilla.org/20050126_1/Europe/Berlin`. Names that could escape the zone folder are refused.
    static func candidateNames(_ tzid: String) -> [String] {
        var names: [String] = []
        let trimmed = tzid.hasPrefix("/") ? String(tzid.dropFirst()) : tzid
        names.append(trimmed)
        let parts = trimmed.split(separator: "/")
        if parts.count > 2 { names.append(parts.suffix(2).joined(separator: "/")) }
        if trimmed.uppercased() == "Z" || trimmed.uppercased() == "GMT" { names.append("UTC") }
        return names.filter { name in
            !name.isEmpty && !name.contains("..")
                && name.utf8.allSatisfy { byte in
                    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                        || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                        || byte == UInt8(ascii: "+")
                }
        }
    }

    /// The instant a DATE or DATE-TIME names. Dates and unknown zones are read as UTC, floating
    /// values in `floatingZone` or else UTC (RFC 4791 lets a server pick their zone).
    public func instant(_ value: DateTimeValue) -> Int64 {
        switch value {
        case .date(let date): return LocalDateTime(date).secondsSinceEpoch
        case .dateTime(let local, let reference): return instant(local, in: reference)
        }
    }

    public func instant(_ local: LocalDateTime, in reference: TimeReference) -> Int64 {
        switch reference {
        case .utc: return local.secondsSinceEpoch
        case .floating:
            guard let floatingZone else { return local.secondsSinceEpoch }
            return (table(for: floatingZone) ?? .utc).instant(for: local)
        case .zone(let tzid): return (table(for: tzid) ?? .utc).instant(for: local)
        }
    }

    /// The wall-clock time an instant shows in a reference's zone.
    public func local(_ instant: Int64, in reference: TimeReference) -> LocalDateTime {
        switch reference {
        case .utc: return LocalDateTime(secondsSinceEpoch: instant)
        case .floating:
            guard let floatingZone else { return LocalDateTime(secondsSinceEpoch: instant) }
            return (table(for: floatingZone) ?? .utc).local(at: instant)
        case .zone(let tzid): return (table(for: tzid) ?? .utc).local(at: instant)
        }
    }
}
