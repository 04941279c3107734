import Testing

@testable import OpenPGP

/// RFC 7253 appendix A: AES-128 OCB with the key 000102…0F, 128-bit tags.
@Suite struct OCBTests {
    static let samples: [(nonce: String, associated: String, plaintext: String, sealed: String)] = [
        ("BBAA99887766554433221100", "", "", "785407BFFFC8AD9EDCC5520AC9111EE6"),
        (
            "BBAA99887766554433221101", "0001020304050607", "0001020304050607",
            "6820B3657B6F615A5725BDA0D3B4EB3A257C9AF1F8F03009"
        ),
        ("BBAA99887766554433221102", "0001020304050607", "", "81017F8203F081277152FADE694A0A00"),
        ("BBAA99887766554433221103", "", "0001020304050607", "45DD69F8F5AAE72414054CD1F35D82760B2CD00D2F99BFA9"),
        (
            "BBAA99887766554433221104", "000102030405060708090A0B0C0D0E0F", "000102030405060708090A0B0C0D0E0F",
            "571D535B60B277188BE5147170A9A22C3AD7A4FF3835B8C5701C1CCEC8FC3358"
        ),
        ("BBAA99887766554433221105", "000102030405060708090A0B0C0D0E0F", "", "8CF761B6902EF764462AD86498CA6B97"),
        (
            "BBAA99887766554433221106", "", "000102030405060708090A0B0C0D0E0F",
            "5CE88EC2E0692706A915C00AEB8B2396F40E1C743F52436BDF06D8FA1ECA343D"
        ),
    ]

    @Test func sealAndOpenTheRFC7253Samples() throws {
        let ocb = try OCB(key: hexBytes("000102030405060708090A0B0C0D0E0F"))
        for sample in Self.samples {
            let sealed = try ocb.seal(
                hexBytes(sample.plaintext), nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.associated))
            #expect(hexString(sealed) == sample.sealed)
            let opened = try ocb.open(
                hexBytes(sample.sealed)[...], nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.associated)
            )
            #expect(opened == hexBytes(sample.plaintext))
            var tampered = hexBytes(sample.sealed)
            tampered[0] ^= 1
            #expect(throws: (any Error).self) {
                try ocb.open(tampered[...], nonce: hexBytes(sample.nonce), associatedData: hexBytes(sample.associated))
            }
        }
    }
}
