/// Why an `$INCLUDE` file could not be supplied.
public struct IncludeFailure: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Supplies the text of a file named by `$INCLUDE`, or refuses. The pure parser never touches the
/// file system: the executable passes a loader confined to a base directory, tests an in-memory one.
public typealias IncludeLoader = @Sendable (_ path: String) -> Result<String, IncludeFailure>

/// Reads RFC 1035 master files as BIND does: `$ORIGIN`, `$TTL`, `$INCLUDE`, `$GENERATE`, `@`,
/// omitted owner, class and TTL, TTL units, parentheses, comments and quoted strings.
public struct ZoneParser: Sendable {
    public var origin: DomainName
    public var defaultClass: RecordClass
    public var include: IncludeLoader?
    /// How deep `$INCLUDE` may nest, which also stops a file including itself.
    public var maximumIncludeDepth = 8
    /// The most records one `$GENERATE` may produce.
    public var maximumGenerated = 65_536

    public init(origin: DomainName, defaultClass: RecordClass = .internet, include: IncludeLoader? = nil) {
        self.origin = origin
        self.defaultClass = defaultClass
        self.include = include
    }

    /// State that carries from one record to the next.
    private struct Context {
        var origin: DomainName
        var defaultTTL: UInt32?
        var lastTTL: UInt32?
        var lastOwner: DomainName?
    }

    public func parse(_ text: String, file: String = "<zone>") throws(PresentationError) -> [ResourceRecord] {
        var context = Context(origin: origin, defaultTTL: nil, lastTTL: nil, lastOwner: nil)
        var records: [ResourceRecord] = []
        try parse(text, file: file, depth: 0, context: &context, into: &records)
        return records
    }

    private func parse(
        _ text: String, file: String, depth: Int, context: inout Context, into records: inout [ResourceRecord]
    ) throws(PresentationError) {
        var lexer = ZoneLexer(text: text, file: file)
        var line: [Token] = []
        var lineEnd = (line: 1, column: 1)
        while let item = try lexer.nextToken() {
            switch item {
            case .word(let token):
                line.append(token)
                lineEnd = (token.line, token.column + token.text.count + (token.quoted ? 2 : 0))
            case .lineEnd:
                if !line.isEmpty {
                    do {
                        try entry(line, end: lineEnd, file: file, depth: depth, context: &context, into: &records)
                    } catch {
                        var located = error
                        if located.file == nil { located.file = file }
                        throw located
                    }
                }
                line = []
            }
        }
    }

    private func entry(
        _ tokens: [Token], end: (line: Int, column: Int), file: String, depth: Int, context: inout Context,
        into records: inout [ResourceRecord]
    ) throws(PresentationError) {
        let first = tokens[0]
        let keyword = first.quoted ? "" : first.string.uppercased()
        var scanner = RDataScanner(
            tokens: Array(tokens.dropFirst()), origin: context.origin, endLine: end.line, endColumn: end.column)
        switch keyword {
        case "$ORIGIN":
            context.origin = try scanner.name("the origin")
            try scanner.expectEnd()
        case "$TTL":
            context.defaultTTL = try scanner.ttl("the default TTL")
            try scanner.expectEnd()
        case "$INCLUDE":
            try includeFile(&scanner, at: first, depth: depth, context: &context, into: &records)
        case "$GENERATE":
            try generate(&scanner, context: &context, into: &records)
        default:
            if keyword.hasPrefix("$") { throw scanner.error("unknown directive \(first.string)", at: first) }
            records.append(try record(tokens, end: end, context: &context))
        }
    }

    private func record(_ tokens: [Token], end: (line: Int, column: Int), context: inout Context)
        throws(PresentationError) -> ResourceRecord
    {
        var scanner = RDataScanner(tokens: tokens, origin: context.origin, endLine: end.line, endColumn: end.column)
        let owner: DomainName
        if tokens[0].column == 1 {
            owner = try scanner.name("the owner name")
        } else {
            guard let last = context.lastOwner else {
                throw scanner.error("no owner name, and no earlier record to take it from", at: tokens[0])
            }
            owner = last
        }
        context.lastOwner = owner
        var ttl: UInt32? = nil
        var recordClass: RecordClass? = nil
        var type: RecordType? = nil
        while type == nil {
            let token = try scanner.next("a record type")
            let text = token.string
            if ttl == nil, !token.quoted, let value = parseTTL(text) {
                ttl = value
            } else if recordClass == nil, !token.quoted, let value = RecordClass(text) {
                recordClass = value
            } else if !token.quoted, let value = RecordType(text) {
                type = value
            } else {
                throw scanner.error("expected a TTL, a class or a record type, found \"\(text)\"", at: token)
            }
        }
        guard let type else { throw scanner.error("expected a record type") }
        if let recordClass, recordClass != defaultClass {
            throw scanner.error("class \(recordClass) differs from the zone's class \(defaultClass)", at: tokens[0])
        }
        let data = try RData.parse(type: type, from: &scanner)
        if let ttl { context.lastTTL = ttl }
        var effectiveTTL = ttl ?? context.defaultTTL ?? context.lastTTL
        if effectiveTTL == nil, case .soa(let soa) = data {
            // BIND's fallback when a zone has neither $TTL nor any explicit TTL yet.
            effectiveTTL = soa.minimum
            context.lastTTL = soa.minimum
        }
        guard let effectiveTTL else { throw scanner.error("no TTL, and no $TTL or earlier TTL to use", at: tokens[0]) }
        return ResourceRecord(name: owner, recordClass: recordClass ?? defaultClass, ttl: effectiveTTL, data: data)
    }

    private func includeFile(
        _ scanner: inout RDataScanner, at directive: Token, depth: Int, context: inout Context,
        into records: inout [ResourceRecord]
    ) throws(PresentationError) {
        let pathToken = try scanner.next("the file to include")
        let path = String(decoding: try scanner.unescape(pathToken), as: UTF8.self)
        let includedOrigin = scanner.isAtEnd ? context.origin : try scanner.name("the origin for the included file")
        try scanner.expectEnd()
        guard let include else { throw scanner.error("$INCLUDE is not allowed here", at: directive) }
        guard depth < maximumIncludeDepth else {
            throw scanner.error("$INCLUDE nested more than \(maximumIncludeDepth) deep", at: directive)
        }
        let text: String
        switch include(path) {
        case .success(let contents): text = contents
        case .failure(let failure): throw scanner.error("cannot include \"\(path)\": \(failure.reason)", at: pathToken)
        }
        // The included file starts from the given origin; its $ORIGIN changes end with it (RFC 1035 §5.1).
        var inner = context
        inner.origin = includedOrigin
        try parse(text, file: path, depth: depth + 1, context: &inner, into: &records)
        context.lastOwner = inner.lastOwner
        context.lastTTL = inner.lastTTL
        context.defaultTTL = inner.defaultTTL
    }

    /// `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs` (BIND): `$` in lhs and rhs becomes the
    /// counter, `${offset,width,base}` formats it, `\$` is a literal dollar.
    private func generate(_ scanner: inout RDataScanner, context: inout Context, into records: inout [ResourceRecord])
        throws(PresentationError)
    {
        let rangeToken = try scanner.next("a range such as 1-100")
        guard let range = GenerateRange(rangeToken.string) else {
            throw scanner.error("expected a range start-stop[/step], found \"\(rangeToken.string)\"", at: rangeToken)
        }
        guard range.count <= maximumGenerated else {
            throw scanner.error("range produces more than \(maximumGenerated) records", at: rangeToken)
        }
        let lhs = try scanner.next("the owner template")
        var fields: [Token] = []
        while !scanner.isAtEnd { fields.append(try scanner.next("a field")) }
        guard let typeIndex = fields.firstIndex(where: { !$0.quoted && RecordType($0.string) != nil }) else {
            throw scanner.error("expected a record type")
        }
        let templates = Array(fields[(typeIndex + 1)...])
        guard !templates.isEmpty else { throw scanner.error("expected the data template") }
        var value = range.start
        while value <= range.stop {
            var owner = lhs
            do throws(GenerateTemplateError) {
                owner.text = try expandTemplate(lhs.text, value)
            } catch {
                throw scanner.error(error.reason, at: lhs)
            }
            owner.column = 1
            var line = [owner] + fields[...typeIndex]
            for template in templates {
                let expanded: [UInt8]
                do throws(GenerateTemplateError) {
                    expanded = try expandTemplate(template.text, value)
                } catch {
                    throw scanner.error(error.reason, at: template)
                }
                // BIND reads the expanded data as zone text again, so `"a $"` becomes two strings.
                var lexer = ZoneLexer(text: String(decoding: expanded, as: UTF8.self), file: nil)
                while case .word(var word) = try lexer.nextToken() {
                    word.line = template.line
                    word.column = template.column
                    line.append(word)
                }
            }
            let last = line[line.count - 1]
            records.append(try record(line, end: (last.line, last.column + last.text.count), context: &context))
            value += range.step
        }
    }
}

struct GenerateRange {
    var start: Int
    var stop: Int
    var step: Int

    init?(_ text: String) {
        let stepParts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(stepParts.count) else { return nil }
        let bounds = stepParts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = Int(bounds[0]), let stop = Int(bounds[1]), start >= 0, start <= stop,
            stop <= Int(UInt32.max)
        else { return nil }
        let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
        guard let step, step >= 1 else { return nil }
        self.start = start
        self.stop = stop
        self.step = step
    }

    var count: Int { (stop - start) / step + 1 }
}

struct GenerateTemplateError: Error {
    var reason: String
}

/// Replaces `$` and `${offset,width,base}` with the counter; `\$` stays a literal `$`.
func expandTemplate(_ template: [UInt8], _ value: Int) throws(GenerateTemplateError) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < template.count {
        let byte = template[index]
        if byte == UInt8(ascii: "\\"), index + 1 < template.count, template[index + 1] == UInt8(ascii: "$") {
            out.append(UInt8(ascii: "$"))
            index += 2
            continue
        }
        if byte == UInt8(ascii: "\\"), index + 1 < template.count {
            out.append(byte)
            out.append(template[index + 1])
            index += 2
            continue
        }
        guard byte == UInt8(ascii: "$") else {
            out.append(byte)
            index += 1
            continue
        }
        var offset = 0
        var width = 0
        var base = UInt8(ascii: "d")
        index += 1
        if index < template.count, template[index] == UInt8(ascii: "{") {
            guard let close = template[index...].firstIndex(of: UInt8(ascii: "}")) else {
                throw GenerateTemplateError(reason: "\"${\" is never closed")
            }
            let parts = String(decoding: template[(index + 1)..<close], as: UTF8.self).split(
                separator: ",", omittingEmptySubsequences: false)
            guard (1...3).contains(parts.count), let parsedOffset = Int(parts[0]) else {
                throw GenerateTemplateError(reason: "expected ${offset[,width[,base]]}")
            }
            offset = parsedOffset
            if parts.count > 1 {
                guard let parsedWidth = Int(parts[1]), (0...255).contains(parsedWidth) else {
                    throw GenerateTemplateError(reason: "bad width in ${...}")
                }
                width = parsedWidth
            }
            if parts.count > 2 {
                guard parts[2].utf8.count == 1, let parsedBase = parts[2].utf8.first,
                    "doxXnN".utf8.contains(parsedBase)
                else { throw GenerateTemplateError(reason: "base must be d, o, x, X, n or N") }
                base = parsedBase
            }
            index = close + 1
        }
        out.append(contentsOf: formatCounter(value + offset, width: width, base: base))
    }
    return out
}

private func formatCounter(_ value: Int, width: Int, base: UInt8) -> [UInt8] {
    switch base {
    case UInt8(ascii: "n"), UInt8(ascii: "N"):
        // Nibbles for reverse IPv6 names, least significant first, dot separated; as BIND does,
        // the width counts digits and dots, and the output continues until both run out.
        let digits = Array((base == UInt8(ascii: "N") ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var remaining = UInt64(truncatingIfNeeded: value)
        var width = width
        var out: [UInt8] = []
        repeat {
            out.append(digits[Int(remaining & 0xF)])
            remaining >>= 4
            if width > 0 { width -= 1 }
            if width > 0 || remaining != 0 {
                out.append(UInt8(ascii: "."))
                if width > 0 { width -= 1 }
            }
        } while remaining != 0 || width > 0
        return out
    default:
        let radix = base == UInt8(ascii: "o") ? 8 : base == UInt8(ascii: "d") ? 10 : 16
        let digits = String(value, radix: radix, uppercase: base == UInt8(ascii: "X"))
        let negative = digits.hasPrefix("-")
        let magnitude = negative ? String(digits.dropFirst()) : digits
        let padding = String(repeating: "0", count: max(0, width - magnitude.count - (negative ? 1 : 0)))
        return Array(((negative ? "-" : "") + padding + magnitude).utf8)
    }
}
