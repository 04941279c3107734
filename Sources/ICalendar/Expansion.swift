/// One instance of an event, to-do or journal entry within a time range.
public struct Occurrence: Sendable, Hashable {
    public var uid: String
    /// UTC seconds.
    public var start: Int64
    public var end: Int64
    /// The RECURRENCE-ID (UTC seconds) when the instance comes from an override component or a
    /// RANGE=THISANDFUTURE override applies to it; nil for plain instances.
    public var recurrenceID: Int64?
    public var isAllDay: Bool
    /// The component the instance's data comes from (the master or an override).
    public var component: Component
}

/// Limits that keep an expansion's cost bounded whatever the input says.
public struct ExpansionLimits: Sendable {
    /// At most this many instances are returned; the earliest are kept.
    public var maximumInstances: Int
    /// At most this many candidate instances are looked at per recurring component.
    public var maximumCandidates: Int

    public init(maximumInstances: Int = 100_000, maximumCandidates: Int = 2_000_000) {
        self.maximumInstances = maximumInstances
        self.maximumCandidates = maximumCandidates
    }
}

/// Expands recurring components into their instances in a time range, with RFC 4791 §9.9
/// overlap semantics: an instance is in [from, to) when it starts before `to` and ends after
/// `from`; an instance of zero duration when it starts in [from, to).
public struct Expander {
    public let resolver: ZoneResolver
    public var limits: ExpansionLimits

    public init(resolver: ZoneResolver, limits: ExpansionLimits = ExpansionLimits()) {
        self.resolver = resolver
        self.limits = limits
    }

    /// The instances of every VEVENT, VTODO and VJOURNAL in `calendar`, sorted by start then UID.
    public func occurrences(in calendar: Component, from: Int64, to: Int64) throws(ValueError) -> [Occurrence] {
        // Series in the order their first component appears; one hash lookup per component.
        let components = Self.schedulable(in: calendar)
        var seriesByUID: [String: Int] = [:]
        seriesByUID.reserveCapacity(components.count)
        var series: [(uid: String, components: [Component])] = []
        series.reserveCapacity(components.count)
        for component in components {
            // Components without a UID are each their own series.
            let uid = component.property("UID").map { Text.unescape(Substring($0.value)) }
            let key = uid ?? "\u{0}\(series.count)"
            // One hash of the UID for a new series (most are); a repeated one puts its index back.
            if let index = seriesByUID.updateValue(series.count, forKey: key) {
                seriesByUID[key] = index
                series[index].components.append(component)
            } else {
                series.append((key, [component]))
            }
        }
        var result: [Occurrence] = []
        for (key, components) in series {
            let uid = key.hasPrefix("\u{0}") ? "" : key
            try appendOccurrences(ofSeries: components, uid: uid, from: from, to: to, to: &result)
        }
        // Sorted through an index: the merge sort moved whole occurrences at every step. The index
        // breaks ties, so the order is the stable sort's by start then UID.
        let order = result.indices.sorted {
            (result[$0].start, result[$0].uid, $0) < (result[$1].start, result[$1].uid, $1)
        }
        result = order.map { result[$0] }
        if result.count > limits.maximumInstances { result.removeLast(result.count - limits.maximumInstances) }
        return result
    }

    /// The VEVENT, VTODO and VJOURNAL components, also a bare one (no VCALENDAR around it) and
    /// ones nested in X- components, as the icalendar package finds them.
    static func schedulable(in component: Component) -> [Component] {
        var found: [Component] = []
        collectSchedulable(in: component, into: &found)
        return found
    }

    // One array for the whole walk; flatMap made one per component visited.
    private static func collectSchedulable(in component: Component, into found: inout [Component]) {
        if component.is("VEVENT") || component.is("VTODO") || component.is("VJOURNAL") {
            found.append(component)
            return
        }
        for child in component.components { collectSchedulable(in: child, into: &found) }
    }

    /// One UID's master component and its RECURRENCE-ID overrides.
    public func occurrences(ofSeries components: [Component], uid: String, from: Int64, to: Int64) throws(ValueError)
        -> [Occurrence]
    {
        var result: [Occurrence] = []
        try appendOccurrences(ofSeries: components, uid: uid, from: from, to: to, to: &result)
        return result
    }

    /// `occurrences(ofSeries:…)` appended to `result`: a calendar's series share one array.
    private func appendOccurrences(
        ofSeries components: [Component], uid: String, from: Int64, to: Int64, to result: inout [Occurrence]
    ) throws(ValueError) {
        // The newest revision wins: the master and each override with the highest SEQUENCE.
        var master: (component: Component, fields: ScheduleFields)?
        var overridesByID: [Int64: (range: Bool, component: Component, fields: ScheduleFields)] = [:]
        for component in components {
            let fields = ScheduleFields(component)
            if let property = fields.recurrenceID {
                let id = resolver.instant(try DateTimeValue.parse(property))
                let thisAndFuture = property.parameter("RANGE")?.uppercased() == "THISANDFUTURE"
                if let existing = overridesByID[id], existing.fields.sequence >= fields.sequence {
                    continue
                }
                overridesByID[id] = (thisAndFuture, component, fields)
            } else if master.map({ $0.fields.sequence < fields.sequence }) ?? true {
                master = (component, fields)
            }
        }
        // The instance cap counts this series' instances.
        let seriesStart = result.count
        var excluded: (instants: Set<Int64>, dates: Set<CivilDate>) = ([], [])
        if case (let master, let fields)? = master, let timing = try Timing(master, fields: fields, resolver: resolver)
        {
            excluded = try exclusions(in: fields)
            // An override of a newer master that no longer has that instance, or whose
            // instance the master excludes, is a deleted modification.
            overridesByID = overridesByID.filter { id, item in
                if excluded.instants.contains(id) { return false }
                guard !item.fields.rrules.isEmpty, item.fields.sequence < fields.sequence else { return true }
                let starts = try? instanceStarts(of: fields, timing: timing, from: id, to: id + 1)
                return starts?.isEmpty == false
            }
            let overrides = overridesByID.sorted { $0.key < $1.key }
            let futureOverrides = overrides.filter { $0.value.range }
            // Look back far enough that an instance starting before `from` but still running is kept.
            let lookBack = timing.longestSpan + (futureOverrides.isEmpty ? 0 : 366 * 86400)
            for start in try instanceStarts(of: fields, timing: timing, from: from - lookBack, to: to) {
                if overridesByID[start.instant] != nil { continue }
                var occurrence = Occurrence(
                    uid: uid, start: start.instant,
                    end: timing.end(after: start.local, instant: start.instant, resolver: resolver),
                    recurrenceID: nil, isAllDay: timing.start.isDate, component: master)
                if let future = futureOverrides.last(where: { $0.key < start.instant }),
                    let overrideTiming = try Timing(
                        future.value.component, fields: future.value.fields, resolver: resolver)
                {
                    // RFC 5545 §3.8.4.4: later instances move by the override's shift and take its data.
                    let shift = overrideTiming.startInstant - future.key
                    occurrence.start += shift
                    occurrence.end = occurrence.start + (overrideTiming.endOfFirst - overrideTiming.startInstant)
                    occurrence.recurrenceID = start.instant
                    occurrence.component = future.value.component
                }
                if overlaps(occurrence, from: from, to: to) { result.append(occurrence) }
                if result.count - seriesStart >= limits.maximumInstances { break }
            }
        } else if let master = master?.component, master.is("VTODO") {
            // RFC 4791 §9.9: a to-do with neither DTSTART nor DUE overlaps every range.
            result.append(
                Occurrence(uid: uid, start: 0, end: 0, recurrenceID: nil, isAllDay: false, component: master))
        }
        for (id, item) in overridesByID {
            guard let timing = try Timing(item.component, fields: item.fields, resolver: resolver) else { continue }
            let occurrence = Occurrence(
                uid: uid, start: timing.startInstant, end: timing.endOfFirst, recurrenceID: id,
                isAllDay: timing.start.isDate, component: item.component)
            if overlaps(occurrence, from: from, to: to) { result.append(occurrence) }
        }
    }

    private func exclusions(in fields: ScheduleFields) throws(ValueError) -> (
        instants: Set<Int64>, dates: Set<CivilDate>
    ) {
        var instants: Set<Int64> = []
        var dates: Set<CivilDate> = []
        for property in fields.exdates {
            for value in try DateTimeValue.parseList(property) {
                switch value {
                case .date(let date): dates.insert(date)
                case .dateTime(let local, let valueReference):
                    instants.insert(resolver.instant(local, in: valueReference))
                }
            }
        }
        return (instants, dates)
    }

    private func overlaps(_ occurrence: Occurrence, from: Int64, to: Int64) -> Bool {
        if occurrence.end > occurrence.start { return occurrence.start < to && occurrence.end > from }
        return occurrence.start >= from && occurrence.start < to
    }

    /// Start times from DTSTART, RRULE and RDATE, less EXDATE, in order, up to `to`.
    func instanceStarts(of fields: ScheduleFields, timing: Timing, from: Int64, to: Int64) throws(ValueError)
        -> [(local: LocalDateTime, instant: Int64)]
    {
        let reference = timing.reference
        let first = timing.start.local
        var starts: [(local: LocalDateTime, instant: Int64)] = []
        // The start's instant is `timing.startInstant` (the same zone lookup).
        if timing.startInstant < to, timing.startInstant >= from { starts.append((first, timing.startInstant)) }
        if fields.rrules.isEmpty, fields.rdates.isEmpty {
            // A single instance, the common case: no set of instants to keep unique.
            let excluded = try exclusions(in: fields)
            if !excluded.instants.isEmpty || !excluded.dates.isEmpty {
                starts.removeAll { excluded.instants.contains($0.instant) || excluded.dates.contains($0.local.date) }
            }
            return starts
        }
        var seen = Set(starts.map(\.instant))
        func add(_ local: LocalDateTime) {
            let instant = resolver.instant(local, in: reference)
            if instant < to, instant >= from, seen.insert(instant).inserted { starts.append((local, instant)) }
        }
        let horizon = LocalDateTime(secondsSinceEpoch: to + 2 * 86400).date
        for property in fields.rrules {
            // A rule that cannot be read even leniently (no FREQ) adds no instances.
            guard let rule = try? RecurrenceRule.parse(property.value, lenient: true) else { continue }
            if let until = rule.until, untilCheck(until, reference: reference)?(first) == true {
                // A series that ends before it begins has no instances at all, as the
                // recurring-ical-events package reads it.
                return []
            }
            let until = untilCheck(rule.until, reference: reference)
            var iterator = RecurrenceIterator(rule: rule, start: first, isAfterUntil: until, horizon: horizon)
            var candidates = 0
            while let local = iterator.next() {
                candidates += 1
                if candidates > limits.maximumCandidates { break }
                let instant = resolver.instant(local, in: reference)
                if instant >= to { break }
                if instant >= from, seen.insert(instant).inserted { starts.append((local, instant)) }
                if starts.count > limits.maximumInstances { break }
            }
        }
        for property in fields.rdates {
            for value in try DateTimeValue.parseList(property) {
                switch value {
                case .date(let date):
                    add(LocalDateTime(date, hour: first.hour, minute: first.minute, second: first.second))
                case .dateTime(let local, let valueReference):
                    let instant = resolver.instant(local, in: valueReference)
                    add(resolver.local(instant, in: reference))
                }
            }
        }
        let excluded = try exclusions(in: fields)
        if !excluded.instants.isEmpty || !excluded.dates.isEmpty {
            starts.removeAll { excluded.instants.contains($0.instant) || excluded.dates.contains($0.local.date) }
        }
        starts.sort { $0.instant < $1.instant }
        return starts
    }

    /// UNTIL compared in the right frame: a UTC UNTIL against the instance's instant, a DATE
    /// UNTIL as the whole of that day, a floating UNTIL against the wall clock.
    private func untilCheck(_ until: DateTimeValue?, reference: TimeReference) -> ((LocalDateTime) -> Bool)? {
        guard let until else { return nil }
        switch until {
        case .date(let date):
            return { $0.date > date }
        case .dateTime(let local, .utc):
            let limit = local.secondsSinceEpoch
            let resolver = self.resolver
            return { resolver.instant($0, in: reference) > limit }
        case .dateTime(let local, _):
            return { $0 > local }
        }
    }
}

/// When a component starts and how long each instance lasts.
struct Timing {
    var start: DateTimeValue
    var startInstant: Int64
    /// End of the first instance, UTC seconds.
    var endOfFirst: Int64
    /// Nominal days and exact seconds added to each instance's start.
    var duration: Duration
    var longestSpan: Int64
    /// Dates are days in UTC, never in the floating zone.
    var reference: TimeReference { start.isDate ? .utc : start.reference }

    init?(_ component: Component, fields: ScheduleFields, resolver: ZoneResolver) throws(ValueError) {
        guard let startProperty = fields.dtstart ?? fields.due else { return nil }
        start = try DateTimeValue.parse(startProperty)
        startInstant = resolver.instant(start)
        let endProperty = component.is("VTODO") ? fields.due : fields.dtend
        if fields.hasStart, let endProperty {
            var end = try DateTimeValue.parse(endProperty)
            if resolver.instant(end) < startInstant {
                // An end before the start is a client's slip; the icalendar tools swap them.
                (start, end) = (end, start)
                startInstant = resolver.instant(start)
            }
            if end.reference == start.reference || end.isDate || start.isDate {
                let seconds = end.local.secondsSinceEpoch - start.local.secondsSinceEpoch
                duration = Duration(days: Int(seconds / 86400), seconds: Int(seconds % 86400))
            } else {
                duration = Duration(seconds: Int(resolver.instant(end) - startInstant))
            }
        } else if let durationProperty = fields.duration {
            duration = try Duration.parse(Substring(durationProperty.value.trimmedSpaces))
        } else {
            duration = Duration(days: start.isDate ? 1 : 0)
        }
        if duration.days < 0 || duration.seconds < 0 { duration = Duration() }
        longestSpan = Int64(duration.days) * 86400 + Int64(duration.seconds) + 3 * 3600
        endOfFirst = 0
        endOfFirst = end(after: start.local, instant: startInstant, resolver: resolver)
    }

    func end(after local: LocalDateTime, instant: Int64, resolver: ZoneResolver) -> Int64 {
        if duration.days == 0 { return instant + Int64(duration.seconds) }
        // Days are nominal: the same wall-clock time that many days later, then exact seconds.
        let later = LocalDateTime(
            local.date.adding(days: duration.days), hour: local.hour, minute: local.minute, second: local.second)
        return resolver.instant(later, in: reference) + Int64(duration.seconds)
    }
}

/// The properties expansion reads from one component, found in one pass: looking each one up by
/// name scanned every property again, a dozen scans per event. The first property of a name
/// wins, as `Component.property(_:)` has it.
struct ScheduleFields {
    // The component's properties and where the ones read once are: a property is copied only
    // when it is read, not for every component looked at.
    private let properties: [Property]
    private var dtstartIndex: Int?
    private var dtendIndex: Int?
    private var dueIndex: Int?
    private var durationIndex: Int?
    private var recurrenceIDIndex: Int?
    var dtstart: Property? { dtstartIndex.map { properties[$0] } }
    var dtend: Property? { dtendIndex.map { properties[$0] } }
    var due: Property? { dueIndex.map { properties[$0] } }
    var duration: Property? { durationIndex.map { properties[$0] } }
    var recurrenceID: Property? { recurrenceIDIndex.map { properties[$0] } }
    var hasStart: Bool { dtstartIndex != nil }
    var rrules: [Property] = []
    var rdates: [Property] = []
    var exdates: [Property] = []
    /// SEQUENCE, -1 when absent or not a number: the newest revision of a series wins.
    var sequence = -1

    init(_ component: Component) {
        var sawSequence = false
        let properties = component.properties
        self.properties = properties
        for index in properties.indices {
            switch Field(name: properties[index].name) {
            case .dtstart: if dtstartIndex == nil { dtstartIndex = index }
            case .dtend: if dtendIndex == nil { dtendIndex = index }
            case .due: if dueIndex == nil { dueIndex = index }
            case .duration: if durationIndex == nil { durationIndex = index }
            case .recurrenceID: if recurrenceIDIndex == nil { recurrenceIDIndex = index }
            case .rrule: rrules.append(properties[index])
            case .rdate: rdates.append(properties[index])
            case .exdate: exdates.append(properties[index])
            case .sequence:
                if !sawSequence {
                    sawSequence = true
                    sequence = Int(properties[index].value.trimmedSpaces) ?? -1
                }
            case nil: break
            }
        }
    }

    private enum Field: CaseIterable {
        case dtstart, dtend, due, duration, recurrenceID, rrule, rdate, exdate, sequence

        var name: StaticString {
            switch self {
            case .dtstart: "DTSTART"
            case .dtend: "DTEND"
            case .due: "DUE"
            case .duration: "DURATION"
            case .recurrenceID: "RECURRENCE-ID"
            case .rrule: "RRULE"
            case .rdate: "RDATE"
            case .exdate: "EXDATE"
            case .sequence: "SEQUENCE"
            }
        }

        /// The field a property name is, by `Property.is(_:)`'s rule: for an ASCII name that is
        /// its bytes upper-cased, compared only with the names of its length; anything else
        /// (`ſEQUENCE` upper-cases to SEQUENCE) asks the Unicode comparison.
        init?(name: String) {
            let bytes = name.utf8.span
            guard !bytes.containsByte(where: { $0 >= 0x80 }) else {
                guard let field = Field.allCases.first(where: { name.uppercasedEquals($0.name.description) }) else {
                    return nil
                }
                self = field
                return
            }
            // Only the names of the same length can match; no array, this runs per property.
            let candidates: (Field, Field?, Field?)
            switch bytes.count {
            case 3: candidates = (.due, nil, nil)
            case 5: candidates = (.dtend, .rrule, .rdate)
            case 6: candidates = (.exdate, nil, nil)
            case 7: candidates = (.dtstart, nil, nil)
            case 8: candidates = (.duration, .sequence, nil)
            case 13: candidates = (.recurrenceID, nil, nil)
            default: return nil
            }
            if Self.asciiName(bytes, equals: candidates.0.name) {
                self = candidates.0
            } else if let second = candidates.1, Self.asciiName(bytes, equals: second.name) {
                self = second
            } else if let third = candidates.2, Self.asciiName(bytes, equals: third.name) {
                self = third
            } else {
                return nil
            }
        }

        private static func asciiName(_ bytes: Span<UInt8>, equals upper: StaticString) -> Bool {
            upper.withUTF8Buffer { candidate in
                guard candidate.count == bytes.count else { return false }
                for index in 0..<bytes.count where asciiUppercased(bytes[index]) != candidate[index] { return false }
                return true
            }
        }
    }
}
