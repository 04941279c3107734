import DAVStore
import ICalendar
import Synchronization
import XML

/// Limits on what one request may ask of the server.
public struct CalDAVLimits: Sendable {
    /// Largest calendar object accepted (C:max-resource-size) and largest body of any request.
    public var maximumResourceSize = 1 << 20
    public var xml = XMLLimits.standard
    /// Instances one REPORT may expand, over all objects.
    public var maximumInstances = 10_000
    public init() {}
}

/// WebDAV (RFC 4918, classes 1 and 3), CalDAV (RFC 4791), access control (RFC 3744),
/// sync-collection (RFC 6578) and the administrator's endpoints, as a function of request, store
/// and time. Thread-safe: reads run concurrently; changes take one lock so that each
/// read-modify-write of a collection's state is whole, and return once the store has made them
/// durable.
public final class CalDAVServer: Sendable {
    let store: any KeyValueStore
    public let accounts: Accounts
    let limits: CalDAVLimits
    /// The TZif bytes of a system zone by name, for events that name a zone without a VTIMEZONE.
    let systemZone: @Sendable (String) -> [UInt8]?
    let writeLock = Mutex<Void>(())
    let parsedObjects = Mutex<[String: CalendarObject]>([:])
    /// Decoded sync states by collection, valid while the stored file holds the same bytes (the
    /// state written last is remembered as it is written, so the next request does not decode it).
    let syncStates = Mutex<[StorePath: (bytes: [UInt8], state: SyncState)]>([:])
    /// Which member holds each UID, by calendar, valid while the calendar's change counter is the
    /// one recorded (a PUT checks UID uniqueness without reading every member).
    let uidIndexes = Mutex<[StorePath: UIDIndex]>([:])
    /// Multistatus answers to PROPFIND and REPORT on calendars, by everything they depend on.
    let answers = Mutex<[AnswerKey: DAVResponse]>([:])
    /// False answers every PROPFIND and REPORT afresh (for measuring the work itself).
    let cachesAnswers: Bool
    /// Undoes a commit of the git store; nil for the other stores.
    let revert: (@Sendable (String, ChangeOrigin) throws -> Void)?

    public init(
        store: any KeyValueStore, accounts: Accounts, limits: CalDAVLimits = CalDAVLimits(),
        systemZone: @escaping @Sendable (String) -> [UInt8]? = { _ in nil },
        revert: (@Sendable (String, ChangeOrigin) throws -> Void)? = nil, cachesAnswers: Bool = true
    ) {
        self.cachesAnswers = cachesAnswers
        self.store = store
        self.accounts = accounts
        self.limits = limits
        self.systemZone = systemZone
        self.revert = revert
    }

    var access: AccessPolicy { AccessPolicy(accounts: accounts, store: store) }

    /// Everything a handler needs to know about the request being answered.
    struct Context {
        var request: DAVRequest
        var path: ResourcePath
        var principal: Principal
        var now: Int64
        /// What one request looks up many times (a collection's properties, once per member).
        let memo = RequestMemo()

        func origin(_ what: String? = nil) -> ChangeOrigin {
            let client = request.header("User-Agent").map { " (\($0))" } ?? ""
            return ChangeOrigin(
                author: principal.name, message: (what ?? "\(request.method) \(path.href(collection: false))") + client,
                time: now)
        }
    }

    /// The response to one request at `now` (seconds since 1970). A response without
    /// Content-Length gets the body's length from the shell; HEAD responses carry GET's.
    public func respond(to request: DAVRequest, now: Int64) -> DAVResponse {
        guard let path = ResourcePath(target: request.target) else { return .status(400, "bad request target\n") }
        if path.segments == [".well-known", "caldav"] || path.segments == [".well-known", "carddav"] {
            return DAVResponse(status: 301, headers: [("Location", "/")])
        }
        if request.method == "OPTIONS" { return options(path) }
        guard let principal = accounts.authenticate(authorization: request.header("Authorization")) else {
            return DAVResponse(
                status: 401, headers: [("WWW-Authenticate", "Basic realm=\"quercus-caldav\", charset=\"UTF-8\"")],
                body: Array("sign in\n".utf8))
        }
        guard request.body.count <= limits.maximumResourceSize * 4 else { return .status(413, "body too large\n") }
        let context = Context(request: request, path: path, principal: principal, now: now)
        if path.segments.first == "admin" { return admin(context) }
        switch request.method {
        case "GET", "HEAD": return get(context)
        case "PUT": return put(context)
        case "DELETE": return delete(context)
        case "MKCOL": return makeCollection(context, calendar: false)
        case "MKCALENDAR": return makeCollection(context, calendar: true)
        case "COPY": return copyOrMove(context, move: false)
        case "MOVE": return copyOrMove(context, move: true)
        case "PROPFIND": return answeredFromCache(context) { propfind(context) }
        case "PROPPATCH": return proppatch(context)
        case "REPORT": return answeredFromCache(context) { report(context) }
        case "ACL": return setACL(context)
        case "POST": return .status(405, "POST is not supported\n")
        case "LOCK", "UNLOCK": return .status(501, "locks are not supported (DAV class 1 and 3)\n")
        default: return .status(501, "\(request.method) is not supported\n")
        }
    }

    static let allowedMethods =
        "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, MKCALENDAR, COPY, MOVE, PROPFIND, PROPPATCH, REPORT, ACL"

    private func options(_ path: ResourcePath) -> DAVResponse {
        DAVResponse(
            status: 200,
            headers: [
                ("DAV", "1, 3, access-control, calendar-access, extended-mkcol"), ("Allow", Self.allowedMethods),
                ("Content-Length", "0"),
            ])
    }

    // MARK: Reading

    func resolve(_ path: ResourcePath) -> Resource? { DAVSpace.resolve(path, store: store, accounts: accounts) }

    func privilege(_ context: Context, at path: ResourcePath) -> Privilege {
        let access = self.access
        return access.privilege(
            of: context.principal, at: path,
            groups: { user in context.memo.groups { access.accounts.groups(of: user) } },
            grantsAt: { collection in context.memo.grants(collection) { access.grants(at: collection) } })
    }

    func forbidden(_ privilege: String) -> DAVResponse {
        errorResponse(
            403,
            XMLElement(
                .dav("need-privileges"),
                children: [
                    .element(
                        XMLElement(
                            .dav("resource"),
                            children: [
                                .element(
                                    XMLElement(.dav("privilege"), children: [.element(XMLElement(.dav(privilege)))]))
                            ]
                        ))
                ]))
    }

    func etag(of path: StorePath) -> String? { (try? store.digest(path)).flatMap { $0 }.map { "\"\($0)\"" } }

    private func get(_ context: Context) -> DAVResponse {
        guard let resource = resolve(context.path) else { return .status(404, "not found\n") }
        guard privilege(context, at: context.path) >= .read else { return forbidden("read") }
        guard case .object(let path) = resource else {
            // A collection's GET is a plain listing people can read in a browser.
            let names = listMembers(of: context.path, resource: resource, for: context).map(\.path.href)
            let body = Array(names.map { $0 + "\n" }.joined().utf8)
            return DAVResponse(
                status: 200,
                headers: [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(body.count)")],
                body: context.request.method == "HEAD" ? [] : body)
        }
        guard let body = try? store.get(path) else { return .status(404, "not found\n") }
        let etag = etag(of: path) ?? ""
        if let condition = context.request.header("If-None-Match"), ETagCondition.matches(condition, etag: etag) {
            return DAVResponse(status: 304, headers: [("ETag", etag)])
        }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", contentType(of: path, context)), ("ETag", etag), ("Content-Length", "\(body.count)"),
        ]
        if let modified = try? store.lastModified(path) { headers.append(("Last-Modified", HTTPDate.format(modified))) }
        return DAVResponse(status: 200, headers: headers, body: context.request.method == "HEAD" ? [] : body)
    }

    /// With a memo, the members that have properties are listed once per collection, so the many
    /// members without any cost no lookup.
    func memberProperties(_ path: StorePath, memo: RequestMemo? = nil) -> DeadProperties? {
        if let memo, let parent = path.parent, let name = path.name {
            let folder = parent.appendingReserved(DAVSpace.propertiesFolder)
            let names = memo.propertyFiles(parent) { Set(((try? store.list(folder)) ?? []).map(\.name)) }
            guard names.contains(name) else { return nil }
        }
        guard let propertiesPath = DAVSpace.propertiesPath(of: path), let bytes = try? store.get(propertiesPath) else {
            return nil
        }
        return DeadProperties.decoded(bytes)
    }

    func contentType(of path: StorePath, _ context: Context) -> String {
        if let stored = memberProperties(path, memo: context.memo)?[.dav("getcontenttype")]?.text, !stored.isEmpty {
            return stored
        }
        if let parent = path.parent,
            context.memo.isCalendar(parent, { collectionProperties(parent)?.isCalendar == true })
        {
            return "text/calendar; charset=utf-8"
        }
        return "application/octet-stream"
    }

    func collectionProperties(_ path: StorePath) -> DeadProperties? {
        guard let bytes = try? store.get(path.appendingReserved(DAVSpace.collectionFile)) else { return nil }
        return DeadProperties.decoded(bytes)
    }

    func syncState(_ collection: StorePath) -> SyncState {
        guard let bytes = try? store.get(collection.appendingReserved(DAVSpace.syncFile)) else { return SyncState() }
        if let cached = syncStates.withLock({ $0[collection] }), cached.bytes == bytes { return cached.state }
        let state = SyncState(decoding: bytes)
        remember(state, encoded: bytes, for: collection)
        return state
    }

    private func remember(_ state: SyncState, encoded bytes: [UInt8], for collection: StorePath) {
        syncStates.withLock {
            if $0.count > 10_000 { $0.removeAll() }
            $0[collection] = (bytes, state)
        }
    }

    struct Member {
        var path: (resource: ResourcePath, href: String)
        var resource: Resource
    }

    /// The members of a collection the principal may read (nothing leaks by being listed).
    func listMembers(of path: ResourcePath, resource: Resource, for context: Context) -> [Member] {
        var members: [Member] = []
        func add(_ path: ResourcePath, _ resource: Resource) {
            guard privilege(context, at: path) >= .read else { return }
            members.append(Member(path: (path, path.href(collection: resource.isCollection)), resource: resource))
        }
        switch resource {
        case .root:
            add(ResourcePath(["principals"]), .principals)
            add(ResourcePath(["calendars"]), .homes)
        case .principals:
            for name in (accounts.users() + accounts.groups()).sorted() {
                add(ResourcePath(["principals", name]), .principal(name))
            }
        case .homes:
            for name in accounts.users() {
                let home = ResourcePath(["calendars", name])
                if let resource = resolve(home) { add(home, resource) }
            }
        case .collection(let storePath, _):
            for entry in (try? store.list(storePath)) ?? [] where !DAVSpace.isReserved(entry.name) {
                guard let child = try? storePath.appending(entry.name) else { continue }
                if entry.kind == .value {
                    add(path.appending(entry.name), .object(child))
                } else if let properties = collectionProperties(child) {
                    add(path.appending(entry.name), .collection(child, properties))
                }
            }
        case .principal, .object: break
        }
        return members
    }

    // MARK: Writing

    /// Applies changes as one durable batch; nil when done, or the error response.
    func commit(_ changes: [StoreChange], _ context: Context, message: String? = nil) -> DAVResponse? {
        do {
            try store.apply(changes, origin: context.origin(message))
            return nil
        } catch {
            return .status(507, "could not store the change: \(error)\n")
        }
    }

    /// The change to a collection's sync state that records members changed and removed.
    func syncChange(_ collection: StorePath, changed: [String] = [], removed: [String] = []) -> StoreChange {
        var state = syncState(collection)
        for name in removed { state.recordRemoval(name) }
        for name in changed { state.recordChange(name) }
        let bytes = state.encoded()
        remember(state, encoded: bytes, for: collection)
        return .set(collection.appendingReserved(DAVSpace.syncFile), bytes)
    }

    private func put(_ context: Context) -> DAVResponse {
        guard let target = DAVSpace.storePath(context.path), context.path.segments.count >= 3,
            let parentPath = target.parent, let name = target.name
        else { return .status(403, "resources can only be stored inside a calendar home\n") }
        guard privilege(context, at: context.path) >= .write else { return forbidden("write-content") }
        guard context.request.body.count <= limits.maximumResourceSize else {
            return errorResponse(403, XMLElement(.caldav("max-resource-size")))
        }
        return writeLock.withLock { _ in
            guard let parentProperties = collectionProperties(parentPath) else {
                return .status(409, "the parent collection does not exist\n")
            }
            let existing = try? store.kind(target)
            if existing == .dictionary { return .status(405, "a collection cannot be replaced by PUT\n") }
            let currentETag = existing == .value ? etag(of: target) : nil
            if let condition = context.request.header("If-Match"), !ETagCondition.matches(condition, etag: currentETag)
            {
                return .status(412, "If-Match failed\n")
            }
            if let condition = context.request.header("If-None-Match"),
                ETagCondition.matches(condition, etag: currentETag)
            {
                return .status(412, "If-None-Match failed\n")
            }
            var changes: [StoreChange] = [.set(target, context.request.body)]
            var acceptedUID: String?
            if parentProperties.isCalendar {
                switch checkCalendarObject(context.request, name: name, in: parentPath, properties: parentProperties) {
                case .refused(let problem): return problem
                case .accepted(let uid): acceptedUID = uid
                }
            } else if let type = context.request.header("Content-Type"),
                let propertiesPath = DAVSpace.propertiesPath(of: target)
            {
                var properties = memberProperties(target) ?? DeadProperties()
                properties.set(XMLElement(.dav("getcontenttype"), text: type))
                changes.append(.set(propertiesPath, properties.encoded()))
            }
            let counter = syncState(parentPath).counter
            changes.append(syncChange(parentPath, changed: [name]))
            if let failure = commit(changes, context) { return failure }
            if let acceptedUID { recordPut(of: acceptedUID, as: name, in: parentPath, after: counter) }
            var headers: [(name: String, value: String)] = [("Content-Length", "0")]
            if let etag = etag(of: target) { headers.append(("ETag", etag)) }
            return DAVResponse(status: existing == nil ? 201 : 204, headers: headers)
        }
    }

    private func delete(_ context: Context) -> DAVResponse {
        guard let target = DAVSpace.storePath(context.path), context.path.segments.count >= 3,
            let parentPath = target.parent, let name = target.name
        else {
            return resolve(context.path) == nil
                ? .status(404, "not found\n") : .status(403, "this collection cannot be deleted\n")
        }
        guard privilege(context, at: context.path) >= .write else { return forbidden("unbind") }
        return writeLock.withLock { _ in
            guard let kind = try? store.kind(target) else { return .status(404, "not found\n") }
            if let condition = context.request.header("If-Match"),
                !ETagCondition.matches(condition, etag: kind == .value ? etag(of: target) : nil)
            {
                return .status(412, "If-Match failed\n")
            }
            var changes: [StoreChange] = [.remove(target)]
            if let propertiesPath = DAVSpace.propertiesPath(of: target) { changes.append(.remove(propertiesPath)) }
            changes.append(syncChange(parentPath, removed: [name]))
            if let failure = commit(changes, context) { return failure }
            return DAVResponse(status: 204)
        }
    }

    private func makeCollection(_ context: Context, calendar: Bool) -> DAVResponse {
        guard let target = DAVSpace.storePath(context.path), context.path.segments.count >= 3,
            let parentPath = target.parent, let name = target.name
        else {
            return resolve(context.path) == nil
                ? .status(403, "collections can only be made inside a calendar home\n")
                : .status(405, "that collection exists\n")
        }
        guard privilege(context, at: context.path) >= .write else { return forbidden("bind") }
        var properties = DeadProperties()
        var resourceType: [XMLNode] = [.element(XMLElement(.dav("collection")))]
        if calendar { resourceType.append(.element(XMLElement(.caldav("calendar")))) }
        properties.set(XMLElement(.dav("resourcetype"), children: resourceType))
        if !context.request.body.isEmpty {
            // RFC 4918 §9.3: a body MKCOL does not understand is 415, whatever it is.
            guard let body = try? XMLDocument.parse(context.request.body, limits: limits.xml) else {
                return .status(415, "unsupported request body\n")
            }
            let expected: XMLName = calendar ? .caldav("mkcalendar") : .dav("mkcol")
            guard body.name == expected else { return .status(415, "unsupported request body\n") }
            for set in body.all(.dav("set")) {
                for property in set.first(.dav("prop"))?.elements ?? [] {
                    if property.name == .dav("resourcetype") {
                        guard !calendar else { continue }
                        // Extended MKCOL (RFC 5689) may make a calendar; other types we do not know.
                        let known: Set<XMLName> = [.dav("collection"), .caldav("calendar")]
                        guard property.elements.allSatisfy({ known.contains($0.name) }) else {
                            return errorResponse(403, XMLElement(.dav("valid-resourcetype")))
                        }
                        properties.set(property)
                    } else if let problem = problemSetting(property) {
                        return problem
                    } else {
                        properties.set(property)
                    }
                }
            }
        }
        return writeLock.withLock { _ in
            if (try? store.kind(target)) != nil { return .status(405, "that resource exists\n") }
            guard collectionProperties(parentPath) != nil else {
                return .status(409, "the parent collection does not exist\n")
            }
            // RFC 4791 §4.2: a calendar holds calendar objects only, no collections of any kind.
            if collectionProperties(parentPath)?.isCalendar == true {
                return errorResponse(403, XMLElement(.caldav("calendar-collection-location-ok")))
            }
            let changes: [StoreChange] = [
                .set(target.appendingReserved(DAVSpace.collectionFile), properties.encoded()),
                .set(target.appendingReserved(DAVSpace.syncFile), SyncState.fresh().encoded()),
                syncChange(parentPath, changed: [name]),
            ]
            if let failure = commit(changes, context) { return failure }
            return DAVResponse(status: 201, headers: [("Content-Length", "0")])
        }
    }

    private func copyOrMove(_ context: Context, move: Bool) -> DAVResponse {
        guard let destinationHeader = context.request.header("Destination"),
            let destination = ResourcePath(target: destinationHeader.trimmed)
        else { return .status(400, "a Destination header is required\n") }
        if destinationHeader.contains("://"), let host = context.request.header("Host"),
            !destinationHeader.contains("://\(host)/") && !destinationHeader.hasSuffix("://\(host)")
        {
            return .status(502, "the destination is on another server\n")
        }
        guard let source = DAVSpace.storePath(context.path), context.path.segments.count >= 3,
            let sourceParent = source.parent, let sourceName = source.name
        else { return resolve(context.path) == nil ? .status(404, "not found\n") : .status(403, "cannot copy that\n") }
        guard let target = DAVSpace.storePath(destination), destination.segments.count >= 3,
            let targetParent = target.parent, let targetName = target.name
        else { return .status(403, "the destination must be inside a calendar home\n") }
        if source == target || target.hasPrefix(source) || (move && source.hasPrefix(target)) {
            return .status(403, "source and destination overlap\n")
        }
        guard privilege(context, at: context.path) >= (move ? .write : .read) else { return forbidden("read") }
        guard privilege(context, at: destination) >= .write else { return forbidden("bind") }
        let overwrite = context.request.header("Overwrite")?.trimmed.uppercased() != "F"
        guard let depth = Depth(header: context.request.header("Depth"), default: .infinity), depth != .one else {
            return .status(400, "Depth must be 0 or infinity\n")
        }
        return writeLock.withLock { _ in
            guard let kind = try? store.kind(source) else { return .status(404, "not found\n") }
            guard let destinationParent = collectionProperties(targetParent) else {
                return .status(409, "the destination's parent collection does not exist\n")
            }
            let existed = (try? store.kind(target)) != nil
            if existed && !overwrite { return .status(412, "the destination exists and Overwrite is F\n") }
            if kind == .value, destinationParent.isCalendar, collectionProperties(sourceParent)?.isCalendar != true {
                return errorResponse(403, XMLElement(.caldav("supported-calendar-data")))
            }
            var changes: [StoreChange] = existed ? [.remove(target)] : []
            if let properties = DAVSpace.propertiesPath(of: target) { changes.append(.remove(properties)) }
            let copied = copyChanges(from: source, to: target, kind: kind, depth: move ? .infinity : depth)
            changes += copied
            if move {
                changes.append(.remove(source))
                if let properties = DAVSpace.propertiesPath(of: source) { changes.append(.remove(properties)) }
            }
            if move && sourceParent == targetParent {
                changes.append(syncChange(targetParent, changed: [targetName], removed: [sourceName]))
            } else {
                changes.append(syncChange(targetParent, changed: [targetName]))
                if move { changes.append(syncChange(sourceParent, removed: [sourceName])) }
            }
            if let failure = commit(changes, context) { return failure }
            return DAVResponse(status: existed ? 204 : 201, headers: [("Content-Length", "0")])
        }
    }

    /// The sets that reproduce `source` at `target`: a value with its properties, or a collection's
    /// own files and, at Depth infinity, everything below.
    private func copyChanges(from source: StorePath, to target: StorePath, kind: StoreEntryKind, depth: Depth)
        -> [StoreChange]
    {
        if kind == .value {
            var changes: [StoreChange] = []
            if let bytes = try? store.get(source) { changes.append(.set(target, bytes)) }
            if let from = DAVSpace.propertiesPath(of: source), let to = DAVSpace.propertiesPath(of: target),
                let bytes = try? store.get(from)
            {
                changes.append(.set(to, bytes))
            }
            return changes
        }
        var changes: [StoreChange] = []
        if let bytes = try? store.get(source.appendingReserved(DAVSpace.collectionFile)) {
            changes.append(.set(target.appendingReserved(DAVSpace.collectionFile), bytes))
        }
        guard depth == .infinity else { return changes }
        var state = SyncState.fresh()
        for entry in (try? store.list(source)) ?? [] where !DAVSpace.isReserved(entry.name) {
            guard let from = try? source.appending(entry.name), let to = try? target.appending(entry.name) else {
                continue
            }
            changes += copyChanges(from: from, to: to, kind: entry.kind, depth: .infinity)
            state.recordChange(entry.name)
        }
        changes.append(.set(target.appendingReserved(DAVSpace.syncFile), state.encoded()))
        return changes
    }

    // MARK: Answer cache

    /// What a PROPFIND or REPORT on a calendar depends on: who asks, what they ask, the calendar's
    /// change counter (every change to a member moves it; a calendar holds no collections), its
    /// own properties and ACL, and the accounts (group membership changes privileges). Clients
    /// poll the same request until something changes; this answers them without the work.
    struct AnswerKey: Hashable {
        var principal: Principal
        var method: String
        var path: ResourcePath
        var depth: String?
        var body: [UInt8]
        var syncToken: String
        var collection: [UInt8]
        var accounts: Int
    }

    func answeredFromCache(_ context: Context, _ compute: () -> DAVResponse) -> DAVResponse {
        guard cachesAnswers, case .collection(let path, let properties) = resolve(context.path), properties.isCalendar,
            let collectionFile = try? store.get(path.appendingReserved(DAVSpace.collectionFile))
        else { return compute() }
        let key = AnswerKey(
            principal: context.principal, method: context.request.method, path: context.path,
            depth: context.request.header("Depth"), body: context.request.body, syncToken: syncState(path).token,
            collection: collectionFile, accounts: accounts.generation)
        if let known = answers.withLock({ $0[key] }) { return known }
        let response = compute()
        // Very large answers (a big calendar's every event with its data) are not kept: the cache
        // stays within 64 answers of at most 1 MiB each.
        guard response.status == 207, response.body.count <= 1 << 20 else { return response }
        answers.withLock {
            if $0.count >= 64 { $0.removeAll() }
            $0[key] = response
        }
        return response
    }

    // MARK: Errors

    func errorResponse(_ status: Int, _ condition: XMLElement) -> DAVResponse {
        let body = XMLWriter.document(XMLElement(.dav("error"), children: [.element(condition)]))
        return DAVResponse(
            status: status,
            headers: [("Content-Type", "application/xml; charset=utf-8"), ("Content-Length", "\(body.count)")],
            body: body)
    }

    func multistatus(_ responses: [MultistatusEntry], extra: [XMLElement] = []) -> DAVResponse {
        // Streamed: the namespaces every response uses are declared once, on the root, and the
        // response wrappers are written directly rather than built as trees (a calendar of a
        // thousand events is a thousand of them).
        var writer = XMLWriter(reservingCapacity: 1024 + responses.count * 400)
        writer.declaration()
        writer.open(
            .dav("multistatus"), declaring: [XMLNamespace.dav, XMLNamespace.caldav, XMLNamespace.calendarServer])
        for entry in responses {
            switch entry {
            case .element(let element): writer.write(element)
            case .status(let href, let status, let error):
                writer.open(.dav("response"))
                writeText(.dav("href"), href, &writer)
                writeText(.dav("status"), DAVResponse.statusLine(status), &writer)
                if let error { writer.write(XMLElement(.dav("error"), children: [.element(XMLElement(error))])) }
                writer.close()
            case .properties(let href, let found, let missing):
                writer.open(.dav("response"))
                writeText(.dav("href"), href, &writer)
                if !found.isEmpty || missing.isEmpty { writePropstat(found, status: 200, &writer) }
                if !missing.isEmpty { writePropstat(missing.map { XMLElement($0) }, status: 404, &writer) }
                writer.close()
            }
        }
        for element in extra { writer.write(element) }
        writer.closeAll()
        let body = writer.bytes
        return DAVResponse(
            status: 207,
            headers: [("Content-Type", "application/xml; charset=utf-8"), ("Content-Length", "\(body.count)")],
            body: body)
    }

    private func writeText(_ name: XMLName, _ text: String, _ writer: inout XMLWriter) {
        writer.open(name)
        writer.text(text)
        writer.close()
    }

    private func writePropstat(_ properties: [XMLElement], status: Int, _ writer: inout XMLWriter) {
        writer.open(.dav("propstat"))
        writer.open(.dav("prop"))
        for property in properties { writer.write(property) }
        writer.close()
        writeText(.dav("status"), DAVResponse.statusLine(status), &writer)
        writer.close()
    }
}

/// One DAV:response of a multistatus.
enum MultistatusEntry {
    /// The properties found (200) and not found (404) of one resource.
    case properties(href: String, found: [XMLElement], missing: [XMLName])
    /// A resource with only a status (and maybe a precondition), as a missing href in a multiget.
    case status(href: String, status: Int, error: XMLName? = nil)
    case element(XMLElement)
}

final class RequestMemo {
    private var calendars: [StorePath: Bool] = [:]
    private var grants: [StorePath: [AccessGrant]] = [:]
    private var userGroups: [String]?
    private var propertyFiles: [StorePath: Set<String>] = [:]

    func propertyFiles(_ collection: StorePath, _ compute: () -> Set<String>) -> Set<String> {
        if let known = propertyFiles[collection] { return known }
        let value = compute()
        propertyFiles[collection] = value
        return value
    }

    func groups(_ compute: () -> [String]) -> [String] {
        if let known = userGroups { return known }
        let value = compute()
        userGroups = value
        return value
    }

    func grants(_ path: StorePath, _ compute: () -> [AccessGrant]) -> [AccessGrant] {
        if let known = grants[path] { return known }
        let value = compute()
        grants[path] = value
        return value
    }

    func isCalendar(_ path: StorePath, _ compute: () -> Bool) -> Bool {
        if let known = calendars[path] { return known }
        let value = compute()
        calendars[path] = value
        return value
    }
}

extension DAVResponse {
    /// Written once per propstat, so once per member of a listing: the table is built once.
    private static let reasons: [Int: String] = [
        200: "OK", 201: "Created", 204: "No Content", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
        412: "Precondition Failed", 424: "Failed Dependency", 507: "Insufficient Storage",
    ]

    static func statusLine(_ code: Int) -> String { "HTTP/1.1 \(code) \(reasons[code] ?? "Status")" }
}
