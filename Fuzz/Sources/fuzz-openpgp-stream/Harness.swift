import FuzzSupport
import OpenPGP
import Wire

// The streaming readers fed arbitrary bytes in pieces whose sizes the input's first bytes choose:
// `MessageDecryptor` (with the RFC 9580 sample key and a password), `SignedMessageReader`,
// `ArmorReader` and `Zlib.Inflater`. Properties: each gives the same result in pieces as fed
// whole (the same plaintext, session key, signatures and verifications, or a failure in both),
// and SEIPD v1 plaintext is never marked verified.
@_cdecl("fuzz_openpgp_stream_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    // The key lives for the whole run; LeakSanitizer cannot see through Swift's enum payload
    // encoding and would report it, so it is built before fuzzing with leak tracking off.
    lsanDisable()
    _ = sampleKey
    lsanEnable()
    return runFuzzer(argc, argv, fuzzOpenPGPStream)
}

@_silgen_name("__lsan_disable") private func lsanDisable()
@_silgen_name("__lsan_enable") private func lsanEnable()

private let sampleKey: Certificate? = {
    let armored = """
        -----BEGIN PGP PRIVATE KEY BLOCK-----

        xUsGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laMAGXKB
        exK+cH6NX1hs5hNhIB00TrJmosgv3mg1ditlsLfCsQYfGwoAAABCBYJjh3/jAwsJ
        BwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
        2azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lwgyU2kCcUmKfvBXbAf6rh
        RYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaEQsiPlR4zxP/TP7mhfVEe
        7XWPxtnMUMtf15OyA51YBMdLBmOHf+MZAAAAIIaTJINn+eUBXbki+PSAld2nhJh/
        LVmFsS+60WyvXkQ1AE1gCk95TUR3XFeibg/u/tVY6a//1q0NWC1X+yui3O24wpsG
        GBsKAAAALAWCY4d/4wKbDCIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
        2azJAAAAAAQBIKbpGG2dWTX8j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDE
        M0g12vYxoWM8Y81W+bHBw805I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUr
        k0mXubZvyl4GBg==
        -----END PGP PRIVATE KEY BLOCK-----
        """
    guard let bytes = try? Armor.decode(Array(armored.utf8)).bytes else { return nil }
    return try? Certificate.parseAll(bytes).first
}()

/// `data` in pieces of 0 to 255 bytes, the sizes drawn from a generator seeded with `seed`.
private func pieces(_ data: [UInt8], seed: UInt8) -> [ArraySlice<UInt8>] {
    var state = UInt32(seed) &* 2_654_435_761 | 1
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    while start < data.count {
        state = state &* 1_103_515_245 &+ 12345
        let end = min(start + Int(state >> 24), data.count)
        result.append(data[start..<end])
        start = end
    }
    return result
}

private func fuzzOpenPGPStream(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let key = sampleKey else { fatalError("the sample key does not parse") }
    guard let seed = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    let now: UInt32 = 1_700_000_000
    let passwords = [Array("password".utf8)]

    let whole = try? Messages.decrypt(
        input, keys: [key], passwords: passwords, verifyWith: [key.publicCertificate], now: now)
    var decryptor = MessageDecryptor(
        keys: [key], passwords: passwords, verifyWith: [key.publicCertificate], now: now)
    var plaintext: [UInt8] = []
    var verifiedV1 = false
    let isV1 = input.contains(0xD2) == false
    func take(_ piece: ArraySlice<UInt8>, _ integrity: PlaintextIntegrity) {
        plaintext += piece
        if integrity == .verified, isV1 { verifiedV1 = true }
    }
    var streamed: DecryptionResult?
    do {
        for piece in pieces(input, seed: seed) { try decryptor.update(piece, output: take) }
        streamed = try decryptor.finish(output: take)
    } catch {}
    guard (whole == nil) == (streamed == nil) else { fatalError("decryption differs in pieces") }
    if let whole, let streamed {
        guard whole.plaintext == plaintext, whole.sessionKey == streamed.sessionKey,
            whole.verifications == streamed.verifications
        else { fatalError("decryption in pieces gives another result") }
    }
    // Plaintext marked verified comes from SEIPD v2 chunks only. A v2 packet in the new format
    // has the header byte 0xD2; one in the old format would need a forged AEAD tag to release
    // anything, so input without 0xD2 must release nothing as verified.
    guard !verifiedV1 else { fatalError("plaintext released as verified without SEIPD v2") }

    let detached = try? Messages.inlineDetach(input)
    var reader = SignedMessageReader()
    var data: [UInt8] = []
    var signatures: [Signature]?
    do {
        for piece in pieces(input, seed: seed) { try reader.update(piece) { data += $0 } }
        signatures = try reader.finish { data += $0 }
    } catch {}
    guard (detached == nil) == (signatures == nil) else { fatalError("inline reading differs in pieces") }
    if let detached, detached.data != data || detached.signatures != signatures {
        fatalError("inline reading in pieces gives another result")
    }

    let dearmored = try? Armor.binary(input)
    var armor = ArmorReader()
    var binary: [UInt8]? = []
    do {
        for piece in pieces(input, seed: seed) { binary? += try armor.update(piece) }
        binary? += try armor.finish()
    } catch {
        binary = nil
    }
    guard dearmored == binary else { fatalError("armor in pieces differs") }

    let inflated = try? Zlib.inflate(input, limit: 1 << 20).output
    var inflater = Zlib.Inflater(format: .zlib, limit: 1 << 20)
    var output: [UInt8]? = []
    do {
        for piece in pieces(input, seed: seed) {
            inflater.append(piece)
            while case let next = try inflater.read(), !next.isEmpty { output? += next }
        }
        try inflater.finish()
    } catch {
        output = nil
    }
    guard inflated == output else { fatalError("inflating in pieces differs") }
    return 0
}
