import FuzzSupport
import OpenPGP

// Packets, keys, signatures and armor from arbitrary bytes. Properties checked for every input:
// armoring any bytes and dearmoring them gives them back; whatever parses as packets re-encodes to
// packets that parse to the same tags and bodies; whatever parses as certificates re-encodes
// stably (the second encoding equals the first); certificate validity checks never trap.
@_cdecl("fuzz_openpgp_packets_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOpenPGPPackets)
}

private func fuzzOpenPGPPackets(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []

    let armored = Armor.encode(input, kind: .message)
    guard let decoded = try? Armor.decode(Array(armored.utf8)), decoded.bytes == input, decoded.kind == .message else {
        fatalError("armor did not round-trip")
    }
    if Armor.isArmored(input), let block = try? Armor.decode(input) {
        let again = Armor.encode(block.bytes, kind: block.kind, checksum: false)
        guard let back = try? Armor.decode(Array(again.utf8)), back.bytes == block.bytes, back.kind == block.kind else {
            fatalError("dearmored data did not re-armor")
        }
        checkPackets(block.bytes)
    }
    checkPackets(input)
    return 0
}

private func checkPackets(_ bytes: [UInt8]) {
    guard let packets = try? PacketFraming.packets(bytes) else { return }
    let encoded = PacketFraming.encode(packets)
    guard let reparsed = try? PacketFraming.packets(encoded),
        reparsed.map(\.tagValue) == packets.map(\.tagValue), reparsed.map(\.body) == packets.map(\.body)
    else {
        fatalError("packets did not round-trip")
    }
    guard let certificates = try? Certificate.parseAll(packets) else { return }
    let first = PacketFraming.encode(certificates.flatMap { $0.packets() })
    guard let again = try? Certificate.parseAll(first) else { fatalError("an encoded certificate did not parse") }
    guard PacketFraming.encode(again.flatMap { $0.packets() }) == first else {
        fatalError("certificate encoding is not stable")
    }
    for certificate in certificates {
        for key in certificate.signingKeys(at: .max) + certificate.encryptionKeys(at: .max) {
            guard certificate.packets().contains(where: { $0.body.starts(with: key.key.encoded) }) else {
                fatalError("a usable key is not one of the certificate's keys")
            }
        }
    }
    // Protected secrets: the protection is read (a typed error or a value, never a trap), and a
    // cheap S2K is tried with a password, which reaches decryption and the cleartext fields.
    for certificate in certificates {
        var keys: [(SecretKey, Bool)] = []
        if let secret = certificate.primarySecret {
            keys.append((SecretKey(publicKey: certificate.primary, secret: secret), false))
        }
        for subkey in certificate.subkeys {
            if let secret = subkey.secret { keys.append((SecretKey(publicKey: subkey.key, secret: secret), true)) }
        }
        for (key, isSubkey) in keys {
            guard let protection = try? key.protection, protection.stringToKey.isCheap else { continue }
            // Keys of algorithms not used here (`.other`) are handed back as they are.
            if case .other = key.publicKey.material { continue }
            if let unlocked = try? key.unlocked(password: Array("password".utf8), subkey: isSubkey),
                unlocked.isProtected
            {
                fatalError("an unlocked key is still protected")
            }
        }
        _ = certificate.unlocking(with: []).hasProtectedSecrets
    }
    if let signatures = try? DetachedSignatures.parseSignatures(bytes) {
        _ = DetachedSignatures.verify(bytes, signatures: signatures, certificates: certificates, now: .max)
    }
}
