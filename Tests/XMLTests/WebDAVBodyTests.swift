import Testing
import XML

/// Real request bodies from RFC 4918, RFC 4791, RFC 6578 and RFC 5689, and what the CalDAV core reads from them.
@Suite struct WebDAVBodyTests {
    func parse(_ text: String) throws -> XMLElement { try XMLDocument.parse(Array(text.utf8)) }

    @Test func propfindAllprop() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="utf-8" ?>
            <D:propfind xmlns:D="DAV:">
              <D:allprop/>
            </D:propfind>
            """)
        #expect(root.name == .dav("propfind"))
        #expect(root.children == [.element(XMLElement(.dav("allprop")))])
    }

    @Test func propfindPropname() throws {
        let root = try parse(#"<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>"#)
        #expect(root.name == .dav("propfind"))
        #expect(root.first(.dav("propname")) != nil)
        #expect(root.first(.dav("allprop")) == nil)
    }

    @Test func propfindPropWithSeveralNamespaces() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <A:propfind xmlns:A="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <A:prop>
                <A:resourcetype/>
                <A:current-user-principal/>
                <C:calendar-home-set/>
                <getctag xmlns="http://calendarserver.org/ns/"/>
                <E:calendar-color xmlns:E="http://apple.com/ns/ical/"/>
              </A:prop>
            </A:propfind>
            """)
        let prop = try #require(root.first(.dav("prop")))
        #expect(
            prop.elements.map(\.name) == [
                .dav("resourcetype"), .dav("current-user-principal"), .caldav("calendar-home-set"),
                .calendarServer("getctag"), .appleICal("calendar-color"),
            ])
        #expect(prop.children.count == 5)
    }

    @Test func proppatchSetAndRemove() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="utf-8" ?>
            <D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/standards/z39.50/">
              <D:set>
                <D:prop>
                  <Z:Authors>
                    <Z:Author>Jim Whitehead</Z:Author>
                    <Z:Author>Roy Fielding</Z:Author>
                  </Z:Authors>
                  <D:displayname>Caf\u{E9} &amp; "Friends" &lt;work&gt;</D:displayname>
                </D:prop>
              </D:set>
              <D:remove>
                <D:prop><Z:Copyright-Owner/></D:prop>
              </D:remove>
            </D:propertyupdate>
            """)
        #expect(root.name == .dav("propertyupdate"))
        let operations = root.elements
        #expect(operations.map(\.name) == [.dav("set"), .dav("remove")])
        let set = try #require(operations.first?.first(.dav("prop")))
        let z = "http://ns.example.com/standards/z39.50/"
        let authors = try #require(set.first(XMLName(z, "Authors")))
        #expect(authors.all(XMLName(z, "Author")).map(\.text) == ["Jim Whitehead", "Roy Fielding"])
        #expect(set.first(.dav("displayname"))?.text == "Caf\u{E9} & \"Friends\" <work>")
        let removed = try #require(operations.last?.first(.dav("prop")))
        #expect(removed.elements.map(\.name) == [XMLName(z, "Copyright-Owner")])
    }

    @Test func calendarQueryWithNestedFiltersAndTimeRange() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="utf-8" ?>
            <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop>
                <D:getetag/>
                <C:calendar-data>
                  <C:comp name="VCALENDAR">
                    <C:prop name="VERSION"/>
                    <C:comp name="VEVENT">
                      <C:prop name="SUMMARY"/>
                      <C:prop name="UID"/>
                    </C:comp>
                  </C:comp>
                  <C:expand start="20060103T000000Z" end="20060105T000000Z"/>
                </C:calendar-data>
              </D:prop>
              <C:filter>
                <C:comp-filter name="VCALENDAR">
                  <C:comp-filter name="VEVENT">
                    <C:time-range start="20060104T000000Z"
                                  end="20060105T000000Z"/>
                    <C:prop-filter name="ATTENDEE">
                      <C:text-match collation="i;ascii-casemap" negate-condition="yes">mailto:lisa@example.com</C:text-match>
                      <C:param-filter name="PARTSTAT"><C:is-not-defined/></C:param-filter>
                    </C:prop-filter>
                  </C:comp-filter>
                </C:comp-filter>
              </C:filter>
            </C:calendar-query>
            """)
        #expect(root.name == .caldav("calendar-query"))
        let calendar = try #require(root.first(.caldav("filter"))?.first(.caldav("comp-filter")))
        #expect(calendar.attribute(XMLName("", "name")) == "VCALENDAR")
        let event = try #require(calendar.first(.caldav("comp-filter")))
        #expect(event.attribute(XMLName("", "name")) == "VEVENT")
        let range = try #require(event.first(.caldav("time-range")))
        #expect(range.attribute(XMLName("", "start")) == "20060104T000000Z")
        #expect(range.attribute(XMLName("", "end")) == "20060105T000000Z")
        let match = try #require(event.first(.caldav("prop-filter"))?.first(.caldav("text-match")))
        #expect(match.text == "mailto:lisa@example.com")
        #expect(match.attribute(XMLName("", "negate-condition")) == "yes")
        #expect(match.attribute(.caldav("negate-condition")) == nil)  // unprefixed attributes have no namespace
        let data = try #require(root.first(.dav("prop"))?.first(.caldav("calendar-data")))
        #expect(data.elements.map(\.name) == [.caldav("comp"), .caldav("expand")])
        #expect(data.first(.caldav("comp"))?.all(.caldav("comp")).count == 1)
    }

    @Test func calendarMultiget() throws {
        let root = try parse(
            """
            <C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop><D:getetag/><C:calendar-data/></D:prop>
              <D:href>/bernard/work/abcd1.ics</D:href>
              <D:href>/bernard/work/mtg%201.ics</D:href>
            </C:calendar-multiget>
            """)
        #expect(root.all(.dav("href")).map(\.text) == ["/bernard/work/abcd1.ics", "/bernard/work/mtg%201.ics"])
    }

    @Test func syncCollectionWithLimit() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="utf-8" ?>
            <D:sync-collection xmlns:D="DAV:">
              <D:sync-token>http://example.com/ns/sync/1232</D:sync-token>
              <D:sync-level>1</D:sync-level>
              <D:limit><D:nresults>100</D:nresults></D:limit>
              <D:prop><D:getetag/></D:prop>
            </D:sync-collection>
            """)
        #expect(root.first(.dav("sync-token"))?.text == "http://example.com/ns/sync/1232")
        #expect(root.first(.dav("sync-level"))?.text == "1")
        #expect(root.first(.dav("limit"))?.first(.dav("nresults"))?.text == "100")
        // An empty sync-token is an element with no children.
        let initial = try parse(#"<D:sync-collection xmlns:D="DAV:"><D:sync-token/></D:sync-collection>"#)
        #expect(initial.first(.dav("sync-token"))?.text == "")
    }

    @Test func extendedMkcol() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="utf-8" ?>
            <D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:set>
                <D:prop>
                  <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
                  <D:displayname>Special Resource</D:displayname>
                  <C:calendar-description xml:lang="en">Lisa's &#x1F4C5; calendar</C:calendar-description>
                  <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
                </D:prop>
              </D:set>
            </D:mkcol>
            """)
        let prop = try #require(root.first(.dav("set"))?.first(.dav("prop")))
        #expect(prop.first(.dav("resourcetype"))?.elements.map(\.name) == [.dav("collection"), .caldav("calendar")])
        let description = try #require(prop.first(.caldav("calendar-description")))
        #expect(description.text == "Lisa's \u{1F4C5} calendar")
        #expect(description.attribute(XMLName("http://www.w3.org/XML/1998/namespace", "lang")) == "en")
    }

    @Test func whitespaceIsKeptOnlyWhereItIsTheWholeContent() throws {
        let root = try parse("<a>\n  <b>  </b>\n  <c> x </c> <d/>\n</a>")
        #expect(root.elements.count == 3)
        #expect(root.children.count == 3)
        #expect(root.first(XMLName("", "b"))?.text == "  ")
        #expect(root.first(XMLName("", "c"))?.text == " x ")
        let mixed = try parse("<a>one <b/> two</a>")
        #expect(mixed.children == [.text("one "), .element(XMLElement(XMLName("", "b"))), .text(" two")])
    }

    @Test func characterDataIsOneTextNode() throws {
        let root = try parse("<a>x<!-- comment -->y<![CDATA[<z>&amp;]]>&#65;<?pi data?>\r\nw\rv</a>")
        #expect(root.children == [.text("xy<z>&amp;A\nw\nv")])
    }

    @Test func attributeValuesAreNormalised() throws {
        let root = try parse("<a v='x\ty\r\nz&#10;&#9;&quot;&apos;' w=\"'\"/>")
        #expect(root.attribute(XMLName("", "v")) == "x y z\n\t\"'")
        #expect(root.attribute(XMLName("", "w")) == "'")
    }

    @Test func declarationsAndByteOrderMark() throws {
        let body = [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0" encoding="US-ASCII" standalone="yes"?><a/>"#.utf8)
        #expect(try XMLDocument.parse(body) == XMLElement(XMLName("", "a")))
        #expect(try parse("<!-- before --><?pi?>\n<a/>\n<!-- after -->\n") == XMLElement(XMLName("", "a")))
    }
}

@Suite struct InputTests {
    @Test func anyCollectionOfBytes() throws {
        let text = #"<D:href xmlns:D="DAV:">/a</D:href>"#
        let expected = XMLElement(.dav("href"), text: "/a")
        #expect(try XMLDocument.parse(text.utf8) == expected)
        let padded = Array(("xx" + text + "yy").utf8)
        #expect(try XMLDocument.parse(padded[2..<(padded.count - 2)]) == expected)
    }

    @Test func offsetsCountTheByteOrderMarkAndLinesCountEveryLineEnd() {
        let bytes = [0xEF, 0xBB, 0xBF] + Array("<a>\r\n<b>\r<c>\n&bad;</c></b></a>".utf8)
        #expect(throws: XMLError(.entityRefused("bad"), offset: 16, line: 4)) { try XMLDocument.parse(bytes) }
    }

    @Test func standardLimits() {
        let limits = XMLLimits.standard
        #expect(limits.maximumBytes == 1 << 20)
        #expect(limits.maximumDepth == 64)
        #expect(limits.maximumNodes == 200_000)
        #expect(limits.maximumAttributes == 64)
    }
}
