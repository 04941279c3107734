import DNS

/// What /etc/resolv.conf says (resolv.conf(5)): the name servers to ask, the search list, and the
/// options a stub resolver honours. Parsed from text, so the shell reads the file and the core
/// never touches the file system.
public struct ResolverConfiguration: Hashable, Sendable {
    /// Name server addresses in the order given (IPv4 or IPv6 text, as written).
    public var nameservers: [String]
    /// Domains appended to names with fewer than `ndots` dots (`search`, or `domain` when no `search`).
    public var search: [DomainName]
    /// A name with at least this many dots is tried as given before the search list.
    public var ndots: Int
    /// Seconds to wait for one server's answer.
    public var timeout: Int
    /// Rounds over the server list before giving up.
    public var attempts: Int
    /// Start each query at the next server instead of always the first.
    public var rotate: Bool

    /// resolv.conf(5)'s limits: at most 3 servers are used, ndots is capped at 15, timeout at 30,
    /// attempts at 5.
    public static let maximumNameservers = 3
    public static let maximumNdots = 15
    public static let maximumTimeout = 30
    public static let maximumAttempts = 5

    public init(
        nameservers: [String] = [], search: [DomainName] = [], ndots: Int = 1, timeout: Int = 5, attempts: Int = 2,
        rotate: Bool = false
    ) {
        self.nameservers = nameservers
        self.search = search
        self.ndots = ndots
        self.timeout = timeout
        self.attempts = attempts
        self.rotate = rotate
    }

    /// The configuration a system without resolv.conf gets: the local server, no search list.
    public static let fallback = ResolverConfiguration(nameservers: ["127.0.0.1"])

    /// Parses resolv.conf text. Unknown keywords and options are ignored, as the C library does;
    /// a malformed value of a known one is an error naming its line and column.
    public static func parse(_ text: String) throws(ResolverConfigurationError) -> ResolverConfiguration {
        var configuration = ResolverConfiguration()
        var searchSeen = false
        var domain: DomainName? = nil
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let words = Self.words(of: rawLine)
            guard let keyword = words.first else { continue }
            let arguments = words.dropFirst()
            func failure(_ reason: String, at word: Word? = nil) -> ResolverConfigurationError {
                ResolverConfigurationError(line: lineNumber, column: (word ?? keyword).column, reason: reason)
            }
            switch keyword.text {
            case "nameserver":
                guard let address = arguments.first else { throw failure("nameserver needs an address") }
                guard IPv4Address(address.text) != nil || IPv6Address(Self.withoutZone(address.text)) != nil else {
                    throw failure("\"\(address.text)\" is not an IPv4 or IPv6 address", at: address)
                }
                if configuration.nameservers.count < maximumNameservers {
                    configuration.nameservers.append(address.text)
                }
            case "search", "domain":
                var names: [DomainName] = []
                for word in arguments {
                    do {
                        names.append(try DomainName(word.text.hasSuffix(".") ? word.text : word.text + "."))
                    } catch {
                        throw failure("\"\(word.text)\" is not a domain name: \(error)", at: word)
                    }
                }
                if keyword.text == "search" {
                    configuration.search = names
                    searchSeen = true
                } else {
                    guard let first = names.first else { throw failure("domain needs a name") }
                    domain = first
                }
            case "options":
                for word in arguments { try configuration.apply(option: word, line: lineNumber) }
            default:
                continue
            }
        }
        if !searchSeen, let domain { configuration.search = [domain] }
        return configuration
    }

    private mutating func apply(option word: Word, line: Int) throws(ResolverConfigurationError) {
        let parts = word.text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts.first.map(String.init) ?? ""
        let value = parts.count == 2 ? String(parts[1]) : nil
        func number(limit: Int) throws(ResolverConfigurationError) -> Int {
            guard let value, let parsed = Int(value), parsed >= 0 else {
                throw ResolverConfigurationError(
                    line: line, column: word.column, reason: "option \(name) needs a number, as in \(name):2")
            }
            return min(parsed, limit)
        }
        switch name {
        case "ndots": ndots = try number(limit: Self.maximumNdots)
        case "timeout": timeout = max(1, try number(limit: Self.maximumTimeout))
        case "attempts": attempts = max(1, try number(limit: Self.maximumAttempts))
        case "rotate": rotate = true
        default: break
        }
    }

    /// The configuration as resolv.conf text, which `parse` reads back to the same value.
    public var text: String {
        var lines = nameservers.map { "nameserver \($0)" }
        if !search.isEmpty { lines.append("search " + search.map(\.description).joined(separator: " ")) }
        lines.append("options ndots:\(ndots) timeout:\(timeout) attempts:\(attempts)\(rotate ? " rotate" : "")")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The names to try for `text`, in order (resolv.conf(5)): an absolute name (ending in a dot)
    /// only as given; otherwise as given first when it has at least `ndots` dots, then with each
    /// search domain, then as given last if it was not tried first.
    public func candidateNames(for text: String) throws(NameError) -> [DomainName] {
        if text.hasSuffix(".") { return [try DomainName(text)] }
        let asGiven = try DomainName(text + ".")
        let dots = text.utf8.count { $0 == UInt8(ascii: ".") }
        var names: [DomainName] = []
        if dots >= ndots { names.append(asGiven) }
        for domain in search {
            if let candidate = try? DomainName(text, origin: domain), !names.contains(candidate) {
                names.append(candidate)
            }
        }
        if !names.contains(asGiven) { names.append(asGiven) }
        return names
    }

    /// The server order for the `sequence`-th query: the list as given, or rotated by one more
    /// each query when `rotate` is set.
    public func serverOrder(forQueryNumber sequence: Int) -> [String] {
        guard rotate, !nameservers.isEmpty else { return nameservers }
        let start = sequence % nameservers.count
        return Array(nameservers[start...] + nameservers[..<start])
    }

    struct Word {
        var text: String
        var column: Int
    }

    /// The words of one line, a `#` or `;` starting a comment, with their 1-based columns.
    static func words(of line: Substring) -> [Word] {
        var words: [Word] = []
        var current = ""
        var start = 0
        var column = 0
        for character in line {
            column += 1
            if character == "#" || character == ";" { break }
            if character == " " || character == "\t" || character == "\r" {
                if !current.isEmpty { words.append(Word(text: current, column: start)) }
                current = ""
            } else {
                if current.isEmpty { start = column }
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(Word(text: current, column: start)) }
        return words
    }

    /// `fe80::1%eth0` names a link; the address part is what must parse.
    static func withoutZone(_ text: String) -> Substring {
        text.split(separator: "%", maxSplits: 1).first ?? Substring(text)
    }
}

/// Why resolv.conf text could not be read, and where (1-based line and column).
public struct ResolverConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "resolv.conf:\(line):\(column): \(reason)" }
}
