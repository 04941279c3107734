import Foundation
import Testing

@testable import ICalendar

/// Expected instances come from the examples in RFC 5545 §3.8.5.3, not from this code.
@Suite struct RecurrenceTests {
    func dates(_ rule: String, from start: String, limit: Int = 60) throws -> [String] {
        let first = try DateTimeValue.parse(Substring(start)).local
        let parsed = try RecurrenceRule.parse(rule)
        let until = parsed.until?.local
        let iterator = RecurrenceIterator(
            rule: parsed, start: first, isAfterUntil: until.map { limit in { $0 > limit } })
        return iterator.prefix(limit).map(\.description)
    }

    @Test func dailyForTenOccurrences() throws {
        #expect(
            try dates("FREQ=DAILY;COUNT=10", from: "19970902T090000")
                == (2...11).map { "199709\($0 < 10 ? "0" : "")\($0)T090000" })
    }

    @Test func monthlyOnTheFirstFriday() throws {
        #expect(
            try dates("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", from: "19970905T090000").map { String($0.prefix(8)) } == [
                "19970905", "19971003", "19971107", "19971205", "19980102", "19980206", "19980306", "19980403",
                "19980501", "19980605",
            ])
    }

    @Test func everyOtherWeekWithWeekStartSunday() throws {
        let days = try dates(
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR", from: "19970901T090000"
        )
        .map { String($0.prefix(8)) }
        #expect(
            days == [
                "19970901", "19970903", "19970905", "19970915", "19970917", "19970919", "19970929", "19971001",
                "19971003", "19971013", "19971015", "19971017", "19971027", "19971029", "19971031", "19971110",
                "19971112", "19971114", "19971124", "19971126", "19971128", "19971208", "19971210", "19971212",
                "19971222",
            ])
    }

    @Test func weekStartChangesTheResult() throws {
        #expect(
            try dates("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", from: "19970805T090000").map {
                String($0.prefix(8))
            }
                == ["19970805", "19970810", "19970819", "19970824"])
        #expect(
            try dates("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", from: "19970805T090000").map {
                String($0.prefix(8))
            }
                == ["19970805", "19970817", "19970819", "19970831"])
    }

    @Test func lastWorkDayOfTheMonthWithSetPosition() throws {
        #expect(
            try dates("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", from: "19970929T090000", limit: 7).map {
                String($0.prefix(8))
            } == ["19970930", "19971031", "19971128", "19971231", "19980130", "19980227", "19980331"])
        #expect(
            try dates("FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", from: "19970904T090000").map {
                String($0.prefix(8))
            }
                == ["19970904", "19971007", "19971106"])
    }

    @Test func invalidDatesAreSkipped() throws {
        #expect(
            try dates("FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", from: "20070115T090000").map { String($0.prefix(8)) }
                == ["20070115", "20070130", "20070215", "20070315", "20070330"])
    }

    @Test func weekNumbersYearDaysAndOrdinals() throws {
        #expect(
            try dates("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", from: "19970512T090000", limit: 3).map {
                String($0.prefix(8))
            }
                == ["19970512", "19980511", "19990517"])
        #expect(
            try dates("FREQ=YEARLY;BYDAY=20MO", from: "19970519T090000", limit: 3).map { String($0.prefix(8)) }
                == ["19970519", "19980518", "19990517"])
        #expect(
            try dates("FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", from: "19970101T090000").map {
                String($0.prefix(8))
            } == [
                "19970101", "19970410", "19970719", "20000101", "20000409", "20000718", "20030101", "20030410",
                "20030719", "20060101",
            ])
        #expect(
            try dates(
                "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", from: "19961105T090000", limit: 3
            )
            .map { String($0.prefix(8)) } == ["19961105", "20001107", "20041102"])
    }

    @Test func fridayTheThirteenth() throws {
        let days = try dates("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", from: "19970902T090000", limit: 5).map {
            String($0.prefix(8))
        }
        #expect(days == ["19980213", "19980313", "19981113", "19990813", "20001013"])
    }

    @Test func subDailyFrequencies() throws {
        #expect(
            try dates("FREQ=MINUTELY;INTERVAL=15;COUNT=6", from: "19970902T090000").map { String($0.suffix(6)) }
                == ["090000", "091500", "093000", "094500", "100000", "101500"])
        let everyTwenty = try dates(
            "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", from: "19970902T090000", limit: 25)
        #expect(everyTwenty.count == 25)
        #expect(everyTwenty[23] == "19970902T164000")
        #expect(everyTwenty[24] == "19970903T090000")
        #expect(
            try dates("FREQ=MINUTELY;INTERVAL=90;COUNT=4", from: "19970902T090000").map { String($0.suffix(6)) }
                == ["090000", "103000", "120000", "133000"])
    }

    @Test func leapSecondsAreSkippedNotDoubled() throws {
        // Found by fuzz-icalendar-recurrence: second 60 of one minute collided with second 0 of the next.
        #expect(
            try dates("FREQ=MINUTELY;COUNT=3;BYSECOND=0,60", from: "20260101T002000").map { String($0.suffix(6)) }
                == ["002000", "002100", "002200"])
        #expect(try dates("FREQ=DAILY;BYSECOND=60", from: "20260101T002000").isEmpty)
        // A leap-second DTSTART recurs as second 59 instead of carrying into hour 24.
        #expect(try dates("FREQ=DAILY;COUNT=2", from: "20261231T235960") == ["20261231T235959", "20270101T235959"])
    }

    @Test func pathologicalRulesCostBoundedWork() throws {
        let start = LocalDateTime(CivilDate(year: 2026, month: 1, day: 1), hour: 9)
        // COUNT of billions: only what is consumed is computed.
        let billions = RecurrenceIterator(
            rule: try RecurrenceRule.parse("FREQ=SECONDLY;COUNT=4000000000"), start: start)
        #expect(Array(billions.prefix(3)).count == 3)
        // A rule that can never match ends at the horizon, or after the empty-period cap without one.
        let never = try RecurrenceRule.parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
        #expect(
            Array(RecurrenceIterator(rule: never, start: start, horizon: CivilDate(year: 2030, month: 1, day: 1)))
                .isEmpty)
        #expect(Array(RecurrenceIterator(rule: never, start: start)).isEmpty)
        // A huge BYSETPOS set picks from a year of seconds without building it.
        let huge = try RecurrenceRule.parse(
            "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + (0...23).map(String.init).joined(separator: ",")
                + ";BYMINUTE=" + (0...59).map(String.init).joined(separator: ",") + ";BYSECOND="
                + (0...59).map(String.init).joined(separator: ",") + ";BYSETPOS=1,-1;COUNT=4")
        #expect(
            RecurrenceIterator(rule: huge, start: start).map(\.description) == [
                "20261231T235959", "20270101T000000", "20271231T235959", "20280101T000000",
            ])
        // UNTIL before DTSTART: nothing.
        let until = try RecurrenceRule.parse("FREQ=DAILY;UNTIL=20250101T000000")
        let limit = LocalDateTime(CivilDate(year: 2025, month: 1, day: 1))
        #expect(Array(RecurrenceIterator(rule: until, start: start, isAfterUntil: { $0 > limit })).isEmpty)
    }
}

/// Zones: offsets from the system tz database (TZif) and from VTIMEZONE rules must agree, and
/// local times in DST gaps and overlaps resolve as RFC 5545 §3.3.5 says.
@Suite struct TimeZoneTests {
    static func systemZone(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name).map { Array($0) }
    }

    let newYork = """
        BEGIN:VCALENDAR\r
        BEGIN:VTIMEZONE\r
        TZID:America/New_York-custom\r
        BEGIN:DAYLIGHT\r
        DTSTART:20070311T020000\r
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r
        TZOFFSETFROM:-0500\r
        TZOFFSETTO:-0400\r
        END:DAYLIGHT\r
        BEGIN:STANDARD\r
        DTSTART:20071104T020000\r
        RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r
        TZOFFSETFROM:-0400\r
        TZOFFSETTO:-0500\r
        END:STANDARD\r
        END:VTIMEZONE\r
        END:VCALENDAR\r

        """

    @Test func vtimezoneRulesAgreeWithTheTzDatabase() throws {
        let calendar = try Component.parse(newYork)
        let fromRules = try ZoneTable(vtimezone: try #require(calendar.components.first))
        let fromTZif = try ZoneTable(tzif: try #require(Self.systemZone("America/New_York")))
        var instant = CivilDate(year: 2008, month: 1, day: 1).daysSinceEpoch * 86400
        let end = CivilDate(year: 2060, month: 1, day: 1).daysSinceEpoch * 86400
        while instant < end {
            #expect(fromRules.offset(at: Int64(instant)) == fromTZif.offset(at: Int64(instant)))
            instant += 3 * 3600 + 17
        }
    }

    @Test func gapsAndOverlaps() throws {
        let zone = try ZoneTable(tzif: try #require(Self.systemZone("America/New_York")))
        // 2026-03-08 02:30 does not exist: read with the offset before the gap, it is 07:30Z.
        let gap = LocalDateTime(CivilDate(year: 2026, month: 3, day: 8), hour: 2, minute: 30)
        #expect(Instant(seconds: zone.instant(for: gap)).description == "20260308T073000Z")
        // 2026-11-01 01:30 happens twice: the first (EDT) is meant.
        let overlap = LocalDateTime(CivilDate(year: 2026, month: 11, day: 1), hour: 1, minute: 30)
        #expect(Instant(seconds: zone.instant(for: overlap)).description == "20261101T053000Z")
        let summer = LocalDateTime(CivilDate(year: 2026, month: 7, day: 1), hour: 12)
        #expect(Instant(seconds: zone.instant(for: summer)).description == "20260701T160000Z")
    }

    @Test func posixFooterGivesFutureTransitions() throws {
        let zone = try ZoneTable(tzif: try #require(Self.systemZone("Europe/Berlin")))
        let winter = LocalDateTime(CivilDate(year: 2150, month: 1, day: 15), hour: 12)
        let summer = LocalDateTime(CivilDate(year: 2150, month: 7, day: 15), hour: 12)
        #expect(zone.offset(at: winter.secondsSinceEpoch) == 3600)
        #expect(zone.offset(at: summer.secondsSinceEpoch) == 7200)
    }

    @Test func expansionAcrossDaylightSavingKeepsTheWallClock() throws {
        let text = """
            BEGIN:VCALENDAR\r
            BEGIN:VEVENT\r
            UID:standup\r
            DTSTART;TZID=America/New_York:20261030T090000\r
            DURATION:PT15M\r
            RRULE:FREQ=DAILY;COUNT=4\r
            EXDATE;TZID=America/New_York:20261031T090000\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:standup\r
            RECURRENCE-ID;TZID=America/New_York:20261102T090000\r
            DTSTART;TZID=America/New_York:20261102T100000\r
            DURATION:PT15M\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        let calendar = try Component.parse(text)
        let expander = Expander(resolver: ZoneResolver(calendar: calendar, systemZone: Self.systemZone))
        let from = CivilDate(year: 2026, month: 10, day: 1).daysSinceEpoch * 86400
        let to = CivilDate(year: 2026, month: 12, day: 1).daysSinceEpoch * 86400
        let occurrences = try expander.occurrences(in: calendar, from: Int64(from), to: Int64(to))
        #expect(
            occurrences.map {
                "\(Instant(seconds: $0.start))" + ($0.recurrenceID.map { " \(Instant(seconds: $0))" } ?? "")
            } == [
                "20261030T130000Z", "20261101T140000Z", "20261102T150000Z 20261102T140000Z",
            ])
    }

    @Test func thisAndFutureMovesLaterInstances() throws {
        let text = """
            BEGIN:VCALENDAR\r
            BEGIN:VEVENT\r
            UID:weekly\r
            DTSTART:20260105T090000Z\r
            DTEND:20260105T100000Z\r
            RRULE:FREQ=WEEKLY;COUNT=4\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:weekly\r
            RECURRENCE-ID;RANGE=THISANDFUTURE:20260112T090000Z\r
            DTSTART:20260112T110000Z\r
            DTEND:20260112T113000Z\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        let calendar = try Component.parse(text)
        let occurrences = try Expander(resolver: ZoneResolver(calendar: calendar)).occurrences(
            in: calendar, from: 0, to: Int64(CivilDate(year: 2027, month: 1, day: 1).daysSinceEpoch) * 86400)
        #expect(
            occurrences.map { "\(Instant(seconds: $0.start))-\(Instant(seconds: $0.end))" } == [
                "20260105T090000Z-20260105T100000Z", "20260112T110000Z-20260112T113000Z",
                "20260119T110000Z-20260119T113000Z", "20260126T110000Z-20260126T113000Z",
            ])
    }

    @Test func freeBusyFollowsRFC4791() throws {
        let text = """
            BEGIN:VCALENDAR\r
            BEGIN:VEVENT\r
            UID:a\r
            DTSTART:20260105T090000Z\r
            DTEND:20260105T100000Z\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:b\r
            DTSTART:20260105T093000Z\r
            DTEND:20260105T110000Z\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:c\r
            DTSTART:20260105T120000Z\r
            DTEND:20260105T130000Z\r
            STATUS:TENTATIVE\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:d\r
            DTSTART:20260105T140000Z\r
            DTEND:20260105T150000Z\r
            TRANSP:TRANSPARENT\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:e\r
            DTSTART:20260105T160000Z\r
            DTEND:20260105T170000Z\r
            STATUS:CANCELLED\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        let calendar = try Component.parse(text)
        let day = Int64(CivilDate(year: 2026, month: 1, day: 5).daysSinceEpoch) * 86400
        let periods = try FreeBusy.periods(
            in: calendar, from: day, to: day + 86400, expander: Expander(resolver: ZoneResolver(calendar: calendar)))
        let merged = FreeBusy.merge(periods)
        #expect(
            merged.map { "\(Instant(seconds: $0.start))/\(Instant(seconds: $0.end)) \($0.type)" } == [
                "20260105T090000Z/20260105T110000Z BUSY", "20260105T120000Z/20260105T130000Z BUSY-TENTATIVE",
            ])
    }
}
