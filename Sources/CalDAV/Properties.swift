import DAVStore
import ICalendar
import XML

/// What a PROPFIND or REPORT asks for.
enum PropertyRequest {
    case all(including: [XMLName])
    case names
    case these([XMLElement])

    init?(_ body: XMLElement?) {
        guard let body else {
            self = .all(including: [])
            return
        }
        if body.first(.dav("allprop")) != nil {
            self = .all(including: body.first(.dav("include"))?.elements.map(\.name) ?? [])
        } else if body.first(.dav("propname")) != nil {
            self = .names
        } else if let prop = body.first(.dav("prop")) {
            self = .these(prop.elements)
        } else {
            return nil
        }
    }
}

/// The properties the server computes, looked up by name once (a dictionary) rather than by
/// comparing strings case after case for every property of every member.
enum LiveProperty: CaseIterable {
    case resourcetype, displayname, getetag, getlastmodified, getcontentlength, getcontenttype, supportedlock,
        lockdiscovery, currentUserPrincipal, principalCollectionSet, principalURL, owner, currentUserPrivilegeSet, acl,
        supportedPrivilegeSet, supportedReportSet, syncToken, getctag, groupMemberSet, groupMembership, calendarHomeSet,
        calendarUserAddressSet, supportedCalendarComponentSet, supportedCalendarData, maxResourceSize, calendarData

    var name: XMLName {
        switch self {
        case .resourcetype: .dav("resourcetype")
        case .displayname: .dav("displayname")
        case .getetag: .dav("getetag")
        case .getlastmodified: .dav("getlastmodified")
        case .getcontentlength: .dav("getcontentlength")
        case .getcontenttype: .dav("getcontenttype")
        case .supportedlock: .dav("supportedlock")
        case .lockdiscovery: .dav("lockdiscovery")
        case .currentUserPrincipal: .dav("current-user-principal")
        case .principalCollectionSet: .dav("principal-collection-set")
        case .principalURL: .dav("principal-URL")
        case .owner: .dav("owner")
        case .currentUserPrivilegeSet: .dav("current-user-privilege-set")
        case .acl: .dav("acl")
        case .supportedPrivilegeSet: .dav("supported-privilege-set")
        case .supportedReportSet: .dav("supported-report-set")
        case .syncToken: .dav("sync-token")
        case .getctag: .calendarServer("getctag")
        case .groupMemberSet: .dav("group-member-set")
        case .groupMembership: .dav("group-membership")
        case .calendarHomeSet: .caldav("calendar-home-set")
        case .calendarUserAddressSet: .caldav("calendar-user-address-set")
        case .supportedCalendarComponentSet: .caldav("supported-calendar-component-set")
        case .supportedCalendarData: .caldav("supported-calendar-data")
        case .maxResourceSize: .caldav("max-resource-size")
        case .calendarData: .caldav("calendar-data")
        }
    }

    static let byName: [XMLName: LiveProperty] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
}

/// A parsed calendar object, cached by its store digest.
struct CalendarObject: Sendable {
    var calendar: Component
    var uid: String?
    /// The component kinds it holds (VEVENT, VTODO…).
    var kinds: Set<String>
    /// From the earliest instance's start to the latest's end (UTC seconds), so that a time-range
    /// query skips objects far from its range without expanding them; recurring objects are
    /// unbounded (an override may move an instance anywhere).
    var span: ClosedRange<Int64>
}

extension CalDAVServer {
    static let allpropNames: [XMLName] = [
        .dav("resourcetype"), .dav("displayname"), .dav("getetag"), .dav("getlastmodified"),
        .dav("getcontentlength"), .dav("getcontenttype"), .dav("supportedlock"), .dav("lockdiscovery"),
    ]
    /// Properties the server computes or keeps itself; PROPPATCH may not touch them.
    static let protectedNames: Set<XMLName> = [
        .dav("resourcetype"), .dav("getetag"), .dav("getlastmodified"), .dav("getcontentlength"),
        .dav("supportedlock"), .dav("lockdiscovery"), .dav("current-user-principal"),
        .dav("current-user-privilege-set"),
        .dav("acl"), .dav("owner"), .dav("principal-URL"), .dav("principal-collection-set"), .dav("sync-token"),
        .dav("supported-report-set"), .dav("creationdate"), .dav("group-member-set"), .dav("group-membership"),
        .calendarServer("getctag"), .caldav("calendar-home-set"), .caldav("supported-calendar-data"),
        .caldav("max-resource-size"), .caldav("calendar-user-address-set"), .caldav("calendar-data"),
        .dav("supported-privilege-set"), DeadProperties.acl,
    ]

    func propfind(_ context: Context) -> DAVResponse {
        guard let resource = resolve(context.path) else { return .status(404, "not found\n") }
        guard privilege(context, at: context.path) >= .read else { return forbidden("read") }
        guard let depth = Depth(header: context.request.header("Depth"), default: .infinity) else {
            return .status(400, "bad Depth\n")
        }
        if depth == .infinity { return errorResponse(403, XMLElement(.dav("propfind-finite-depth"))) }
        var body: XMLElement?
        if !context.request.body.isEmpty {
            do throws(XMLError) {
                body = try XMLDocument.parse(context.request.body, limits: limits.xml)
            } catch {
                return .status(400, "\(error)\n")
            }
            guard body?.name == .dav("propfind") else { return .status(400, "expected DAV:propfind\n") }
        }
        guard let request = PropertyRequest(body) else { return .status(400, "empty DAV:propfind\n") }
        let selfMember = Member(
            path: (context.path, context.path.href(collection: resource.isCollection)), resource: resource)
        var responses: [MultistatusEntry] = [response(for: selfMember, request, context)]
        if depth == .one {
            for member in listMembers(of: context.path, resource: resource, for: context) {
                responses.append(response(for: member, request, context))
            }
        }
        return multistatus(responses)
    }

    /// One DAV:response: the properties found (200) and not found (404).
    func response(for member: Member, _ request: PropertyRequest, _ context: Context) -> MultistatusEntry {
        var found: [XMLElement] = []
        var missing: [XMLName] = []
        let dead = deadProperties(of: member.resource, memo: context.memo)
        switch request {
        case .names:
            let names = Self.allpropNames + dead.elements.map(\.name).filter { $0 != DeadProperties.acl }
            for name in names where live(name, member, context) != nil || dead[name] != nil {
                found.append(XMLElement(name))
            }
        case .all(let including):
            for name in Self.allpropNames + including {
                if let value = live(name, member, context) { found.append(value) }
            }
            found += dead.elements.filter { $0.name != DeadProperties.acl && !Self.allpropNames.contains($0.name) }
        case .these(let wanted):
            for element in wanted {
                if let value = live(element.name, member, context, requested: element) ?? deadValue(element.name, dead)
                {
                    found.append(value)
                } else {
                    missing.append(element.name)
                }
            }
        }
        return .properties(href: member.path.href, found: found, missing: missing)
    }

    func propstat(_ properties: [XMLElement], status: Int) -> XMLElement {
        XMLElement(
            .dav("propstat"),
            children: [
                .element(XMLElement(.dav("prop"), children: properties.map { .element($0) })),
                .element(XMLElement(.dav("status"), text: DAVResponse.statusLine(status))),
            ])
    }

    private func deadValue(_ name: XMLName, _ dead: DeadProperties) -> XMLElement? {
        name == DeadProperties.acl ? nil : dead[name]
    }

    func deadProperties(of resource: Resource, memo: RequestMemo? = nil) -> DeadProperties {
        switch resource {
        case .collection(_, let properties): properties
        case .object(let path): memberProperties(path, memo: memo) ?? DeadProperties()
        default: DeadProperties()
        }
    }

    /// A live property's value, or nil when the resource has no such property.
    func live(_ name: XMLName, _ member: Member, _ context: Context, requested: XMLElement? = nil) -> XMLElement? {
        let resource = member.resource
        let path = member.path.resource
        func href(_ path: ResourcePath) -> XMLElement {
            XMLElement(name, children: [.element(XMLElement(.dav("href"), text: path.href(collection: true)))])
        }
        guard let property = LiveProperty.byName[name] else { return nil }
        switch property {
        case .resourcetype:
            switch resource {
            case .object: return XMLElement(name)
            case .collection(_, let properties):
                return properties[name] ?? XMLElement(name, children: [.element(XMLElement(.dav("collection")))])
            case .principal(let principal):
                var types: [XMLNode] = [.element(XMLElement(.dav("principal")))]
                if accounts.isGroup(principal) { types.insert(.element(XMLElement(.dav("collection"))), at: 0) }
                return XMLElement(name, children: types)
            default: return XMLElement(name, children: [.element(XMLElement(.dav("collection")))])
            }
        case .displayname:
            if case .principal(let principal) = resource { return XMLElement(name, text: principal) }
            return nil
        case .getetag:
            switch resource {
            case .object(let storePath): return etag(of: storePath).map { XMLElement(name, text: $0) }
            case .collection(let storePath, _): return XMLElement(name, text: "\"\(syncState(storePath).counter)\"")
            default: return nil
            }
        case .getlastmodified:
            guard case .object(let storePath) = resource, let seconds = try? store.lastModified(storePath) else {
                return nil
            }
            return XMLElement(name, text: HTTPDate.format(seconds))
        case .getcontentlength:
            guard case .object(let storePath) = resource, let bytes = try? store.get(storePath) else { return nil }
            return XMLElement(name, text: "\(bytes.count)")
        case .getcontenttype:
            guard case .object(let storePath) = resource else { return nil }
            return XMLElement(name, text: contentType(of: storePath, context))
        case .supportedlock, .lockdiscovery: return XMLElement(name)
        case .currentUserPrincipal:
            if case .user(let user) = context.principal { return href(ResourcePath(["principals", user])) }
            return XMLElement(name, children: [.element(XMLElement(.dav("unauthenticated")))])
        case .principalCollectionSet: return href(ResourcePath(["principals"]))
        case .principalURL:
            guard case .principal(let principal) = resource else { return nil }
            return href(ResourcePath(["principals", principal]))
        case .owner:
            guard let owner = owner(of: path) else { return nil }
            return href(ResourcePath(["principals", owner]))
        case .currentUserPrivilegeSet:
            return XMLElement(name, children: privilege(context, at: path).elements.map { .element($0) })
        case .acl:
            guard privilege(context, at: path) >= .all else { return nil }
            return AccessPolicy.aclElement(
                owner: owner(of: path), grants: AccessPolicy.grants(in: deadProperties(of: resource)))
        case .supportedPrivilegeSet:
            let levels = ["read", "write", "all"].map {
                XMLElement(
                    .dav("supported-privilege"),
                    children: [.element(XMLElement(.dav("privilege"), children: [.element(XMLElement(.dav($0)))]))])
            }
            return XMLElement(name, children: levels.map { .element($0) })
        case .supportedReportSet:
            var reports: [XMLName] = [.dav("principal-property-search"), .dav("expand-property")]
            if case .collection(_, let properties) = resource {
                reports.append(.dav("sync-collection"))
                if properties.isCalendar {
                    reports += [.caldav("calendar-query"), .caldav("calendar-multiget"), .caldav("free-busy-query")]
                }
            }
            return XMLElement(
                name,
                children: reports.map { report in
                    .element(
                        XMLElement(
                            .dav("supported-report"),
                            children: [.element(XMLElement(.dav("report"), children: [.element(XMLElement(report))]))]))
                })
        case .syncToken:
            guard case .collection(let storePath, _) = resource else { return nil }
            return XMLElement(name, text: syncState(storePath).token)
        case .getctag:
            guard case .collection(let storePath, _) = resource else { return nil }
            return XMLElement(name, text: syncState(storePath).token)
        case .groupMemberSet:
            guard case .principal(let principal) = resource, accounts.isGroup(principal) else { return nil }
            return XMLElement(
                name,
                children: accounts.members(of: principal).map {
                    .element(XMLElement(.dav("href"), text: ResourcePath(["principals", $0]).href(collection: true)))
                })
        case .groupMembership:
            guard case .principal(let principal) = resource, accounts.isUser(principal) else { return nil }
            return XMLElement(
                name,
                children: accounts.groups(of: principal).map {
                    .element(XMLElement(.dav("href"), text: ResourcePath(["principals", $0]).href(collection: true)))
                })
        case .calendarHomeSet:
            guard case .principal(let principal) = resource, accounts.isUser(principal) else { return nil }
            return href(ResourcePath(["calendars", principal]))
        case .calendarUserAddressSet:
            guard case .principal(let principal) = resource else { return nil }
            return XMLElement(
                name,
                children: [
                    .element(XMLElement(.dav("href"), text: "mailto:\(principal)@quercus.invalid")),
                    .element(
                        XMLElement(.dav("href"), text: ResourcePath(["principals", principal]).href(collection: true))),
                ])
        case .supportedCalendarComponentSet:
            guard case .collection(_, let properties) = resource, properties.isCalendar else { return nil }
            return properties[name]
                ?? XMLElement(
                    name,
                    children: ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"].map {
                        .element(XMLElement(.caldav("comp"), attributes: [(XMLName("", "name"), $0)]))
                    })
        case .supportedCalendarData:
            guard case .collection(_, let properties) = resource, properties.isCalendar else { return nil }
            return XMLElement(
                name,
                children: [
                    .element(
                        XMLElement(
                            .caldav("calendar-data"),
                            attributes: [
                                (XMLName("", "content-type"), "text/calendar"), (XMLName("", "version"), "2.0"),
                            ]))
                ])
        case .maxResourceSize:
            guard case .collection(_, let properties) = resource, properties.isCalendar else { return nil }
            return XMLElement(name, text: "\(limits.maximumResourceSize)")
        case .calendarData:
            guard case .object(let storePath) = resource, let bytes = try? store.get(storePath) else { return nil }
            return calendarData(bytes, storePath: storePath, requested: requested)
        }
    }

    /// The user whose calendar home holds the path, or the principal itself.
    func owner(of path: ResourcePath) -> String? {
        guard path.segments.count >= 2, path.segments[0] == "calendars" || path.segments[0] == "principals" else {
            return nil
        }
        return path.segments[1]
    }

    // MARK: PROPPATCH

    /// Why a property cannot be set (as the error response), or nil.
    func problemSetting(_ property: XMLElement) -> DAVResponse? {
        if Self.protectedNames.contains(property.name) {
            return errorResponse(403, XMLElement(.dav("cannot-modify-protected-property")))
        }
        if property.name == .caldav("calendar-timezone") {
            guard let calendar = try? Component.parse(property.text, mode: .lenient),
                calendar.components("VTIMEZONE").count == 1
            else { return errorResponse(403, XMLElement(.caldav("valid-calendar-data"))) }
        }
        if property.name == .caldav("supported-calendar-component-set") {
            let known: Set<String> = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"]
            let names = property.all(.caldav("comp")).compactMap { $0.attribute(XMLName("", "name"))?.uppercased() }
            guard !names.isEmpty, names.allSatisfy(known.contains) else {
                return errorResponse(403, XMLElement(.caldav("supported-calendar-component")))
            }
        }
        return nil
    }

    func proppatch(_ context: Context) -> DAVResponse {
        guard let resource = resolve(context.path) else { return .status(404, "not found\n") }
        guard privilege(context, at: context.path) >= .write else { return forbidden("write-properties") }
        let body: XMLElement
        do throws(XMLError) {
            body = try XMLDocument.parse(context.request.body, limits: limits.xml)
        } catch {
            return .status(400, "\(error)\n")
        }
        guard body.name == .dav("propertyupdate") else { return .status(400, "expected DAV:propertyupdate\n") }
        let storageTarget: StorePath?
        switch resource {
        case .collection(let path, _): storageTarget = path.appendingReserved(DAVSpace.collectionFile)
        case .object(let path): storageTarget = DAVSpace.propertiesPath(of: path)
        default: storageTarget = nil
        }
        return writeLock.withLock { _ in
            var properties = deadProperties(of: resolve(context.path) ?? resource)
            var results: [(XMLName, Int)] = []
            var failed = false
            // Instructions apply in document order, all or nothing (RFC 4918 §9.2).
            for instruction in body.elements {
                let isSet = instruction.name == .dav("set")
                guard isSet || instruction.name == .dav("remove") else { continue }
                for property in instruction.first(.dav("prop"))?.elements ?? [] {
                    if storageTarget == nil || problemSetting(property) != nil {
                        results.append((property.name, 403))
                        failed = true
                    } else {
                        if isSet { properties.set(property) } else { properties.remove(property.name) }
                        results.append((property.name, 200))
                    }
                }
            }
            if !failed, let storageTarget {
                var changes: [StoreChange] = [.set(storageTarget, properties.encoded())]
                if case .object(let path) = resource, let parent = path.parent, let name = path.name {
                    changes.append(syncChange(parent, changed: [name]))
                }
                if let failure = commit(changes, context) { return failure }
            }
            var byStatus: [Int: [XMLElement]] = [:]
            for (name, status) in results {
                byStatus[failed && status == 200 ? 424 : status, default: []].append(XMLElement(name))
            }
            let propstats = byStatus.keys.sorted().map { XMLNode.element(propstat(byStatus[$0] ?? [], status: $0)) }
            let response = XMLElement(
                .dav("response"),
                children: [
                    .element(XMLElement(.dav("href"), text: context.path.href(collection: resource.isCollection)))
                ]
                    + propstats)
            return multistatus([.element(response)])
        }
    }

    // MARK: Calendar objects

    func calendarObject(_ bytes: [UInt8], digest: String?) -> CalendarObject? {
        if let digest, let cached = parsedObjects.withLock({ $0[digest] }) { return cached }
        guard let calendar = try? Component.parse(bytes, mode: .lenient), calendar.is("VCALENDAR") else { return nil }
        let members = calendar.components.filter { !$0.is("VTIMEZONE") }
        var span = Int64.min...Int64.max
        // Recurring objects, and to-dos without a start (which RFC 4791 §9.9 matches by other
        // dates, or always), are left unbounded.
        let recurs = members.contains {
            $0.property("RRULE") != nil || $0.property("RDATE") != nil
                || ($0.is("VTODO") && $0.property("DTSTART") == nil)
        }
        if !recurs,
            let instances = try? expander(for: calendar).occurrences(in: calendar, from: -(1 << 40), to: 1 << 40),
            let first = instances.map(\.start).min(), let last = instances.map(\.end).max(), first <= last,
            instances.count == members.filter({ ["VEVENT", "VTODO", "VJOURNAL"].contains($0.name.uppercased()) }).count
        {
            span = first...last
        }
        let object = CalendarObject(
            calendar: calendar, uid: members.first?.property("UID")?.value,
            kinds: Set(members.map { $0.name.uppercased() }), span: span)
        if let digest {
            parsedObjects.withLock {
                if $0.count > 100_000 { $0.removeAll() }
                $0[digest] = object
            }
        }
        return object
    }

    func calendarObject(at path: StorePath) -> CalendarObject? {
        guard let bytes = try? store.get(path) else { return nil }
        return calendarObject(bytes, digest: try? store.digest(path))
    }

    /// RFC 4791 §5.3.2's preconditions for a PUT into a calendar collection; nil when it may go in.
    func checkCalendarObject(_ request: DAVRequest, name: String, in collection: StorePath, properties: DeadProperties)
        -> CalendarObjectCheck
    {
        if let type = request.header("Content-Type"), !type.lowercased().hasPrefix("text/calendar") {
            return .refused(errorResponse(403, XMLElement(.caldav("supported-calendar-data"))))
        }
        let calendar: Component
        do throws(ParseError) {
            calendar = try Component.parse(request.body, mode: .lenient)
        } catch {
            return .refused(errorResponse(403, XMLElement(.caldav("valid-calendar-data"), text: "\(error)")))
        }
        guard calendar.is("VCALENDAR"), Validator.firstProblem(in: calendar) == nil else {
            return .refused(errorResponse(403, XMLElement(.caldav("valid-calendar-data"))))
        }
        let members = calendar.components.filter { !$0.is("VTIMEZONE") }
        let uids = Set(members.compactMap { $0.property("UID")?.value })
        let kinds = Set(members.map { $0.name.uppercased() })
        guard !members.isEmpty, uids.count == 1, members.allSatisfy({ $0.property("UID") != nil }), kinds.count == 1,
            calendar.property("METHOD") == nil
        else { return .refused(errorResponse(403, XMLElement(.caldav("valid-calendar-object-resource")))) }
        let allowed =
            properties[.caldav("supported-calendar-component-set")].map {
                Set($0.all(.caldav("comp")).compactMap { $0.attribute(XMLName("", "name"))?.uppercased() })
            } ?? ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"]
        guard let kind = kinds.first, allowed.contains(kind) else {
            return .refused(errorResponse(403, XMLElement(.caldav("supported-calendar-component"))))
        }
        guard let uid = uids.first else {
            return .refused(errorResponse(403, XMLElement(.caldav("valid-calendar-object-resource"))))
        }
        if let holder = uidIndex(collection).memberByUID[uid], holder != name,
            let other = try? collection.appending(holder)
        {
            return .refused(
                errorResponse(
                    403,
                    XMLElement(
                        .caldav("no-uid-conflict"),
                        children: [
                            .element(
                                XMLElement(.dav("href"), text: DAVSpace.resourcePath(other).href(collection: false)))
                        ])))
        }
        return .accepted(uid: uid)
    }

    /// The calendar's UID index, rebuilt from its members when the calendar changed since.
    func uidIndex(_ collection: StorePath) -> UIDIndex {
        let counter = syncState(collection).counter
        if let index = uidIndexes.withLock({ $0[collection] }), index.counter == counter { return index }
        var index = UIDIndex(counter: counter)
        for entry in (try? store.list(collection)) ?? [] where entry.kind == .value && !DAVSpace.isReserved(entry.name)
        {
            guard let path = try? collection.appending(entry.name), let uid = calendarObject(at: path)?.uid else {
                continue
            }
            index.set(uid, for: entry.name)
        }
        uidIndexes.withLock {
            if $0.count > 10_000 { $0.removeAll() }
            $0[collection] = index
        }
        return index
    }

    /// After a PUT to `name` that moved the calendar's counter from `counter` by one, the index
    /// follows without a rebuild.
    func recordPut(of uid: String, as name: String, in collection: StorePath, after counter: Int) {
        uidIndexes.withLock {
            guard var index = $0[collection], index.counter == counter else { return }
            index.set(uid, for: name)
            index.counter = counter + 1
            $0[collection] = index
        }
    }
}

enum CalendarObjectCheck {
    case accepted(uid: String)
    case refused(DAVResponse)
}

struct UIDIndex: Sendable {
    var counter: Int
    private(set) var memberByUID: [String: String] = [:]
    private var uidByMember: [String: String] = [:]

    init(counter: Int) { self.counter = counter }

    mutating func set(_ uid: String, for member: String) {
        if let old = uidByMember[member], memberByUID[old] == member { memberByUID[old] = nil }
        uidByMember[member] = uid
        memberByUID[uid] = member
    }
}
