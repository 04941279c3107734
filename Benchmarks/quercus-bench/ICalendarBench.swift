import Foundation
import ICalendar

/// Parse+print throughput and expansion of 1,000 events (every 10th weekly recurring, 10
/// instances) over a year, against Python `icalendar` + `recurring_ical_events` on the same
/// file in the same run: Python measures its own CPU time per operation in a child process,
/// rounds interleaved with ours.
func benchmarkICalendar(smoke: Bool) -> String {
    let text = benchmarkCalendar(events: 1000)
    let bytes = Array(text.utf8)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("quercus-bench-\(getpid()).ics").path
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let from = Int64(CivilDate(year: 2026, month: 1, day: 1).daysSinceEpoch) * 86400
    let to = Int64(CivilDate(year: 2027, month: 1, day: 1).daysSinceEpoch) * 86400
    let zone: (String) -> [UInt8]? = { name in
        FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name).map { Array($0) }
    }

    func oursParsePrint() -> Int {
        guard let calendars = try? Component.parseAll(bytes) else { return -1 }
        return calendars.reduce(0) { $0 + $1.printedBytes().count }
    }
    // Parsed once, as the Python side does: this measures expansion alone.
    let parsed = try? Component.parse(bytes)
    func oursExpand() -> Int {
        guard let calendar = parsed else { return -1 }
        let expander = Expander(resolver: ZoneResolver(calendar: calendar, systemZone: zone))
        return (try? expander.occurrences(in: calendar, from: from, to: to).count) ?? -1
    }

    // `QUERCUS_BENCH_ICALENDAR_ONLY=parse|expand` runs only ours, 20 times, with no Python: for
    // `valgrind --tool=callgrind`, whose instruction counts are repeatable on this noisy machine.
    if let only = ProcessInfo.processInfo.environment["QUERCUS_BENCH_ICALENDAR_ONLY"] {
        for _ in 0..<20 { consume(only == "parse" ? oursParsePrint() : oursExpand()) }
        return "icalendar: ran ours only (\(only)), 20 times"
    }

    let iterations = smoke ? 1 : 5
    let script = """
        import sys, time, datetime, icalendar, recurring_ical_events
        data = open(sys.argv[1], 'rb').read()
        n = int(sys.argv[2])
        t = time.process_time()
        for _ in range(n): size = len(icalendar.Calendar.from_ical(data).to_ical())
        parse = (time.process_time() - t) / n
        calendar = icalendar.Calendar.from_ical(data)
        utc = datetime.timezone.utc
        t = time.process_time()
        for _ in range(n):
            count = len(recurring_ical_events.of(calendar).between(datetime.datetime(2026, 1, 1, tzinfo=utc), datetime.datetime(2027, 1, 1, tzinfo=utc)))
        expand = (time.process_time() - t) / n
        print(parse, expand, count)
        """
    func python() -> (parse: Double, expand: Double, count: Int)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, String(iterations)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count == 3, let parse = Double(fields[0]),
            let expand = Double(fields[1]), let count = Int(fields[2])
        else { return nil }
        return (parse, expand, count)
    }

    let megabytes = Double(bytes.count) / 1e6
    var parsing = SideBySide(
        name: "icalendar parse+print", unit: "MB/s", baseline: "python icalendar", ours: "ICalendar")
    var expanding = SideBySide(
        name: "icalendar expand 1,000 events over a year", unit: "ms", baseline: "recurring_ical_events",
        ours: "Expander")
    let rounds = smoke ? 1 : 5
    for _ in 0..<rounds {
        guard let peer = python() else {
            return
                "icalendar: FAILED, python3 with icalendar and recurring_ical_events is needed (scripts/ensure-peers)"
        }
        let oursCount = oursExpand()
        guard peer.count == oursCount else {
            return "icalendar: FAILED, recurring_ical_events found \(peer.count) instances, ours \(oursCount)"
        }
        let parseSeconds = cpuNanosecondsPerIteration(iterations: iterations * 4) { consume(oursParsePrint()) } / 1e9
        let expandSeconds = cpuNanosecondsPerIteration(iterations: iterations * 4) { consume(oursExpand()) } / 1e9
        // For MB/s higher is better, so the ratio printed is ours over theirs in speed.
        parsing.record(baseline: megabytes / peer.parse, ours: megabytes / parseSeconds)
        expanding.record(baseline: peer.expand * 1000, ours: expandSeconds * 1000)
    }
    // Our time over theirs is a small number printed to two places; the speed-up says more.
    let speedUp = median(zip(expanding.baseline, expanding.ours).map { $0 / $1 })
    return parsing.report() + " (ratio = speed-up)\n" + expanding.report()
        + " (ratio = our time / theirs, a speed-up of \(String(format: "%.1f", speedUp))x; "
        + "\(String(format: "%.2f", megabytes)) MB file)"
}

/// A calendar like the one BENCHMARKS.md loads into the CalDAV servers: 1,000 events in
/// Europe/Berlin, every 10th weekly recurring with 10 instances.
func benchmarkCalendar(events: Int) -> String {
    var lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Quercus//bench//EN", "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "BEGIN:STANDARD", "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD", "END:VTIMEZONE",
    ]
    for index in 0..<events {
        let day = CivilDate(year: 2026, month: 1, day: 1).adding(days: index * 365 / events)
        let hour = 8 + index % 10
        let start = "\(day)T" + (hour < 10 ? "0" : "") + "\(hour)0000"
        let end = "\(day)T" + (hour + 1 < 10 ? "0" : "") + "\(hour + 1)3000"
        lines += [
            "BEGIN:VEVENT", "UID:event-\(index)@bench.quercus", "DTSTAMP:20260101T000000Z",
            "DTSTART;TZID=Europe/Berlin:\(start)", "DTEND;TZID=Europe/Berlin:\(end)",
            "SUMMARY:Meeting number \(index) about the quarterly planning\\, budgets and the roadmap",
            "DESCRIPTION:Agenda:\\n1. Review of last week\\n2. Open questions\\; decisions\\n3. Next steps for the team an"
                + "d everyone else who joins the call from the other office",
            "LOCATION:Room \(index % 20)",
            "ATTENDEE;CN=\"Person \(index)\";ROLE=REQ-PARTICIPANT:mailto:p\(index)@example.com",
        ]
        if index % 10 == 0 { lines.append("RRULE:FREQ=WEEKLY;COUNT=10") }
        lines.append("END:VEVENT")
    }
    lines.append("END:VCALENDAR")
    return lines.joined(separator: "\r\n") + "\r\n"
}
