import FuzzSupport
import OpenPGP

// Messages from arbitrary bytes: decryption with the RFC 9580 sample key (session keys, PKESK,
// SEIPD v1/v2, compression, signatures inside), inline-signed messages and the cleartext
// framework. Properties: whatever decrypts decrypts again to the same plaintext with the session
// key it reported; whatever parses as cleartext re-signs and parses back to the same text.
@_cdecl("fuzz_openpgp_message_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    // The key lives for the whole run; LeakSanitizer cannot see through Swift's enum payload
    // encoding and would report it, so it is built before fuzzing with leak tracking off.
    lsanDisable()
    _ = sampleKey
    lsanEnable()
    return runFuzzer(argc, argv, fuzzOpenPGPMessage)
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

private func fuzzOpenPGPMessage(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let key = sampleKey else { fatalError("the sample key does not parse") }
    let now: UInt32 = 1_700_000_000

    if let result = try? Messages.decrypt(input, keys: [key], verifyWith: [key.publicCertificate], now: now) {
        guard let again = try? Messages.decrypt(input, sessionKeys: [result.sessionKey], now: now),
            again.plaintext == result.plaintext
        else {
            fatalError("the reported session key does not decrypt to the same plaintext")
        }
    }
    _ = try? Messages.inlineDetach(input)
    if Cleartext.isCleartext(input), let parsed = try? Cleartext.parse(input), !parsed.text.contains(0x0D),
        let resigned = try? Cleartext.sign(parsed.text, with: [key], at: now)
    {
        guard let back = try? Cleartext.parse(Array(resigned.utf8)), back.text == parsed.text else {
            fatalError("cleartext did not round-trip")
        }
    }
    return 0
}
