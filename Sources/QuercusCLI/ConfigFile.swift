import Settings

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `--config FILE`: a JSON object of settings (see `Setting`) whose keys are the long flag names,
/// so a file and the command line say the same things in the same words. The flags are put where `--config FILE` stood, so flags written
/// after it on the command line take precedence for single-valued options.
public enum ConfigFile {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func expandingConfigFiles(in arguments: [String]) throws -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result.append(contentsOf: arguments[index...])
                break
            }
            if argument == "--config" {
                guard index + 1 < arguments.count else {
                    throw Error(path: "--config", reason: "expects a file path")
                }
                result.append(contentsOf: try flags(fromFile: arguments[index + 1]))
                index += 2
                continue
            }
            if argument.hasPrefix("--config=") {
                result.append(contentsOf: try flags(fromFile: String(argument.dropFirst("--config=".count))))
                index += 1
                continue
            }
            result.append(argument)
            index += 1
        }
        return result
    }

    public static func flags(fromFile path: String) throws -> [String] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Error(path: path, reason: "cannot read the file (\(error))")
        }
        return try flags(fromJSON: data, path: path)
    }

    public static func flags(fromJSON data: Data, path: String) throws -> [String] {
        do {
            return Setting.flags(for: try JSONDecoder().decode([String: Setting].self, from: data))
        } catch {
            throw Error(
                path: path,
                reason:
                    "expected a JSON object of flag names and values (strings, numbers, true/false or lists of them)"
            )
        }
    }
}
