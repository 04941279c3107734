import CalDAV
import DAVStore
import ICalendar
import Testing
import XML

/// A server on a memory store with users alice and bob (passwords "alice-pw", "bob-pw").
final class Harness {
    let store = MemoryStore()
    let server: CalDAVServer
    var now: Int64 = 1_800_000_000

    init() throws {
        let accounts = try Accounts(store: store, administratorPassword: "admin-pw", rounds: 1)
        server = CalDAVServer(store: store, accounts: accounts)
        try server.addUser("alice", password: "alice-pw")
        try server.addUser("bob", password: "bob-pw")
    }

    @discardableResult
    func send(
        _ method: String, _ target: String, as user: String? = "alice", headers: [(name: String, value: String)] = [],
        body: String = ""
    ) -> DAVResponse {
        var all = headers
        if let user {
            let password = user == "admin" ? "admin-pw" : "\(user)-pw"
            all.append(("Authorization", "Basic " + Base64.encode(Array("\(user):\(password)".utf8))))
        }
        now += 1
        return server.respond(
            to: DAVRequest(method: method, target: target, headers: all, body: Array(body.utf8)), now: now)
    }

    /// The hrefs of a multistatus response, with the status of each (the first propstat's, or the response's).
    func hrefs(_ response: DAVResponse) throws -> [String] {
        let root = try XMLDocument.parse(response.body)
        return root.all(.dav("response")).compactMap { $0.first(.dav("href"))?.text }
    }
}

func event(uid: String, start: String, end: String, rule: String? = nil, summary: String = "Meeting") -> String {
    var lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:\(uid)",
        "DTSTAMP:20260101T000000Z",
        "DTSTART:\(start)", "DTEND:\(end)", "SUMMARY:\(summary)",
    ]
    if let rule { lines.append("RRULE:\(rule)") }
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return lines.joined(separator: "\r\n") + "\r\n"
}

let davHeader = #"<?xml version="1.0"?>"#

func calendarQuery(start: String, end: String) -> String {
    davHeader + """
        <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
          <D:prop><D:getetag/></D:prop>
          <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
            <C:time-range start="\(start)" end="\(end)"/>
          </C:comp-filter></C:comp-filter></C:filter>
        </C:calendar-query>
        """
}

@Suite struct AuthenticationAndAccess {
    @Test func requestsWithoutValidCredentialsGet401() throws {
        let harness = try Harness()
        #expect(harness.send("PROPFIND", "/calendars/alice/", as: nil).status == 401)
        var wrong = harness.send(
            "GET", "/calendars/alice/", as: nil,
            headers: [("Authorization", "Basic " + Base64.encode(Array("alice:nope".utf8)))])
        #expect(wrong.status == 401)
        wrong = harness.send("GET", "/calendars/alice/", as: "mallory")
        #expect(wrong.status == 401)
        #expect(harness.send("OPTIONS", "/", as: nil).header("DAV")?.contains("calendar-access") == true)
        #expect(harness.send("OPTIONS", "/", as: nil).header("DAV")?.contains("2") == false)
    }

    @Test func usersReachOnlyTheirOwnCalendarsAndListingsDoNotLeak() throws {
        let harness = try Harness()
        let body = event(uid: "secret@a", start: "20261201T100000Z", end: "20261201T110000Z", summary: "Secret")
        #expect(harness.send("PUT", "/calendars/alice/default/s.ics", body: body).status == 201)
        #expect(harness.send("GET", "/calendars/alice/default/s.ics", as: "bob").status == 403)
        #expect(harness.send("PUT", "/calendars/alice/default/t.ics", as: "bob", body: body).status == 403)
        #expect(harness.send("DELETE", "/calendars/alice/default/s.ics", as: "bob").status == 403)
        #expect(
            harness.send("PROPFIND", "/calendars/alice/default/", as: "bob", headers: [("Depth", "1")]).status == 403)
        let report = harness.send(
            "REPORT", "/calendars/alice/default/", as: "bob",
            body: calendarQuery(start: "20260101T000000Z", end: "20280101T000000Z"))
        #expect(report.status == 403)
        // The list of homes shows bob only his own.
        let homes = harness.send("PROPFIND", "/calendars/", as: "bob", headers: [("Depth", "1")])
        #expect(try harness.hrefs(homes) == ["/calendars/", "/calendars/bob/"])
        // A copy out of alice's calendar into bob's is a read of alice's data.
        let copy = harness.send(
            "COPY", "/calendars/alice/default/s.ics", as: "bob",
            headers: [("Destination", "/calendars/bob/default/s.ics")])
        #expect(copy.status == 403)
        #expect(!String(decoding: homes.body + report.body + copy.body, as: UTF8.self).contains("Secret"))
    }

    @Test func anACLGrantLetsAGroupRead() throws {
        let harness = try Harness()
        #expect(harness.send("POST", "/admin/groups", as: "admin", body: "name=team").status == 201)
        #expect(harness.send("POST", "/admin/groups/team/members", as: "admin", body: "user=bob").status == 200)
        let body = event(uid: "shared@a", start: "20261201T100000Z", end: "20261201T110000Z")
        #expect(harness.send("PUT", "/calendars/alice/default/e.ics", body: body).status == 201)
        #expect(harness.send("GET", "/calendars/alice/default/e.ics", as: "bob").status == 403)
        let acl =
            davHeader + """
                <D:acl xmlns:D="DAV:"><D:ace><D:principal><D:href>/principals/team/</D:href></D:principal>
                <D:grant><D:privilege><D:read/></D:privilege></D:grant></D:ace></D:acl>
                """
        #expect(harness.send("ACL", "/calendars/alice/default/", as: "bob", body: acl).status == 403)
        #expect(harness.send("ACL", "/calendars/alice/default/", body: acl).status == 200)
        #expect(harness.send("GET", "/calendars/alice/default/e.ics", as: "bob").status == 200)
        // Read is not write.
        #expect(harness.send("DELETE", "/calendars/alice/default/e.ics", as: "bob").status == 403)
        let privileges = harness.send(
            "PROPFIND", "/calendars/alice/default/", as: "bob", headers: [("Depth", "0")],
            body: davHeader
                + #"<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/></D:prop></D:propfind>"#)
        let text = String(decoding: privileges.body, as: UTF8.self)
        #expect(text.contains("<D:read/>") && !text.contains("<D:write/>"))
        // Leaving the group takes the grant away.
        #expect(harness.send("DELETE", "/admin/groups/team/members/bob", as: "admin").status == 200)
        #expect(harness.send("GET", "/calendars/alice/default/e.ics", as: "bob").status == 403)
    }

    @Test func onlyTheAdministratorManagesUsers() throws {
        let harness = try Harness()
        #expect(harness.send("POST", "/admin/users", body: "name=carol&password=x").status == 403)
        #expect(harness.send("POST", "/admin/users", as: "admin", body: "name=carol&password=carol-pw").status == 201)
        #expect(harness.send("POST", "/admin/users", as: "admin", body: "name=carol&password=y").status == 409)
        #expect(harness.send("POST", "/admin/users", as: "admin", body: "name=..%2F&password=y").status == 400)
        #expect(
            harness.send("PROPFIND", "/calendars/carol/default/", as: "carol", headers: [("Depth", "0")]).status == 207)
        let principal = harness.send(
            "PROPFIND", "/principals/carol/", as: "carol", headers: [("Depth", "0")],
            body: davHeader
                + #"<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>"#
        )
        #expect(String(decoding: principal.body, as: UTF8.self).contains("<D:href>/calendars/carol/</D:href>"))
        #expect(harness.send("DELETE", "/admin/users/carol", as: "admin").status == 200)
        #expect(harness.send("PROPFIND", "/calendars/carol/", as: "carol").status == 401)
        #expect(harness.send("GET", "/admin/list", as: "admin").body == Array("user alice\nuser bob\n".utf8))
    }
}

@Suite struct CalendarData {
    @Test func invalidCalendarDataIsRefusedWithItsPrecondition() throws {
        let harness = try Harness()
        let cases: [(String, String)] = [
            ("not a calendar at all", "valid-calendar-data"),
            (
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:2026-12-01\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "valid-calendar-data"
            ),
            (
                event(uid: "a", start: "20261201T100000Z", end: "20261201T110000Z").replacingOccurrences(
                    "UID:a\r\n", ""), "valid-calendar-object-resource"
            ),
        ]
        for (body, condition) in cases {
            let response = harness.send("PUT", "/calendars/alice/default/bad.ics", body: body)
            #expect(response.status == 403)
            #expect(String(decoding: response.body, as: UTF8.self).contains(condition), "\(body)")
        }
        #expect(harness.send("GET", "/calendars/alice/default/bad.ics").status == 404)
        let wrongType = harness.send(
            "PUT", "/calendars/alice/default/x.ics", headers: [("Content-Type", "text/plain")],
            body: event(uid: "t", start: "20261201T100000Z", end: "20261201T110000Z"))
        #expect(wrongType.status == 403)
    }

    @Test func aUIDMayBeUsedOnceInACalendar() throws {
        let harness = try Harness()
        let body = event(uid: "same@x", start: "20261201T100000Z", end: "20261201T110000Z")
        #expect(harness.send("PUT", "/calendars/alice/default/one.ics", body: body).status == 201)
        let second = harness.send("PUT", "/calendars/alice/default/two.ics", body: body)
        #expect(second.status == 403)
        #expect(String(decoding: second.body, as: UTF8.self).contains("/calendars/alice/default/one.ics"))
        // Replacing the same resource is fine.
        #expect(harness.send("PUT", "/calendars/alice/default/one.ics", body: body).status == 204)
    }

    @Test func conditionalRequestsFollowTheETag() throws {
        let harness = try Harness()
        let body = event(uid: "c@x", start: "20261201T100000Z", end: "20261201T110000Z")
        let created = harness.send(
            "PUT", "/calendars/alice/default/c.ics", headers: [("If-None-Match", "*")], body: body)
        #expect(created.status == 201)
        let etag = try #require(created.header("ETag"))
        #expect(
            harness.send("PUT", "/calendars/alice/default/c.ics", headers: [("If-None-Match", "*")], body: body).status
                == 412)
        #expect(
            harness.send("PUT", "/calendars/alice/default/c.ics", headers: [("If-Match", "\"other\"")], body: body)
                .status == 412)
        let changed = body.replacingOccurrences("Meeting", "Moved")
        let updated = harness.send(
            "PUT", "/calendars/alice/default/c.ics", headers: [("If-Match", etag)], body: changed)
        #expect(updated.status == 204)
        #expect(updated.header("ETag") != etag)
        #expect(harness.send("GET", "/calendars/alice/default/c.ics", headers: [("If-None-Match", etag)]).status == 200)
        #expect(harness.send("DELETE", "/calendars/alice/default/c.ics", headers: [("If-Match", etag)]).status == 412)
    }

    @Test func timeRangeQueriesSeeRecurringInstances() throws {
        let harness = try Harness()
        let weekly = event(
            uid: "weekly@x", start: "20260105T090000Z", end: "20260105T100000Z", rule: "FREQ=WEEKLY;COUNT=20")
        let once = event(uid: "once@x", start: "20260301T090000Z", end: "20260301T100000Z")
        #expect(harness.send("PUT", "/calendars/alice/default/weekly.ics", body: weekly).status == 201)
        #expect(harness.send("PUT", "/calendars/alice/default/once.ics", body: once).status == 201)
        func query(_ start: String, _ end: String) throws -> Set<String> {
            let response = harness.send(
                "REPORT", "/calendars/alice/default/", headers: [("Depth", "1")],
                body: calendarQuery(start: start, end: end))
            #expect(response.status == 207)
            return Set(try harness.hrefs(response))
        }
        // Week 10 of the rule (March 9) is an instance; the master starts in January.
        #expect(try query("20260309T000000Z", "20260310T000000Z") == ["/calendars/alice/default/weekly.ics"])
        #expect(try query("20260301T000000Z", "20260302T000000Z") == ["/calendars/alice/default/once.ics"])
        // After COUNT runs out (20 weeks from January 5 ends in May).
        #expect(try query("20260701T000000Z", "20260801T000000Z") == [])
        let expanded = harness.send(
            "REPORT", "/calendars/alice/default/",
            body: davHeader + """
                <C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                <D:prop><C:calendar-data><C:expand start="20260101T000000Z" end="20260201T000000Z"/></C:calendar-data></D:prop>
                <D:href>/calendars/alice/default/weekly.ics</D:href><D:href>/calendars/alice/default/missing.ics</D:href>
                </C:calendar-multiget>
                """)
        let text = String(decoding: expanded.body, as: UTF8.self)
        #expect(text.components("RECURRENCE-ID:") == 4)  // January 5, 12, 19, 26
        #expect(text.contains("HTTP/1.1 404"))
    }

    @Test func textMatchAndUnknownCollations() throws {
        let harness = try Harness()
        #expect(
            harness.send(
                "PUT", "/calendars/alice/default/a.ics",
                body: event(uid: "a", start: "20261201T100000Z", end: "20261201T110000Z", summary: "Lunch with Bob")
            ).status == 201)
        #expect(
            harness.send(
                "PUT", "/calendars/alice/default/b.ics",
                body: event(uid: "b", start: "20261201T100000Z", end: "20261201T110000Z", summary: "Dentist")
            ).status == 201)
        func query(_ match: String) -> DAVResponse {
            harness.send(
                "REPORT", "/calendars/alice/default/",
                body: davHeader + """
                    <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>
                    <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
                    <C:prop-filter name="SUMMARY">\(match)</C:prop-filter></C:comp-filter></C:comp-filter></C:filter>
                    </C:calendar-query>
                    """)
        }
        #expect(try harness.hrefs(query("<C:text-match>lunch</C:text-match>")) == ["/calendars/alice/default/a.ics"])
        #expect(try harness.hrefs(query(#"<C:text-match collation="i;octet">lunch</C:text-match>"#)) == [])
        #expect(
            try harness.hrefs(query(#"<C:text-match negate-condition="yes">lunch</C:text-match>"#)) == [
                "/calendars/alice/default/b.ics"
            ])
        let unknown = query(#"<C:text-match collation="x-made-up">a</C:text-match>"#)
        #expect(unknown.status == 403 && String(decoding: unknown.body, as: UTF8.self).contains("supported-collation"))
    }
}

@Suite struct Synchronisation {
    func sync(_ harness: Harness, token: String, limit: Int? = nil) throws -> (
        hrefs: [String], token: String, status: Int
    ) {
        let limitXML = limit.map { "<D:limit><D:nresults>\($0)</D:nresults></D:limit>" } ?? ""
        let response = harness.send(
            "REPORT", "/calendars/alice/default/",
            body: davHeader + """
                <D:sync-collection xmlns:D="DAV:"><D:sync-token>\(token)</D:sync-token><D:sync-level>1</D:sync-level>
                \(limitXML)<D:prop><D:getetag/></D:prop></D:sync-collection>
                """)
        guard response.status == 207 else { return ([], "", response.status) }
        let root = try XMLDocument.parse(response.body)
        return (try harness.hrefs(response), root.first(.dav("sync-token"))?.text ?? "", response.status)
    }

    @Test func changesSinceATokenArePagedByTheLimit() throws {
        let harness = try Harness()
        for index in 0..<5 {
            let body = event(uid: "e\(index)", start: "20261201T100000Z", end: "20261201T110000Z")
            #expect(harness.send("PUT", "/calendars/alice/default/e\(index).ics", body: body).status == 201)
        }
        let first = try sync(harness, token: "")
        #expect(first.hrefs.count == 5)
        // Nothing changed: nothing to fetch, same token.
        let again = try sync(harness, token: first.token)
        #expect(again.hrefs.isEmpty && again.token == first.token)
        harness.send("DELETE", "/calendars/alice/default/e1.ics")
        let changed = event(uid: "e3", start: "20261202T100000Z", end: "20261202T110000Z")
        harness.send("PUT", "/calendars/alice/default/e3.ics", body: changed)
        harness.send(
            "PUT", "/calendars/alice/default/new.ics",
            body: event(uid: "n", start: "20261201T100000Z", end: "20261201T110000Z"))
        // Three changes, two per page: the first page says there is more (507 on the collection).
        let page1 = try sync(harness, token: first.token, limit: 2)
        #expect(
            page1.hrefs == [
                "/calendars/alice/default/e1.ics", "/calendars/alice/default/e3.ics", "/calendars/alice/default/",
            ])
        let page2 = try sync(harness, token: page1.token, limit: 2)
        #expect(page2.hrefs == ["/calendars/alice/default/new.ics"])
        let done = try sync(harness, token: page2.token, limit: 2)
        #expect(done.hrefs.isEmpty)
        #expect(try sync(harness, token: "http://quercus.invalid/sync/999").status == 403)
        #expect(try sync(harness, token: "urn:something-else").status == 403)
    }
}

@Suite struct WebDAVBehaviour {
    @Test func xmlWithADoctypeIsRefusedAndNothingIsExpanded() throws {
        let harness = try Harness()
        let xxe =
            #"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#
            + #"<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&x;</D:displayname></D:prop></D:propfind>"#
        let response = harness.send("PROPFIND", "/calendars/alice/", headers: [("Depth", "0")], body: xxe)
        #expect(response.status == 400)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("root:"))
    }

    @Test func protectedPropertiesCannotBeSetAndFailuresUndoTheWholePatch() throws {
        let harness = try Harness()
        let patch = harness.send(
            "PROPPATCH", "/calendars/alice/default/",
            body: davHeader + """
                <D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Work</D:displayname>
                <D:getetag>"forged"</D:getetag></D:prop></D:set></D:propertyupdate>
                """)
        let text = String(decoding: patch.body, as: UTF8.self)
        #expect(patch.status == 207 && text.contains("403 Forbidden") && text.contains("424 Failed Dependency"))
        let names = harness.send(
            "PROPFIND", "/calendars/alice/default/", headers: [("Depth", "0")],
            body: davHeader + #"<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>"#)
        #expect(String(decoding: names.body, as: UTF8.self).contains("<D:displayname>Calendar</D:displayname>"))
    }

    @Test func infiniteDepthPropfindIsRefused() throws {
        let harness = try Harness()
        let response = harness.send("PROPFIND", "/calendars/alice/", headers: [("Depth", "infinity")])
        #expect(response.status == 403)
        #expect(String(decoding: response.body, as: UTF8.self).contains("propfind-finite-depth"))
    }

    @Test func moveKeepsTheSyncStateOfBothCollections() throws {
        let harness = try Harness()
        #expect(harness.send("MKCALENDAR", "/calendars/alice/work/").status == 201)
        #expect(harness.send("MKCALENDAR", "/calendars/alice/work/").status == 405)
        #expect(harness.send("MKCALENDAR", "/calendars/alice/work/inner/").status == 403)
        let body = event(uid: "m@x", start: "20261201T100000Z", end: "20261201T110000Z")
        #expect(harness.send("PUT", "/calendars/alice/default/m.ics", body: body).status == 201)
        let move = harness.send(
            "MOVE", "/calendars/alice/default/m.ics",
            headers: [("Destination", "http://localhost/calendars/alice/work/m.ics")])
        #expect(move.status == 201)
        #expect(harness.send("GET", "/calendars/alice/default/m.ics").status == 404)
        #expect(harness.send("GET", "/calendars/alice/work/m.ics").body == Array(body.utf8))
        // A plain file cannot be moved into a calendar.
        #expect(harness.send("PUT", "/calendars/alice/notes.txt", body: "hello").status == 201)
        let intoCalendar = harness.send(
            "COPY", "/calendars/alice/notes.txt", headers: [("Destination", "/calendars/alice/work/notes.ics")])
        #expect(intoCalendar.status == 403)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    func components(_ separator: String) -> Int {
        split(separator: separator, omittingEmptySubsequences: false).count - 1
    }
}

@Suite struct QueriesPeersFoundWrong {
    func put(_ harness: Harness, _ name: String, _ lines: [String]) {
        let body =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"] + lines + ["END:VCALENDAR"])
            .joined(separator: "\r\n") + "\r\n"
        #expect(harness.send("PUT", "/calendars/alice/default/\(name)", body: body).status == 201, "\(name)")
    }

    func query(_ harness: Harness, _ filter: String, data: String = "") throws -> (hrefs: [String], body: String) {
        let response = harness.send(
            "REPORT", "/calendars/alice/default/",
            body: davHeader + """
                <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                <D:prop><D:getetag/>\(data)</D:prop><C:filter><C:comp-filter name="VCALENDAR">\(filter)</C:comp-filter></C:filter>
                </C:calendar-query>
                """)
        #expect(response.status == 207, "\(String(decoding: response.body, as: UTF8.self))")
        return (try harness.hrefs(response), String(decoding: response.body, as: UTF8.self))
    }

    @Test func anOpenEndedRangeOverAnEndlessRuleFindsTheObject() throws {
        let harness = try Harness()
        put(
            harness, "monthly.ics",
            [
                "BEGIN:VTODO", "UID:m@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260112T120000Z", "RRULE:FREQ=MONTHLY",
                "END:VTODO",
            ])
        let found = try query(
            harness, #"<C:comp-filter name="VTODO"><C:time-range start="20270109T000000Z"/></C:comp-filter>"#)
        #expect(found.hrefs == ["/calendars/alice/default/monthly.ics"])
    }

    @Test func aToDoWithoutDatesAlwaysOverlaps() throws {
        let harness = try Harness()
        put(
            harness, "bare.ics",
            ["BEGIN:VTODO", "UID:bare@x", "DTSTAMP:20260101T000000Z", "SUMMARY:Someday", "END:VTODO"])
        put(
            harness, "due.ics",
            ["BEGIN:VTODO", "UID:due@x", "DTSTAMP:20260101T000000Z", "DUE:20300101T000000Z", "END:VTODO"])
        let found = try query(
            harness,
            #"<C:comp-filter name="VTODO"><C:time-range start="20260101T000000Z" end="20260201T000000Z"/></C:comp-filter>"#
        )
        #expect(found.hrefs == ["/calendars/alice/default/bare.ics"])
    }

    @Test func expandKeepsAllDayDatesAndMovesADueDate() throws {
        let harness = try Harness()
        put(
            harness, "birthday.ics",
            [
                "BEGIN:VEVENT", "UID:b@x", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:19970901",
                "DTEND;VALUE=DATE:19970902",
                "RRULE:FREQ=YEARLY", "END:VEVENT",
            ])
        put(
            harness, "report.ics",
            [
                "BEGIN:VTODO", "UID:r@x", "DTSTAMP:20260101T000000Z", "DTSTART:20270112T120000Z",
                "DUE:20270112T130000Z",
                "RRULE:FREQ=MONTHLY;COUNT=12", "END:VTODO",
            ])
        let expand = #"<C:calendar-data><C:expand start="20270201T000000Z" end="20270301T000000Z"/></C:calendar-data>"#
        let todos = try query(
            harness,
            #"<C:comp-filter name="VTODO"><C:time-range start="20270201T000000Z" end="20270301T000000Z"/></C:comp-filter>"#,
            data: expand)
        #expect(
            todos.body.contains("DTSTART:20270212T120000Z") && todos.body.contains("DUE:20270212T130000Z"),
            "\(todos.body)")
        #expect(!todos.body.contains("DURATION"))
        let events = try query(
            harness,
            #"<C:comp-filter name="VEVENT"><C:time-range start="20270901T000000Z" end="20271001T000000Z"/></C:comp-filter>"#,
            data: #"<C:calendar-data><C:expand start="20270901T000000Z" end="20271001T000000Z"/></C:calendar-data>"#)
        #expect(events.body.contains("DTSTART;VALUE=DATE:20270901"), "\(events.body)")
        #expect(events.body.contains("DTEND;VALUE=DATE:20270902"))
        #expect(events.body.contains("RECURRENCE-ID;VALUE=DATE:20270901"))
    }

    @Test func alarmsMatchByWhenTheyFire() throws {
        let harness = try Harness()
        put(
            harness, "alarm.ics",
            [
                "BEGIN:VEVENT", "UID:a@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T090000Z",
                "DTEND:20260310T100000Z",
                "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x", "TRIGGER:-PT1H", "END:VALARM", "END:VEVENT",
            ])
        func alarms(_ start: String, _ end: String) throws -> [String] {
            try query(
                harness,
                #"<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start=""#
                    + start + #"" end=""# + end + #""/></C:comp-filter></C:comp-filter>"#
            ).hrefs
        }
        // The alarm fires at 08:00, an hour before the event.
        #expect(try alarms("20260310T074500Z", "20260310T081500Z") == ["/calendars/alice/default/alarm.ics"])
        #expect(try alarms("20260310T083000Z", "20260310T110000Z") == [])
    }

    @Test func freeBusyIsOneCalendarAroundOneVFREEBUSY() throws {
        let harness = try Harness()
        put(
            harness, "busy.ics",
            [
                "BEGIN:VEVENT", "UID:f@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T090000Z",
                "DTEND:20260310T100000Z", "END:VEVENT",
            ])
        let response = harness.send(
            "REPORT", "/calendars/alice/default/",
            body: davHeader
                + #"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260301T000000Z" end="20260401T000000Z"/></C:free-busy-query>"#
        )
        let calendar = try Component.parse(response.body)
        #expect(calendar.components.map(\.name) == ["VFREEBUSY"])
        #expect(calendar.components.first?.property("FREEBUSY")?.value == "20260310T090000Z/20260310T100000Z")
    }

    @Test func principalSearchReturnsPropertiesGivenBesideAnEmptyProp() throws {
        let harness = try Harness()
        let response = harness.send(
            "REPORT", "/principals/",
            body: davHeader + """
                <D:principal-property-search xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                <D:property-search><D:prop><D:displayname/></D:prop><D:match>ali</D:match></D:property-search>
                <D:prop/><C:calendar-home-set/><D:displayname/></D:principal-property-search>
                """)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(try harness.hrefs(response) == ["/principals/alice/"])
        #expect(text.contains("<D:href>/calendars/alice/</D:href>"), "\(text)")
    }
}

@Suite struct AnswerCache {
    let propfind = davHeader + #"<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:displayname/></D:prop></D:propfind>"#

    func listing(_ harness: Harness, as user: String = "alice") -> String {
        String(
            decoding: harness.send(
                "PROPFIND", "/calendars/alice/default/", as: user, headers: [("Depth", "1")], body: propfind
            ).body,
            as: UTF8.self)
    }

    @Test func aRepeatedQueryNeverSeesAStaleCalendar() throws {
        let harness = try Harness()
        let before = listing(harness)
        #expect(listing(harness) == before)
        #expect(
            harness.send(
                "PUT", "/calendars/alice/default/n.ics",
                body: event(uid: "n@x", start: "20261201T100000Z", end: "20261201T110000Z")
            ).status == 201)
        #expect(listing(harness).contains("/calendars/alice/default/n.ics"))
        let renamed = harness.send(
            "PROPPATCH", "/calendars/alice/default/",
            body: davHeader
                + #"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>"#
        )
        #expect(renamed.status == 207)
        #expect(listing(harness).contains("Renamed"))
        harness.send("DELETE", "/calendars/alice/default/n.ics")
        #expect(!listing(harness).contains("/calendars/alice/default/n.ics"))
    }

    @Test func aGroupChangeChangesWhatAGranteeSees() throws {
        let harness = try Harness()
        harness.send("POST", "/admin/groups", as: "admin", body: "name=team")
        harness.send("POST", "/admin/groups/team/members", as: "admin", body: "user=bob")
        let acl =
            davHeader + """
                <D:acl xmlns:D="DAV:"><D:ace><D:principal><D:href>/principals/team/</D:href></D:principal>
                <D:grant><D:privilege><D:read/></D:privilege></D:grant></D:ace></D:acl>
                """
        #expect(harness.send("ACL", "/calendars/alice/default/", body: acl).status == 200)
        #expect(listing(harness, as: "bob").contains("multistatus"))
        harness.send("DELETE", "/admin/groups/team/members/bob", as: "admin")
        #expect(
            harness.send("PROPFIND", "/calendars/alice/default/", as: "bob", headers: [("Depth", "1")], body: propfind)
                .status == 403)
    }

    @Test func aCalendarMadeAgainUnderTheSameNameStartsAfresh() throws {
        let harness = try Harness()
        func listWork() -> String {
            String(
                decoding: harness.send("PROPFIND", "/calendars/alice/work/", headers: [("Depth", "1")], body: propfind)
                    .body,
                as: UTF8.self)
        }
        func syncWork(_ token: String) -> DAVResponse {
            harness.send(
                "REPORT", "/calendars/alice/work/",
                body: davHeader
                    + #"<D:sync-collection xmlns:D="DAV:"><D:sync-token>"# + token
                    + #"</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
            )
        }
        #expect(harness.send("MKCALENDAR", "/calendars/alice/work/").status == 201)
        let body = event(uid: "w@x", start: "20261201T100000Z", end: "20261201T110000Z")
        #expect(harness.send("PUT", "/calendars/alice/work/w.ics", body: body).status == 201)
        #expect(listWork().contains("/calendars/alice/work/w.ics"))
        let token = try #require(try XMLDocument.parse(syncWork("").body).first(.dav("sync-token"))?.text)
        #expect(harness.send("DELETE", "/calendars/alice/work/").status == 204)
        #expect(harness.send("MKCALENDAR", "/calendars/alice/work/").status == 201)
        #expect(!listWork().contains("/calendars/alice/work/w.ics"))
        // The old life's token means nothing in the new one.
        #expect(syncWork(token).status == 403)
    }

    @Test func aCalendarHoldsNoCollections() throws {
        let harness = try Harness()
        let response = harness.send("MKCOL", "/calendars/alice/default/folder/")
        #expect(response.status == 403)
        #expect(String(decoding: response.body, as: UTF8.self).contains("calendar-collection-location-ok"))
    }
}

@Test func lastModifiedIsAnHTTPDate() throws {
    let harness = try Harness()
    harness.now = 1_800_000_000
    #expect(harness.send("PUT", "/calendars/alice/notes.txt", body: "x").status == 201)
    // The PUT was made at now + 1.
    #expect(
        harness.send("GET", "/calendars/alice/notes.txt").header("Last-Modified") == "Fri, 15 Jan 2027 08:00:01 GMT")
}
