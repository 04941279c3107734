/// Checks the values of the properties whose types RFC 5545 and RFC 6350 fix, so that
/// `quercus-ical check` reports a bad date or rule with its line, not only bad syntax.
public enum Validator {
    /// The first value that does not parse as its type, depth first, or nil.
    public static func firstProblem(in component: Component) -> ParseError? {
        let isCard = component.is("VCARD")
        for property in component.properties {
            do throws(ValueError) {
                try check(property, inCard: isCard)
            } catch {
                return ParseError(
                    line: property.line, column: property.name.utf8.count + 1,
                    reason: .badValue(property: property.name.uppercased(), reason: error.reason))
            }
        }
        for child in component.components {
            if let problem = firstProblem(in: child) { return problem }
        }
        return nil
    }

    static func check(_ property: Property, inCard: Bool) throws(ValueError) {
        let value = Substring(property.value.trimmedSpaces)
        let declared = property.parameter("VALUE")?.uppercased()
        if inCard {
            switch property.name.uppercased() {
            case "GEO" where value.hasPrefix("geo:") == false && declared == nil && value.contains(";"):
                _ = try Geo.parse(value)
            default: break
            }
            return
        }
        switch property.name.uppercased() {
        case "DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "DTSTAMP", "CREATED", "LAST-MODIFIED", "COMPLETED":
            _ = try DateTimeValue.parse(property)
        case "EXDATE":
            _ = try DateTimeValue.parseList(property)
        case "RDATE":
            if declared == "PERIOD" {
                for item in value.split(separator: ",") {
                    _ = try Period.parse(item, tzid: property.parameter("TZID"))
                }
            } else {
                _ = try DateTimeValue.parseList(property)
            }
        case "FREEBUSY":
            for item in value.split(separator: ",") { _ = try Period.parse(item) }
        case "DURATION":
            _ = try Duration.parse(value)
        case "TRIGGER":
            if declared == "DATE-TIME" { _ = try DateTimeValue.parse(value) } else { _ = try Duration.parse(value) }
        case "RRULE", "EXRULE":
            _ = try RecurrenceRule.parse(String(value))
        case "TZOFFSETFROM", "TZOFFSETTO":
            _ = try UTCOffset.parse(value)
        case "GEO":
            _ = try Geo.parse(value)
        case "SEQUENCE", "PRIORITY", "PERCENT-COMPLETE", "REPEAT":
            guard Int(value) != nil else { throw ValueError("'\(value)' is not an INTEGER") }
        case "ATTACH" where property.parameter("ENCODING")?.uppercased() == "BASE64":
            _ = try Base64.decode(String(value))
        default:
            break
        }
    }
}
