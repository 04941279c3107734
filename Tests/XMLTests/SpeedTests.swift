import Testing
import XML

/// Prints how long the two hot paths take; no timed assertion (the machine is shared).
@Suite struct SpeedTests {
    static func multiget(_ count: Int) -> [UInt8] {
        var body = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
        body += #"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#
        body += "<D:prop><D:getetag/><C:calendar-data/></D:prop>\n"
        for index in 0..<count {
            body += "  <D:href>/calendars/alice/default/event-\(index)-0123456789abcdef.ics</D:href>\n"
        }
        body += "</C:calendar-multiget>"
        return Array(body.utf8)
    }

    static func multistatus(_ count: Int) -> XMLElement {
        XMLElement(
            .dav("multistatus"),
            elements: (0..<count).map { index in
                XMLElement(
                    .dav("response"),
                    elements: [
                        XMLElement(.dav("href"), text: "/calendars/alice/default/event-\(index).ics"),
                        XMLElement(
                            .dav("propstat"),
                            elements: [
                                XMLElement(
                                    .dav("prop"),
                                    elements: [
                                        XMLElement(.dav("getetag"), text: "\"\(index)-abcdef\""),
                                        XMLElement(
                                            .caldav("calendar-data"),
                                            text:
                                                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:\(index)\r\nSUMMARY:Meet & greet <room 4>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                                        ),
                                    ]),
                                XMLElement(.dav("status"), text: "HTTP/1.1 200 OK"),
                            ]),
                    ])
            })
    }

    static func microseconds(_ repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        var best = Duration.seconds(1000)
        for _ in 0..<repetitions {
            let start = clock.now
            try body()
            best = min(best, clock.now - start)
        }
        let (seconds, attoseconds) = best.components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }

    @Test func parseMultigetAndWriteMultistatus() throws {
        let body = Self.multiget(1000)
        var parsed: XMLElement?
        let parse = try Self.microseconds(20) { parsed = try XMLDocument.parse(body) }
        #expect(parsed?.all(.dav("href")).count == 1000)
        let tree = Self.multistatus(1000)
        var output: [UInt8] = []
        let write = Self.microseconds(20) { output = XMLWriter.document(tree) }
        #expect(try XMLDocument.parse(output, limits: XMLLimits(maximumBytes: 1 << 22)) == tree)
        print(
            "XML speed: parse 1,000-href calendar-multiget (\(body.count) bytes) \(Int(parse)) µs;",
            "write 1,000-response multistatus (\(output.count) bytes) \(Int(write)) µs")
    }
}
