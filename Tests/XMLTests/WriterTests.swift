import Testing
import XML

@Suite struct WriterTests {
    func written(_ element: XMLElement) -> String { String(decoding: XMLWriter.document(element), as: UTF8.self) }

    func roundTrip(_ element: XMLElement) throws -> XMLElement { try XMLDocument.parse(XMLWriter.document(element)) }

    @Test func multistatusDeclaresEveryNamespaceOnTheRoot() {
        let response = XMLElement(
            .dav("response"),
            elements: [
                XMLElement(.dav("href"), text: "/calendars/alice/default/"),
                XMLElement(
                    .dav("propstat"),
                    elements: [
                        XMLElement(
                            .dav("prop"),
                            elements: [
                                XMLElement(.calendarServer("getctag"), text: "\"42\""),
                                XMLElement(.appleICal("calendar-color"), text: "#FF0000"),
                                XMLElement(.caldav("calendar-description"), text: ""),
                                XMLElement(XMLName("urn:example", "x"), attributes: [(XMLName("urn:other", "a"), "1")]),
                            ]),
                        XMLElement(.dav("status"), text: "HTTP/1.1 200 OK"),
                    ]),
            ])
        #expect(
            written(XMLElement(.dav("multistatus"), elements: [response]))
                == """
                <?xml version="1.0" encoding="utf-8"?>
                <D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" \
                xmlns:ICAL="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav" \
                xmlns:x0="urn:example" xmlns:x1="urn:other"><D:response><D:href>/calendars/alice/default/</D:href>\
                <D:propstat><D:prop><CS:getctag>"42"</CS:getctag><ICAL:calendar-color>#FF0000</ICAL:calendar-color>\
                <C:calendar-description/><x0:x x1:a="1"/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>\
                </D:response></D:multistatus>
                """)
    }

    @Test func noNamespaceIsUnprefixedAndCarddavIsCR() {
        let root = XMLElement(XMLName("", "r"), elements: [XMLElement(.carddav("addressbook"))])
        #expect(
            written(root)
                == "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<r xmlns:CR=\"urn:ietf:params:xml:ns:carddav\"><CR:addressbook/></r>"
        )
    }

    @Test func escaping() throws {
        var buffer: [UInt8] = []
        XMLWriter.escapeText("a<b>&\"c'\u{E9}\u{1F600}\r\n\t", into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "a&lt;b&gt;&amp;\"c'\u{E9}\u{1F600}&#13;\n\t")
        buffer = []
        XMLWriter.escapeAttribute("a<b>&\"c'\u{E9}\r\n\t", into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "a&lt;b&gt;&amp;&quot;c'\u{E9}&#13;&#10;&#9;")
        #expect(XMLWriter.escapedText("plain") == "plain")
        // Characters XML cannot carry become U+FFFD rather than making the output unreadable.
        #expect(
            XMLWriter.escapedText("a\u{0}b\u{1B}c\u{FFFE}d\u{FFFF}e\u{FFFD}")
                == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}")
        let tricky = "<>&\"' \u{E9}\u{4E2D}\u{1F4C5}\r\n\t ]]> &amp;"
        let element = XMLElement(
            .dav("displayname"), attributes: [(XMLName("", "title"), tricky), (.caldav("note"), tricky)],
            children: [.text(tricky)])
        #expect(try roundTrip(element) == element)
    }

    @Test func roundTripOfNestedTreesWithSeveralNamespaces() throws {
        func tree(depth: Int, seed: Int) -> XMLElement {
            let namespaces = ["DAV:", XMLNamespace.caldav, XMLNamespace.calendarServer, "", "urn:x", "urn:y\"&<"]
            let name = XMLName(namespaces[seed % namespaces.count], "n\(seed)")
            var element = XMLElement(
                name,
                attributes: [
                    (XMLName("", "plain"), "v\(seed)"), (XMLName(namespaces[(seed + 1) % 5], "q"), "<\(seed)>"),
                    (XMLName(XMLNamespace.xml, "lang"), "en"),
                ].filter { seed % 2 == 0 || $0.0.namespace.isEmpty })
            guard depth > 0 else {
                element.append(text: "leaf \(seed) & more")
                return element
            }
            element.append(text: "before ")
            for child in 0..<3 { element.append(tree(depth: depth - 1, seed: seed * 3 + child + 1)) }
            element.append(text: " after")
            return element
        }
        let root = tree(depth: 4, seed: 0)
        #expect(try roundTrip(root) == root)
        let parsed = try roundTrip(root)
        #expect(XMLWriter.document(parsed) == XMLWriter.document(root))
    }

    @Test func parsedDocumentsRoundTrip() throws {
        let bodies = [
            #"<A:propfind xmlns:A="DAV:"><A:prop><A:getetag/></A:prop></A:propfind>"#,
            #"<r xmlns="urn:a"><x xmlns=""><y a="1"/></x><p:z xmlns:p="urn:b" p:k="&lt;"/></r>"#,
            "<a>one <b>two</b> three<![CDATA[ <four> ]]>&#xD;</a>",
        ]
        for body in bodies {
            let parsed = try XMLDocument.parse(Array(body.utf8))
            #expect(try roundTrip(parsed) == parsed, "\(body)")
        }
    }

    @Test func streamingMatchesTheDocument() throws {
        let responses = (0..<3).map { index in
            XMLElement(
                .dav("response"),
                elements: [
                    XMLElement(.dav("href"), text: "/c/\(index).ics"),
                    XMLElement(.caldav("calendar-data"), text: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
                    XMLElement(XMLName("urn:private", "p")),
                ])
        }
        var writer = XMLWriter()
        writer.declaration()
        writer.open(.dav("multistatus"), declaring: [XMLNamespace.caldav])
        #expect(writer.prefix(for: XMLNamespace.caldav) == "C")
        for response in responses { writer.write(response) }
        writer.open(.dav("sync-token"))
        writer.text("token<1>")
        writer.close()
        writer.closeAll()
        let parsed = try XMLDocument.parse(writer.bytes)
        var expected = XMLElement(.dav("multistatus"), elements: responses)
        expected.append(XMLElement(.dav("sync-token"), text: "token<1>"))
        #expect(parsed == expected)
        // A namespace only one response uses is declared on that response.
        #expect(String(decoding: writer.bytes, as: UTF8.self).contains(#"<D:response xmlns:x0="urn:private">"#))
    }

    @Test func elementEqualityLooksAtAttributesInOrder() {
        let a = XMLElement(XMLName("", "a"), attributes: [(XMLName("", "x"), "1"), (XMLName("", "y"), "2")])
        let b = XMLElement(XMLName("", "a"), attributes: [(XMLName("", "y"), "2"), (XMLName("", "x"), "1")])
        #expect(a != b)
        #expect(a == a)
        #expect(a.description == #"<a x="1" y="2"/>"#)
        #expect(XMLName.dav("href").description == "{DAV:}href")
    }
}
