/// The one settings vocabulary of every Quercus executable: a JSON object whose keys are long flag
/// names. `quercus-dns --config dns.json` reads it, and `quercus up` keeps one such object per
/// service in its fleet file, so a setting is spelled the same way on the command line, in a
/// service's file and in the fleet.
///
///     { "listen": ["127.0.0.1:5300", "[::1]:5300"], "zone": "example.com=zones/example.com.zone",
///       "log-level": "debug", "allow-update": true }
public enum Setting: Codable, Equatable, Sendable {
    /// `true` becomes `--key`; `false` leaves the flag out.
    case flag(Bool)
    /// One `--key value` per value.
    case values([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            self = .flag(bool)
        } else if let list = try? container.decode([Scalar].self) {
            self = .values(list.map(\.text))
        } else {
            self = .values([try container.decode(Scalar.self).text])
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .flag(let bool): try container.encode(bool)
        case .values(let values) where values.count == 1: try container.encode(values[0])
        case .values(let values): try container.encode(values)
        }
    }

    /// The command-line flags that say the same as `settings`, in key order so output is stable.
    public static func flags(for settings: [String: Setting]) -> [String] {
        var flags: [String] = []
        for key in settings.keys.sorted() {
            let flag = "--" + key
            switch settings[key] {
            case .some(.flag(true)): flags.append(flag)
            case .some(.flag(false)), .none: break
            case .some(.values(let values)):
                for value in values { flags += [flag, value] }
            }
        }
        return flags
    }

    /// A number is accepted where a flag takes one and kept as the text the flag parser expects.
    private struct Scalar: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else if let integer = try? container.decode(Int.self) {
                text = String(integer)
            } else {
                text = String(try container.decode(Double.self))
            }
        }
    }
}
