import Wire

/// Why OpenPGP data could not be used, split by what the caller can do about it.
public enum OpenPGPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Binary packets that do not follow the format; the offset says where.
    case malformed(WireError)
    /// ASCII armor that does not follow the format, at a 1-based line.
    case armor(line: Int, reason: String)
    /// Well-formed data that uses an algorithm or version this implementation does not support.
    case unsupported(String)
    /// Well-formed data that is not what was asked for (a certificate where a key was expected…).
    case wrongKind(String)
    /// A cryptographic check failed or a key cannot be used for the requested operation.
    case rejected(String)

    public var description: String {
        switch self {
        case .malformed(let error): return "malformed OpenPGP data: \(error)"
        case .armor(let line, let reason): return "bad ASCII armor at line \(line): \(reason)"
        case .unsupported(let what): return "unsupported: \(what)"
        case .wrongKind(let what): return what
        case .rejected(let why): return why
        }
    }
}
