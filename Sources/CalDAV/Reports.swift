import DAVStore
import ICalendar
import XML

/// A calendar-query filter (RFC 4791 §9.7), parsed once and tested against each object.
struct ComponentFilter {
    var name: String
    var isNotDefined = false
    var timeRange: (start: Int64, end: Int64)?
    var properties: [PropertyFilter] = []
    var components: [ComponentFilter] = []

    enum Problem: Error {
        case invalid(String)
        case collation(String)
    }

    init(_ element: XMLElement) throws(Problem) {
        guard let name = element.attribute(XMLName("", "name")), !name.isEmpty else {
            throw .invalid("comp-filter without a name")
        }
        self.name = name.uppercased()
        isNotDefined = element.first(.caldav("is-not-defined")) != nil
        if let range = element.first(.caldav("time-range")) { timeRange = try Self.timeRange(range) }
        for child in element.all(.caldav("prop-filter")) { properties.append(try PropertyFilter(child)) }
        for child in element.all(.caldav("comp-filter")) { components.append(try ComponentFilter(child)) }
    }

    static func timeRange(_ element: XMLElement) throws(Problem) -> (start: Int64, end: Int64) {
        func instant(_ attribute: String) throws(Problem) -> Int64? {
            guard let text = element.attribute(XMLName("", attribute)) else { return nil }
            guard let value = try? DateTimeValue.parse(Property("X", text)), case .dateTime(let local, .utc) = value
            else { throw .invalid("time-range \(attribute) must be a UTC date-time") }
            return local.secondsSinceEpoch
        }
        let start = try instant("start") ?? Int64.min / 2
        let end = try instant("end") ?? Int64.max / 2
        guard start < end else { throw .invalid("time-range ends before it starts") }
        return (start, end)
    }

    /// Whether `component` (inside `parent`, in `calendar`) satisfies this filter. A time-range
    /// needs one overlapping instance, so expansion stops at the first: an endless rule costs
    /// what finding it costs, and `budget` counts the expansions made.
    func matches(
        _ component: Component, parent: Component? = nil, calendar: Component, expander: Expander, budget: inout Int
    ) -> Bool {
        if let timeRange, !Self.inRange(component, parent: parent, calendar: calendar, timeRange, expander, &budget) {
            return false
        }
        for filter in properties where !filter.matches(component, expander: expander) { return false }
        for filter in components {
            let children = component.components(filter.name)
            if filter.isNotDefined {
                if !children.isEmpty { return false }
                continue
            }
            if !children.contains(where: {
                filter.matches($0, parent: component, calendar: calendar, expander: expander, budget: &budget)
            }) {
                return false
            }
        }
        return true
    }

    private static func inRange(
        _ component: Component, parent: Component?, calendar: Component, _ range: (start: Int64, end: Int64),
        _ expander: Expander, _ budget: inout Int
    ) -> Bool {
        let kind = component.name.uppercased()
        if kind == "VTODO", component.property("DTSTART") == nil {
            return todoWithoutStartOverlaps(component, range, expander)
        }
        if kind == "VALARM", let parent {
            return alarmOverlaps(component, parent: parent, calendar: calendar, range, expander, &budget)
        }
        guard ["VEVENT", "VTODO", "VJOURNAL"].contains(kind) else {
            return overlaps(component, range, expander: expander)
        }
        var first = expander
        first.limits.maximumInstances = 1
        budget -= 1
        return !instances(of: component, calendar: calendar, range, first).isEmpty
    }

    /// The instances of the series `component` belongs to (master and overrides share a UID).
    private static func instances(
        of component: Component, calendar: Component, _ range: (start: Int64, end: Int64), _ expander: Expander
    ) -> [Occurrence] {
        let uid = component.property("UID")?.value ?? ""
        let series = calendar.components(component.name.uppercased()).filter {
            ($0.property("UID")?.value ?? "") == uid
        }
        return (try? expander.occurrences(ofSeries: series, uid: uid, from: range.start, to: range.end)) ?? []
    }

    /// RFC 4791 §9.9's rows for a VTODO without DTSTART: by DUE, else COMPLETED and CREATED,
    /// else it always overlaps.
    private static func todoWithoutStartOverlaps(
        _ todo: Component, _ range: (start: Int64, end: Int64), _ expander: Expander
    ) -> Bool {
        func instant(_ name: String) -> Int64? {
            guard let property = todo.property(name), let value = try? DateTimeValue.parse(property) else { return nil }
            return expander.resolver.instant(value)
        }
        if let due = instant("DUE") { return range.start < due && range.end >= due }
        switch (instant("COMPLETED"), instant("CREATED")) {
        case (let completed?, let created?):
            return (range.start <= created || range.start <= completed)
                && (range.end >= created || range.end >= completed)
        case (let completed?, nil): return range.start <= completed && range.end >= completed
        case (nil, let created?): return range.end > created
        case (nil, nil): return true
        }
    }

    /// A VALARM overlaps when one of its triggers falls in the range: an absolute TRIGGER, or one
    /// relative to the start (or, with RELATED=END, the end) of an instance of its parent.
    private static func alarmOverlaps(
        _ alarm: Component, parent: Component, calendar: Component, _ range: (start: Int64, end: Int64),
        _ expander: Expander, _ budget: inout Int
    ) -> Bool {
        guard let trigger = alarm.property("TRIGGER") else { return false }
        if trigger.parameter("VALUE")?.uppercased() == "DATE-TIME" {
            guard let value = try? DateTimeValue.parse(trigger) else { return false }
            let instant = expander.resolver.instant(value)
            return instant >= range.start && instant < range.end
        }
        guard let offset = try? ICalendar.Duration.parse(Substring(trigger.value)) else { return false }
        let seconds = Int64(offset.days) * 86_400 + Int64(offset.seconds)
        let fromEnd = trigger.parameter("RELATED")?.uppercased() == "END"
        var some = expander
        some.limits.maximumInstances = 1_000
        budget -= 1
        let candidates = instances(
            of: parent, calendar: calendar, (range.start - seconds, range.end - seconds), some)
        return candidates.contains { instance in
            let fires = (fromEnd ? instance.end : instance.start) + seconds
            return fires >= range.start && fires < range.end
        }
    }

    /// VALARM, VFREEBUSY and others: by their own DTSTART/DTEND or DURATION (RFC 4791 §9.9).
    static func overlaps(_ component: Component, _ range: (start: Int64, end: Int64), expander: Expander) -> Bool {
        guard let startProperty = component.property("DTSTART"),
            let start = try? DateTimeValue.parse(startProperty)
        else { return true }
        let from = expander.resolver.instant(start)
        var to = from
        if let endProperty = component.property("DTEND"), let end = try? DateTimeValue.parse(endProperty) {
            to = expander.resolver.instant(end)
        }
        return from < range.end && (to > range.start || (to == from && from >= range.start))
    }
}

struct PropertyFilter {
    var name: String
    var isNotDefined = false
    var timeRange: (start: Int64, end: Int64)?
    var textMatch: TextMatch?
    var parameters: [(name: String, isNotDefined: Bool, textMatch: TextMatch?)] = []

    init(_ element: XMLElement) throws(ComponentFilter.Problem) {
        guard let name = element.attribute(XMLName("", "name")), !name.isEmpty else {
            throw .invalid("prop-filter without a name")
        }
        self.name = name.uppercased()
        isNotDefined = element.first(.caldav("is-not-defined")) != nil
        if let range = element.first(.caldav("time-range")) { timeRange = try ComponentFilter.timeRange(range) }
        if let match = element.first(.caldav("text-match")) { textMatch = try TextMatch(match) }
        for parameter in element.all(.caldav("param-filter")) {
            guard let parameterName = parameter.attribute(XMLName("", "name")) else {
                throw .invalid("param-filter without a name")
            }
            parameters.append(
                (
                    parameterName.uppercased(), parameter.first(.caldav("is-not-defined")) != nil,
                    try parameter.first(.caldav("text-match")).map { (element) throws(ComponentFilter.Problem) in
                        try TextMatch(element)
                    }
                ))
        }
    }

    func matches(_ component: Component, expander: Expander) -> Bool {
        let candidates = component.properties(name)
        if isNotDefined { return candidates.isEmpty }
        return candidates.contains { property in
            if let timeRange {
                guard let value = try? DateTimeValue.parse(property) else { return false }
                let instant = expander.resolver.instant(value)
                if !(instant >= timeRange.start && instant < timeRange.end) { return false }
            }
            if let textMatch, !textMatch.matches(property.value) { return false }
            for parameter in parameters {
                let value = property.parameter(parameter.name)
                if parameter.isNotDefined {
                    if value != nil { return false }
                } else if let value {
                    if let match = parameter.textMatch, !match.matches(value) { return false }
                } else {
                    return false
                }
            }
            return true
        }
    }
}

/// C:text-match: substring search under a collation (RFC 4790): i;ascii-casemap (the default) or
/// i;octet; others are refused with the supported-collation precondition.
struct TextMatch {
    var text: String
    var caseInsensitive: Bool
    var negate: Bool

    init(_ element: XMLElement) throws(ComponentFilter.Problem) {
        let collation = element.attribute(XMLName("", "collation")) ?? "i;ascii-casemap"
        switch collation {
        case "i;ascii-casemap", "i;unicode-casemap": caseInsensitive = true
        case "i;octet": caseInsensitive = false
        default: throw .collation(collation)
        }
        text = element.text
        negate = element.attribute(XMLName("", "negate-condition")) == "yes"
    }

    func matches(_ value: String) -> Bool {
        let found =
            caseInsensitive
            ? Self.asciiLowercased(value).contains(Self.asciiLowercased(text)) : value.contains(text)
        return found != negate
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

extension CalDAVServer {
    func report(_ context: Context) -> DAVResponse {
        guard let resource = resolve(context.path) else { return .status(404, "not found\n") }
        guard privilege(context, at: context.path) >= .read else { return forbidden("read") }
        let body: XMLElement
        do throws(XMLError) {
            body = try XMLDocument.parse(context.request.body, limits: limits.xml)
        } catch {
            return .status(400, "\(error)\n")
        }
        switch (body.name.namespace, body.name.local) {
        case ("urn:ietf:params:xml:ns:caldav", "calendar-query"): return calendarQuery(context, resource, body)
        case ("urn:ietf:params:xml:ns:caldav", "calendar-multiget"): return multiget(context, body)
        case ("urn:ietf:params:xml:ns:caldav", "free-busy-query"): return freeBusy(context, resource, body)
        case ("DAV:", "sync-collection"): return syncCollection(context, resource, body)
        case ("DAV:", "principal-property-search"): return principalSearch(context, body)
        case ("DAV:", "principal-search-property-set"):
            return DAVResponse(
                status: 200, headers: [("Content-Type", "application/xml; charset=utf-8")],
                body: XMLWriter.document(
                    XMLElement(
                        .dav("principal-search-property-set"),
                        children: [
                            .element(
                                XMLElement(
                                    .dav("principal-search-property"),
                                    children: [
                                        .element(
                                            XMLElement(
                                                .dav("prop"), children: [.element(XMLElement(.dav("displayname")))]))
                                    ]))
                        ])))
        case ("DAV:", "expand-property"):
            let request = PropertyRequest.these(
                body.elements.compactMap { property in
                    property.attribute(XMLName("", "name")).map {
                        XMLElement(XMLName(property.attribute(XMLName("", "namespace")) ?? "DAV:", $0))
                    }
                })
            let member = Member(
                path: (context.path, context.path.href(collection: resource.isCollection)), resource: resource)
            return multistatus([response(for: member, request, context)])
        case ("DAV:", "acl-principal-prop-set"), ("DAV:", "principal-match"):
            return multistatus([])
        default:
            return errorResponse(403, XMLElement(.dav("supported-report")))
        }
    }

    private func calendarObjects(in resource: Resource, context: Context) -> [Member] {
        guard case .collection = resource else { return [] }
        return listMembers(of: context.path, resource: resource, for: context).filter {
            if case .object = $0.resource { return true }
            return false
        }
    }

    func expander(for calendar: Component) -> Expander {
        var limits = ExpansionLimits()
        limits.maximumInstances = self.limits.maximumInstances
        return Expander(resolver: ZoneResolver(calendar: calendar, systemZone: systemZone), limits: limits)
    }

    private func calendarQuery(_ context: Context, _ resource: Resource, _ body: XMLElement) -> DAVResponse {
        guard let filterElement = body.first(.caldav("filter"))?.first(.caldav("comp-filter")) else {
            return errorResponse(403, XMLElement(.caldav("valid-filter")))
        }
        let filter: ComponentFilter
        do throws(ComponentFilter.Problem) {
            filter = try ComponentFilter(filterElement)
        } catch {
            if case .collation = error { return errorResponse(403, XMLElement(.caldav("supported-collation"))) }
            return errorResponse(403, XMLElement(.caldav("valid-filter")))
        }
        guard let request = PropertyRequest(body) else { return .status(400, "nothing asked for\n") }
        var budget = limits.maximumInstances
        var members: [Member] = []
        if case .object = resource {
            members = [Member(path: (context.path, context.path.href(collection: false)), resource: resource)]
        } else {
            members = calendarObjects(in: resource, context: context)
        }
        var responses: [MultistatusEntry] = []
        for member in members {
            guard case .object(let path) = member.resource, let object = calendarObject(at: path) else { continue }
            guard filter.name == "VCALENDAR" else { continue }
            if filter.isNotDefined { continue }
            if let range = filter.components.first?.timeRange, filter.components.count == 1,
                object.span.lowerBound >= range.end || object.span.upperBound < range.start
            {
                continue
            }
            guard
                filter.matches(
                    object.calendar, calendar: object.calendar, expander: expander(for: object.calendar),
                    budget: &budget)
            else { continue }
            if budget < 0 { return errorResponse(403, XMLElement(.caldav("max-instances"))) }
            responses.append(response(for: member, request, context))
        }
        return multistatus(responses)
    }

    private func multiget(_ context: Context, _ body: XMLElement) -> DAVResponse {
        guard let request = PropertyRequest(body) else { return .status(400, "nothing asked for\n") }
        var responses: [MultistatusEntry] = []
        for href in body.all(.dav("href")) {
            let text = href.text.trimmed
            guard let path = ResourcePath(target: text), let resource = resolve(path),
                privilege(context, at: path) >= .read
            else {
                responses.append(.status(href: text, status: 404))
                continue
            }
            responses.append(
                response(
                    for: Member(path: (path, path.href(collection: resource.isCollection)), resource: resource),
                    request, context))
        }
        return multistatus(responses)
    }

    private func freeBusy(_ context: Context, _ resource: Resource, _ body: XMLElement) -> DAVResponse {
        guard let rangeElement = body.first(.caldav("time-range")),
            let range = try? ComponentFilter.timeRange(rangeElement)
        else { return .status(400, "free-busy-query needs a time-range\n") }
        var periods: [BusyPeriod] = []
        for member in calendarObjects(in: resource, context: context) {
            guard case .object(let path) = member.resource, let object = calendarObject(at: path) else { continue }
            if let found = try? FreeBusy.periods(
                in: object.calendar, from: range.start, to: range.end, expander: expander(for: object.calendar))
            {
                periods += found
            }
        }
        // A whole VCALENDAR holding the VFREEBUSY (RFC 4791 §7.10).
        var calendar = FreeBusy.component(periods: FreeBusy.merge(periods), from: range.start, to: range.end)
        calendar.properties.removeAll { $0.is("PRODID") }
        calendar.properties.append(Property("PRODID", "-//Quercus//quercus-caldav//EN"))
        return DAVResponse(
            status: 200, headers: [("Content-Type", "text/calendar; charset=utf-8")], body: calendar.printedBytes())
    }

    private func syncCollection(_ context: Context, _ resource: Resource, _ body: XMLElement) -> DAVResponse {
        guard case .collection(let collection, _) = resource else {
            return errorResponse(403, XMLElement(.dav("supported-report")))
        }
        guard let request = PropertyRequest(body) else { return .status(400, "nothing asked for\n") }
        if let level = body.first(.dav("sync-level"))?.text.trimmed, level != "1" {
            return errorResponse(403, XMLElement(.dav("sync-traversal-supported")))
        }
        let state = syncState(collection)
        let tokenText = body.first(.dav("sync-token"))?.text.trimmed ?? ""
        var since = 0
        if !tokenText.isEmpty {
            guard let number = state.number(inToken: tokenText), number <= state.counter,
                number >= state.floor
            else { return errorResponse(403, XMLElement(.dav("valid-sync-token"))) }
            since = number
        }
        var changes: [(name: String, number: Int, removed: Bool)] = []
        for (name, number) in state.members where number > since { changes.append((name, number, false)) }
        if since > 0 {
            for (name, number) in state.removed where number > since { changes.append((name, number, true)) }
        }
        changes.sort { $0.number < $1.number }
        var token = state.token
        var truncated = false
        if let limitText = body.first(.dav("limit"))?.first(.dav("nresults"))?.text.trimmed {
            guard let limit = Int(limitText), limit > 0 else {
                return errorResponse(403, XMLElement(.dav("number-of-matches-within-limits")))
            }
            if changes.count > limit {
                changes.removeLast(changes.count - limit)
                token = state.token(at: changes.last?.number ?? since)
                truncated = true
            }
        }
        var responses: [MultistatusEntry] = []
        for change in changes {
            let path = context.path.appending(change.name)
            if !change.removed, let member = resolve(path), privilege(context, at: path) >= .read {
                responses.append(
                    response(
                        for: Member(path: (path, path.href(collection: member.isCollection)), resource: member),
                        request, context))
            } else {
                responses.append(.status(href: path.href(collection: false), status: 404))
            }
        }
        if truncated {
            // RFC 6578 §3.6: the request-URI with 507 says there is more to fetch.
            responses.append(
                .status(
                    href: context.path.href(collection: true), status: 507,
                    error: .dav("number-of-matches-within-limits")))
        }
        return multistatus(responses, extra: [XMLElement(.dav("sync-token"), text: token)])
    }

    private func principalSearch(_ context: Context, _ body: XMLElement) -> DAVResponse {
        // Properties to return belong in DAV:prop; some clients (python caldav) put them beside an
        // empty one, and the answer should not depend on that.
        var request = PropertyRequest(body) ?? .these([])
        if case .these(let wanted) = request, wanted.isEmpty {
            let structural: Set<XMLName> = [
                .dav("property-search"), .dav("prop"), .dav("apply-to-principal-collection-set"),
            ]
            request = .these(body.elements.filter { !structural.contains($0.name) })
        }
        let searches: [(properties: [XMLName], match: String)] = body.all(.dav("property-search")).map {
            (($0.first(.dav("prop"))?.elements.map(\.name)) ?? [], $0.first(.dav("match"))?.text ?? "")
        }
        let anyOf = body.attribute(XMLName("", "test")) == "anyof"
        var responses: [MultistatusEntry] = []
        for name in (accounts.users() + accounts.groups()).sorted() {
            let path = ResourcePath(["principals", name])
            let member = Member(path: (path, path.href(collection: true)), resource: .principal(name))
            let results = searches.map { search in
                search.properties.contains { property in
                    guard let value = live(property, member, context) else { return false }
                    let text = value.text + value.elements.map(\.text).joined()
                    return TextMatch.asciiLowercased(text).contains(TextMatch.asciiLowercased(search.match))
                }
            }
            let matched = anyOf ? results.contains(true) : !results.contains(false)
            if matched { responses.append(response(for: member, request, context)) }
        }
        return multistatus(responses)
    }

    /// C:calendar-data in a response: the object as stored, its instances expanded to UTC
    /// (C:expand), or only the components and properties asked for (C:comp).
    func calendarData(_ bytes: [UInt8], storePath: StorePath, requested: XMLElement?) -> XMLElement {
        let name = XMLName.caldav("calendar-data")
        guard let requested, !requested.elements.isEmpty,
            let object = calendarObject(bytes, digest: try? store.digest(storePath))
        else { return XMLElement(name, text: String(decoding: bytes, as: UTF8.self)) }
        var calendar = object.calendar
        if let expand = requested.first(.caldav("expand")), let range = try? ComponentFilter.timeRange(expand),
            let instances = try? expander(for: calendar).occurrences(in: calendar, from: range.start, to: range.end)
        {
            let recurs = object.calendar.components.contains {
                $0.property("RRULE") != nil || $0.property("RDATE") != nil
            }
            calendar.components = instances.map { Self.expanded($0, recurs: recurs) }
        }
        if let subset = requested.first(.caldav("comp")) { calendar = Self.select(calendar, subset) }
        return XMLElement(name, text: calendar.printed())
    }

    /// One instance as C:expand gives it (RFC 4791 §9.6.5): no rule, its own start (UTC, or a
    /// DATE for all-day ones), its end moved with it (DTEND, or DUE for a to-do) unless the
    /// component keeps a DURATION, and a RECURRENCE-ID when it came from a recurring object.
    static func expanded(_ instance: Occurrence, recurs: Bool) -> Component {
        var component = instance.component
        let endName = component.is("VTODO") ? "DUE" : "DTEND"
        let movesEnd = component.property(endName) != nil && component.property("DURATION") == nil
        component.properties.removeAll {
            ["RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DTSTART", "DTEND", "DUE"].contains(
                $0.name.uppercased())
        }
        func value(_ name: String, _ seconds: Int64) -> Property {
            guard instance.isAllDay else { return Property(name, Instant(seconds: seconds).description) }
            return Property(
                name, LocalDateTime(secondsSinceEpoch: seconds).date.description,
                parameters: [Parameter(name: "VALUE", value: "DATE")])
        }
        component.properties.append(value("DTSTART", instance.start))
        if movesEnd { component.properties.append(value(endName, instance.end)) }
        if recurs { component.properties.append(value("RECURRENCE-ID", instance.recurrenceID ?? instance.start)) }
        return component
    }

    /// Partial retrieval (RFC 4791 §9.6.1): keep the properties and components C:comp names.
    static func select(_ component: Component, _ subset: XMLElement) -> Component {
        var result = component
        if subset.first(.caldav("allprop")) == nil {
            let wanted = Set(subset.all(.caldav("prop")).compactMap { $0.attribute(XMLName("", "name"))?.uppercased() })
            result.properties = component.properties.filter { wanted.contains($0.name.uppercased()) }
        }
        if subset.first(.caldav("allcomp")) == nil {
            let children = subset.all(.caldav("comp"))
            result.components = component.components.compactMap { child in
                children.first { $0.attribute(XMLName("", "name"))?.uppercased() == child.name.uppercased() }.map {
                    select(child, $0)
                }
            }
        }
        return result
    }
}
