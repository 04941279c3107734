import DAVStore
import XML

/// The privileges of RFC 3744 that this server distinguishes. `write` includes writing content,
/// properties and members; `all` adds the ACL itself.
enum Privilege: Int, Comparable, Sendable {
    case none, read, write, all

    static func < (lhs: Privilege, rhs: Privilege) -> Bool { lhs.rawValue < rhs.rawValue }

    init?(element: XMLElement) {
        switch (element.name.namespace, element.name.local) {
        case ("DAV:", "read"), ("DAV:", "read-current-user-privilege-set"): self = .read
        case ("DAV:", "write"), ("DAV:", "write-content"), ("DAV:", "write-properties"), ("DAV:", "bind"),
            ("DAV:", "unbind"):
            self = .write
        case ("DAV:", "all"), ("DAV:", "read-acl"), ("DAV:", "write-acl"): self = .all
        default: return nil
        }
    }

    /// The DAV:privilege elements this level grants, for current-user-privilege-set.
    var elements: [XMLElement] {
        var names: [String] = []
        if self >= .read { names += ["read", "read-current-user-privilege-set"] }
        if self >= .write { names += ["write", "write-content", "write-properties", "bind", "unbind"] }
        if self >= .all { names += ["all", "read-acl", "write-acl"] }
        return names.map { XMLElement(.dav("privilege"), children: [.element(XMLElement(.dav($0)))]) }
    }
}

/// One grant of an ACL: a principal (a user's or group's href, or everyone signed in) and a level.
struct AccessGrant: Equatable, Sendable {
    enum Grantee: Equatable, Sendable {
        case principal(String)
        case authenticated
    }
    var grantee: Grantee
    var privilege: Privilege
}

/// Who may do what where: the administrator everything; a user everything in their own calendar
/// home; others what the ACLs on the way down grant them (to them or a group they are in);
/// everyone signed in may read the made-up collections and the principals.
struct AccessPolicy {
    let accounts: Accounts
    let store: any KeyValueStore

    /// `groups` gives the user's groups and `grantsAt` the grants stored on a collection (the
    /// caller may remember both for a request).
    func privilege(
        of principal: Principal, at path: ResourcePath, groups: (String) -> [String],
        grantsAt: (StorePath) -> [AccessGrant]
    ) -> Privilege {
        guard case .user(let user) = principal else { return .all }
        let segments = path.segments
        if segments.count <= 1 { return .read }
        if segments[0] == "principals" { return segments[1] == user ? .write : .read }
        guard segments[0] == "calendars" else { return .none }
        if segments[1] == user { return .all }
        var best = Privilege.none
        // Grants are inherited: each collection from the home down to the resource may add some.
        for length in 2...segments.count {
            guard let collection = try? StorePath(Array(segments.prefix(length))) else { continue }
            for grant in grantsAt(collection) {
                switch grant.grantee {
                case .authenticated: best = max(best, grant.privilege)
                case .principal(let name) where name == user || groups(user).contains(name):
                    best = max(best, grant.privilege)
                case .principal: continue
                }
            }
        }
        return best
    }

    func grants(at collection: StorePath) -> [AccessGrant] {
        guard let bytes = try? store.get(collection.appendingReserved(DAVSpace.collectionFile)) else { return [] }
        return AccessPolicy.grants(in: DeadProperties.decoded(bytes))
    }

    static func grants(in properties: DeadProperties) -> [AccessGrant] {
        guard let acl = properties[DeadProperties.acl] else { return [] }
        return acl.all(.dav("ace")).compactMap(grant(fromACE:))
    }

    /// An RFC 3744 DAV:ace with DAV:grant; deny ACEs and invert are refused earlier.
    static func grant(fromACE ace: XMLElement) -> AccessGrant? {
        guard let principal = ace.first(.dav("principal")), let grant = ace.first(.dav("grant")) else { return nil }
        let grantee: AccessGrant.Grantee
        if let href = principal.first(.dav("href")), let path = ResourcePath(target: href.text.trimmed),
            path.segments.count == 2, path.segments[0] == "principals"
        {
            grantee = .principal(path.segments[1])
        } else if principal.first(.dav("authenticated")) != nil || principal.first(.dav("all")) != nil {
            grantee = .authenticated
        } else {
            return nil
        }
        let level = grant.all(.dav("privilege")).flatMap(\.elements).compactMap(Privilege.init(element:)).max()
        guard let level else { return nil }
        return AccessGrant(grantee: grantee, privilege: level)
    }

    /// The DAV:acl property: the owner's implicit grant, then the stored ones.
    static func aclElement(owner: String?, grants: [AccessGrant]) -> XMLElement {
        var aces: [XMLElement] = []
        if let owner {
            aces.append(
                ace(
                    principal: XMLElement(
                        .dav("href"), text: ResourcePath(["principals", owner]).href(collection: true)),
                    privilege: .all, protected: true))
        }
        for grant in grants {
            let principal: XMLElement
            switch grant.grantee {
            case .principal(let name):
                principal = XMLElement(.dav("href"), text: ResourcePath(["principals", name]).href(collection: true))
            case .authenticated: principal = XMLElement(.dav("authenticated"))
            }
            aces.append(ace(principal: principal, privilege: grant.privilege, protected: false))
        }
        return XMLElement(.dav("acl"), children: aces.map { .element($0) })
    }

    private static func ace(principal: XMLElement, privilege: Privilege, protected: Bool) -> XMLElement {
        let top: String =
            switch privilege {
            case .all, .none: "all"
            case .write: "write"
            case .read: "read"
            }
        var children: [XMLNode] = [
            .element(XMLElement(.dav("principal"), children: [.element(principal)])),
            .element(
                XMLElement(
                    .dav("grant"),
                    children: [.element(XMLElement(.dav("privilege"), children: [.element(XMLElement(.dav(top)))]))])),
        ]
        if protected { children.append(.element(XMLElement(.dav("protected")))) }
        return XMLElement(.dav("ace"), children: children)
    }
}
