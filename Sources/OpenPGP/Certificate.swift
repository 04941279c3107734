import Wire

/// A user ID and the signatures that bind it to the primary key.
public struct UserIDComponent: Sendable, Equatable {
    public var userID: [UInt8]
    public var signatures: [Signature]
}

/// A subkey, its secret when this is a key, and its binding and revocation signatures.
public struct SubkeyComponent: Sendable, Equatable {
    public var key: PublicKey
    public var secret: SecretKeyMaterial?
    public var signatures: [Signature]
}

/// A transferable public key (a certificate) or secret key (RFC 9580 sections 10.1 and 10.2).
public struct Certificate: Sendable, Equatable {
    public var primary: PublicKey
    /// Present when this is a secret key.
    public var primarySecret: SecretKeyMaterial?
    /// Direct-key signatures and key revocations.
    public var directSignatures: [Signature]
    public var userIDs: [UserIDComponent]
    public var subkeys: [SubkeyComponent]

    public var isSecret: Bool { primarySecret != nil }
    public var fingerprintHex: String { primary.fingerprintHex }

    /// Every certificate or key in a sequence of packets (a keyring).
    public static func parseAll(_ bytes: [UInt8]) throws(OpenPGPError) -> [Certificate] {
        try parseAll(PacketFraming.packets(bytes))
    }

    public static func parseAll(_ packets: [Packet]) throws(OpenPGPError) -> [Certificate] {
        var certificates: [Certificate] = []
        // Signatures attach to the last key, user ID or subkey seen; user attributes are skipped.
        enum Attachment { case primary, userID, subkey, ignored }
        var attachment = Attachment.primary
        for packet in packets {
            switch packet.tag {
            case .publicKey, .secretKey:
                let (key, secret) = try readKey(packet)
                certificates.append(
                    Certificate(primary: key, primarySecret: secret, directSignatures: [], userIDs: [], subkeys: []))
                attachment = .primary
            case .publicSubkey, .secretSubkey:
                guard certificates.last != nil else { throw wrongStart(packet) }
                let (key, secret) = try readKey(packet)
                guard key.version == certificates[certificates.count - 1].primary.version else {
                    throw .malformed(
                        WireError(
                            offset: packet.bodyOffset, kind: .invalid("subkey version differs from the primary key")))
                }
                certificates[certificates.count - 1].subkeys.append(
                    SubkeyComponent(key: key, secret: secret, signatures: []))
                attachment = .subkey
            case .userID:
                guard certificates.last != nil else { throw wrongStart(packet) }
                certificates[certificates.count - 1].userIDs.append(
                    UserIDComponent(userID: packet.body, signatures: []))
                attachment = .userID
            case .userAttribute:
                guard certificates.last != nil else { throw wrongStart(packet) }
                attachment = .ignored
            case .signature:
                guard certificates.last != nil else { throw wrongStart(packet) }
                // Signatures of versions we do not know are skipped, as RFC 9580 asks.
                guard let version = packet.body.first, version == 4 || version == 6 else { continue }
                let signature = try packet.parse { (reader: inout WireReader) throws(WireError) in
                    try Signature.read(&reader)
                }
                let last = certificates.count - 1
                switch attachment {
                case .primary: certificates[last].directSignatures.append(signature)
                case .userID:
                    certificates[last].userIDs[certificates[last].userIDs.count - 1].signatures.append(signature)
                case .subkey:
                    certificates[last].subkeys[certificates[last].subkeys.count - 1].signatures.append(signature)
                case .ignored: break
                }
            case .trust, .marker, .padding:
                continue
            default:
                throw .wrongKind("expected a key or certificate, found a packet of type \(packet.tagValue)")
            }
        }
        return certificates
    }

    private static func wrongStart(_ packet: Packet) -> OpenPGPError {
        .malformed(WireError(offset: packet.bodyOffset, kind: .invalid("a certificate must start with a primary key")))
    }

    private static func readKey(_ packet: Packet) throws(OpenPGPError) -> (PublicKey, SecretKeyMaterial?) {
        if packet.tag == .secretKey || packet.tag == .secretSubkey {
            let key = try packet.parse { (reader: inout WireReader) throws(WireError) in try SecretKey.read(&reader) }
            return (key.publicKey, key.secret)
        }
        return (try packet.parse { (reader: inout WireReader) throws(WireError) in try PublicKey.read(&reader) }, nil)
    }

    /// The packets of this certificate; without secrets when `includingSecrets` is false.
    public func packets(includingSecrets: Bool = true) -> [Packet] {
        var packets: [Packet] = []
        if includingSecrets, let primarySecret {
            packets.append(Packet(.secretKey, body: SecretKey(publicKey: primary, secret: primarySecret).encoded))
        } else {
            packets.append(Packet(.publicKey, body: primary.encoded))
        }
        packets += directSignatures.map(\.packet)
        for component in userIDs {
            packets.append(Packet(.userID, body: component.userID))
            packets += component.signatures.map(\.packet)
        }
        for subkey in subkeys {
            if includingSecrets, let secret = subkey.secret {
                packets.append(Packet(.secretSubkey, body: SecretKey(publicKey: subkey.key, secret: secret).encoded))
            } else {
                packets.append(Packet(.publicSubkey, body: subkey.key.encoded))
            }
            packets += subkey.signatures.map(\.packet)
        }
        return packets
    }

    /// The certificate of a key: the same packets without the secrets.
    public var publicCertificate: Certificate {
        var certificate = self
        certificate.primarySecret = nil
        for index in certificate.subkeys.indices { certificate.subkeys[index].secret = nil }
        return certificate
    }
}

// MARK: - Validity

/// A key that may be used for an operation, with the primary key it belongs to.
public struct UsableKey: Sendable {
    public let key: PublicKey
    public let secret: SecretKeyMaterial?
    public let primary: PublicKey
}

extension Certificate {
    /// Whether a signature was made no later than `time` and has not expired by then.
    private func isCurrent(_ signature: Signature, at time: UInt32) -> Bool {
        guard let created = signature.created, created <= time else { return false }
        if let lifetime = signature.hashed[.signatureExpirationTime], lifetime != 0 {
            return UInt64(created) + UInt64(lifetime) > UInt64(time)
        }
        return true
    }

    private func newest(_ signatures: [Signature]) -> Signature? {
        signatures.max { ($0.created ?? 0) < ($1.created ?? 0) }
    }

    /// The self-signature that says what the primary key may do, or nil if it has none valid
    /// at `time` or it is revoked.
    func primaryBinding(at time: UInt32) -> Signature? {
        let primary = primary
        let direct = directSignatures.filter { signature in
            isCurrent(signature, at: time) && signature.mightBeIssued(by: primary)
                && signature.verify(by: primary) { $0.update(key: primary) }
        }
        if direct.contains(where: { $0.type == .keyRevocation }) { return nil }
        let directKey = newest(direct.filter { $0.type == .directKey })
        var certifications: [(signature: Signature, isPrimary: Bool)] = []
        for component in userIDs {
            let valid = component.signatures.filter { signature in
                isCurrent(signature, at: time) && signature.mightBeIssued(by: primary)
                    && (signature.type?.isCertification == true || signature.type == .certificationRevocation)
                    && signature.verify(by: primary) { digest in
                        digest.update(key: primary)
                        digest.update(userID: component.userID)
                    }
            }
            guard let latest = newest(valid), latest.type != .certificationRevocation else { continue }
            certifications.append((latest, latest.hashed[.primaryUserID] == true))
        }
        let userIDBinding =
            certifications.first(where: \.isPrimary)?.signature ?? newest(certifications.map(\.signature))
        // v6 keys keep their properties on the direct-key signature; v4 keys on the primary user ID.
        let binding = primary.version == 6 ? (directKey ?? userIDBinding) : (userIDBinding ?? directKey)
        guard let binding else { return nil }
        if let lifetime = binding.hashed[.keyExpirationTime] ?? directKey?.hashed[.keyExpirationTime], lifetime != 0,
            UInt64(primary.created) + UInt64(lifetime) <= UInt64(time)
        {
            return nil
        }
        return binding
    }

    /// The newest valid binding of a subkey at `time`, nil when it has none or is revoked.
    func subkeyBinding(_ subkey: SubkeyComponent, at time: UInt32) -> Signature? {
        let primary = primary
        let valid = subkey.signatures.filter { signature in
            (signature.type == .subkeyBinding || signature.type == .subkeyRevocation) && isCurrent(signature, at: time)
                && signature.mightBeIssued(by: primary)
                && signature.verify(by: primary) { digest in
                    digest.update(key: primary)
                    digest.update(key: subkey.key)
                }
        }
        if valid.contains(where: { $0.type == .subkeyRevocation }) { return nil }
        guard let binding = newest(valid) else { return nil }
        if let lifetime = binding.hashed[.keyExpirationTime], lifetime != 0,
            UInt64(subkey.key.created) + UInt64(lifetime) <= UInt64(time)
        {
            return nil
        }
        return binding
    }

    private func flags(_ signature: Signature) -> KeyFlags {
        KeyFlags(rawValue: signature.hashed[.keyFlags]?.first ?? 0)
    }

    /// Keys that may make data signatures at `time`: primary and subkeys with the sign flag,
    /// signing subkeys only with a valid back signature.
    public func signingKeys(at time: UInt32) -> [UsableKey] {
        guard let primaryBinding = primaryBinding(at: time) else { return [] }
        var keys: [UsableKey] = []
        if flags(primaryBinding).contains(.sign), primary.material.canSign {
            keys.append(UsableKey(key: primary, secret: primarySecret, primary: primary))
        }
        for subkey in subkeys {
            guard subkey.key.material.canSign, let binding = subkeyBinding(subkey, at: time),
                flags(binding).contains(.sign)
            else { continue }
            let backSignature = binding.hashed[.embeddedSignature] ?? binding.unhashed[.embeddedSignature]
            guard let backSignature, backSignature.type == .primaryKeyBinding,
                backSignature.verify(
                    by: subkey.key,
                    feed: { digest in
                        digest.update(key: primary)
                        digest.update(key: subkey.key)
                    })
            else { continue }
            keys.append(UsableKey(key: subkey.key, secret: subkey.secret, primary: primary))
        }
        return keys
    }

    /// Keys that may receive encrypted messages at `time`.
    public func encryptionKeys(at time: UInt32) -> [UsableKey] {
        guard let primaryBinding = primaryBinding(at: time) else { return [] }
        let encrypt: KeyFlags = [.encryptCommunications, .encryptStorage]
        var keys: [UsableKey] = []
        if !flags(primaryBinding).isDisjoint(with: encrypt), primary.material.canEncrypt {
            keys.append(UsableKey(key: primary, secret: primarySecret, primary: primary))
        }
        for subkey in subkeys {
            guard subkey.key.material.canEncrypt, let binding = subkeyBinding(subkey, at: time),
                !flags(binding).isDisjoint(with: encrypt)
            else { continue }
            keys.append(UsableKey(key: subkey.key, secret: subkey.secret, primary: primary))
        }
        return keys
    }

    /// Every key, valid or not, for decryption: a message encrypted to a key that has since
    /// expired must still open.
    public var allSecretKeys: [UsableKey] {
        var keys: [UsableKey] = []
        if let primarySecret { keys.append(UsableKey(key: primary, secret: primarySecret, primary: primary)) }
        for subkey in subkeys {
            if let secret = subkey.secret { keys.append(UsableKey(key: subkey.key, secret: secret, primary: primary)) }
        }
        return keys
    }
}
