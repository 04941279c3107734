import Crypto

/// Public-key algorithm identifiers (RFC 9580 section 9.1).
public enum PublicKeyAlgorithm: UInt8, Sendable {
    case rsaEncryptOrSign = 1
    case rsaEncryptOnly = 2
    case rsaSignOnly = 3
    case elgamal = 16
    case dsa = 17
    case ecdh = 18
    case ecdsa = 19
    case eddsaLegacy = 22
    case x25519 = 25
    case x448 = 26
    case ed25519 = 27
    case ed448 = 28
}

/// Hash algorithm identifiers (RFC 9580 section 9.5) and the ones we can compute.
public enum HashAlgorithm: UInt8, Sendable, CaseIterable {
    case sha1 = 2
    case sha256 = 8
    case sha384 = 9
    case sha512 = 10

    /// Salt length of a v6 signature using this hash (RFC 9580 section 9.5).
    var v6SaltLength: Int {
        switch self {
        case .sha1, .sha256: return 16
        case .sha384: return 24
        case .sha512: return 32
        }
    }
}

/// An incremental hash of any supported algorithm.
public struct Digest {
    private enum State {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
        case sha384(SHA384)
        case sha512(SHA512)
    }
    private var state: State

    public init(_ algorithm: HashAlgorithm) {
        switch algorithm {
        case .sha1: state = .sha1(Insecure.SHA1())
        case .sha256: state = .sha256(SHA256())
        case .sha384: state = .sha384(SHA384())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update(buffer: $0) }
    }

    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update(buffer: $0) }
    }

    public mutating func update(buffer: UnsafeRawBufferPointer) {
        switch state {
        case .sha1(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha1(hash)
        case .sha256(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha256(hash)
        case .sha384(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha384(hash)
        case .sha512(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha512(hash)
        }
    }

    /// The digest as swift-crypto's own type: RSA signing names the hash from that type.
    func finalizeTyped() -> any Crypto.Digest {
        switch state {
        case .sha1(let hash): return hash.finalize()
        case .sha256(let hash): return hash.finalize()
        case .sha384(let hash): return hash.finalize()
        case .sha512(let hash): return hash.finalize()
        }
    }

    public func finalize() -> [UInt8] {
        switch state {
        case .sha1(let hash): return Array(hash.finalize())
        case .sha256(let hash): return Array(hash.finalize())
        case .sha384(let hash): return Array(hash.finalize())
        case .sha512(let hash): return Array(hash.finalize())
        }
    }
}

/// Big-endian bytes of an integer, for the fixed-width fields that are hashed.
func bigEndian(_ value: UInt32) -> [UInt8] {
    [
        UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
        UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
    ]
}

func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789ABCDEF".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
