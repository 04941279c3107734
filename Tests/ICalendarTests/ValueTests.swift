import Testing

@testable import ICalendar

@Suite struct ValueTests {
    @Test func dateAndDateTimeForms() throws {
        #expect(try DateTimeValue.parse("20260105") == .date(CivilDate(year: 2026, month: 1, day: 5)))
        let local = LocalDateTime(CivilDate(year: 2026, month: 1, day: 5), hour: 9, minute: 30, second: 0)
        #expect(try DateTimeValue.parse("20260105T093000Z") == .dateTime(local, .utc))
        #expect(try DateTimeValue.parse("20260105T093000") == .dateTime(local, .floating))
        #expect(
            try DateTimeValue.parse("20260105T093000", tzid: "Europe/Berlin")
                == .dateTime(local, .zone("Europe/Berlin")))
        #expect(throws: ValueError.self) { try DateTimeValue.parse("20260230") }
        #expect(throws: ValueError.self) { try DateTimeValue.parse("20260105T250000") }
        #expect(throws: ValueError.self) { try DateTimeValue.parse("2026-01-05") }
    }

    @Test func civilDateArithmeticMatchesKnownDays() {
        // 2000-03-01 is day 11017 after the epoch and a Wednesday (2).
        let date = CivilDate(year: 2000, month: 3, day: 1)
        #expect(date.daysSinceEpoch == 11017)
        #expect(date.weekday == 2)
        #expect(CivilDate(daysSinceEpoch: -1) == CivilDate(year: 1969, month: 12, day: 31))
        #expect(CivilDate(year: 1601, month: 1, day: 1).weekday == 0)
    }

    @Test func durations() throws {
        #expect(try Duration.parse("P1W") == Duration(days: 7))
        #expect(try Duration.parse("-PT15M") == Duration(seconds: -900))
        #expect(try Duration.parse("P1DT2H3M4S") == Duration(days: 1, seconds: 7384))
        #expect(Duration(days: 1, seconds: 7384).description == "P1DT2H3M4S")
        #expect(throws: ValueError.self) { try Duration.parse("P") }
        #expect(throws: ValueError.self) { try Duration.parse("PT1D") }
        #expect(throws: ValueError.self) { try Duration.parse("P999999999999999999W") }
    }

    @Test func periodsOffsetsAndGeo() throws {
        let period = try Period.parse("19970101T180000Z/PT5H30M")
        #expect(period.end == .duration(Duration(seconds: 19800)))
        #expect(try UTCOffset.parse("-0500").seconds == -18000)
        #expect(try UTCOffset.parse("+053045").description == "+053045")
        #expect(throws: ValueError.self) { try UTCOffset.parse("0500") }
        #expect(try Geo.parse("37.386013;-122.082932") == Geo(latitude: 37.386013, longitude: -122.082932))
        #expect(throws: ValueError.self) { try Geo.parse("91;0") }
    }

    @Test func base64RoundTrip() throws {
        let bytes: [UInt8] = Array(0...255)
        #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(try Base64.decode("aGVsbG8=") == Array("hello".utf8))
        #expect(throws: ValueError.self) { try Base64.decode("a$b") }
    }

    @Test func recurrenceRuleParsesEveryPart() throws {
        let text =
            "FREQ=MONTHLY;UNTIL=20261231T235959Z;INTERVAL=2;BYSECOND=0;BYMINUTE=30;BYHOUR=9,17;BYDAY=-1FR,2MO;BYMONTHDAY=1,-1;BYYEARDAY=100;BYWEEKNO=20;BYMONTH=1,7;BYSETPOS=-1;WKST=SU"
        let rule = try RecurrenceRule.parse(text)
        #expect(rule.frequency == .monthly)
        #expect(rule.interval == 2)
        #expect(rule.byDay == [.init(4, occurrence: -1), .init(0, occurrence: 2)])
        #expect(rule.byMonthDay == [1, -1])
        #expect(rule.weekStart == 6)
        #expect(try RecurrenceRule.parse(rule.description) == rule)
        #expect(throws: ValueError.self) { try RecurrenceRule.parse("FREQ=DAILY;BYMONTH=13") }
        #expect(throws: ValueError.self) { try RecurrenceRule.parse("INTERVAL=2") }
        #expect(try RecurrenceRule.parse("FREQ=DAILY;COUNT=-1;UNTL=1", lenient: true).count == nil)
    }

    @Test func validatorNamesTheLineOfABadValue() throws {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:2026010\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        let problem = Validator.firstProblem(in: try Component.parse(text))
        #expect(problem?.line == 4)
    }
}

@Suite struct PropertyKeyTests {
    @Test func keysDecodeToTheirTypes() throws {
        let text =
            "BEGIN:VEVENT\r\nUID:a\\,b\r\nDTSTART;TZID=Europe/Berlin:20260105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=2\r\nSEQUENCE:3\r\nDTEND:bad\r\nEND:VEVENT\r\n"
        let event = try Component.parse(text)
        #expect(event[.uid] == "a,b")
        #expect(event[.dtstart]?.reference == .zone("Europe/Berlin"))
        #expect(event[.duration] == Duration(seconds: 3600))
        #expect(event[.rrule]?.count == 2)
        #expect(event[.sequence] == 3)
        #expect(event[.dtend] == nil)
        #expect(throws: ParseError.self) { try event.value(.dtend) }
    }
}
