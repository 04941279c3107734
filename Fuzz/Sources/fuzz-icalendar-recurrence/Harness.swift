import FuzzSupport
import ICalendar

// The recurrence engine. The input's first line is a DTSTART value, the rest an RRULE. Whatever
// rule it is, expansion stays bounded, instances come out strictly increasing, never before the
// start, no more than COUNT, and each one satisfies the rule's limiting parts.
@_cdecl("fuzz_icalendar_recurrence_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzRecurrence)
}

private func fuzzRecurrence(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: input, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 1)
    guard lines.count == 2, let first = try? DateTimeValue.parse(lines[0]),
        let rule = try? RecurrenceRule.parse(String(lines[1]), lenient: true)
    else { return 0 }
    // A leap-second start recurs as second 59 (see RecurrenceIterator).
    var begin = first.local
    if begin.second == 60 { begin.second = 59 }
    let horizon = CivilDate(year: begin.date.year + 3, month: 1, day: 1)
    var previous: LocalDateTime?
    var produced = 0
    for instance in RecurrenceIterator(rule: rule, start: begin, horizon: horizon).prefix(500) {
        if instance < begin { fatalError("an instance before DTSTART") }
        if let previous, instance <= previous { fatalError("instances out of order or repeated") }
        if !rule.byMonth.isEmpty, !rule.byMonth.contains(instance.date.month) { fatalError("BYMONTH violated") }
        if !rule.byHour.isEmpty, !rule.byHour.contains(instance.hour) {
            fatalError("BYHOUR violated")
        }
        if !rule.byMinute.isEmpty, !rule.byMinute.contains(instance.minute) { fatalError("BYMINUTE violated") }
        let plainDays = rule.byDay.filter { $0.occurrence == 0 }.map(\.weekday)
        if !plainDays.isEmpty, plainDays.count == rule.byDay.count, !plainDays.contains(instance.date.weekday) {
            fatalError("BYDAY violated")
        }
        previous = instance
        produced += 1
    }
    if let limit = rule.count, produced > limit { fatalError("more instances than COUNT") }

    // The same rule inside a calendar, expanded over a year with a small cap.
    let calendar =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTART:\(lines[0])\r\nRRULE:\(lines[1])\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    if let parsed = try? Component.parse(calendar, mode: .lenient) {
        let expander = Expander(
            resolver: ZoneResolver(calendar: parsed), limits: ExpansionLimits(maximumInstances: 300))
        let from = LocalDateTime(begin.date).secondsSinceEpoch
        if let occurrences = try? expander.occurrences(in: parsed, from: from, to: from + 366 * 86400) {
            if occurrences.count > 300 { fatalError("the instance cap was ignored") }
            if zip(occurrences, occurrences.dropFirst()).contains(where: { $0.start > $1.start }) {
                fatalError("occurrences not sorted")
            }
        }
    }
    return 0
}
