import Crypto
import DNS
import Wire
import _CryptoExtras

/// The signing algorithms this library verifies and signs with (RFC 8624's recommended set).
public enum DNSSECAlgorithm: UInt8, CaseIterable, Sendable {
    case rsaSHA256 = 8
    case rsaSHA512 = 10
    case ecdsaP256SHA256 = 13
    case ecdsaP384SHA384 = 14
    case ed25519 = 15
}

/// Why a signature was not accepted.
public enum DNSSECError: Error, Equatable, Sendable {
    case unsupportedAlgorithm(UInt8)
    case unsupportedDigest(UInt8)
    /// The key's bytes do not form a key of its algorithm (or an RSA key under 2048 bits).
    case malformedKey
    /// The key cannot have made this signature: wrong tag, algorithm, owner, protocol or flags.
    case keyMismatch
    /// The records are not one RRset matching the signature's type, class and label count.
    case rrsetMismatch
    case notYetValid
    case expired
    case badSignature
}

public enum DNSSEC {
    /// The key tag of RFC 4034 Appendix B: a checksum of the DNSKEY's RDATA.
    public static func keyTag(_ key: some KeyShape) -> UInt16 {
        let data = key.rdata.wireBytes()
        var accumulator: UInt32 = 0
        for (index, byte) in data.enumerated() {
            accumulator += index & 1 == 1 ? UInt32(byte) : UInt32(byte) << 8
        }
        accumulator += accumulator >> 16 & 0xFFFF
        return UInt16(truncatingIfNeeded: accumulator)
    }

    /// The DS record for a key (RFC 4034 §5.1.4): digest type 2 is SHA-256, 4 is SHA-384.
    public static func delegationSigner(owner: DomainName, key: DNSKEYRecord, digestType: UInt8) throws(DNSSECError)
        -> DSRecord
    {
        let input = owner.lowercased().wire + key.rdata.wireBytes()
        let digest: [UInt8]
        switch digestType {
        case 2: digest = Array(SHA256.hash(data: input))
        case 4: digest = Array(SHA384.hash(data: input))
        default: throw .unsupportedDigest(digestType)
        }
        return DSRecord(keyTag: keyTag(key), algorithm: key.algorithm, digestType: digestType, digest: digest)
    }

    /// The hashed owner name of NSEC3 (RFC 5155 §5): SHA-1 of the canonical name and salt, iterated.
    public static func nsec3Hash(_ name: DomainName, salt: [UInt8], iterations: UInt16) -> [UInt8] {
        var digest = Array(Insecure.SHA1.hash(data: name.lowercased().wire + salt))
        for _ in 0..<iterations { digest = Array(Insecure.SHA1.hash(data: digest + salt)) }
        return digest
    }

    /// What an RRSIG signs (RFC 4034 §3.1.8.1): its own fields without the signature, then the
    /// RRset in canonical form: lowercased owner (a wildcard when the label count says so), the
    /// original TTL, and the records sorted by canonical RDATA with duplicates removed.
    public static func signedData(signature: RRSIGRecord, rrset: [ResourceRecord]) throws(DNSSECError) -> [UInt8] {
        guard let first = rrset.first, rrset.allSatisfy({ $0.name == first.name && $0.type == first.type }),
            rrset.allSatisfy({ $0.recordClass == first.recordClass }), first.type == signature.typeCovered
        else { throw .rrsetMismatch }
        let owner = try canonicalOwner(first.name, labels: Int(signature.labels))
        var writer = MessageWriter(mode: .canonical, capacity: 512)
        signature.encodeWithoutSignature(into: &writer)
        let datas = Set(rrset.map { $0.data.wireBytes(mode: .canonical) }).sorted { $0.lexicographicallyPrecedes($1) }
        for data in datas {
            writer.write(bytes: owner.wire)
            writer.write(first.type.rawValue)
            writer.write(first.recordClass.rawValue)
            writer.write(signature.originalTTL)
            writer.write(UInt16(truncatingIfNeeded: data.count))
            writer.write(bytes: data)
        }
        return writer.bytes
    }

    private static func canonicalOwner(_ name: DomainName, labels: Int) throws(DNSSECError) -> DomainName {
        let lower = name.lowercased()
        var all = lower.labels
        if all.first == [UInt8(ascii: "*")] { all.removeFirst() }
        guard labels <= all.count else { throw .rrsetMismatch }
        guard labels < all.count else { return lower }
        // Signed as a wildcard: "*." and the rightmost `labels` labels.
        do {
            return try DomainName(labels: [[UInt8(ascii: "*")]] + all.suffix(labels).map { Array($0) })
        } catch {
            throw .rrsetMismatch
        }
    }

    /// Checks `signature` over `rrset` with `key` (owned by `keyOwner`); `now` in seconds since 1970.
    public static func verify(
        _ signature: RRSIGRecord, rrset: [ResourceRecord], key: DNSKEYRecord, keyOwner: DomainName, now: UInt32
    ) throws(DNSSECError) {
        guard signature.keyTag == keyTag(key), signature.algorithm == key.algorithm, key.keyProtocol == 3,
            key.flags & 0x0100 != 0, signature.signerName == keyOwner
        else { throw .keyMismatch }
        guard let first = rrset.first, first.name.isSubdomain(of: keyOwner) else { throw .rrsetMismatch }
        // Serial number arithmetic (RFC 1982), as RFC 4034 §3.1.5 requires for the validity window.
        guard Int32(bitPattern: now &- signature.inception) >= 0 else { throw .notYetValid }
        guard Int32(bitPattern: signature.expiration &- now) >= 0 else { throw .expired }
        let data = try signedData(signature: signature, rrset: rrset)
        guard let algorithm = DNSSECAlgorithm(rawValue: key.algorithm) else {
            throw .unsupportedAlgorithm(key.algorithm)
        }
        guard try isValid(signature.signature, over: data, publicKey: key.publicKey, algorithm: algorithm) else {
            throw .badSignature
        }
    }

    static func isValid(_ signature: [UInt8], over data: [UInt8], publicKey: [UInt8], algorithm: DNSSECAlgorithm)
        throws(DNSSECError) -> Bool
    {
        do {
            switch algorithm {
            case .rsaSHA256, .rsaSHA512:
                let key = try rsaPublicKey(publicKey)
                let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
                return algorithm == .rsaSHA256
                    ? key.isValidSignature(rsaSignature, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                    : key.isValidSignature(rsaSignature, for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
            case .ecdsaP256SHA256:
                let key = try P256.Signing.PublicKey(rawRepresentation: publicKey)
                guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return key.isValidSignature(parsed, for: data)
            case .ecdsaP384SHA384:
                let key = try P384.Signing.PublicKey(rawRepresentation: publicKey)
                guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return key.isValidSignature(parsed, for: data)
            case .ed25519:
                let key = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
                return key.isValidSignature(signature, for: data)
            }
        } catch let error as DNSSECError {
            throw error
        } catch {
            throw .malformedKey
        }
    }

    /// RFC 3110: an exponent length (one byte, or zero and two bytes), the exponent, the modulus.
    static func rsaPublicKey(_ bytes: [UInt8]) throws -> _RSA.Signing.PublicKey {
        var reader = WireReader(bytes)
        do {
            var exponentLength = Int(try reader.readUInt8())
            if exponentLength == 0 { exponentLength = Int(try reader.readUInt16()) }
            let exponent = try reader.readBytes(exponentLength)
            let modulus = reader.readRemainingBytes()
            guard !exponent.isEmpty, !modulus.isEmpty else { throw DNSSECError.malformedKey }
            return try _RSA.Signing.PublicKey(n: Array(modulus), e: Array(exponent))
        } catch {
            throw DNSSECError.malformedKey
        }
    }
}

/// A private key that makes RRSIGs.
public struct DNSSECSigningKey: Sendable {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let algorithm: DNSSECAlgorithm
    let backing: Backing

    /// A new random key (RSA keys are 2048 bits).
    public init(generating algorithm: DNSSECAlgorithm) throws(DNSSECError) {
        self.algorithm = algorithm
        switch algorithm {
        case .rsaSHA256, .rsaSHA512:
            guard let key = try? _RSA.Signing.PrivateKey(keySize: .bits2048) else { throw .malformedKey }
            backing = .rsa(key)
        case .ecdsaP256SHA256: backing = .p256(P256.Signing.PrivateKey())
        case .ecdsaP384SHA384: backing = .p384(P384.Signing.PrivateKey())
        case .ed25519: backing = .ed25519(Curve25519.Signing.PrivateKey())
        }
    }

    /// Reads BIND's `K<name>+<alg>+<tag>.private` format (Private-key-format v1.x).
    public init(bindPrivateKey text: String) throws(DNSSECError) {
        var fields: [String: [UInt8]] = [:]
        var algorithmNumber: UInt8? = nil
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            if name == "Algorithm" {
                algorithmNumber = UInt8(value.split(separator: " ").first ?? "")
            } else if let bytes = TextEncoding.decodeBase64(value) {
                fields[name] = bytes
            }
        }
        guard let number = algorithmNumber else { throw .malformedKey }
        guard let algorithm = DNSSECAlgorithm(rawValue: number) else { throw .unsupportedAlgorithm(number) }
        self.algorithm = algorithm
        do {
            switch algorithm {
            case .rsaSHA256, .rsaSHA512:
                guard let n = fields["Modulus"], let e = fields["PublicExponent"], let d = fields["PrivateExponent"],
                    let p = fields["Prime1"], let q = fields["Prime2"]
                else { throw DNSSECError.malformedKey }
                backing = .rsa(try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q))
            case .ecdsaP256SHA256:
                backing = .p256(try P256.Signing.PrivateKey(rawRepresentation: fields["PrivateKey"] ?? []))
            case .ecdsaP384SHA384:
                backing = .p384(try P384.Signing.PrivateKey(rawRepresentation: fields["PrivateKey"] ?? []))
            case .ed25519:
                backing = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: fields["PrivateKey"] ?? []))
            }
        } catch {
            throw .malformedKey
        }
    }

    /// The public half as DNSKEY data; 257 marks a key-signing key, 256 a zone-signing key.
    public func dnskey(flags: UInt16 = 257) throws(DNSSECError) -> DNSKEYRecord {
        let publicKey: [UInt8]
        switch backing {
        case .rsa(let key):
            guard let primitives = try? key.publicKey.getKeyPrimitives() else { throw .malformedKey }
            let exponent = Array(primitives.publicExponent)
            let prefix: [UInt8] =
                exponent.count < 256
                ? [UInt8(exponent.count)] : [0, UInt8(exponent.count >> 8), UInt8(truncatingIfNeeded: exponent.count)]
            publicKey = prefix + exponent + Array(primitives.modulus)
        case .p256(let key): publicKey = Array(key.publicKey.rawRepresentation)
        case .p384(let key): publicKey = Array(key.publicKey.rawRepresentation)
        case .ed25519(let key): publicKey = Array(key.publicKey.rawRepresentation)
        }
        return DNSKEYRecord(flags: flags, keyProtocol: 3, algorithm: algorithm.rawValue, publicKey: publicKey)
    }

    /// Signs one RRset as `signer` (the zone apex owning the DNSKEY with `flags`).
    public func sign(
        _ rrset: [ResourceRecord], signer: DomainName, inception: UInt32, expiration: UInt32, flags: UInt16 = 257
    ) throws(DNSSECError) -> RRSIGRecord {
        guard let first = rrset.first else { throw .rrsetMismatch }
        var labels = first.name.labels
        if labels.first == [UInt8(ascii: "*")] { labels.removeFirst() }
        var signature = RRSIGRecord(
            typeCovered: first.type, algorithm: algorithm.rawValue, labels: UInt8(labels.count),
            originalTTL: first.ttl, expiration: expiration, inception: inception,
            keyTag: DNSSEC.keyTag(try dnskey(flags: flags)), signerName: signer, signature: [])
        let data = try DNSSEC.signedData(signature: signature, rrset: rrset)
        do {
            switch backing {
            case .rsa(let key):
                let made =
                    algorithm == .rsaSHA256
                    ? try key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                    : try key.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
                signature.signature = Array(made.rawRepresentation)
            case .p256(let key): signature.signature = Array(try key.signature(for: data).rawRepresentation)
            case .p384(let key): signature.signature = Array(try key.signature(for: data).rawRepresentation)
            case .ed25519(let key): signature.signature = Array(try key.signature(for: data))
            }
        } catch {
            throw .malformedKey
        }
        return signature
    }
}
