import Testing

@testable import ICalendar

@Suite struct ContentLineTests {
    @Test func unfoldsContinuationLinesAndKeepsLineNumbers() throws {
        let text =
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Hello\r\n  world\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        let calendar = try Component.parse(text)
        let event = try #require(calendar.components.first)
        #expect(event.property("SUMMARY")?.value == "Hello world")
        #expect(event.property("UID")?.line == 5)
    }

    @Test func foldsAt75OctetsWithoutSplittingUTF8() throws {
        // 'é' is two octets; a naive fold at 75 octets would cut one in half.
        let summary = String(repeating: "é", count: 100)
        var event = Component("VEVENT")
        event.properties.append(Property("SUMMARY", summary))
        let bytes = event.printedBytes()
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A, index > 0, bytes[index - 1] == 0x0D {
                lines.append(current.dropLast())
                current = []
            } else {
                current.append(byte)
            }
        }
        for line in lines {
            #expect(line.count <= 75)
            #expect(String(validating: line, as: UTF8.self) != nil, "a folded line splits a UTF-8 sequence")
        }
        let reparsed = try Component.parse(bytes)
        #expect(reparsed.property("SUMMARY")?.value == summary)
    }

    @Test func parametersWithQuotesCommasAndCaretEscapes() throws {
        let line =
            "ATTENDEE;CN=\"Doe, Jane\";MEMBER=\"mailto:a@example.com\",\"mailto:b@example.com\";X-NOTE=a^nb^'c^':mailto:jane@example.com"
        let text = "BEGIN:VEVENT\r\n\(line)\r\nEND:VEVENT\r\n"
        let event = try Component.parse(text)
        let attendee = try #require(event.property("ATTENDEE"))
        #expect(attendee.parameter("CN") == "Doe, Jane")
        #expect(attendee.parameters[1].values == ["mailto:a@example.com", "mailto:b@example.com"])
        #expect(attendee.parameter("X-NOTE") == "a\nb\"c\"")
        #expect(attendee.value == "mailto:jane@example.com")
        // The line is longer than 75 octets, so it prints folded; unfolded it is the same line.
        #expect(attendee.text == line)
        #expect(try Component.parse(event.printed()) == event)
    }

    @Test func strictModeReportsLineAndColumn() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBROKEN LINE\r\nEND:VCALENDAR\r\n"
        #expect(throws: ParseError(line: 3, column: 7, reason: .badName("BROKEN "))) {
            try Component.parse(text)
        }
        #expect(throws: ParseError(line: 1, column: 1, reason: .unclosed("VCALENDAR"))) {
            try Component.parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        }
        #expect(throws: ParseError(line: 2, column: 5, reason: .unexpectedEnd(expected: "VCALENDAR", found: "VEVENT")))
        {
            try Component.parse("BEGIN:VCALENDAR\r\nEND:VEVENT\r\n")
        }
    }

    @Test func lenientModeAcceptsClientQuirksAndPrintsValidSyntax() throws {
        // Bare LF, a vCard 2.1 bare parameter, a blank line, an END typo, an unclosed component.
        let text = "BEGIN:VCARD\nVERSION:2.1\nTEL;HOME;VOICE:+1 555\n\nN:Doe;Jane\nBEGIN:X-THING\nEND:X-THIGN\n"
        #expect(throws: ParseError.self) { try Component.parse(text) }
        let card = try Component.parse(text, mode: .lenient)
        let telephone = try #require(card.property("TEL"))
        #expect(telephone.parameters.map(\.values) == [["HOME"], ["VOICE"]])
        #expect(card.components.map(\.name) == ["X-THING"])
        let printed = card.printed()
        // A 2.1 card prints as 2.1; the blank line and the END typo are gone.
        #expect(
            printed
                == "BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;HOME;VOICE:+1 555\r\nN:Doe;Jane\r\nBEGIN:X-THING\r\nEND:X-THING\r\nEND:VCARD\r\n"
        )
        #expect(telephone.parameter("TYPE") == "HOME")
        #expect(try Component.parse(printed, mode: .lenient) == card)
    }

    @Test func unknownComponentsAndPropertiesRoundTripExactly() throws {
        let text = """
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//Example//EN\r
            X-WR-CALNAME:Team\r
            BEGIN:VEVENT\r
            UID:1\r
            DTSTART;TZID=Europe/Berlin:20260105T090000\r
            BEGIN:VALARM\r
            ACTION:DISPLAY\r
            TRIGGER:-PT15M\r
            END:VALARM\r
            X-MS-OLK-FORCEINSPECTOROPEN:TRUE\r
            BEGIN:X-CUSTOM\r
            x-lower-case;x-param=1:kept as written\r
            END:X-CUSTOM\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        let calendar = try Component.parse(text)
        #expect(calendar.printed() == text)
    }

    @Test func vCardGroupsAndStructuredValues() throws {
        let text =
            "BEGIN:VCARD\r\nVERSION:3.0\r\nitem1.EMAIL;TYPE=INTERNET:jane@example.com\r\nitem1.X-ABLabel:work\r\nN:Doe;Jane;;Dr.;\r\nEND:VCARD\r\n"
        let card = try Component.parse(text)
        let email = try #require(card.property("EMAIL"))
        #expect(email.group == "item1")
        #expect(Text.split(try #require(card.property("N")).value, separator: ";") == ["Doe", "Jane", "", "Dr.", ""])
        #expect(card.printed() == text)
    }

    @Test func textEscapingRoundTrips() {
        let original = "Line one\nsemi; colon: comma, back\\slash"
        let escaped = Text.escape(original)
        #expect(escaped == "Line one\\nsemi\\; colon: comma\\, back\\\\slash")
        #expect(Text.unescape(Substring(escaped)) == original)
        #expect(Text.split("a\\,b,c") == ["a,b", "c"])
    }

    @Test func multipleTopLevelComponents() throws {
        let text = "BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\n"
        let cards = try Component.parseAll(text)
        #expect(cards.compactMap { $0.property("FN")?.value } == ["A", "B"])
    }
}

@Suite struct LenientRoundTripTests {
    @Test func strayQuotesInParameterValuesSurviveTheRoundTrip() throws {
        // Found by fuzz-icalendar-parser: a quote inside an unquoted value printed as ^' but read back as ".
        let text = "BEGIN:VEVENT\r\nATTENDEE;Co\"DN=e, J\";ROLE=REQ:mailto:j@example.com\r\nEND:VEVENT\r\n"
        let event = try Component.parse(text, mode: .lenient)
        let printed = event.printed()
        #expect(try Component.parse(printed, mode: .lenient) == event)
        #expect(try Component.parse(printed, mode: .lenient).printed() == printed)
    }
}

@Suite struct BackslashParameterTests {
    @Test func aParameterValueEndingInBackslashIsQuotedWhenPrinted() throws {
        // Found by fuzz-icalendar-parser: `X;P=a\` (no colon, read leniently) printed bare as
        // `X;P=a\:` read back as an escaped colon.
        let component = try Component.parse("BEGIN:VEVENT\r\nX-THING;P=a\\\r\nEND:VEVENT\r\n", mode: .lenient)
        let property = try #require(component.property("X-THING"))
        #expect(property.parameter("P") == "a\\")
        #expect(property.text == "X-THING;P=\"a\\\":")
        #expect(try Component.parse(component.printed(), mode: .lenient) == component)
    }
}

@Suite struct FuzzFindingTests {
    /// Found by fuzz-icalendar-parser: a quote followed by a combining mark is one Character, so a
    /// String search missed it and the printer's byte-wise ^' changed the value.
    @Test func quoteInsideAnUnterminatedParameterValue() throws {
        let component = try Component.parse("BEGIN:\nT;=&\"\u{73A}", mode: .lenient)
        let printed = component.printed()
        #expect(try Component.parse(printed, mode: .lenient) == component)
    }
}
