/// FBTYPE values (RFC 5545 §3.2.9), ordered so that when periods of different types overlap the
/// higher one wins.
public enum BusyType: Int, Sendable, Comparable, CustomStringConvertible {
    case busyTentative, busyUnavailable, busy

    public static func < (lhs: BusyType, rhs: BusyType) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .busy: return "BUSY"
        case .busyTentative: return "BUSY-TENTATIVE"
        case .busyUnavailable: return "BUSY-UNAVAILABLE"
        }
    }

    init?(parameter: String?) {
        switch parameter?.uppercased() {
        case nil, "BUSY": self = .busy
        case "BUSY-TENTATIVE": self = .busyTentative
        case "BUSY-UNAVAILABLE": self = .busyUnavailable
        default: return nil
        }
    }
}

public struct BusyPeriod: Sendable, Hashable {
    public var start: Int64
    public var end: Int64
    public var type: BusyType

    public init(start: Int64, end: Int64, type: BusyType) {
        self.start = start
        self.end = end
        self.type = type
    }
}

/// Free-busy time as a CalDAV server reports it for a free-busy-query (RFC 4791 §7.10).
public enum FreeBusy {
    /// Busy time in [from, to): event instances that are not TRANSP:TRANSPARENT or
    /// STATUS:CANCELLED (TENTATIVE ones as BUSY-TENTATIVE) and FREEBUSY periods of VFREEBUSY
    /// components; FBTYPE=FREE is not busy.
    public static func periods(in calendar: Component, from: Int64, to: Int64, expander: Expander) throws(ValueError)
        -> [BusyPeriod]
    {
        var result: [BusyPeriod] = []
        let events = Component(calendar.name, components: calendar.components.filter { $0.is("VEVENT") })
        for occurrence in try expander.occurrences(in: events, from: from, to: to) {
            let component = occurrence.component
            if component.property("TRANSP")?.value.uppercased() == "TRANSPARENT" { continue }
            let status = component.property("STATUS")?.value.uppercased()
            if status == "CANCELLED" { continue }
            guard occurrence.end > occurrence.start else { continue }
            result.append(
                BusyPeriod(
                    start: max(occurrence.start, from), end: min(occurrence.end, to),
                    type: status == "TENTATIVE" ? .busyTentative : .busy))
        }
        for component in calendar.components("VFREEBUSY") {
            for property in component.properties("FREEBUSY") {
                guard let type = BusyType(parameter: property.parameter("FBTYPE")) else { continue }
                for item in property.value.split(separator: ",") {
                    let period = try Period.parse(Substring(String(item).trimmedSpaces))
                    let start = expander.resolver.instant(period.start)
                    let end: Int64
                    switch period.end {
                    case .end(let value): end = expander.resolver.instant(value)
                    case .duration(let duration):
                        end = start + Int64(duration.days) * 86400 + Int64(duration.seconds)
                    }
                    if start < to, end > from, end > start {
                        result.append(BusyPeriod(start: max(start, from), end: min(end, to), type: type))
                    }
                }
            }
        }
        return result
    }

    /// Sorted, with overlapping or touching periods of the same type joined; where types overlap
    /// the busier type keeps the overlap.
    public static func merge(_ periods: [BusyPeriod]) -> [BusyPeriod] {
        var boundaries = Set<Int64>()
        for period in periods {
            boundaries.insert(period.start)
            boundaries.insert(period.end)
        }
        let points = boundaries.sorted()
        var result: [BusyPeriod] = []
        for (start, end) in zip(points, points.dropFirst()) {
            let type = periods.filter { $0.start <= start && $0.end >= end }.map(\.type).max()
            guard let type else { continue }
            if let last = result.last, last.end == start, last.type == type {
                result[result.count - 1].end = end
            } else {
                result.append(BusyPeriod(start: start, end: end, type: type))
            }
        }
        return result
    }

    /// A VFREEBUSY component listing the periods, one FREEBUSY property per type.
    public static func component(periods: [BusyPeriod], from: Int64, to: Int64) -> Component {
        var busy = Component("VFREEBUSY")
        busy.properties.append(Property("DTSTART", Instant(seconds: from).description))
        busy.properties.append(Property("DTEND", Instant(seconds: to).description))
        for type in [BusyType.busy, .busyTentative, .busyUnavailable] {
            let matching = periods.filter { $0.type == type }
            guard !matching.isEmpty else { continue }
            let value = matching.map { "\(Instant(seconds: $0.start))/\(Instant(seconds: $0.end))" }
                .joined(separator: ",")
            busy.properties.append(
                Property("FREEBUSY", value, parameters: [Parameter(name: "FBTYPE", value: type.description)]))
        }
        var calendar = Component("VCALENDAR")
        calendar.properties = [Property("VERSION", "2.0"), Property("PRODID", "-//Quercus//quercus-ical//EN")]
        calendar.components = [busy]
        return calendar
    }
}
