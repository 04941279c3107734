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
        var groups: [String: [Component]] = [:]
        var order: [String] = []
        for component in Self.schedulable(in: calendar) {
            // Components without a UID are each their own series.
            let uid = component.property("UID").map { Text.unescape(Substring($0.value)) }
            let key = uid ?? "\u{0}\(order.count)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(component)
        }
        var result: [Occurrence] = []
        for key in order {
            let uid = key.hasPrefix("\u{0}") ? "" : key
            result += try occurrences(ofSeries: groups[key] ?? [], uid: uid, from: from, to: to)
        }
        result.sort { ($0.start, $0.uid) < ($1.start, $1.uid) }
        if result.count > limits.maximumInstances { result.removeLast(result.count - limits.maximumInstances) }
        return result
    }

    /// The VEVENT, VTODO and VJOURNAL components, also a bare one (no VCALENDAR around it) and
    /// ones nested in X- components, as the icalendar package finds them.
    static func schedulable(in component: Component) -> [Component] {
        if component.is("VEVENT") || component.is("VTODO") || component.is("VJOURNAL") { return [component] }
        return component.components.flatMap { schedulable(in: $0) }
    }

    /// One UID's master component and its RECURRENCE-ID overrides.
    public func occurrences(ofSeries components: [Component], uid: String, from: Int64, to: Int64) throws(ValueError)
        -> [Occurrence]
    {
        // The newest revision wins: the master and each override with the highest SEQUENCE.
        var master: Component?
        var overridesByID: [Int64: (range: Bool, component: Component)] = [:]
        for component in components {
            if let property = component.property("RECURRENCE-ID") {
                let id = resolver.instant(try DateTimeValue.parse(property))
                let thisAndFuture = property.parameter("RANGE")?.uppercased() == "THISANDFUTURE"
                if let existing = overridesByID[id], sequence(of: existing.component) >= sequence(of: component) {
                    continue
                }
                overridesByID[id] = (thisAndFuture, component)
            } else if master.map({ sequence(of: $0) < sequence(of: component) }) ?? true {
                master = component
            }
        }
        var result: [Occurrence] = []
        var masterStarts: Set<Int64> = []
        var excluded: (instants: Set<Int64>, dates: Set<CivilDate>) = ([], [])
        if let master, let timing = try Timing(master, resolver: resolver) {
            excluded = try exclusions(of: master)
            // An override of a newer master that no longer has that instance, or whose
            // instance the master excludes, is a deleted modification.
            overridesByID = overridesByID.filter { id, item in
                if excluded.instants.contains(id) { return false }
                guard item.component.property("RRULE") != nil, sequence(of: item.component) < sequence(of: master)
                else {
                    return true
                }
                let starts = try? instanceStarts(of: master, timing: timing, from: id, to: id + 1)
                return starts?.isEmpty == false
            }
            let overrides = overridesByID.sorted { $0.key < $1.key }
            let futureOverrides = overrides.filter { $0.value.range }
            // Look back far enough that an instance starting before `from` but still running is kept.
            let lookBack = timing.longestSpan + (futureOverrides.isEmpty ? 0 : 366 * 86400)
            for start in try instanceStarts(of: master, timing: timing, from: from - lookBack, to: to) {
                masterStarts.insert(start.instant)
                if overridesByID[start.instant] != nil { continue }
                var occurrence = Occurrence(
                    uid: uid, start: start.instant,
                    end: timing.end(after: start.local, instant: start.instant, resolver: resolver),
                    recurrenceID: nil, isAllDay: timing.start.isDate, component: master)
                if let future = futureOverrides.last(where: { $0.key < start.instant }),
                    let overrideTiming = try Timing(future.value.component, resolver: resolver)
                {
                    // RFC 5545 §3.8.4.4: later instances move by the override's shift and take its data.
                    let shift = overrideTiming.startInstant - future.key
                    occurrence.start += shift
                    occurrence.end = occurrence.start + (overrideTiming.endOfFirst - overrideTiming.startInstant)
                    occurrence.recurrenceID = start.instant
                    occurrence.component = future.value.component
                }
                if overlaps(occurrence, from: from, to: to) { result.append(occurrence) }
                if result.count >= limits.maximumInstances { break }
            }
        } else if let master, master.is("VTODO") {
            // RFC 4791 §9.9: a to-do with neither DTSTART nor DUE overlaps every range.
            result.append(
                Occurrence(uid: uid, start: 0, end: 0, recurrenceID: nil, isAllDay: false, component: master))
        }
        for (id, item) in overridesByID {
            guard let timing = try Timing(item.component, resolver: resolver) else { continue }
            let occurrence = Occurrence(
                uid: uid, start: timing.startInstant, end: timing.endOfFirst, recurrenceID: id,
                isAllDay: timing.start.isDate, component: item.component)
            if overlaps(occurrence, from: from, to: to) { result.append(occurrence) }
        }
        return result
    }

    private func sequence(of component: Component) -> Int {
        component.property("SEQUENCE").flatMap { Int($0.value.trimmedSpaces) } ?? -1
    }

    private func exclusions(of component: Component) throws(ValueError) -> (instants: Set<Int64>, dates: Set<CivilDate>)
    {
        var instants: Set<Int64> = []
        var dates: Set<CivilDate> = []
        for property in component.properties where property.is("EXDATE") {
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
    func instanceStarts(of component: Component, timing: Timing, from: Int64, to: Int64) throws(ValueError)
        -> [(local: LocalDateTime, instant: Int64)]
    {
        let reference = timing.reference
        let first = timing.start.local
        var starts: [(local: LocalDateTime, instant: Int64)] = []
        var seen: Set<Int64> = []
        func add(_ local: LocalDateTime) {
            let instant = resolver.instant(local, in: reference)
            if instant < to, instant >= from, seen.insert(instant).inserted { starts.append((local, instant)) }
        }
        add(first)
        let horizon = LocalDateTime(secondsSinceEpoch: to + 2 * 86400).date
        for property in component.properties where property.is("RRULE") {
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
        for property in component.properties where property.is("RDATE") {
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
        let excluded = try exclusions(of: component)
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

    init?(_ component: Component, resolver: ZoneResolver) throws(ValueError) {
        guard let startProperty = component.property("DTSTART") ?? component.property("DUE") else { return nil }
        start = try DateTimeValue.parse(startProperty)
        startInstant = resolver.instant(start)
        let endProperty = component.is("VTODO") ? component.property("DUE") : component.property("DTEND")
        if component.property("DTSTART") != nil, let endProperty {
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
        } else if let durationProperty = component.property("DURATION") {
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
