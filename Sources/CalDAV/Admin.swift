import DAVStore
import XML

/// The administrator's endpoints under /admin/ (what `quercus-caldav admin` calls), bodies as
/// HTML form encoding, answers as plain text:
///   POST /admin/users (name, password)          DELETE /admin/users/NAME
///   POST /admin/groups (name)                   DELETE /admin/groups/NAME
///   POST /admin/groups/NAME/members (user)      DELETE /admin/groups/NAME/members/USER
///   GET /admin/list                             POST /admin/revert (commit)
extension CalDAVServer {
    func admin(_ context: Context) -> DAVResponse {
        guard context.principal == .administrator else { return .status(403, "administrator only\n") }
        let form = FormFields(context.request.body)
        let route = Array(context.path.segments.dropFirst())
        switch (context.request.method, route.count) {
        case ("GET", 1) where route[0] == "list":
            var text = ""
            for user in accounts.users() { text += "user \(user)\n" }
            for group in accounts.groups() {
                text += "group \(group): \(accounts.members(of: group).joined(separator: " "))\n"
            }
            return .status(200, text)
        case ("POST", 1) where route[0] == "users":
            guard let name = form["name"], let password = form["password"], !password.isEmpty else {
                return .status(400, "name and password are required\n")
            }
            return changeAccounts(context, "add user \(name)") {
                guard Accounts.isValidName(name) else { return .status(400, "'\(name)' is not a valid user name\n") }
                guard !accounts.isUser(name), !accounts.isGroup(name) else { return .status(409, "'\(name)' exists\n") }
                return try .changes(accounts.changesAddingUser(name, password: password), created: true)
            }
        case ("DELETE", 2) where route[0] == "users":
            return changeAccounts(context, "remove user \(route[1])") {
                guard accounts.isUser(route[1]) else { return .status(404, "no user '\(route[1])'\n") }
                return try .changes(accounts.changesRemovingUser(route[1]))
            }
        case ("POST", 1) where route[0] == "groups":
            guard let name = form["name"] else { return .status(400, "name is required\n") }
            return changeAccounts(context, "add group \(name)") {
                guard Accounts.isValidName(name) else { return .status(400, "'\(name)' is not a valid group name\n") }
                guard !accounts.isUser(name), !accounts.isGroup(name) else { return .status(409, "'\(name)' exists\n") }
                return try .changes(accounts.changesSettingMembers(of: name, to: []), created: true)
            }
        case ("DELETE", 2) where route[0] == "groups":
            return changeAccounts(context, "remove group \(route[1])") {
                guard accounts.isGroup(route[1]) else { return .status(404, "no group '\(route[1])'\n") }
                return .changes([.remove(try Accounts.groupsPath.appending(route[1]))])
            }
        case ("POST", 3) where route[0] == "groups" && route[2] == "members":
            guard let user = form["user"] else { return .status(400, "user is required\n") }
            return changeAccounts(context, "add \(user) to \(route[1])") {
                guard accounts.isGroup(route[1]) else { return .status(404, "no group '\(route[1])'\n") }
                guard accounts.isUser(user) else { return .status(404, "no user '\(user)'\n") }
                let members = accounts.members(of: route[1])
                return try .changes(
                    accounts.changesSettingMembers(
                        of: route[1], to: members.contains(user) ? members : members + [user]))
            }
        case ("DELETE", 4) where route[0] == "groups" && route[2] == "members":
            return changeAccounts(context, "remove \(route[3]) from \(route[1])") {
                guard accounts.isGroup(route[1]) else { return .status(404, "no group '\(route[1])'\n") }
                return try .changes(
                    accounts.changesSettingMembers(
                        of: route[1], to: accounts.members(of: route[1]).filter { $0 != route[3] }))
            }
        case ("POST", 1) where route[0] == "revert":
            guard let commit = form["commit"], !commit.isEmpty else { return .status(400, "commit is required\n") }
            guard let revert else { return .status(409, "only the git store keeps history to revert\n") }
            return writeLock.withLock { _ in
                do {
                    try revert(commit, context.origin("REVERT \(commit)"))
                    parsedObjects.withLock { $0.removeAll() }
                    answers.withLock { $0.removeAll() }
                    uidIndexes.withLock { $0.removeAll() }
                    return .status(200, "reverted \(commit)\n")
                } catch {
                    return .status(409, "\(error)\n")
                }
            }
        default:
            return .status(404, "no such administrator endpoint\n")
        }
    }

    /// Adds a user with their principal, calendar home and default calendar (`--demo-user`).
    public func addUser(_ name: String, password: String, now: Int64 = 0) throws {
        guard Accounts.isValidName(name) else { throw StoreError.invalidPath(name) }
        try writeLock.withLock { _ in
            try store.apply(
                try accounts.changesAddingUser(name, password: password),
                origin: ChangeOrigin(author: Accounts.administratorName, message: "ADMIN add user \(name)", time: now))
        }
        accounts.forgetVerifiedCredentials()
    }

    enum AccountChange {
        case changes([StoreChange], created: Bool = false)
        case refused(DAVResponse)
        static func status(_ code: Int, _ text: String) -> AccountChange { .refused(.status(code, text)) }
    }

    private func changeAccounts(_ context: Context, _ message: String, _ decide: () throws -> AccountChange)
        -> DAVResponse
    {
        writeLock.withLock { _ in
            do {
                switch try decide() {
                case .refused(let response): return response
                case .changes(let changes, let created):
                    if let failure = commit(changes, context, message: "ADMIN \(message)") { return failure }
                    accounts.forgetVerifiedCredentials()
                    return .status(created ? 201 : 200, "done\n")
                }
            } catch {
                return .status(400, "\(error)\n")
            }
        }
    }

    // MARK: ACL (RFC 3744 §8.1)

    func setACL(_ context: Context) -> DAVResponse {
        guard case .collection(let path, var properties) = resolve(context.path) ?? .root else {
            return errorResponse(403, XMLElement(.dav("no-ace-conflict")))
        }
        guard privilege(context, at: context.path) >= .all else { return forbidden("write-acl") }
        guard let body = try? XMLDocument.parse(context.request.body, limits: limits.xml), body.name == .dav("acl")
        else { return .status(400, "expected DAV:acl\n") }
        var kept: [XMLElement] = []
        for ace in body.all(.dav("ace")) {
            if ace.first(.dav("protected")) != nil { continue }
            if ace.first(.dav("deny")) != nil || ace.first(.dav("invert")) != nil {
                return errorResponse(403, XMLElement(.dav("grant-only")))
            }
            guard let grant = AccessPolicy.grant(fromACE: ace) else {
                return errorResponse(403, XMLElement(.dav("recognized-principal")))
            }
            if case .principal(let name) = grant.grantee, !accounts.isUser(name), !accounts.isGroup(name) {
                return errorResponse(403, XMLElement(.dav("recognized-principal")))
            }
            kept.append(ace)
        }
        properties.set(XMLElement(DeadProperties.acl, children: kept.map { .element($0) }))
        return writeLock.withLock { _ in
            if let failure = commit(
                [.set(path.appendingReserved(DAVSpace.collectionFile), properties.encoded())], context)
            {
                return failure
            }
            return DAVResponse(status: 200, headers: [("Content-Length", "0")])
        }
    }
}

/// application/x-www-form-urlencoded fields.
struct FormFields {
    private var fields: [String: String] = [:]

    init(_ body: [UInt8]) {
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = parts.first, let key = Self.decode(first) else { continue }
            fields[key] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    subscript(name: String) -> String? { fields[name] }

    private static func decode(_ text: Substring) -> String? {
        ResourcePath.percentDecode(Substring(text.replacingPlus()))
    }
}

extension Substring {
    fileprivate func replacingPlus() -> String { String(map { $0 == "+" ? " " : $0 }) }
}
