import DNS
import DNSSecurity

/// What `quercus-dig` was asked to do, parsed from its arguments in dig's own syntax: `@server`,
/// `-p port`, `+flags`, and a name, type and class in any order (which is not the shape of
/// swift-argument-parser, hence this small parser).
public enum DigCommand: Equatable, Sendable {
    case query(DigRequest)
    /// `quercus-dig update [-y alg:name:secret] [-p port] [FILE]`: nsupdate commands from FILE or stdin.
    case update(UpdateInvocation)
    case help
    case version
}

/// One dig query and how to show it.
public struct DigRequest: Equatable, Sendable {
    /// The `@server` given, if any (otherwise the resolv.conf servers are used).
    public var server: String?
    public var port: Int = 53
    /// The name as typed; dig queries the root's NS when no name is given.
    public var name: String = "."
    public var type: RecordType = .a
    public var recordClass: RecordClass = .internet
    public var typeGiven = false
    public var tcp = false
    public var short = false
    public var dnssec = false
    public var recurse = true
    public var edns = true
    public var cookie = true
    public var adFlag = true
    public var checkingDisabled = false
    /// `+search`: apply the resolv.conf search list (dig's default is not to).
    public var search = false
    public var udpPayloadSize: UInt16 = 1232
    /// Seconds to wait for each try (`+time=`), and tries per server (`+tries=`).
    public var timeout: Int? = nil
    public var tries: Int? = nil
    public var key: TSIGKey? = nil

    public init() {}

    /// AXFR and IXFR only travel over TCP.
    public var isTransfer: Bool { type == .axfr || type == .ixfr }
    public var usesTCP: Bool { tcp || isTransfer }
}

public struct UpdateInvocation: Equatable, Sendable {
    /// The command file; nil reads standard input.
    public var file: String?
    public var key: TSIGKey?
    /// The port used when a `server` command gives none (and for resolv.conf's servers).
    public var port: Int = 53

    public init(file: String? = nil, key: TSIGKey? = nil, port: Int = 53) {
        self.file = file
        self.key = key
        self.port = port
    }
}

/// A bad command line: which argument (0-based, after the program name) and why. Exit 64.
public struct DigUsageError: Error, Equatable, Sendable, CustomStringConvertible {
    public var argument: Int
    public var reason: String

    public init(argument: Int, reason: String) {
        self.argument = argument
        self.reason = reason
    }

    public var description: String { "argument \(argument + 1): \(reason)" }
}

extension DigCommand {
    public static let usage = """
        usage: quercus-dig [@server] [-p port] [-t type] [-y [alg:]name:secret] name [type] [class]
                           [+[no]tcp] [+[no]dnssec] [+[no]short] [+[no]rec] [+[no]edns] [+[no]cookie]
                           [+[no]adflag] [+[no]cdflag] [+[no]search] [+time=N] [+tries=N] [+bufsize=N]
               quercus-dig name axfr [-y [alg:]name:secret]      (a zone transfer over TCP)
               quercus-dig update [-y [alg:]name:secret] [-p port] [FILE]
                           (nsupdate commands from FILE or standard input)
               quercus-dig --help | --version
        Exit codes: 0 answered (whatever the status), 1 failure (a refused or failed transfer,
        an unverifiable signature), 2 an update the server refused, 9 no server could be reached,
        64 bad usage.
        """

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(DigUsageError) -> DigCommand {
        if let first = arguments.first {
            switch first {
            case "-h", "--help", "help": return .help
            case "-v", "--version": return .version
            case "update": return .update(try parseUpdate(Array(arguments.dropFirst())))
            default: break
            }
        }
        var request = DigRequest()
        var nameGiven = false
        var classGiven = false
        var index = 0
        func value(_ flag: String) throws(DigUsageError) -> String {
            index += 1
            guard index < arguments.count else {
                throw DigUsageError(argument: index - 1, reason: "\(flag) needs a value")
            }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            let position = index
            if argument.hasPrefix("@") {
                let server = String(argument.dropFirst())
                guard !server.isEmpty else {
                    throw DigUsageError(argument: position, reason: "@ needs a server address")
                }
                request.server = server
            } else if argument.hasPrefix("+") {
                try applyPlusOption(String(argument.dropFirst()), to: &request, argument: position)
            } else if argument.hasPrefix("-") && argument.count > 1 {
                switch argument {
                case "-p": request.port = try port(value("-p"), argument: position + 1)
                case "-t":
                    let text = try value("-t")
                    guard let type = RecordType(text) else {
                        throw DigUsageError(argument: position + 1, reason: "unknown record type \"\(text)\"")
                    }
                    request.type = type
                    request.typeGiven = true
                case "-c":
                    let text = try value("-c")
                    guard let recordClass = RecordClass(text) else {
                        throw DigUsageError(argument: position + 1, reason: "unknown class \"\(text)\"")
                    }
                    request.recordClass = recordClass
                    classGiven = true
                case "-q":
                    request.name = try value("-q")
                    nameGiven = true
                case "-y": request.key = try key(value("-y"), argument: position + 1)
                case "-x":
                    let address = try value("-x")
                    guard let reverse = reverseName(address) else {
                        throw DigUsageError(argument: position + 1, reason: "\"\(address)\" is not an IP address")
                    }
                    request.name = reverse
                    nameGiven = true
                    if !request.typeGiven { request.type = .ptr }
                case "-4", "-6": break
                default: throw DigUsageError(argument: position, reason: "unknown option \(argument)")
                }
            } else if !request.typeGiven, let type = RecordType(argument), !argument.isEmpty {
                request.type = type
                request.typeGiven = true
            } else if !classGiven, let recordClass = RecordClass(argument) {
                request.recordClass = recordClass
                classGiven = true
            } else if !nameGiven {
                request.name = argument
                nameGiven = true
            } else {
                throw DigUsageError(argument: position, reason: "a second name \"\(argument)\" (one query at a time)")
            }
            index += 1
        }
        if !nameGiven {
            // dig with no name asks for the root's name servers.
            request.name = "."
            if !request.typeGiven { request.type = .ns }
        }
        guard (try? DomainName(request.name.hasSuffix(".") ? request.name : request.name + ".")) != nil else {
            throw DigUsageError(argument: 0, reason: "\"\(request.name)\" is not a domain name")
        }
        return .query(request)
    }

    private static func applyPlusOption(_ option: String, to request: inout DigRequest, argument: Int)
        throws(DigUsageError)
    {
        let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let word = String(parts.first ?? "").lowercased()
        let value = parts.count == 2 ? String(parts[1]) : nil
        let enabled = !word.hasPrefix("no")
        let name = enabled ? word : String(word.dropFirst(2))
        func number(_ range: ClosedRange<Int>) throws(DigUsageError) -> Int {
            guard let value, let parsed = Int(value), range.contains(parsed) else {
                throw DigUsageError(
                    argument: argument,
                    reason: "+\(name) needs a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return parsed
        }
        switch name {
        case "tcp", "vc": request.tcp = enabled
        case "short": request.short = enabled
        case "dnssec", "do": request.dnssec = enabled
        case "rec", "recurse": request.recurse = enabled
        case "edns": request.edns = enabled
        case "cookie": request.cookie = enabled
        case "adflag", "ad": request.adFlag = enabled
        case "cdflag", "cd": request.checkingDisabled = enabled
        case "search": request.search = enabled
        case "time" where enabled: request.timeout = try number(1...300)
        case "tries" where enabled: request.tries = try number(1...100)
        case "retry" where enabled: request.tries = try number(0...99) + 1
        case "bufsize" where enabled: request.udpPayloadSize = UInt16(try number(0...65535))
        default: throw DigUsageError(argument: argument, reason: "invalid option +\(option)")
        }
    }

    private static func parseUpdate(_ arguments: [String]) throws(DigUsageError) -> UpdateInvocation {
        var invocation = UpdateInvocation()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let position = index + 1
            switch argument {
            case "-y", "-p":
                index += 1
                guard index < arguments.count else {
                    throw DigUsageError(argument: position, reason: "\(argument) needs a value")
                }
                if argument == "-y" {
                    invocation.key = try key(arguments[index], argument: position + 1)
                } else {
                    invocation.port = try port(arguments[index], argument: position + 1)
                }
            default:
                guard !argument.hasPrefix("-") || argument == "-", invocation.file == nil else {
                    throw DigUsageError(argument: position, reason: "unexpected \"\(argument)\"")
                }
                invocation.file = argument == "-" ? nil : argument
            }
            index += 1
        }
        return invocation
    }

    private static func port(_ text: String, argument: Int) throws(DigUsageError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw DigUsageError(argument: argument, reason: "\"\(text)\" is not a port (1 to 65535)")
        }
        return port
    }

    private static func key(_ text: String, argument: Int) throws(DigUsageError) -> TSIGKey {
        do {
            return try TSIGKey(dashY: text)
        } catch {
            throw DigUsageError(argument: argument, reason: "-y: \(error)")
        }
    }

    /// The reverse-lookup name of an address (`-x`): in-addr.arpa for IPv4, nibbles under ip6.arpa for IPv6.
    static func reverseName(_ text: String) -> String? {
        if let v4 = IPv4Address(text) {
            return v4.bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa."
        }
        guard let v6 = IPv6Address(text) else { return nil }
        let digits = Array("0123456789abcdef")
        var nibbles: [Character] = []
        for word in [v6.high, v6.low] {
            for shift in stride(from: 60, through: 0, by: -4) {
                nibbles.append(digits[Int((word >> UInt64(shift)) & 0xF)])
            }
        }
        return nibbles.reversed().map(String.init).joined(separator: ".") + ".ip6.arpa."
    }
}
