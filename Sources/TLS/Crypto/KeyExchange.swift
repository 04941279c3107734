import Crypto

/// Where the engine gets randomness and time. Tests inject fixed values so that a handshake is
/// reproducible byte for byte (RFC 8448); a real connection uses `.system`.
public struct TLSEnvironment {
    /// Returns `count` random bytes.
    public var random: (Int) -> [UInt8]
    /// Seconds since 1970-01-01 UTC.
    public var now: () -> Int64

    public init(random: @escaping (Int) -> [UInt8], now: @escaping () -> Int64) {
        self.random = random
        self.now = now
    }

    /// System randomness and the clock the shell supplies: the engine itself reads no clock.
    public static func system(now: @escaping () -> Int64) -> TLSEnvironment {
        TLSEnvironment(
            random: { count in
                var generator = SystemRandomNumberGenerator()
                var bytes = [UInt8](repeating: 0, count: count)
                var index = 0
                while index < count {
                    var word = generator.next()
                    for _ in 0..<8 where index < count {
                        bytes[index] = UInt8(truncatingIfNeeded: word)
                        word >>= 8
                        index += 1
                    }
                }
                return bytes
            },
            now: now
        )
    }
}

/// Our half of an ephemeral key exchange, kept until the peer's share arrives.
enum KeyShare {
    case x25519(Curve25519.KeyAgreement.PrivateKey)
    case p256(P256.KeyAgreement.PrivateKey)
    case p384(P384.KeyAgreement.PrivateKey)
    case x25519MLKEM768(MLKEM768.PrivateKey, Curve25519.KeyAgreement.PrivateKey)

    static func canGenerate(_ group: NamedGroup) -> Bool {
        NamedGroup.supported.contains(group)
    }

    /// A fresh private key for `group`, drawn from the injected randomness.
    static func generate(_ group: NamedGroup, random: (Int) -> [UInt8]) throws(TLSError) -> KeyShare {
        do {
            switch group {
            case .x25519:
                return .x25519(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random(32)))
            case .secp256r1:
                // A random 32-byte string is a valid scalar with overwhelming probability; retry otherwise.
                for _ in 0..<8 {
                    if let key = try? P256.KeyAgreement.PrivateKey(rawRepresentation: random(32)) { return .p256(key) }
                }
            case .secp384r1:
                for _ in 0..<8 {
                    if let key = try? P384.KeyAgreement.PrivateKey(rawRepresentation: random(48)) { return .p384(key) }
                }
            case .x25519MLKEM768:
                let kem = try MLKEM768.PrivateKey(seedRepresentation: random(64), publicKey: nil)
                return .x25519MLKEM768(kem, try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random(32)))
            default:
                break
            }
        } catch {
            throw .internalError("cannot generate a key for \(group)")
        }
        throw .negotiation(.noCommonParameter("key exchange group (\(group))"))
    }

    var group: NamedGroup {
        switch self {
        case .x25519: return .x25519
        case .p256: return .secp256r1
        case .p384: return .secp384r1
        case .x25519MLKEM768: return .x25519MLKEM768
        }
    }

    var publicKey: [UInt8] {
        switch self {
        case .x25519(let key): return Array(key.publicKey.rawRepresentation)
        case .p256(let key): return Array(key.publicKey.x963Representation)
        case .p384(let key): return Array(key.publicKey.x963Representation)
        case .x25519MLKEM768(let kem, let classic):
            return Array(kem.publicKey.rawRepresentation) + Array(classic.publicKey.rawRepresentation)
        }
    }

    /// The shared secret from the peer's (server's) key share.
    func sharedSecret(peerShare: [UInt8]) throws(TLSError) -> [UInt8] {
        do {
            switch self {
            case .x25519(let key):
                return try x25519Secret(key, peerShare)
            case .p256(let key):
                let peer = try P256.KeyAgreement.PublicKey(x963Representation: peerShare)
                return bytes(of: try key.sharedSecretFromKeyAgreement(with: peer))
            case .p384(let key):
                let peer = try P384.KeyAgreement.PublicKey(x963Representation: peerShare)
                return bytes(of: try key.sharedSecretFromKeyAgreement(with: peer))
            case .x25519MLKEM768(let kem, let classic):
                guard peerShare.count == 1088 + 32 else { throw TLSError.fatal(.illegalParameter("key share length")) }
                let kemSecret = try kem.decapsulate(peerShare[..<1088])
                return kemSecret.withUnsafeBytes { Array($0) } + (try x25519Secret(classic, Array(peerShare[1088...])))
            }
        } catch {
            throw .fatal(.illegalParameter("the peer's \(group) key share is invalid"))
        }
    }

    /// The server side: the key share to answer `clientShare` with, and the shared secret.
    static func respond(to clientShare: [UInt8], group: NamedGroup, random: (Int) -> [UInt8]) throws(TLSError) -> (
        share: [UInt8], secret: [UInt8]
    ) {
        let invalid = TLSError.fatal(.illegalParameter("the peer's \(group) key share is invalid"))
        if group == .x25519MLKEM768 {
            guard clientShare.count == 1184 + 32 else { throw invalid }
            do {
                let kemPublic = try MLKEM768.PublicKey(rawRepresentation: clientShare[..<1184])
                let encapsulation = try kemPublic.encapsulate()
                guard case .x25519(let classic) = try generate(.x25519, random: random) else { throw invalid }
                let classicSecret = try x25519Secret(classic, Array(clientShare[1184...]))
                return (
                    Array(encapsulation.encapsulated) + Array(classic.publicKey.rawRepresentation),
                    encapsulation.sharedSecret.withUnsafeBytes { Array($0) } + classicSecret
                )
            } catch {
                throw invalid
            }
        }
        let ours = try generate(group, random: random)
        return (ours.publicKey, try ours.sharedSecret(peerShare: clientShare))
    }
}

private func x25519Secret(_ key: Curve25519.KeyAgreement.PrivateKey, _ peer: [UInt8]) throws -> [UInt8] {
    let peerKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer)
    let secret = bytes(of: try key.sharedSecretFromKeyAgreement(with: peerKey))
    // An all-zero secret means a low-order point (RFC 8446 section 7.4.2).
    guard secret.contains(where: { $0 != 0 }) else { throw TLSError.fatal(.illegalParameter("X25519 low-order point")) }
    return secret
}

func bytes(of secret: SharedSecret) -> [UInt8] {
    secret.withUnsafeBytes { Array($0) }
}
