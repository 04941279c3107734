import ArgumentParser
import Foundation
import ICalendar
import QuercusCLI

@main
struct QuercusICal: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-ical",
        abstract: "Check, print and expand iCalendar and vCard files.",
        discussion: "Exit codes: 0 success, 1 failure (bad input names file, line and column), 64 bad usage.",
        version: QuercusVersion.string,
        subcommands: [Check.self, Print.self, Expand.self, FreeBusyCommand.self]
    )
}

/// One line naming the file and what is wrong with it.
struct InputError: Error, CustomStringConvertible {
    let description: String
}

struct InputOptions: ParsableArguments {
    @Argument(help: "An iCalendar (.ics) or vCard (.vcf) file; - reads standard input.")
    var file: String

    @Flag(help: "Accept what real clients send (bare LF, vCard 2.1 parameters, broken folding …).")
    var lenient = false

    func read() throws -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(description: "\(file): cannot read the file")
        }
        return Array(data)
    }

    func parse() throws -> [Component] {
        let bytes = try read()
        do {
            return try Component.parseAll(bytes, mode: lenient ? .lenient : .strict)
        } catch {
            throw InputError(description: "\(file): \(error)")
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse a file and check its values; print the first error with its line number.")

    @OptionGroup var input: InputOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        let components = try input.parse()
        for component in components {
            if let problem = Validator.firstProblem(in: component) {
                throw InputError(description: "\(input.file): \(problem)")
            }
        }
        let count = components.reduce(0) { $0 + $1.components.count }
        print("\(input.file): OK, \(components.count) top-level component(s), \(count) inside")
    }
}

struct Print: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse a file and print it back (CRLF line ends, folded at 75 octets).")

    @OptionGroup var input: InputOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        var output: [UInt8] = []
        for component in try input.parse() { output += component.printedBytes() }
        FileHandle.standardOutput.write(Data(output))
    }
}

/// The system tz database, read on demand; the library only parses the bytes.
func systemZone(_ name: String) -> [UInt8]? {
    FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name).map { Array($0) }
}

func parseInstant(_ text: String, option: String) throws -> Int64 {
    let compact = text.filter { $0 != "-" && $0 != ":" }
    guard let value = try? DateTimeValue.parse(Substring(compact)) else {
        throw ValidationError("\(option) '\(text)' is not a date-time like 2026-01-01T00:00:00Z")
    }
    return value.local.secondsSinceEpoch
}

struct Expand: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the instances in a time range: UID, start in UTC, and RECURRENCE-ID for overrides.",
        discussion: "Floating times and dates are read as UTC. Lines are sorted by start, then UID.")

    @OptionGroup var input: InputOptions

    @Option(help: "Start of the range (UTC), e.g. 2026-01-01T00:00:00Z.")
    var from: String

    @Option(help: "End of the range (UTC, exclusive).")
    var to: String

    @Option(help: "At most this many instances.")
    var limit: Int = 100_000

    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        let start = try parseInstant(from, option: "--from")
        let end = try parseInstant(to, option: "--to")
        var lines = ""
        for calendar in try input.parse() {
            let expander = Expander(
                resolver: ZoneResolver(calendar: calendar, systemZone: systemZone),
                limits: ExpansionLimits(maximumInstances: limit))
            let occurrences: [Occurrence]
            do {
                occurrences = try expander.occurrences(in: calendar, from: start, to: end)
            } catch {
                throw InputError(description: "\(input.file): \(error)")
            }
            for occurrence in occurrences {
                lines += "\(occurrence.uid) \(Instant(seconds: occurrence.start))"
                if let id = occurrence.recurrenceID { lines += " \(Instant(seconds: id))" }
                lines += "\n"
            }
        }
        FileHandle.standardOutput.write(Data(lines.utf8))
    }
}

struct FreeBusyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freebusy", abstract: "Print a VFREEBUSY for a time range (RFC 4791 §7.10).")

    @OptionGroup var input: InputOptions

    @Option(help: "Start of the range (UTC).")
    var from: String

    @Option(help: "End of the range (UTC, exclusive).")
    var to: String

    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.bootstrap()
        let start = try parseInstant(from, option: "--from")
        let end = try parseInstant(to, option: "--to")
        var periods: [BusyPeriod] = []
        for calendar in try input.parse() {
            let expander = Expander(resolver: ZoneResolver(calendar: calendar, systemZone: systemZone))
            do {
                periods += try FreeBusy.periods(in: calendar, from: start, to: end, expander: expander)
            } catch {
                throw InputError(description: "\(input.file): \(error)")
            }
        }
        let result = FreeBusy.component(periods: FreeBusy.merge(periods), from: start, to: end)
        FileHandle.standardOutput.write(Data(result.printedBytes()))
    }
}
