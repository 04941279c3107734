import Foundation
import ICalendar
import TestSupport
import Testing

/// iCalendar and vCard against the Python implementations people use: the `icalendar`,
/// `recurring-ical-events`, `python-dateutil` and `vobject` packages from PyPI, over the .ics
/// files the first two ship with their tests plus generated rules and cards.
@Suite(.serialized) struct ICalendarInteropTests {
    static func systemZone(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name).map { Array($0) }
    }

    /// Every .ics file shipped inside the installed icalendar and recurring_ical_events packages.
    func corpus(_ python: String) throws -> [String] {
        let script = """
            import os, icalendar, recurring_ical_events
            for module in (icalendar, recurring_ical_events):
                for folder, _, files in os.walk(os.path.dirname(module.__file__)):
                    for name in sorted(files):
                        if name.endswith('.ics'): print(os.path.join(folder, name))
            """
        let result = try run(python, ["-c", script])
        try #require(result.status == 0, "\(result.stderr)")
        let files = result.stdout.split(separator: "\n").map(String.init).sorted()
        try #require(files.count > 200, "expected the packages' test calendars, found \(files.count) files")
        return files
    }

    /// Files the peer reads differently on purpose or by a quirk we do not copy; each says why.
    static let knownExpansionDifferences: [String: String] = [
        "issue_1633_rdate_with_dates.ics": "RDATE;VALUE=PERIOD of bare dates: the peer starts them at midnight",
        "issue_1633_rdate_with_dates_and_tzid.ics": "the same, with a TZID on the dates",
        "issue_313_globally_unique_tzid.ics": "the peer guesses an IANA zone from a multi-part vendor TZID",
        "issue_526_calendar_with_events.ics": "TZID 'Western/Central Europe' with no VTIMEZONE: the peer guesses CET",
        "issue_526_calendar_with_event_subset.ics": "the same",
        "issue_526_calendar_with_shuffeled_events.ics": "the same",
        "issue_526_calendar_with_different_events.ics": "the same",
        "issue_132_swapped_start_and_end.ics": "an override with its end before its start: the peer keeps both",
        "issue_28_rrule_with_UTC_endinginZ.ics": "all-day series with UTC UNTIL: the peer compares UNTIL in local time",
        "issue_75_range_parameter.ics": "the peer ends a THISANDFUTURE series where the next override begins",
    ]

    @Test func everyShippedCalendarParsesAndPrintsBackAsTheSameCalendar() throws {
        let python = try Peer.python(module: "icalendar", pypi: "icalendar")
        try Peer.python(module: "recurring_ical_events", pypi: "recurring-ical-events")
        let files = try corpus(python)
        let directory = try TemporaryDirectory("ical-roundtrip")
        defer { directory.remove() }
        var pairs = ""
        for (index, file) in files.enumerated() {
            let bytes = try #require(FileManager.default.contents(atPath: file))
            let strict = try? Component.parseAll(Array(bytes), mode: .strict)
            let components: [Component]
            do {
                components = try strict ?? Component.parseAll(Array(bytes), mode: .lenient)
            } catch {
                Issue.record("\(file): \(error)")
                continue
            }
            let printed = components.flatMap { $0.printedBytes() }
            // Printing is lossless: what we print parses to the same components, and where the
            // input was strictly valid, so is what we print.
            #expect(try Component.parseAll(printed, mode: strict == nil ? .lenient : .strict) == components, "\(file)")
            let output = directory.file("\(index).ics")
            try Data(printed).write(to: URL(fileURLWithPath: output))
            pairs += "\(file)\t\(output)\n"
        }
        let list = try directory.write("pairs.txt", pairs)
        let script = """
            import sys, icalendar, warnings
            warnings.simplefilter('ignore')
            same = 0
            for line in open(sys.argv[1]):
                original, printed = line.rstrip('\\n').split('\\t')
                try:
                    theirs = icalendar.Calendar.from_ical(open(original, 'rb').read(), multiple=True)
                except Exception:
                    print('UNREADABLE', original); continue
                if not theirs:
                    print('UNREADABLE', original); continue
                ours = icalendar.Calendar.from_ical(open(printed, 'rb').read(), multiple=True)
                if [c.to_ical() for c in theirs] == [c.to_ical() for c in ours]: same += 1
                else: print('DIFFERENT', original)
            print('SAME', same)
            """
        let result = try run(python, ["-c", script, list], timeout: 300)
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("DIFFERENT") }.isEmpty, "\(lines.filter { $0.hasPrefix("DIFFERENT") })")
        let same = lines.last { $0.hasPrefix("SAME") }.flatMap { Int($0.dropFirst(5)) } ?? 0
        // The few the peer itself cannot read (unclosed VCALENDAR …) are the only ones not compared.
        #expect(same + lines.filter { $0.hasPrefix("UNREADABLE") }.count == files.count)
        #expect(same > 240)
    }

    @Test func instancesMatchRecurringIcalEventsOverTheCorpus() throws {
        let python = try Peer.python(module: "recurring_ical_events", pypi: "recurring-ical-events")
        let files = try corpus(python)
        let list = try TemporaryDirectory("ical-expand")
        defer { list.remove() }
        let fileList = try list.write("files.txt", files.joined(separator: "\n"))
        // Three windows per file: the year of its first event, the 19 months after, and January 2026.
        let script = #"""
            import sys, icalendar, recurring_ical_events, datetime, warnings
            warnings.simplefilter('ignore')
            UTC = datetime.timezone.utc
            def utc(value):
                if isinstance(value, datetime.datetime):
                    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
                return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC)
            for path in open(sys.argv[1]).read().split('\n'):
                try:
                    calendar = icalendar.Calendar.from_ical(open(path, 'rb').read())
                    starts = [utc(c['DTSTART'].dt) for c in calendar.walk()
                              if c.name in ('VEVENT', 'VTODO', 'VJOURNAL') and c.get('DTSTART') is not None]
                except Exception:
                    continue
                if not starts: continue
                y = min(starts).year
                for start, end in ((datetime.datetime(y, 1, 1, tzinfo=UTC), datetime.datetime(y + 1, 1, 1, tzinfo=UTC)),
                                   (datetime.datetime(y + 1, 6, 1, tzinfo=UTC), datetime.datetime(y + 3, 1, 1, tzinfo=UTC)),
                                   (datetime.datetime(2026, 1, 1, tzinfo=UTC), datetime.datetime(2026, 2, 1, tzinfo=UTC))):
                    try:
                        found = recurring_ical_events.of(calendar, components=['VEVENT', 'VTODO', 'VJOURNAL']).between(start, end)
                        lines = [f"{e.get('UID', '')}|{utc(e['DTSTART'].dt):%Y%m%dT%H%M%SZ}" if e.get('DTSTART') is not None
                                 else f"{e.get('UID', '')}|19700101T000000Z" for e in found]
                    except Exception:
                        continue
                    print('\t'.join([path, f'{start:%Y%m%dT%H%M%SZ}', f'{end:%Y%m%dT%H%M%SZ}'] + sorted(lines)))
            """#
        let result = try run(python, ["-c", script, fileList], timeout: 300)
        try #require(result.status == 0, "\(result.stderr)")
        var agreed = 0
        var known = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { continue }
            let path = fields[0]
            let from = try DateTimeValue.parse(Substring(fields[1])).local.secondsSinceEpoch
            let to = try DateTimeValue.parse(Substring(fields[2])).local.secondsSinceEpoch
            let bytes = try #require(FileManager.default.contents(atPath: path))
            let calendar = try #require(try Component.parseAll(Array(bytes), mode: .lenient).first)
            let expander = Expander(resolver: ZoneResolver(calendar: calendar, systemZone: Self.systemZone))
            let ours = try expander.occurrences(in: calendar, from: from, to: to).map {
                "\($0.uid)|\(Instant(seconds: $0.start))"
            }.sorted()
            let theirs = Array(fields.dropFirst(3)).sorted()
            let name = String(path.split(separator: "/").last ?? "")
            if ours == theirs {
                agreed += 1
            } else if Self.knownExpansionDifferences[name] != nil {
                known += 1
            } else {
                Issue.record("\(name) \(fields[1])–\(fields[2]): ours \(ours.prefix(5)) theirs \(theirs.prefix(5))")
            }
        }
        #expect(agreed > 450, "only \(agreed) windows agree (\(known) known differences)")
        #expect(known <= Self.knownExpansionDifferences.count * 3)
    }

    @Test func generatedRulesMatchDateutil() throws {
        let python = try Peer.python(module: "dateutil.rrule", pypi: "python-dateutil")
        // Random rules over every part, each with the instances dateutil computes in a window
        // sized to the frequency; rules dateutil rejects are left out.
        let script = #"""
            import random, datetime
            from dateutil import rrule
            random.seed(7)
            DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']
            SPAN = {'YEARLY': 3650 * 3, 'MONTHLY': 3650, 'WEEKLY': 730, 'DAILY': 400, 'HOURLY': 20, 'MINUTELY': 2, 'SECONDLY': 0.05}
            def pick(values, most=3):
                return ','.join(str(v) for v in random.sample(values, random.randint(1, most)))
            import signal
            def give_up(*_): raise TimeoutError()
            signal.signal(signal.SIGALRM, give_up)
            # The test runner may hand its children a blocked SIGALRM.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGALRM])
            count = 0
            while count < 400:
                freq = random.choice(list(SPAN))
                parts = [f'FREQ={freq}']
                if random.random() < 0.4: parts.append(f'INTERVAL={random.randint(2, 5)}')
                if random.random() < 0.3: parts.append(f'BYMONTH={pick(list(range(1, 13)))}')
                # At most one of the day-of-year parts, or most rules would never match.
                day_part = random.random()
                if day_part < 0.15: parts.append(f'BYWEEKNO={pick(list(range(-53, 0)) + list(range(1, 54)), 4)}')
                elif day_part < 0.3: parts.append(f'BYYEARDAY={pick(list(range(-366, 0)) + list(range(1, 367)), 6)}')
                elif day_part < 0.6: parts.append(f'BYMONTHDAY={pick(list(range(-31, 0)) + list(range(1, 32)))}')
                if random.random() < 0.4:
                    ordinal = freq in ('MONTHLY', 'YEARLY') and random.random() < 0.5
                    parts.append('BYDAY=' + ','.join((str(random.choice([-2, -1, 1, 2, 3])) if ordinal else '') + d
                                                       for d in random.sample(DAYS, random.randint(1, 3))))
                if random.random() < 0.3: parts.append(f'BYHOUR={pick(list(range(24)))}')
                if random.random() < 0.3: parts.append(f'BYMINUTE={pick(list(range(60)))}')
                if random.random() < 0.2: parts.append(f'BYSECOND={pick(list(range(60)))}')
                if random.random() < 0.2: parts.append(f'BYSETPOS={pick([-3, -2, -1, 1, 2, 3], 2)}')
                if random.random() < 0.3: parts.append(f"WKST={random.choice(DAYS)}")
                if random.random() < 0.3: parts.append(f'COUNT={random.randint(1, 30)}')
                text = ';'.join(parts)
                start = datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=random.randint(0, 3 * 365 * 86400))
                end = start + datetime.timedelta(days=SPAN[freq])
                # dateutil walks to year 9999 for a rule that never matches; such rules are skipped.
                signal.setitimer(signal.ITIMER_REAL, 0.1)
                try:
                    found = rrule.rrulestr('RRULE:' + text, dtstart=start).between(start, end, inc=True)
                except (ValueError, TimeoutError):
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                count += 1
                print('\t'.join([text, f'{start:%Y%m%dT%H%M%S}', f'{end:%Y%m%dT%H%M%S}'] + [f'{d:%Y%m%dT%H%M%S}' for d in found[:200]]))
            """#
        let result = try run(python, ["-c", script], timeout: 900)
        try #require(result.status == 0, "\(result.stderr)")
        var compared = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { continue }
            let rule = try RecurrenceRule.parse(fields[0])
            let start = try DateTimeValue.parse(Substring(fields[1])).local
            let end = try DateTimeValue.parse(Substring(fields[2])).local
            let theirs = Array(fields.dropFirst(3))
            var ours: [String] = []
            for instant in RecurrenceIterator(rule: rule, start: start, horizon: end.date) {
                if instant > end || ours.count == 200 { break }
                ours.append(instant.description)
            }
            #expect(ours == theirs, "\(fields[0]) from \(fields[1])")
            compared += 1
        }
        #expect(compared == 400)
    }

    @Test func vCardsRoundTripThroughVobject() throws {
        let python = try Peer.python(module: "vobject", pypi: "vobject")
        // Cards as Apple Contacts (3.0, groups, base64 photo), Google (3.0), Outlook (2.1,
        // quoted-printable) and RFC 6350 (4.0) write them, plus cards vobject itself serializes.
        let cards = [
            "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\nN:Appleseed;Johnny;;;\r\nFN:Johnny Appleseed\r\nORG:Apple Inc.;\r\nitem1.EMAIL;type=INTERNET;type=pref:johnny@example.com\r\nitem1.X-ABLabel:_$!<Other>!$_\r\nTEL;type=CELL;type=VOICE;type=pref:+1 (555) 555-0100\r\nitem2.ADR;type=HOME;type=pref:;;1 Infinite Loop;Cupertino;CA;95014;United States\r\nitem2.X-ABADR:us\r\nNOTE:Line one\\nLine two\\, with comma\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/\r\nBDAY:1980-05-04\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane Doe\r\nN:Doe;Jane;;;\r\nEMAIL;TYPE=INTERNET;TYPE=WORK:jane@example.org\r\nTEL;TYPE=WORK:+49 30 1234567\r\nURL:https://example.org/~jane\r\nCATEGORIES:friends,work\r\nX-SOCIALPROFILE;TYPE=twitter:https://twitter.com/jane\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Müller;Jürgen\r\nFN:Jürgen Müller\r\nTEL;WORK;VOICE:+49 89 1234\r\nADR;WORK;ENCODING=QUOTED-PRINTABLE:;;Hauptstra=C3=9Fe 1;M=C3=BCnchen;;80331;Germany\r\nEND:VCARD\r\n",
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Simon Perreault\r\nN:Perreault;Simon;;;ing. jr,M.Sc.\r\nBDAY:--0203\r\nGENDER:M\r\nLANG;PREF=1:fr\r\nLANG;PREF=2:en\r\nORG;TYPE=work:Viagenie\r\nADR;TYPE=work;LABEL=\"Simon Perreault\\n2875 boul. Laurier, suite D2-630\\nQuebec, Canada\":;Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada\r\nTEL;VALUE=uri;TYPE=\"work,voice\";PREF=1:tel:+1-418-656-9254;ext=102\r\nEMAIL;TYPE=work:simon.perreault@viagenie.ca\r\nGEO;TYPE=work:geo:46.772673,-71.282945\r\nKEY;TYPE=work;VALUE=uri:http://www.viagenie.ca/simon.perreault/simon.asc\r\nTZ:-0500\r\nEND:VCARD\r\n",
        ]
        let directory = try TemporaryDirectory("vcard-roundtrip")
        defer { directory.remove() }
        let generated = try run(
            python,
            [
                "-c",
                """
                import vobject
                for i in range(20):
                    card = vobject.vCard()
                    card.add('n').value = vobject.vcard.Name(family=f'Family{i}', given='Given; with, punctuation')
                    card.add('fn').value = f'Person {i} ünïcödé ' + 'long ' * i
                    email = card.add('email'); email.value = f'p{i}@example.com'; email.type_param = 'INTERNET'
                    card.add('note').value = 'first line\\nsecond, line; end'
                    card.add('adr').value = vobject.vcard.Address(street=f'{i} Main St', city='Town', country='Land')
                    print(card.serialize(), end='')
                """,
            ])
        try #require(generated.status == 0, "\(generated.stderr)")
        var pairs = ""
        for (index, card) in (cards + [generated.stdout]).enumerated() {
            let original = try directory.write("\(index).vcf", card)
            let parsed = try Component.parseAll(card, mode: .lenient)
            let printed = try directory.write("\(index)-ours.vcf", parsed.map { $0.printed() }.joined())
            // Ours is lossless on its own terms: the printed text parses to the same components.
            #expect(try Component.parseAll(String(contentsOfFile: printed, encoding: .utf8), mode: .lenient) == parsed)
            pairs += "\(original)\t\(printed)\n"
        }
        let list = try directory.write("pairs.txt", pairs)
        let compare = """
            import sys, vobject
            for line in open(sys.argv[1]):
                original, printed = line.rstrip('\\n').split('\\t')
                theirs = [c.serialize() for c in vobject.readComponents(open(original, encoding='utf-8').read())]
                ours = [c.serialize() for c in vobject.readComponents(open(printed, encoding='utf-8').read())]
                print('SAME' if theirs == ours and theirs else 'DIFFERENT', original, len(theirs))
            """
        let result = try run(python, ["-c", compare, list])
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == cards.count + 1)
        for line in lines { #expect(line.hasPrefix("SAME"), "\(line)") }
    }

    @Test func commandLineExpandAndCheck() throws {
        let python = try Peer.python(module: "recurring_ical_events", pypi: "recurring-ical-events")
        let tool = try Product.path("quercus-ical")
        let directory = try TemporaryDirectory("ical-cli")
        defer { directory.remove() }
        let file = try directory.write(
            "team.ics",
            """
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//Quercus tests//EN\r
            BEGIN:VEVENT\r
            UID:standup\r
            DTSTART;TZID=Europe/Berlin:20260105T091500\r
            DURATION:PT15M\r
            RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260601T000000Z\r
            EXDATE;TZID=Europe/Berlin:20260107T091500\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:standup\r
            RECURRENCE-ID;TZID=Europe/Berlin:20260330T091500\r
            DTSTART;TZID=Europe/Berlin:20260330T110000\r
            DURATION:PT15M\r
            END:VEVENT\r
            BEGIN:VEVENT\r
            UID:review\r
            DTSTART;TZID=America/New_York:20260131T160000\r
            DTEND;TZID=America/New_York:20260131T170000\r
            RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=12\r
            END:VEVENT\r
            END:VCALENDAR\r

            """)
        let ours = try run(tool, ["expand", file, "--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z"])
        #expect(ours.status == 0, "\(ours.stderr)")
        let script = """
            import sys, icalendar, recurring_ical_events, datetime
            UTC = datetime.timezone.utc
            calendar = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
            events = recurring_ical_events.of(calendar).between(datetime.datetime(2026, 1, 1, tzinfo=UTC), datetime.datetime(2027, 1, 1, tzinfo=UTC))
            rows = sorted((e['DTSTART'].dt.astimezone(UTC), str(e['UID']), e.get('RECURRENCE-ID')) for e in events)
            for start, uid, rid in rows:
                print(uid, f'{start:%Y%m%dT%H%M%SZ}' + ('' if rid is None or start == rid.dt.astimezone(UTC) else ' ' + f'{rid.dt.astimezone(UTC):%Y%m%dT%H%M%SZ}'))
            """
        let theirs = try run(python, ["-c", script, file])
        try #require(theirs.status == 0, "\(theirs.stderr)")
        #expect(ours.stdout.split(separator: "\n").count > 60)
        #expect(ours.stdout == theirs.stdout)

        let broken = try directory.write(
            "broken.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026-01-05\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        let check = try run(tool, ["check", broken])
        #expect(check.status == 1)
        #expect(check.stderr.contains("line 3"), "\(check.stderr)")
        #expect(try run(tool, ["check", file]).status == 0)
        #expect(try run(tool, ["expand", file, "--from", "yesterday", "--to", "2027"]).status == 64)
    }
}
