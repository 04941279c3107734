/// Lazily produces the wall-clock start times a rule generates from a first start, in order.
///
/// Work is proportional to what is consumed: each call to `next()` looks at one frequency period
/// (a year for YEARLY, a day for DAILY …) at a time and never materialises more than one
/// period's days. A `horizon` stops the walk once periods begin after it, so a rule that matches
/// nothing (BYMONTH=2;BYMONTHDAY=30) costs only the periods up to the horizon; without one the
/// walk ends at year 9999 or after `maximumEmptyPeriods` periods in a row without an instance.
///
/// The period walk and the BY* filters follow RFC 5545 §3.3.10 in the formulation of the
/// dateutil package (whose results the differential tests compare against): BY* parts of a finer
/// unit than FREQ expand, the others limit, BYSETPOS picks from each period's sorted set.
public struct RecurrenceIterator: IteratorProtocol, Sequence {
    public static let maximumEmptyPeriods = 500_000

    private let rule: RecurrenceRule
    private let start: LocalDateTime
    private let isAfterUntil: ((LocalDateTime) -> Bool)?
    private let horizon: CivilDate?

    // The rule with RFC 5545's defaults filled in and its sets turned into lookup tables.
    private var months = [Bool](repeating: false, count: 13)
    private var hasMonths = false
    private var weekdays = [Bool](repeating: false, count: 7)
    private var hasWeekdays = false
    private var nthWeekdays: [RecurrenceRule.WeekdayNumber] = []
    private var monthDays = [Bool](repeating: false, count: 32)
    private var negativeMonthDays = [Bool](repeating: false, count: 32)
    private var hasMonthDays = false
    private var yearDays = [Bool](repeating: false, count: 367)
    private var negativeYearDays = [Bool](repeating: false, count: 367)
    private var hasYearDays = false
    private var hours: [Int] = []
    private var minutes: [Int] = []
    private var seconds: [Int] = []
    private var fixedTimes: [Int] = []

    // The current period.
    private var year: Int
    private var month: Int
    private var day: Int
    private var hour: Int
    private var minute: Int
    private var second: Int
    private var info = YearInfo()
    private var nthMonthKey = (year: 0, month: 0)
    private var nthMask: [Bool] = []

    // What the current period produced and how far it has been handed out.
    private var periodDays: [Int] = []
    private var periodTimes: [Int] = []
    private var positioned: [LocalDateTime] = []
    private var usesPositions = false
    private var dayCursor = 0
    private var timeCursor = 0
    private var periodBuilt = false
    private var filteredDay = false

    private var remaining: Int?
    private var finished = false
    private var emptyPeriods = 0

    /// - Parameters:
    ///   - isAfterUntil: says whether a wall-clock candidate lies after the rule's UNTIL; the
    ///     caller supplies it because comparing needs the start's time zone.
    ///   - horizon: the last date whose periods are worth looking at.
    public init(
        rule: RecurrenceRule, start: LocalDateTime, isAfterUntil: ((LocalDateTime) -> Bool)? = nil,
        horizon: CivilDate? = nil
    ) {
        self.rule = rule
        // A leap-second start (second 60) would carry into hour 24; it recurs as second 59.
        let start =
            start.second == 60 ? LocalDateTime(start.date, hour: start.hour, minute: start.minute, second: 59) : start
        self.start = start
        self.isAfterUntil = isAfterUntil
        self.horizon = horizon
        year = start.date.year
        month = start.date.month
        day = start.date.day
        hour = start.hour
        minute = start.minute
        second = start.second
        remaining = rule.count
        if rule.count == 0 { finished = true }
        prepare()
    }

    private mutating func prepare() {
        let frequency = rule.frequency
        var byMonth = rule.byMonth
        var byMonthDay = rule.byMonthDay
        var byDay = rule.byDay
        if rule.byWeekNumber.isEmpty && rule.byYearDay.isEmpty && rule.byMonthDay.isEmpty && rule.byDay.isEmpty {
            switch frequency {
            case .yearly:
                if byMonth.isEmpty { byMonth = [start.date.month] }
                byMonthDay = [start.date.day]
            case .monthly:
                byMonthDay = [start.date.day]
            case .weekly:
                byDay = [RecurrenceRule.WeekdayNumber(start.date.weekday)]
            default:
                break
            }
        }
        for value in byMonth { months[value] = true }
        hasMonths = !byMonth.isEmpty
        for value in byMonthDay {
            if value > 0 { monthDays[value] = true } else { negativeMonthDays[-value] = true }
        }
        hasMonthDays = !byMonthDay.isEmpty
        for value in rule.byYearDay {
            if value > 0 { yearDays[value] = true } else { negativeYearDays[-value] = true }
        }
        hasYearDays = !rule.byYearDay.isEmpty
        for entry in byDay {
            // An ordinal counts within the month or year only for MONTHLY and YEARLY.
            if entry.occurrence == 0 || frequency > .monthly {
                weekdays[entry.weekday] = true
                hasWeekdays = true
            } else {
                nthWeekdays.append(entry)
            }
        }
        hours = Set(rule.byHour).sorted()
        minutes = Set(rule.byMinute).sorted()
        // Second 60 (a leap second) has no place on this timeline; like February 30 it is skipped.
        seconds = Set(rule.bySecond.filter { $0 < 60 }).sorted()
        if seconds.isEmpty, !rule.bySecond.isEmpty { finished = true }
        if hours.isEmpty, frequency < .hourly { hours = [start.hour] }
        if minutes.isEmpty, frequency < .minutely { minutes = [start.minute] }
        if seconds.isEmpty, frequency < .secondly { seconds = [start.second] }
        // Only the values a step of INTERVAL can reach from the start are ever produced.
        func reachable(_ values: [Int], from origin: Int, base: Int) -> [Int] {
            let step = gcd(rule.interval, base)
            return values.filter { ($0 - origin) % step == 0 }
        }
        switch frequency {
        case .hourly where !hours.isEmpty:
            hours = reachable(hours, from: start.hour, base: 24)
            if hours.isEmpty { finished = true }
        case .minutely where !minutes.isEmpty:
            minutes = reachable(minutes, from: start.minute, base: 60)
            if minutes.isEmpty { finished = true }
        case .secondly where !seconds.isEmpty:
            seconds = reachable(seconds, from: start.second, base: 60)
            if seconds.isEmpty { finished = true }
        default: break
        }
        if frequency < .hourly {
            for h in hours {
                for m in minutes {
                    for s in seconds { fixedTimes.append(h * 3600 + m * 60 + s) }
                }
            }
            fixedTimes.sort()
        }
    }

    public mutating func next() -> LocalDateTime? {
        while !finished {
            if let candidate = nextInPeriod() {
                if let isAfterUntil, isAfterUntil(candidate) {
                    finished = true
                    return nil
                }
                guard candidate >= start else { continue }
                emptyPeriods = 0
                if let count = remaining {
                    if count <= 1 { finished = true }
                    remaining = count - 1
                }
                return candidate
            }
            if periodBuilt {
                advance()
                if finished { return nil }
            }
            buildPeriod()
            emptyPeriods += 1
            if emptyPeriods > Self.maximumEmptyPeriods { finished = true }
        }
        return nil
    }

    private mutating func nextInPeriod() -> LocalDateTime? {
        guard periodBuilt else { return nil }
        if usesPositions {
            guard dayCursor < positioned.count else { return nil }
            dayCursor += 1
            return positioned[dayCursor - 1]
        }
        while dayCursor < periodDays.count {
            if timeCursor < periodTimes.count {
                let time = periodTimes[timeCursor]
                timeCursor += 1
                return dateTime(dayIndex: periodDays[dayCursor], secondOfDay: time)
            }
            dayCursor += 1
            timeCursor = 0
        }
        return nil
    }

    private func dateTime(dayIndex: Int, secondOfDay: Int) -> LocalDateTime {
        LocalDateTime(
            CivilDate(daysSinceEpoch: info.firstDay + dayIndex), hour: secondOfDay / 3600,
            minute: secondOfDay % 3600 / 60, second: secondOfDay % 60)
    }

    private mutating func buildPeriod() {
        periodBuilt = true
        dayCursor = 0
        timeCursor = 0
        if let horizon {
            let periodStart: CivilDate
            switch rule.frequency {
            case .yearly: periodStart = CivilDate(year: year, month: 1, day: 1)
            case .monthly: periodStart = CivilDate(year: year, month: month, day: 1)
            default: periodStart = CivilDate(year: year, month: month, day: day)
            }
            if periodStart > horizon {
                finished = true
                return
            }
        }
        if info.year != year { info = YearInfo(year: year, rule: rule) }
        if !nthWeekdays.isEmpty, nthMonthKey != (year, month) { buildNthMask() }

        let range: Range<Int>
        let today = CivilDate(year: year, month: month, day: day).daysSinceEpoch - info.firstDay
        switch rule.frequency {
        case .yearly: range = 0..<info.length
        case .monthly: range = info.monthStarts[month - 1]..<info.monthStarts[month]
        case .weekly:
            var end = today
            repeat {
                end += 1
            } while end - today < 7 && info.weekday(end) != rule.weekStart
            range = today..<end
        default: range = today..<(today + 1)
        }
        periodDays.removeAll(keepingCapacity: true)
        filteredDay = false
        for index in range {
            if keeps(index) {
                periodDays.append(index)
            } else {
                filteredDay = true
            }
        }
        switch rule.frequency {
        case .yearly, .monthly, .weekly, .daily:
            periodTimes = fixedTimes
        case .hourly, .minutely, .secondly:
            periodTimes = timesOfFinePeriod()
        }
        usesPositions = !rule.bySetPosition.isEmpty
        guard usesPositions, !periodTimes.isEmpty else {
            usesPositions = false
            return
        }
        positioned.removeAll(keepingCapacity: true)
        let timeCount = periodTimes.count
        for position in rule.bySetPosition {
            let offset = position > 0 ? position - 1 : position
            var dayPosition = offset / timeCount
            var timePosition = offset % timeCount
            if timePosition < 0 {
                timePosition += timeCount
                dayPosition -= 1
            }
            let dayIndex = dayPosition >= 0 ? dayPosition : periodDays.count + dayPosition
            guard dayIndex >= 0, dayIndex < periodDays.count else { continue }
            let candidate = dateTime(dayIndex: periodDays[dayIndex], secondOfDay: periodTimes[timePosition])
            if !positioned.contains(candidate) { positioned.append(candidate) }
        }
        positioned.sort()
    }

    private func keeps(_ index: Int) -> Bool {
        if hasMonths, !months[info.month(index)] { return false }
        if !info.weekNumberMask.isEmpty, !info.weekNumberMask[index] { return false }
        if hasWeekdays, !weekdays[info.weekday(index)] { return false }
        if !nthWeekdays.isEmpty, !nthMask[index] { return false }
        if hasMonthDays {
            let date = CivilDate(daysSinceEpoch: info.firstDay + index)
            let negative = CivilDate.daysIn(month: date.month, year: date.year) - date.day + 1
            if !monthDays[date.day] && !negativeMonthDays[negative] { return false }
        }
        if hasYearDays {
            let (dayOfYear, length) =
                index < info.length ? (index + 1, info.length) : (index - info.length + 1, info.nextLength)
            let fromEnd = length - dayOfYear + 1
            if !yearDays[dayOfYear] && !negativeYearDays[fromEnd] { return false }
        }
        return true
    }

    private func timesOfFinePeriod() -> [Int] {
        if (!hours.isEmpty && !hours.contains(hour))
            || (rule.frequency >= .minutely && !minutes.isEmpty && !minutes.contains(minute))
            || (rule.frequency >= .secondly && !seconds.isEmpty && !seconds.contains(second))
        {
            return []
        }
        switch rule.frequency {
        case .hourly:
            var times: [Int] = []
            for m in minutes {
                for s in seconds { times.append(hour * 3600 + m * 60 + s) }
            }
            return times.sorted()
        case .minutely:
            return seconds.map { hour * 3600 + minute * 60 + $0 }
        default:
            return [hour * 3600 + minute * 60 + second]
        }
    }

    private mutating func buildNthMask() {
        nthMonthKey = (year, month)
        nthMask = [Bool](repeating: false, count: info.length + 7)
        var ranges: [Range<Int>] = []
        if rule.frequency == .yearly {
            if hasMonths {
                for value in 1...12 where months[value] {
                    ranges.append(info.monthStarts[value - 1]..<info.monthStarts[value])
                }
            } else {
                ranges = [0..<info.length]
            }
        } else {
            ranges = [info.monthStarts[month - 1]..<info.monthStarts[month]]
        }
        for range in ranges {
            let first = range.lowerBound
            let last = range.upperBound - 1
            for entry in nthWeekdays {
                var index: Int
                if entry.occurrence < 0 {
                    index = last + (entry.occurrence + 1) * 7
                    index -= ((info.weekday(index) - entry.weekday) % 7 + 7) % 7
                } else {
                    index = first + (entry.occurrence - 1) * 7
                    index += ((7 - info.weekday(index) + entry.weekday) % 7 + 7) % 7
                }
                if index >= first && index <= last { nthMask[index] = true }
            }
        }
    }

    /// Moves to the next period: INTERVAL steps of FREQ, skipping straight to the next value of
    /// a finer BY* part where one is given.
    private mutating func advance() {
        let interval = rule.interval
        var dayShift = 0
        switch rule.frequency {
        case .yearly:
            year += interval
        case .monthly:
            let total = (year * 12 + month - 1) + interval
            year = total / 12
            month = total % 12 + 1
        case .weekly:
            let weekday = CivilDate(year: year, month: month, day: day).weekday
            dayShift = -((weekday - rule.weekStart + 7) % 7) + interval * 7
        case .daily:
            dayShift = interval
        case .hourly:
            if filteredDay { hour += ((23 - hour) / interval) * interval }
            if !hours.isEmpty {
                guard let (days, value) = step(hour, within: hours, base: 24) else { return finish() }
                dayShift = days
                hour = value
            } else {
                dayShift = (hour + interval) / 24
                hour = (hour + interval) % 24
            }
        case .minutely:
            if filteredDay { minute += ((1439 - (hour * 60 + minute)) / interval) * interval }
            var found = false
            for _ in 0..<(1440 / gcd(interval, 1440)) {
                var carriedHours: Int
                if !minutes.isEmpty {
                    guard let (carry, value) = step(minute, within: minutes, base: 60) else { return finish() }
                    carriedHours = carry
                    minute = value
                } else {
                    carriedHours = (minute + interval) / 60
                    minute = (minute + interval) % 60
                }
                hour += carriedHours
                dayShift += hour / 24
                hour %= 24
                if hours.isEmpty || hours.contains(hour) {
                    found = true
                    break
                }
            }
            if !found { return finish() }
        case .secondly:
            if filteredDay { second += ((86399 - (hour * 3600 + minute * 60 + second)) / interval) * interval }
            var found = false
            for _ in 0..<(86400 / gcd(interval, 86400)) {
                var carriedMinutes: Int
                if !seconds.isEmpty {
                    guard let (carry, value) = step(second, within: seconds, base: 60) else { return finish() }
                    carriedMinutes = carry
                    second = value
                } else {
                    carriedMinutes = (second + interval) / 60
                    second = (second + interval) % 60
                }
                minute += carriedMinutes
                hour += minute / 60
                minute %= 60
                dayShift += hour / 24
                hour %= 24
                if (hours.isEmpty || hours.contains(hour)) && (minutes.isEmpty || minutes.contains(minute))
                    && (seconds.isEmpty || seconds.contains(second))
                {
                    found = true
                    break
                }
            }
            if !found { return finish() }
        }
        if dayShift != 0 {
            let date = CivilDate(year: year, month: month, day: day).adding(days: dayShift)
            (year, month, day) = (date.year, date.month, date.day)
        }
        if year > 9999 { finish() }
    }

    private mutating func finish() { finished = true }

    /// Steps `value` by INTERVAL until it lands in `values`; returns how many times it wrapped
    /// past `base` and where it landed.
    private func step(_ value: Int, within values: [Int], base: Int) -> (Int, Int)? {
        var carried = 0
        var current = value
        for _ in 0..<base {
            current += rule.interval
            carried += current / base
            current %= base
            if values.contains(current) { return (carried, current) }
        }
        return nil
    }
}

/// What the filters need to know about the days of one year, indexed from January 1 and running
/// seven days into the next year so that a week crossing the year end stays in one period.
struct YearInfo {
    var year = Int.min
    var firstDay = 0
    var firstWeekday = 0
    var length = 0
    var nextLength = 0
    /// Index of the first day of each month, and the year length as a 13th entry.
    var monthStarts: [Int] = []
    var weekNumberMask: [Bool] = []

    init() {}

    init(year: Int, rule: RecurrenceRule) {
        self.year = year
        firstDay = CivilDate(year: year, month: 1, day: 1).daysSinceEpoch
        firstWeekday = CivilDate(year: year, month: 1, day: 1).weekday
        length = CivilDate.isLeap(year) ? 366 : 365
        nextLength = CivilDate.isLeap(year + 1) ? 366 : 365
        var start = 0
        monthStarts = [0]
        for month in 1...12 {
            start += CivilDate.daysIn(month: month, year: year)
            monthStarts.append(start)
        }
        if !rule.byWeekNumber.isEmpty { buildWeekNumbers(rule) }
    }

    func weekday(_ index: Int) -> Int { ((firstWeekday + index) % 7 + 7) % 7 }

    func month(_ index: Int) -> Int {
        if index >= length { return 1 }
        var month = 1
        while monthStarts[month] <= index { month += 1 }
        return month
    }

    /// Marks the days of the weeks BYWEEKNO names, weeks numbered as ISO 8601 does but starting
    /// on WKST: week 1 is the first with at least four days in the year.
    private mutating func buildWeekNumbers(_ rule: RecurrenceRule) {
        let weekStart = rule.weekStart
        weekNumberMask = [Bool](repeating: false, count: length + 7)
        let firstWeekStart = (7 - firstWeekday + weekStart) % 7
        var week1Start = firstWeekStart
        let weekYearLength: Int
        if firstWeekStart >= 4 {
            week1Start = 0
            weekYearLength = length + (firstWeekday - weekStart + 7) % 7
        } else {
            weekYearLength = length - firstWeekStart
        }
        let weekCount = weekYearLength / 7 + (weekYearLength % 7) / 4
        func markWeek(from start: Int) {
            var index = start
            for _ in 0..<7 {
                guard index >= 0, index < weekNumberMask.count else { return }
                weekNumberMask[index] = true
                index += 1
                if weekday(index) == weekStart { return }
            }
        }
        for requested in rule.byWeekNumber {
            let number = requested < 0 ? requested + weekCount + 1 : requested
            guard number > 0, number <= weekCount else { continue }
            var index = week1Start
            if number > 1 {
                index = week1Start + (number - 1) * 7
                if week1Start != firstWeekStart { index -= 7 - firstWeekStart }
            }
            markWeek(from: index)
        }
        if rule.byWeekNumber.contains(1) {
            // The first week of next year may begin in this one.
            var index = week1Start + weekCount * 7
            if week1Start != firstWeekStart { index -= 7 - firstWeekStart }
            if index < length { markWeek(from: index) }
        }
        if week1Start > 0 {
            // Days before week 1 belong to the last week of the previous year.
            var lastWeekOfPreviousYear = -1
            if !rule.byWeekNumber.contains(-1) {
                let previousFirstWeekday = CivilDate(year: year - 1, month: 1, day: 1).weekday
                let previousFirstWeekStart = (7 - previousFirstWeekday + weekStart) % 7
                let previousLength = CivilDate.isLeap(year - 1) ? 366 : 365
                if previousFirstWeekStart >= 4 {
                    lastWeekOfPreviousYear = 52 + (previousLength + (previousFirstWeekday - weekStart + 7) % 7) % 7 / 4
                } else {
                    lastWeekOfPreviousYear = 52 + (length - week1Start) % 7 / 4
                }
            }
            if rule.byWeekNumber.contains(lastWeekOfPreviousYear) {
                for index in 0..<week1Start { weekNumberMask[index] = true }
            }
        }
    }
}

func gcd(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (abs(a), abs(b))
    while y != 0 { (x, y) = (y, x % y) }
    return x
}
